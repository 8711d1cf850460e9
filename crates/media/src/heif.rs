//! HEIC/HEIF and AVIF stills through the system's libheif (libde265 for HEVC, dav1d for AV1),
//! in the worker: the primary image, upright (libheif applies `irot`, `imir` and the clean
//! aperture), grids assembled, with its ICC profile and EXIF. Content deeper than 8 bits is
//! dithered down, so a 10-bit sky does not band. The pixels go to the file the engine named,
//! packed rows of 8-bit RGB or RGBA: the engine encodes them as it does any decoded picture.

use std::io::Write;
use std::path::Path;

use compressor_engine::media::protocol::DecodedImage;
use compressor_engine::{EngineError, Format, Limits};
use libheif_rs::{ColorSpace, HeifContext, ItemId, LibHeif, RgbChroma};

pub(crate) fn decode(
    input: &Path,
    format: Format,
    pixels: &Path,
    limits: &Limits,
) -> Result<DecodedImage, EngineError> {
    // libheif's own words ("Unexpected end of file: …"), without its error codes.
    let corrupt = |e: libheif_rs::HeifError| {
        let words = e.message.trim();
        let reason = if words.is_empty() { format!("{:?}", e.sub_code) } else { words.to_string() };
        EngineError::Corrupt { format: format.name(), reason }
    };
    let path = input.to_str().ok_or_else(|| EngineError::Refused("the file's path is not UTF-8".into()))?;
    let library = LibHeif::new();
    let context = HeifContext::read_from_file(path).map_err(corrupt)?;
    let handle = context.primary_image_handle().map_err(corrupt)?;
    // Checked before a pixel is decoded: a header may claim any size.
    limits.check(handle.width(), handle.height())?;
    let alpha = handle.has_alpha_channel();
    let depth = handle.luma_bits_per_pixel();
    let deep = depth > 8;
    let chroma = match (deep, alpha) {
        (false, false) => RgbChroma::Rgb,
        (false, true) => RgbChroma::Rgba,
        (true, false) => RgbChroma::HdrRgbLe,
        (true, true) => RgbChroma::HdrRgbaLe,
    };
    let image = library.decode(&handle, ColorSpace::Rgb(chroma), None).map_err(corrupt)?;
    let planes = image.planes();
    let plane = planes.interleaved.ok_or_else(|| EngineError::Corrupt {
        format: format.name(),
        reason: "the decoder gave no interleaved RGB picture".into(),
    })?;
    let (width, height) = (plane.width, plane.height);
    limits.check(width, height)?;
    let channels = if alpha { 4 } else { 3 };
    let row_bytes = width as usize * channels;
    let write_error = |e: std::io::Error| EngineError::Encode { format: "pixels", reason: e.to_string() };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(pixels).map_err(write_error)?);
    let mut notes = Vec::new();
    if deep {
        let max = f32::from((1u16 << depth.min(16)) - 1);
        let mut row = vec![0u8; row_bytes];
        for y in 0..height as usize {
            let line = &plane.data[y * plane.stride..y * plane.stride + row_bytes * 2];
            for (x, (sample, out)) in line.chunks_exact(2).zip(row.iter_mut()).enumerate() {
                let value = f32::from(u16::from_le_bytes([sample[0], sample[1]]));
                *out = dither(value * 255.0 / max, x / channels, y);
            }
            out.write_all(&row).map_err(write_error)?;
        }
        notes.push(format!("{depth}-bit content dithered to 8 bits"));
    } else {
        for y in 0..height as usize {
            out.write_all(&plane.data[y * plane.stride..y * plane.stride + row_bytes]).map_err(write_error)?;
        }
    }
    out.into_inner().map_err(|e| write_error(e.into_error()))?.sync_all().map_err(write_error)?;

    let icc = handle.color_profile_raw().map(|profile| profile.data).filter(|data| !data.is_empty());
    Ok(DecodedImage { width, height, alpha, depth, icc, exif: exif(&handle), notes })
}

/// The EXIF block from its TIFF header on (as JPEG's APP1 and the `image` crate carry it).
/// HEIF stores it behind a 4-byte offset to that header.
fn exif(handle: &libheif_rs::ImageHandle) -> Option<Vec<u8>> {
    let mut ids: [ItemId; 1] = [0];
    if handle.metadata_block_ids(&mut ids, b"Exif") == 0 {
        return None;
    }
    let block = handle.metadata(ids[0]).ok()?;
    let offset = u32::from_be_bytes(block.get(0..4)?.try_into().ok()?) as usize;
    let tiff = block.get(4usize.checked_add(offset)?..)?;
    (tiff.starts_with(b"II*\0") || tiff.starts_with(b"MM\0*")).then(|| tiff.to_vec())
}

/// Ordered (4×4 Bayer) dithering of a value on the 0–255 scale: the rounding error is spread
/// as a fixed fine pattern instead of bands. Ordered rather than error diffusion: rows stay
/// independent and the result is the same on every run.
fn dither(value: f32, x: usize, y: usize) -> u8 {
    const BAYER: [[u8; 4]; 4] = [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]];
    let threshold = (f32::from(BAYER[y % 4][x % 4]) + 0.5) / 16.0;
    (value + threshold).floor().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::dither;

    #[test]
    fn dithering_keeps_the_mean_of_a_flat_area() {
        // 10-bit 513 is 127.87 on the 8-bit scale: neither 127 nor 128 alone.
        let value = 513.0 * 255.0 / 1023.0;
        let sum: u32 = (0..4).flat_map(|y| (0..4).map(move |x| u32::from(dither(value, x, y)))).sum();
        let mean = sum as f32 / 16.0;
        assert!((mean - value).abs() < 0.07, "{mean} vs {value}");
        assert_eq!(dither(0.0, 0, 0), 0);
        assert_eq!(dither(255.0, 3, 3), 255);
    }
}
