//! Turns decoded frames into what the video encoder takes: 8-bit 4:2:0 at the planned size,
//! upright. swscale converts and scales; the centred crop and the quarter turns are plane
//! copies done here (swscale cannot rotate, and a crop after scaling keeps chroma aligned).

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;
use ffmpeg_next::software::scaling;

use super::geometry::{Geometry, Rotation};
use compressor_engine::EngineError;

pub(super) struct Converter {
    geometry: Geometry,
    /// Rebuilt when the decoded frames change format or size mid-stream.
    scaler: Option<(Pixel, u32, u32, scaling::Context)>,
}

impl Converter {
    pub(super) fn new(geometry: Geometry) -> Self {
        Self { geometry, scaler: None }
    }

    pub(super) fn convert(&mut self, frame: frame::Video) -> Result<frame::Video, EngineError> {
        let g = self.geometry;
        let same_size = (frame.width(), frame.height()) == g.source;
        if frame.format() == Pixel::YUV420P && same_size && g.is_identity() {
            return Ok(frame);
        }
        let scaled = if frame.format() == Pixel::YUV420P && (frame.width(), frame.height()) == g.scaled {
            frame
        } else {
            self.scale(&frame)?
        };
        if g.crop == g.scaled && g.rotation == Rotation::None {
            return Ok(scaled);
        }
        Ok(cut_and_turn(&scaled, g.crop, g.rotation))
    }

    fn scale(&mut self, frame: &frame::Video) -> Result<frame::Video, EngineError> {
        let key = (frame.format(), frame.width(), frame.height());
        let (w, h) = self.geometry.scaled;
        let context = match &mut self.scaler {
            Some((format, width, height, context)) if (*format, *width, *height) == key => context,
            slot => {
                let context = scaling::Context::get(key.0, key.1, key.2, Pixel::YUV420P, w, h, scaling::Flags::BICUBIC)
                    .map_err(|e| EngineError::Encode {
                        format: "video",
                        reason: format!("cannot convert {:?} {}×{} pictures: {e}", key.0, key.1, key.2),
                    })?;
                &mut slot.insert((key.0, key.1, key.2, context)).3
            }
        };
        let mut scaled = frame::Video::empty();
        context
            .run(frame, &mut scaled)
            .map_err(|e| EngineError::Encode { format: "video", reason: format!("scaling failed: {e}") })?;
        Ok(scaled)
    }
}

/// Copies the centred `crop` of a 4:2:0 frame into a new frame, turned by `rotation`.
fn cut_and_turn(source: &frame::Video, crop: (u32, u32), rotation: Rotation) -> frame::Video {
    let (crop_w, crop_h) = (crop.0.min(source.width()) as usize, crop.1.min(source.height()) as usize);
    // Even offsets keep the chroma samples on the luma pixels they belong to.
    let left = ((source.width() as usize - crop_w) / 2) & !1;
    let top = ((source.height() as usize - crop_h) / 2) & !1;
    let (out_w, out_h) = if rotation.swaps_sides() { (crop_h, crop_w) } else { (crop_w, crop_h) };
    let mut output = frame::Video::new(Pixel::YUV420P, out_w as u32, out_h as u32);
    for plane in 0..3 {
        let shift = usize::from(plane > 0);
        let window = Window {
            left: left >> shift,
            top: top >> shift,
            width: crop_w >> shift,
            height: crop_h >> shift,
            stride: source.stride(plane),
        };
        let dst_stride = output.stride(plane);
        turn_plane(source.data(plane), &window, output.data_mut(plane), dst_stride, rotation);
    }
    output
}

struct Window {
    left: usize,
    top: usize,
    width: usize,
    height: usize,
    stride: usize,
}

fn turn_plane(src: &[u8], w: &Window, dst: &mut [u8], dst_stride: usize, rotation: Rotation) {
    let at = |x: usize, y: usize| src[(w.top + y) * w.stride + w.left + x];
    match rotation {
        Rotation::None => {
            for y in 0..w.height {
                let from = (w.top + y) * w.stride + w.left;
                dst[y * dst_stride..y * dst_stride + w.width].copy_from_slice(&src[from..from + w.width]);
            }
        }
        Rotation::HalfTurn => {
            for y in 0..w.height {
                for x in 0..w.width {
                    dst[y * dst_stride + x] = at(w.width - 1 - x, w.height - 1 - y);
                }
            }
        }
        // Output rows are input columns: row y of the output is column y read bottom-up.
        Rotation::Clockwise => {
            for y in 0..w.width {
                for x in 0..w.height {
                    dst[y * dst_stride + x] = at(y, w.height - 1 - x);
                }
            }
        }
        Rotation::CounterClockwise => {
            for y in 0..w.width {
                for x in 0..w.height {
                    dst[y * dst_stride + x] = at(w.width - 1 - y, x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 plane, values 1..=6 row by row, turned each way.
    fn turned(rotation: Rotation) -> Vec<u8> {
        let src = [1, 2, 3, 4, 5, 6];
        let window = Window { left: 0, top: 0, width: 3, height: 2, stride: 3 };
        let (w, h) = if rotation.swaps_sides() { (2, 3) } else { (3, 2) };
        let mut dst = vec![0; w * h];
        turn_plane(&src, &window, &mut dst, w, rotation);
        dst
    }

    #[test]
    fn planes_turn_like_a_player_shows_them() {
        // 1 2 3      clockwise: 4 1     counter-clockwise: 3 6
        // 4 5 6                 5 2                        2 5
        //                       6 3                        1 4
        assert_eq!(turned(Rotation::None), [1, 2, 3, 4, 5, 6]);
        assert_eq!(turned(Rotation::Clockwise), [4, 1, 5, 2, 6, 3]);
        assert_eq!(turned(Rotation::CounterClockwise), [3, 6, 2, 5, 1, 4]);
        assert_eq!(turned(Rotation::HalfTurn), [6, 5, 4, 3, 2, 1]);
    }
}
