//! BMP: the pixel array's size follows from the header (width, height, bits per pixel, or
//! the stored image size for compressed BMPs); a file shorter than its pixel array is cut.

use super::{percent, Damage};

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let Some(pixels_at) = u32_at(10) else {
        return Some(Damage::fatal("the BMP data ends early, inside its file header"));
    };
    let Some(header_size) = u32_at(14) else {
        return Some(Damage::fatal("the BMP data ends early, inside its file header"));
    };
    let needed = if header_size == 12 {
        // OS/2 BITMAPCOREHEADER: 16-bit sizes, always uncompressed.
        let (width, height, bits) = (u16_at(18)?, u16_at(20)?, u16_at(24)?);
        stride(u64::from(width), bits).saturating_mul(u64::from(height))
    } else {
        let (width, height, bits, compression) = (u32_at(18)?, u32_at(22)?, u16_at(28)?, u32_at(30)?);
        let height = u64::from((height as i32).unsigned_abs());
        match compression {
            // Uncompressed and bit-field pixels: rows of whole 32-bit words.
            0 | 3 | 6 => stride(u64::from(width as i32 as u32), bits).saturating_mul(height),
            // RLE, JPEG, PNG: only the header's stored size says.
            _ => u64::from(u32_at(34)?),
        }
    };
    let end = u64::from(pixels_at).saturating_add(needed);
    let length = bytes.len() as u64;
    if end > length {
        let missing = (end - length).min(needed);
        return Some(Damage::salvageable(format!(
            "the BMP data ends early: {} of the picture's rows are missing",
            percent(missing, needed)
        )));
    }
    None
}

fn stride(width: u64, bits: u16) -> u64 {
    (width * u64::from(bits)).div_ceil(32) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_sizes_do_not_overflow() {
        let mut header = vec![0u8; 54];
        header[..2].copy_from_slice(b"BM");
        header[14..18].copy_from_slice(&40u32.to_le_bytes());
        header[18..22].copy_from_slice(&u32::MAX.to_le_bytes());
        header[22..26].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        header[28..30].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(check(&header).is_some());
    }

    #[test]
    fn a_cut_bmp_says_how_much_is_missing() {
        let image = image::RgbImage::from_fn(30, 20, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Bmp).unwrap();
        let bmp = out.into_inner();
        assert_eq!(check(&bmp), None);
        let damage = check(&bmp[..bmp.len() - 1]).unwrap();
        assert!(damage.reason.contains("less than 1 %") || damage.reason.contains("1 %"), "{damage}");
        assert!(check(&bmp[..bmp.len() / 2]).unwrap().reason.contains("% of the picture's rows"));
        assert!(check(&bmp[..5]).is_some());
    }
}
