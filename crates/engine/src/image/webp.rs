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
