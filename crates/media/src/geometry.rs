//! Where each output pixel comes from: the display rotation, the resize modes (the same
//! semantics as images: fit/fill/crop/auto, never upscaling unless asked) and the even
//! dimensions 4:2:0 video needs. Pure arithmetic, so it is tested without FFmpeg.

use compressor_engine::options::{Resize, ResizeMode};

/// Clockwise quarter turns a player applies when showing the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rotation {
    None,
    Clockwise,
    HalfTurn,
    CounterClockwise,
}

impl Rotation {
    /// From a clockwise angle in degrees (the `rotate` tag's convention), snapped to quarter turns.
    pub(super) fn from_degrees(degrees: f64) -> Rotation {
        if !degrees.is_finite() {
            return Rotation::None;
        }
        match (degrees / 90.0).round().rem_euclid(4.0) as u8 {
            1 => Rotation::Clockwise,
            2 => Rotation::HalfTurn,
            3 => Rotation::CounterClockwise,
            _ => Rotation::None,
        }
    }

    /// From an AVStream display matrix (nine native-endian 32-bit values, 16.16 fixed point
    /// except the last column); the same reading as FFmpeg's `av_display_rotation_get`.
    pub(super) fn from_display_matrix(bytes: &[u8]) -> Rotation {
        let value = |i: usize| -> Option<f64> {
            let raw: [u8; 4] = bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?;
            Some(f64::from(i32::from_ne_bytes(raw)) / 65536.0)
        };
        let (Some(a), Some(b), Some(c), Some(d)) = (value(0), value(1), value(3), value(4)) else {
            return Rotation::None;
        };
        let (scale0, scale1) = (a.hypot(c), b.hypot(d));
        if scale0 == 0.0 || scale1 == 0.0 {
            return Rotation::None;
        }
        // FFmpeg's matrix angle is counter-clockwise; the player turns the picture clockwise by it.
        Rotation::from_degrees((b / scale1).atan2(a / scale0).to_degrees())
    }

    pub(super) fn swaps_sides(self) -> bool {
        matches!(self, Rotation::Clockwise | Rotation::CounterClockwise)
    }

    pub(super) fn degrees(self) -> u32 {
        match self {
            Rotation::None => 0,
            Rotation::Clockwise => 90,
            Rotation::HalfTurn => 180,
            Rotation::CounterClockwise => 270,
        }
    }
}

/// The picture pipeline for one stream: scale the decoded frame (in its stored orientation)
/// to `scaled`, cut the centred `crop` out of it, then turn it by `rotation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub source: (u32, u32),
    /// The source as a player shows it: upright, with square pixels.
    pub shown: (u32, u32),
    pub scaled: (u32, u32),
    pub crop: (u32, u32),
    pub rotation: Rotation,
    /// The encoded size, as displayed (after the rotation).
    pub output: (u32, u32),
    /// Sample aspect ratio of the output pixels; (0, 1) when unknown.
    pub sample_aspect: (i32, i32),
    /// True when a resize option changed the size.
    pub resized: bool,
}

impl Geometry {
    /// True when the decoded frame can go to the encoder as it is (given a 4:2:0 frame).
    pub(super) fn is_identity(&self) -> bool {
        self.scaled == self.source && self.crop == self.source && self.rotation == Rotation::None
    }
}

/// Works out the pipeline for a `width`×`height` stream with pixel aspect `sar`.
pub(super) fn plan(width: u32, height: u32, sar: (i32, i32), rotation: Rotation, resize: Option<&Resize>) -> Geometry {
    let source = (width.max(1), height.max(1));
    let known_sar = sar.0 > 0 && sar.1 > 0;
    let turn = |(w, h): (u32, u32)| if rotation.swaps_sides() { (h, w) } else { (w, h) };
    // A resize asks for displayed pixels, so anamorphic sources are planned (and encoded) square.
    let square_width = if known_sar {
        ((f64::from(source.0) * f64::from(sar.0) / f64::from(sar.1)).round() as u32).max(1)
    } else {
        source.0
    };
    let shown = turn((square_width, source.1));
    if let Some(step) = resize.and_then(|r| resize_step(r, shown.0, shown.1)) {
        let output = (even(step.width), even(step.height));
        let (crop_w, crop_h) = step.crop;
        let scaled_shown = (
            ((f64::from(shown.0) * f64::from(step.width) / crop_w).round() as u32).max(output.0),
            ((f64::from(shown.1) * f64::from(step.height) / crop_h).round() as u32).max(output.1),
        );
        return Geometry {
            source,
            shown,
            scaled: turn(scaled_shown),
            crop: turn(output),
            rotation,
            output,
            sample_aspect: (1, 1),
            resized: true,
        };
    }
    let crop = (even(source.0), even(source.1));
    let sample_aspect = match (known_sar, rotation.swaps_sides()) {
        (false, _) => (0, 1),
        (true, false) => sar,
        (true, true) => (sar.1, sar.0),
    };
    Geometry { source, shown, scaled: source, crop, rotation, output: turn(crop), sample_aspect, resized: false }
}

/// 4:2:0 chroma covers 2×2 pixels: encoders want even sides.
fn even(value: u32) -> u32 {
    (value & !1).max(2)
}

/// A resize resolved in displayed pixels: the output size and the centred region of the
/// input it shows.
struct Step {
    width: u32,
    height: u32,
    crop: (f64, f64),
}

