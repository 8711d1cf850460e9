//! AVIF output through ravif (rav1e).

use image::DynamicImage;

use crate::error::EngineError;

/// `speed` is rav1e's 1 (slowest, smallest) to 10 (fastest).
pub(crate) fn encode(
    image: &DynamicImage,
    quality: f32,
    speed: u8,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, EngineError> {
    let failed = |err: ravif::Error| EngineError::Encode { format: "AVIF", reason: err.to_string() };
    let (width, height) = (image.width() as usize, image.height() as usize);
    let mut encoder = ravif::Encoder::new().with_quality(quality).with_alpha_quality(quality).with_speed(speed);
    if let Some(exif) = exif {
        encoder = encoder.with_exif(exif);
    }
    let encoded = if image.color().has_alpha() {
        let pixels: Vec<ravif::RGBA8> =
            image.to_rgba8().pixels().map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3])).collect();
        encoder.encode_rgba(ravif::Img::new(&pixels[..], width, height)).map_err(failed)?
    } else {
        let pixels: Vec<ravif::RGB8> = image.to_rgb8().pixels().map(|p| ravif::RGB8::new(p[0], p[1], p[2])).collect();
        encoder.encode_rgb(ravif::Img::new(&pixels[..], width, height)).map_err(failed)?
    };
    Ok(encoded.avif_file)
}
