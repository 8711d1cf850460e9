//! GIF: re-optimisation of existing (possibly animated) GIFs, and GIF output from other formats.

use std::io::Cursor;

use image::DynamicImage;

use crate::error::EngineError;

fn corrupt(err: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt { format: "GIF", reason: err.to_string() }
}

fn failed(err: impl std::fmt::Display) -> EngineError {
    EngineError::Encode { format: "GIF", reason: err.to_string() }
}

/// Re-encodes every frame as it is (same palettes, timing, disposal and transparency) with
/// a fresh LZW stream, dropping comments and application extensions other than looping.
/// Returns the new bytes and the number of frames.
pub(crate) fn reoptimize(input: &[u8], max_pixels: u64) -> Result<(Vec<u8>, usize), EngineError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(Cursor::new(input)).map_err(corrupt)?;
    let (width, height) = (decoder.width(), decoder.height());
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(EngineError::TooManyPixels { width: width.into(), height: height.into(), limit: max_pixels });
    }
    let global_palette = decoder.global_palette().map(<[u8]>::to_vec);
    let repeat = decoder.repeat();
    let mut out = Vec::with_capacity(input.len());
    let mut frames = 0;
    {
        let mut encoder =
            gif::Encoder::new(&mut out, width, height, global_palette.as_deref().unwrap_or(&[])).map_err(failed)?;
        if repeat != gif::Repeat::Finite(0) {
            encoder.set_repeat(repeat).map_err(failed)?;
        }
        let mut budget = max_pixels.saturating_mul(64);
        while let Some(frame) = decoder.read_next_frame().map_err(corrupt)? {
            // An animation's total pixels are bounded too: a thousand full-size frames is a bomb.
            budget = budget.saturating_sub(u64::from(frame.width) * u64::from(frame.height));
            if budget == 0 {
                return Err(EngineError::TooManyPixels {
                    width: width.into(),
                    height: height.into(),
                    limit: max_pixels,
                });
            }
            encoder.write_frame(frame).map_err(failed)?;
            frames += 1;
        }
    }
    if frames == 0 {
        return Err(corrupt("no image frames"));
    }
    Ok((out, frames))
}

/// A single-frame GIF from any image, through libimagequant's palette.
pub(crate) fn encode(image: &DynamicImage, quantized: &super::png::Quantized) -> Result<Vec<u8>, EngineError> {
    let (width, height) = (image.width() as u16, image.height() as u16);
    let palette: Vec<u8> = quantized.palette.iter().flat_map(|c| [c.r, c.g, c.b]).collect();
    let transparent = quantized.palette.iter().position(|c| c.a < 128).map(|i| i as u8);
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).map_err(failed)?;
        let frame = gif::Frame {
            width,
            height,
            buffer: std::borrow::Cow::Borrowed(&quantized.indices),
            transparent,
            ..gif::Frame::default()
        };
        encoder.write_frame(&frame).map_err(failed)?;
    }
    Ok(out)
}
