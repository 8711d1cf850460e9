//! WebP output through libwebp (lossy and lossless).

use image::DynamicImage;

use crate::error::EngineError;

fn failed(reason: impl Into<String>) -> EngineError {
    EngineError::Encode { format: "WebP", reason: reason.into() }
}

/// `effort` is libwebp's `method`, 0 (fast) to 6 (smallest).
pub(crate) fn encode(image: &DynamicImage, quality: f32, lossless: bool, effort: i32) -> Result<Vec<u8>, EngineError> {
    let (width, height) = (image.width(), image.height());
    let rgba;
    let rgb;
    let encoder = if image.color().has_alpha() {
        rgba = image.to_rgba8();
        webp::Encoder::from_rgba(rgba.as_raw(), width, height)
    } else {
        rgb = image.to_rgb8();
        webp::Encoder::from_rgb(rgb.as_raw(), width, height)
    };
    let mut config = webp::WebPConfig::new().map_err(|()| failed("libwebp rejected its default configuration"))?;
    config.lossless = i32::from(lossless);
    // For lossless, quality is libwebp's compression effort; give it the maximum.
    config.quality = if lossless { 100.0 } else { quality };
    config.method = effort;
    config.alpha_quality = if lossless { 100 } else { quality.round() as i32 };
    let memory = encoder.encode_advanced(&config).map_err(|err| failed(format!("{err:?}")))?;
    Ok(memory.to_vec())
}

/// Puts an ICC profile and EXIF into a WebP libwebp wrote, in WebP's extended format: a
/// `VP8X` chunk (its flags say what follows, and the canvas size), `ICCP` before the image's
/// own chunks, `EXIF` after them, as the container specification orders them. Written here
/// because the `webp` crate only encodes, and libwebpmux (which does this in C) is not bound by
/// it; the RIFF layout is a few fixed fields.
pub(crate) fn with_metadata(
    webp: &[u8],
    (width, height): (u32, u32),
    alpha: bool,
    icc: Option<&[u8]>,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, EngineError> {
    if icc.is_none() && exif.is_none() {
        return Ok(webp.to_vec());
    }
    let chunks = chunks(webp).ok_or_else(|| failed("libwebp's output is not a RIFF file"))?;
    // The image's own chunks (VP8, VP8L, and ALPH for lossy with alpha), in their order.
    let image: Vec<&(&[u8], &[u8])> = chunks.iter().filter(|(fourcc, _)| *fourcc != b"VP8X").collect();
    let had_alpha =
        chunks.iter().any(|(fourcc, payload)| *fourcc == b"VP8X" && payload.first().is_some_and(|f| f & 0x10 != 0));
    let mut flags = 0u8;
    if icc.is_some() {
        flags |= 0x20;
    }
    if alpha || had_alpha {
        flags |= 0x10;
    }
    if exif.is_some() {
        flags |= 0x08;
    }
    let mut vp8x = vec![flags, 0, 0, 0];
    vp8x.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    push_chunk(&mut body, b"VP8X", &vp8x);
    if let Some(icc) = icc {
        push_chunk(&mut body, b"ICCP", icc);
    }
    for (fourcc, payload) in image {
        push_chunk(&mut body, fourcc, payload);
    }
    if let Some(exif) = exif {
        push_chunk(&mut body, b"EXIF", exif);
    }
    let size = u32::try_from(body.len()).map_err(|_| failed("the WebP with its metadata is over 4 GB"))?;
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The chunks of a RIFF WebP: (FourCC, payload) pairs; `None` when it is not well formed.
fn chunks(webp: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    if webp.get(0..4)? != b"RIFF" || webp.get(8..12)? != b"WEBP" {
        return None;
    }
    let mut chunks = Vec::new();
    let mut position = 12;
    while position < webp.len() {
        let fourcc = webp.get(position..position + 4)?;
        let length = u32::from_le_bytes(webp.get(position + 4..position + 8)?.try_into().ok()?) as usize;
        let payload = webp.get(position + 8..position + 8 + length)?;
        chunks.push((fourcc, payload));
        // Payloads are padded to an even length.
        position += 8 + length + (length & 1);
    }
    Some(chunks)
}

fn push_chunk(out: &mut Vec<u8>, fourcc: &[u8], payload: &[u8]) {
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_goes_around_the_image_chunks_with_the_flags_that_say_so() {
        let image = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(64, 48, |x, y| {
            image::Rgba([(x * 4) as u8, (y * 5) as u8, 128, if x < 32 { 255 } else { 100 }])
        }));
        // Lossy with alpha: libwebp writes VP8X, ALPH and VP8 itself.
        let encoded = encode(&image, 75.0, false, 4).unwrap();
        let icc = b"an odd-length profile".to_vec();
        let exif = b"II*\0\x08\0\0\0\0\0\0\0".to_vec();
        let out = with_metadata(&encoded, (64, 48), true, Some(&icc), Some(&exif)).unwrap();
        let found = chunks(&out).unwrap();
        let names: Vec<&[u8]> = found.iter().map(|(fourcc, _)| *fourcc).collect();
        assert_eq!(names, [&b"VP8X"[..], b"ICCP", b"ALPH", b"VP8 ", b"EXIF"]);
        assert_eq!(found[0].1[0], 0x20 | 0x10 | 0x08);
        assert_eq!(found[0].1[4..10], [63, 0, 0, 47, 0, 0]);
        assert_eq!(found[1].1, &icc[..]);
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize, out.len() - 8);
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
        assert!(decoded.color().has_alpha());
    }
}
