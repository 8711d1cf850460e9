//! Colour profiles. Stripping a wide-gamut (Display P3, Adobe RGB) profile without converting
//! the pixels would shift every colour, so such images are converted to sRGB first.

use image::DynamicImage;
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

/// True for an RGB profile whose primaries are not sRGB's (Display P3, Adobe RGB): dropping
/// it would shift colours. Grey and CMYK profiles are not (the decoder has already turned CMYK
/// into RGB, and grey images have no gamut to lose); an unreadable profile is not either.
pub(crate) fn is_wide_gamut(icc: &[u8]) -> bool {
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return false;
    };
    if profile.color_space != DataColorSpace::Rgb {
        return false;
    }
    let srgb = ColorProfile::new_srgb();
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() < 0.01 && (a.y - b.y).abs() < 0.01 && (a.z - b.z).abs() < 0.01
    };
    !(close(profile.red_colorant, srgb.red_colorant)
        && close(profile.green_colorant, srgb.green_colorant)
        && close(profile.blue_colorant, srgb.blue_colorant))
}

/// Converts RGB(A) pixels from the given profile to sRGB. 16-bit and float images are
/// reduced to 8 bits on the way, which every lossy target does anyway.
pub(crate) fn convert_to_srgb(image: DynamicImage, icc: &[u8]) -> Result<DynamicImage, String> {
    let source = ColorProfile::new_from_slice(icc).map_err(|e| format!("unreadable ICC profile: {e}"))?;
    let srgb = ColorProfile::new_srgb();
    let has_alpha = image.color().has_alpha();
    let layout = if has_alpha { Layout::Rgba } else { Layout::Rgb };
    let transform = source
        .create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
        .map_err(|e| format!("cannot convert this ICC profile to sRGB: {e}"))?;
    let (width, height) = (image.width(), image.height());
    let pixels = if has_alpha { image.into_rgba8().into_raw() } else { image.into_rgb8().into_raw() };
    let mut converted = vec![0u8; pixels.len()];
    transform.transform(&pixels, &mut converted).map_err(|e| format!("colour conversion failed: {e}"))?;
    let image = if has_alpha {
        image::RgbaImage::from_raw(width, height, converted).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(width, height, converted).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| "colour conversion produced a buffer of the wrong size".to_string())
}
