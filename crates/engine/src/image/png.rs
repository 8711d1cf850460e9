//! PNG output: oxipng for lossless optimisation, libimagequant for the lossy palette mode.

use image::DynamicImage;
use oxipng::{IndexSet, StripChunks};

use super::Metadata;
use crate::error::EngineError;

fn failed(reason: impl std::fmt::Display) -> EngineError {
    EngineError::Encode { format: "PNG", reason: reason.to_string() }
}

/// Chunks that change how the image looks; never stripped.
const DISPLAY_CHUNKS: [&[u8; 4]; 6] = [b"cICP", b"sRGB", b"pHYs", b"acTL", b"fcTL", b"fdAT"];

/// Optimises an existing PNG stream losslessly, keeping only display chunks plus the asked-for metadata.
pub(crate) fn optimize(png: &[u8], preset: u8, keep_icc: bool, keep_exif: bool) -> Result<Vec<u8>, EngineError> {
    let mut keep: IndexSet<[u8; 4]> = DISPLAY_CHUNKS.iter().map(|c| **c).collect();
    if keep_icc {
        keep.insert(*b"iCCP");
    }
    if keep_exif {
        keep.insert(*b"eXIf");
    }
    let mut options = oxipng::Options::from_preset(preset);
    options.strip = StripChunks::Keep(keep);
    // Never let a PNG expand into more memory than the decoder limits would allow.
    options.max_decompressed_size = Some(1 << 30);
    oxipng::optimize_from_memory(png, &options).map_err(|err| match err {
        oxipng::PngError::DeflatedDataTooLong(_) => failed("not smaller"),
        other => EngineError::Corrupt { format: "PNG", reason: other.to_string() },
    })
}

/// [`optimize`] keeping the pixel format as it is (8-bit RGBA stays 8-bit RGBA): what an icon's
/// PNG members need, since Windows and other readers of icons take only 32-bit PNGs there.
pub(crate) fn optimize_keeping_rgba(png: &[u8], preset: u8) -> Result<Vec<u8>, EngineError> {
    let mut options = oxipng::Options::from_preset(preset);
    options.strip = StripChunks::Keep(DISPLAY_CHUNKS.iter().map(|c| **c).collect());
    options.max_decompressed_size = Some(1 << 30);
    options.bit_depth_reduction = false;
    options.color_type_reduction = false;
    options.palette_reduction = false;
    options.grayscale_reduction = false;
    oxipng::optimize_from_memory(png, &options).map_err(|err| match err {
        oxipng::PngError::DeflatedDataTooLong(_) => failed("not smaller"),
        other => EngineError::Corrupt { format: "PNG", reason: other.to_string() },
    })
}

/// Encodes pixels as a PNG (fast deflate), to be optimised by [`optimize`].
pub(crate) fn encode_lossless(image: &DynamicImage, metadata: &Metadata) -> Result<Vec<u8>, EngineError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    if let Some(icc) = metadata.icc {
        encoder.set_icc_profile(icc.to_vec()).map_err(failed)?;
    }
    if let Some(exif) = metadata.exif {
        encoder.set_exif_metadata(exif.to_vec()).map_err(failed)?;
    }
    encoder.write_image(image.as_bytes(), image.width(), image.height(), image.color().into()).map_err(failed)?;
    Ok(out)
}

/// A palette of up to 256 colours with the indices of each pixel.
pub(crate) struct Quantized {
    pub palette: Vec<imagequant::RGBA>,
    pub indices: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Reduces the image to a palette with libimagequant. `Ok(None)` when the palette cannot
/// reach `min_quality` (a photo with smooth gradients): the caller falls back to lossless.
pub(crate) fn quantize(
    image: &DynamicImage,
    min_quality: u8,
    target_quality: u8,
) -> Result<Option<Quantized>, EngineError> {
    let rgba = image.to_rgba8();
    let (width, height) = rgba.dimensions();
    let pixels: Vec<imagequant::RGBA> = rgba.pixels().map(|p| imagequant::RGBA::new(p[0], p[1], p[2], p[3])).collect();
    let mut attributes = imagequant::new();
    attributes.set_quality(min_quality, target_quality).map_err(failed)?;
    attributes.set_speed(4).map_err(failed)?;
    let mut liq_image = attributes.new_image(pixels, width as usize, height as usize, 0.0).map_err(failed)?;
    let mut result = match attributes.quantize(&mut liq_image) {
        Ok(result) => result,
        Err(imagequant::Error::QualityTooLow) => return Ok(None),
        Err(err) => return Err(failed(err)),
    };
    result.set_dithering_level(1.0).map_err(failed)?;
    let (palette, indices) = result.remapped(&mut liq_image).map_err(failed)?;
    Ok(Some(Quantized { palette, indices, width, height }))
}

/// Writes a quantised image as an 8-bit palette PNG (oxipng then packs the bit depth).
pub(crate) fn encode_palette(quantized: &Quantized, metadata: &Metadata) -> Result<Vec<u8>, EngineError> {
    let mut info = png::Info::with_size(quantized.width, quantized.height);
    info.color_type = png::ColorType::Indexed;
    info.bit_depth = png::BitDepth::Eight;
    info.palette = Some(quantized.palette.iter().flat_map(|c| [c.r, c.g, c.b]).collect::<Vec<u8>>().into());
    if quantized.palette.iter().any(|c| c.a != 255) {
        info.trns = Some(quantized.palette.iter().map(|c| c.a).collect::<Vec<u8>>().into());
    }
    info.icc_profile = metadata.icc.map(Into::into);
    info.exif_metadata = metadata.exif.map(Into::into);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::with_info(&mut out, info).map_err(failed)?;
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&quantized.indices).map_err(failed)?;
    }
    Ok(out)
}
