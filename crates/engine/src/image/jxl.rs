//! JPEG XL: decoded here by jxl-oxide (pure Rust, so it may read untrusted files in this
//! process), encoded by libjxl in the media worker (C++, never in this process). A JPEG
//! transcoded losslessly is proven by rebuilding the original file from the result, byte for
//! byte, before the result is used: libjxl rebuilds it (in the worker, as `djxl` would), and
//! the bytes are compared here. (jxl-oxide's own reconstruction differed from the original on
//! one of five camera JPEGs that libjxl rebuilds exactly, so it is not the judge.)

use std::io::Cursor;

use image::DynamicImage;

use crate::error::{corrupt, EngineError};
use crate::media::protocol::{JxlJob, JxlSource};
use crate::{Format, Limits};

/// The decoded picture, upright, with its ICC profile.
pub(crate) struct Decoded {
    pub image: DynamicImage,
    pub icc: Option<Vec<u8>>,
}

fn open(bytes: &[u8], limits: &Limits) -> Result<jxl_oxide::JxlImage, EngineError> {
    let image = jxl_oxide::JxlImage::builder().read(Cursor::new(bytes)).map_err(|e| corrupt(Format::Jxl, e))?;
    limits.check(image.width(), image.height())?;
    Ok(image)
}

/// Decodes a still JPEG XL to 8-bit RGB(A) or grey. An animation is refused: its frames
/// would be lost in a still output.
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, EngineError> {
    let image = open(bytes, limits)?;
    if image.num_loaded_keyframes() > 1 {
        return Err(EngineError::Unsupported(format!(
            "animated JPEG XL ({} frames): only still pictures are compressed",
            image.num_loaded_keyframes()
        )));
    }
    if !image.is_loading_done() {
        return Err(EngineError::Damaged { reason: "the JPEG XL data ends early".into(), salvageable: false });
    }
    let render = image.render_frame(0).map_err(|e| corrupt(Format::Jxl, e))?;
    let mut stream = render.stream();
    let (width, height, channels) = (stream.width(), stream.height(), stream.channels());
    let mut pixels = vec![0u8; width as usize * height as usize * channels as usize];
    let written = stream.write_to_buffer(&mut pixels);
    if written != pixels.len() {
        return Err(corrupt(Format::Jxl, format!("the decoder gave {written} samples, not {}", pixels.len())));
    }
    let short = || corrupt(Format::Jxl, "the decoded pixels do not fill the picture");
    let image_out = match channels {
        1 => image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(width, height, pixels).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
        4 => image::RgbaImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgba8),
        other => return Err(EngineError::Unsupported(format!("JPEG XL with {other} channels (CMYK?)"))),
    }
    .ok_or_else(short)?;
    Ok(Decoded { image: image_out, icc: image.original_icc().map(<[u8]>::to_vec) })
}

/// The JPEG the JPEG XL file at `jxl` rebuilds, by libjxl in the media worker.
fn rebuild_jpeg(jxl: &std::path::Path, limits: &Limits) -> Result<Vec<u8>, EngineError> {
    let jpeg = crate::scratch_file(&std::env::temp_dir())?;
    crate::media::codec().rebuild_jpeg(&crate::absolute(jxl)?, &crate::absolute(jpeg.path())?, limits)?;
    std::fs::read(jpeg.path()).map_err(|e| crate::cannot_read(jpeg.path(), e))
}

/// libjxl's distance for a quality on the JPEG-like 1–100 scale the engine searches in: cjxl's
/// own mapping (q90 → 1.0, "visually lossless"; q30 → 6.4).
pub(crate) fn distance(quality: f32) -> f32 {
    let quality = quality.clamp(1.0, 100.0);
    if quality >= 30.0 {
        0.1 + (100.0 - quality) * 0.09
    } else {
        6.4 + 2.5f32.powf((30.0 - quality) / 5.0) / 6.25
    }
}

/// Encodes `image` in the media worker (libjxl), at `quality` (see [`distance`]) or losslessly.
/// `icc` and `exif` are kept in the file when given (the pixels are in `icc`'s colours).
pub(crate) fn encode(
    image: &DynamicImage,
    quality: f32,
    lossless: bool,
    effort: u8,
    limits: &Limits,
    (icc, exif): (Option<&[u8]>, Option<&[u8]>),
) -> Result<Vec<u8>, EngineError> {
    let alpha = image.color().has_alpha();
    let pixels = if alpha { image.to_rgba8().into_raw() } else { image.to_rgb8().into_raw() };
    let folder = std::env::temp_dir();
    let source = crate::write_scratch(&folder, &pixels)?;
    drop(pixels);
    let path = crate::absolute(source.path())?;
    let source = JxlSource::Pixels { path, width: image.width(), height: image.height(), alpha };
    let output = run(source, distance(quality), lossless, effort, limits, (icc, exif))?;
    read(&output)
}

/// Transcodes a JPEG into JPEG XL without loss, proving the result rebuilds `jpeg` exactly.
pub(crate) fn transcode_jpeg(jpeg: &[u8], effort: u8, limits: &Limits) -> Result<Vec<u8>, EngineError> {
    let source = crate::write_scratch(&std::env::temp_dir(), jpeg)?;
    let path = crate::absolute(source.path())?;
    // The JPEG's own markers (EXIF, ICC and all) are in the reconstruction data.
    let written = run(JxlSource::Jpeg { path }, 0.0, true, effort, limits, (None, None))?;
    let rebuilt = rebuild_jpeg(written.path(), limits)?;
    if rebuilt != jpeg {
        return Err(EngineError::Encode {
            format: "JPEG XL",
            reason: "the transcoded file does not rebuild the original JPEG byte for byte".into(),
        });
    }
    read(&written)
}

fn run(
    source: JxlSource,
    distance: f32,
    lossless: bool,
    effort: u8,
    limits: &Limits,
    (icc, exif): (Option<&[u8]>, Option<&[u8]>),
) -> Result<tempfile::NamedTempFile, EngineError> {
    let output = crate::scratch_file(&std::env::temp_dir())?;
    let job = JxlJob {
        source,
        distance,
        lossless,
        effort,
        output: crate::absolute(output.path())?,
        icc: icc.map(<[u8]>::to_vec),
        exif: exif.map(<[u8]>::to_vec),
    };
    crate::media::codec().encode_jxl(&job, limits)?;
    Ok(output)
}

/// The bytes the worker wrote.
fn read(written: &tempfile::NamedTempFile) -> Result<Vec<u8>, EngineError> {
    std::fs::read(written.path()).map_err(|e| crate::cannot_read(written.path(), e))
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn quality_maps_to_cjxl_distances() {
        assert!((distance(90.0) - 1.0).abs() < 1e-6);
        assert!((distance(30.0) - 6.4).abs() < 1e-5);
        assert!(distance(75.0) > distance(85.0));
        assert!(distance(1.0) > distance(29.0));
    }
}