/// The image module's resize semantics; `None` when the size would not change.
fn resize_step(resize: &Resize, width: u32, height: u32) -> Option<Step> {
    let (w, h) = (f64::from(width), f64::from(height));
    let target = |tw: f64, th: f64| (tw.round().max(1.0) as u32, th.round().max(1.0) as u32);
    let step = match resize.mode {
        ResizeMode::Auto | ResizeMode::Fit => {
            let scale = match (resize.width, resize.height) {
                (Some(tw), Some(th)) => (f64::from(tw) / w).min(f64::from(th) / h),
                (Some(tw), None) => f64::from(tw) / w,
                (None, Some(th)) => f64::from(th) / h,
                (None, None) => return None,
            };
            let scale = if resize.upscale { scale } else { scale.min(1.0) };
            let (tw, th) = target(w * scale, h * scale);
            Step { width: tw, height: th, crop: (w, h) }
        }
        ResizeMode::Fill => {
            let (tw, th) = (f64::from(resize.width?), f64::from(resize.height?));
            let scale = (tw / w).max(th / h);
            if scale > 1.0 && !resize.upscale {
                // Cover without enlarging: the largest centred region of the target's aspect.
                let aspect = tw / th;
                let (cw, ch) = if w / h > aspect { (h * aspect, h) } else { (w, w / aspect) };
                let (ow, oh) = target(cw, ch);
                Step { width: ow, height: oh, crop: (cw, ch) }
            } else {
                let (ow, oh) = target(tw, th);
                Step { width: ow, height: oh, crop: (tw / scale, th / scale) }
            }
        }
        ResizeMode::Crop => {
            let cw = f64::from(resize.width?).min(w);
            let ch = f64::from(resize.height?).min(h);
            let (ow, oh) = target(cw, ch);
            Step { width: ow, height: oh, crop: (cw, ch) }
        }
    };
    let unchanged = step.width == width && step.height == height;
    (!unchanged).then_some(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(width: Option<u32>, height: Option<u32>, mode: ResizeMode) -> Resize {
        Resize { width, height, mode, upscale: false }
    }

    #[test]
    fn no_options_keeps_the_size_but_evens_it() {
        let g = plan(721, 529, (1, 1), Rotation::None, None);
        assert_eq!((g.scaled, g.crop, g.output), ((721, 529), (720, 528), (720, 528)));
        assert!(!g.resized);
        assert!(plan(720, 528, (0, 1), Rotation::None, None).is_identity());
    }

    #[test]
    fn auto_width_gives_even_height() {
        let g = plan(720, 528, (1, 1), Rotation::None, Some(&resize(Some(320), None, ResizeMode::Auto)));
        assert_eq!(g.output, (320, 234));
        assert_eq!(g.scaled, (320, 235));
        assert!(g.resized);
    }

    #[test]
    fn never_upscales_unless_asked() {
        let g = plan(400, 200, (1, 1), Rotation::None, Some(&resize(Some(4000), None, ResizeMode::Auto)));
        assert!(!g.resized);
        assert_eq!(g.output, (400, 200));
    }

    #[test]
    fn fill_scales_then_cuts_the_centre() {
        let g = plan(400, 200, (1, 1), Rotation::None, Some(&resize(Some(100), Some(100), ResizeMode::Fill)));
        assert_eq!((g.scaled, g.crop, g.output), ((200, 100), (100, 100), (100, 100)));
    }

    #[test]
    fn crop_cuts_without_scaling() {
        let g = plan(400, 200, (1, 1), Rotation::None, Some(&resize(Some(100), Some(50), ResizeMode::Crop)));
        assert_eq!((g.scaled, g.crop, g.output), ((400, 200), (100, 50), (100, 50)));
    }

    #[test]
    fn rotation_swaps_the_displayed_sides() {
        let g = plan(1920, 1080, (1, 1), Rotation::Clockwise, None);
        assert_eq!(g.output, (1080, 1920));
        let g = plan(1920, 1080, (1, 1), Rotation::Clockwise, Some(&resize(Some(540), None, ResizeMode::Auto)));
        assert_eq!(g.output, (540, 960));
        assert_eq!(g.scaled, (960, 540), "scaled in the stored orientation");
    }

    #[test]
    fn anamorphic_pixels_are_kept_or_squared_by_a_resize() {
        let g = plan(720, 576, (16, 15), Rotation::None, None);
        assert_eq!((g.output, g.sample_aspect), ((720, 576), (16, 15)));
        let g = plan(720, 576, (16, 15), Rotation::None, Some(&resize(Some(384), None, ResizeMode::Auto)));
        assert_eq!((g.output, g.sample_aspect), ((384, 288), (1, 1)));
    }

    #[test]
    fn display_matrices_read_like_ffmpeg() {
        let matrix = |m: [i32; 9]| m.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>();
        let one = 1 << 16;
        // What `-display_rotation 90` / a phone held upright writes: player turns 90° clockwise.
        assert_eq!(Rotation::from_display_matrix(&matrix([0, one, 0, -one, 0, 0, 0, 0, 1 << 30])), Rotation::Clockwise);
        assert_eq!(Rotation::from_display_matrix(&matrix([one, 0, 0, 0, one, 0, 0, 0, 1 << 30])), Rotation::None);
        assert_eq!(Rotation::from_display_matrix(&matrix([-one, 0, 0, 0, -one, 0, 0, 0, 1 << 30])), Rotation::HalfTurn);
        assert_eq!(Rotation::from_display_matrix(&[0; 8]), Rotation::None);
        assert_eq!(Rotation::from_degrees(-90.0), Rotation::CounterClockwise);
    }
}
