//! Resizing with the API's modes. Never upscales unless asked.

use fast_image_resize::{images::Image as ResizeBuffer, IntoImageView, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use crate::options::{Resize, ResizeMode};

/// The geometry a resize resolves to: scale the whole image (or a centred crop of it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    pub width: u32,
    pub height: u32,
    /// Source rectangle (left, top, width, height) when cropping.
    pub source: Option<(f64, f64, f64, f64)>,
}

/// Works out the output size for an input of `width`×`height`. `None` means "leave it as is".
pub(crate) fn plan(resize: &Resize, width: u32, height: u32) -> Option<Plan> {
    let (w, h) = (width as f64, height as f64);
    let target = |tw: f64, th: f64| (tw.round().max(1.0) as u32, th.round().max(1.0) as u32);
    let plan = match resize.mode {
        ResizeMode::Auto | ResizeMode::Fit => {
            let scale = match (resize.width, resize.height) {
                (Some(tw), Some(th)) => (tw as f64 / w).min(th as f64 / h),
                (Some(tw), None) => tw as f64 / w,
                (None, Some(th)) => th as f64 / h,
                (None, None) => return None,
            };
            let scale = if resize.upscale { scale } else { scale.min(1.0) };
            let (tw, th) = target(w * scale, h * scale);
            Plan { width: tw, height: th, source: None }
        }
        ResizeMode::Fill => {
            let (tw, th) = (resize.width? as f64, resize.height? as f64);
            let scale = (tw / w).max(th / h);
            if scale > 1.0 && !resize.upscale {
                // Cover without enlarging: crop the largest centred region of the target's aspect.
                let aspect = tw / th;
                let (cw, ch) = if w / h > aspect { (h * aspect, h) } else { (w, w / aspect) };
                let (ow, oh) = target(cw, ch);
                Plan { width: ow, height: oh, source: Some(((w - cw) / 2.0, (h - ch) / 2.0, cw, ch)) }
            } else {
                let (cw, ch) = (tw / scale, th / scale);
                let (ow, oh) = target(tw, th);
                Plan { width: ow, height: oh, source: Some(((w - cw) / 2.0, (h - ch) / 2.0, cw, ch)) }
            }
        }
        ResizeMode::Crop => {
            let cw = (resize.width? as f64).min(w);
            let ch = (resize.height? as f64).min(h);
            let (ow, oh) = target(cw, ch);
            Plan { width: ow, height: oh, source: Some(((w - cw) / 2.0, (h - ch) / 2.0, cw, ch)) }
        }
    };
    if plan.width == width && plan.height == height && plan.source.is_none() {
        None
    } else {
        Some(plan)
    }
}

/// Applies a plan with a Lanczos3 filter (crops copy pixels exactly).
pub(crate) fn apply(image: &DynamicImage, plan: &Plan) -> Result<DynamicImage, String> {
    let pixel_type = image.pixel_type().ok_or("this pixel format cannot be resized")?;
    let mut output = ResizeBuffer::new(plan.width, plan.height, pixel_type);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Lanczos3));
    if let Some((left, top, width, height)) = plan.source {
        options = options.crop(left, top, width, height);
        if width as u32 == plan.width && height as u32 == plan.height {
            options = options.resize_alg(ResizeAlg::Nearest);
        }
    }
    Resizer::new().resize(image, &mut output, &options).map_err(|e| e.to_string())?;
    let buffer = output.into_vec();
    let (w, h) = (plan.width, plan.height);
    let resized = match image {
        DynamicImage::ImageLuma8(_) => image::GrayImage::from_raw(w, h, buffer).map(DynamicImage::ImageLuma8),
        DynamicImage::ImageLumaA8(_) => image::GrayAlphaImage::from_raw(w, h, buffer).map(DynamicImage::ImageLumaA8),
        DynamicImage::ImageRgb8(_) => image::RgbImage::from_raw(w, h, buffer).map(DynamicImage::ImageRgb8),
        DynamicImage::ImageRgba8(_) => image::RgbaImage::from_raw(w, h, buffer).map(DynamicImage::ImageRgba8),
        _ => {
            // Wider pixel formats: resize their 8-bit version rather than re-pack every layout.
            let eight_bit = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            return apply(&eight_bit, plan);
        }
    };
    resized.ok_or_else(|| "resize produced a buffer of the wrong size".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(width: Option<u32>, height: Option<u32>, mode: ResizeMode) -> Resize {
        Resize { width, height, mode, upscale: false }
    }

    #[test]
    fn fit_keeps_aspect_inside_the_box() {
        let p = plan(&resize(Some(640), Some(480), ResizeMode::Fit), 5640, 3172).unwrap();
        assert_eq!((p.width, p.height), (640, 360));
    }

    #[test]
    fn auto_with_one_side() {
        let p = plan(&resize(None, Some(100), ResizeMode::Auto), 400, 200).unwrap();
        assert_eq!((p.width, p.height), (200, 100));
    }

    #[test]
    fn never_upscales_unless_asked() {
        assert_eq!(plan(&resize(Some(4000), None, ResizeMode::Auto), 400, 200), None);
        let mut r = resize(Some(800), None, ResizeMode::Auto);
        r.upscale = true;
        assert_eq!(plan(&r, 400, 200).map(|p| (p.width, p.height)), Some((800, 400)));
    }

    #[test]
    fn fill_covers_then_crops_to_exact_size() {
        let p = plan(&resize(Some(100), Some(100), ResizeMode::Fill), 400, 200).unwrap();
        assert_eq!((p.width, p.height), (100, 100));
        assert_eq!(p.source, Some((100.0, 0.0, 200.0, 200.0)));
    }

    #[test]
    fn crop_cuts_the_centre() {
        let p = plan(&resize(Some(100), Some(50), ResizeMode::Crop), 400, 200).unwrap();
        assert_eq!((p.width, p.height), (100, 50));
        assert_eq!(p.source, Some((150.0, 75.0, 100.0, 50.0)));
    }
}
