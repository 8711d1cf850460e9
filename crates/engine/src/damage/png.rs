//! PNG: walks the chunks from the signature to IEND, checking each chunk's CRC-32. A file
//! cut anywhere ends inside a chunk or before IEND; a changed byte anywhere fails its
//! chunk's CRC. (Bytes after IEND are left alone: some programs append data there.)

use super::Damage;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    if !bytes.starts_with(SIGNATURE) {
        return Some(Damage::fatal("it does not start with the PNG signature"));
    }
    let mut position = SIGNATURE.len();
    let mut image_data = 0u64;
    loop {
        let Some(header) = bytes.get(position..position + 8) else {
            return Some(ended_early(image_data, None));
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let name = String::from_utf8_lossy(kind).into_owned();
        let Some(chunk) = bytes.get(position + 4..position + 8 + length) else {
            return Some(ended_early(image_data, Some(&name)));
        };
        let Some(stored) = bytes.get(position + 8 + length..position + 12 + length) else {
            return Some(ended_early(image_data, Some(&name)));
        };
        let stored = u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]);
        if crc32fast::hash(chunk) != stored {
            return Some(Damage::fatal(format!("the PNG's {name} chunk at byte {position} fails its CRC check")));
        }
        if kind == b"IDAT" {
            image_data += length as u64;
        }
        if kind == b"IEND" {
            return None;
        }
        position += 12 + length;
    }
}

fn ended_early(image_data: u64, inside: Option<&str>) -> Damage {
    let place = match inside {
        Some("IDAT") => "inside its image data (IDAT)".to_string(),
        Some(name) => format!("inside its {name} chunk"),
        None if image_data > 0 => "after its image data, before the IEND chunk".to_string(),
        None => "before its image data".to_string(),
    };
    Damage::fatal(format!("the PNG data ends early, {place}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let image = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 7]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn whole_png_passes_and_every_cut_fails() {
        let png = png();
        assert_eq!(check(&png), None);
        for cut in [9, 20, 40, png.len() / 2, png.len() - 13, png.len() - 1] {
            let damage = check(&png[..cut]).unwrap_or_else(|| panic!("cut at {cut} passed"));
            assert!(damage.reason.contains("ends early"), "{damage}");
        }
        assert!(check(&png[..png.len() / 2]).unwrap().reason.contains("IDAT"));
    }

    #[test]
    fn a_flipped_byte_fails_the_crc() {
        let mut png = png();
        let middle = png.len() / 2;
        png[middle] ^= 0x10;
        assert!(check(&png).unwrap().reason.contains("CRC"));
    }
}
