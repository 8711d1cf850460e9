//! The image family: decode (with limits), orient, manage colour, resize, and hand the
//! pixels to one encoder module per output format.
//!
//! HEIC/HEIF and AVIF are decoded by libheif in the media worker, never in this process (a
//! C decoder fed untrusted files: see the `media` module); their pixels come back through a
//! file and go on from here like any other picture's. A HEIC becomes a JPEG by default, for
//! compatibility: that is written even when it is larger than the HEIC. JPEG XL is decoded
//! here (jxl-oxide, pure Rust) and encoded by libjxl in the worker (see `jxl`).

#[cfg(feature = "avif")]
mod avif;
mod color;
#[cfg(feature = "gif")]
mod gif;
pub(crate) mod ico;
#[cfg(feature = "jpeg")]
pub(crate) mod jpeg;
#[cfg(feature = "jxl")]
mod jxl;
pub(crate) mod perceptual;
#[cfg(feature = "png")]
mod png;
pub(crate) mod resize;
mod tolerate;
#[cfg(feature = "webp")]
mod webp;

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::detect::Format;
use crate::error::corrupt;
use crate::error::EngineError;
use crate::options::{Compression, ImageFormat, ImageOptions};
use crate::report::FileFacts;
use crate::{output_name, Compressed, Limits};

/// Metadata to embed in an output.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Metadata<'a> {
    pub icc: Option<&'a [u8]>,
    pub exif: Option<&'a [u8]>,
}

/// Encoder settings derived from the compression level (or an explicit quality).
#[derive(Debug, Clone, Copy)]
struct Tuning {
    quality: f32,
    full_chroma: bool,
    /// libimagequant's (minimum, target) quality for the lossy PNG palette.
    palette_quality: (u8, u8),
    oxipng_preset: u8,
    webp_effort: i32,
    #[cfg_attr(not(feature = "avif"), allow(dead_code))]
    avif_speed: u8,
}

impl Tuning {
    fn for_options(options: &ImageOptions) -> Self {
        let mut tuning = match options.compression {
            Compression::Medium => Tuning {
                quality: 85.0,
                full_chroma: true,
                palette_quality: (75, 95),
                oxipng_preset: 2,
                webp_effort: 4,
                avif_speed: 7,
            },
            Compression::High => Tuning {
                quality: 75.0,
                full_chroma: false,
                palette_quality: (60, 85),
                // Not 3: on 25 varied PNGs (photos, screenshots, icons, charts) oxipng's -o3
                // was both 0.06 % bigger and 1.6 times slower than -o2; its extra filters
                // win the fast trial compression and then lose the real one.
                oxipng_preset: 2,
                webp_effort: 5,
                avif_speed: 6,
            },
            Compression::Ultra => Tuning {
                quality: 60.0,
                full_chroma: false,
                palette_quality: (40, 75),
                oxipng_preset: 5,
                webp_effort: 6,
                avif_speed: 5,
            },
        };
        if let Some(quality) = options.fixed_quality() {
            tuning.quality = f32::from(quality);
            let q = quality.min(100);
            tuning.palette_quality = (q.saturating_sub(20), q);
        }
        tuning
    }

    /// The quality as the whole step the encoders and searches count in.
    fn quality_step(&self) -> u8 {
        self.quality.round().clamp(1.0, 100.0) as u8
    }

    /// AVIF reaches a JPEG's look at a lower nominal quality.
    #[cfg_attr(not(feature = "avif"), allow(dead_code))]
    fn avif_quality(&self) -> f32 {
        (self.quality - 10.0).clamp(1.0, 100.0)
    }
}

/// libjxl's effort for every JPEG XL written: its own default, where each step up costs far
/// more time than it saves bytes.
#[cfg(feature = "jxl")]
const JXL_EFFORT: u8 = 7;

/// What the header says, read without decoding the pixels.
#[derive(Clone)]
struct Header {
    width: u32,
    height: u32,
    icc: Option<Vec<u8>>,
    exif: Option<Vec<u8>>,
    orientation: Orientation,
}

fn image_crate_format(format: Format) -> Option<image::ImageFormat> {
    Some(match format {
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Png => image::ImageFormat::Png,
        Format::Gif => image::ImageFormat::Gif,
        Format::Webp => image::ImageFormat::WebP,
        Format::Tiff => image::ImageFormat::Tiff,
        Format::Ico => image::ImageFormat::Ico,
        Format::Bmp => image::ImageFormat::Bmp,
        _ => return None,
    })
}

fn decoder_error(format: Format, err: image::ImageError, limits: &Limits, size: (u32, u32)) -> EngineError {
    match err {
        image::ImageError::Limits(_) => {
            EngineError::TooManyPixels { width: size.0, height: size.1, limit: limits.max_pixels }
        }
        image::ImageError::Unsupported(e) => EngineError::Unsupported(format!("{} variant: {e}", format.name())),
        other => corrupt(format, other),
    }
}

fn open<'a>(input: &'a [u8], format: Format, limits: &Limits) -> Result<impl ImageDecoder + 'a, EngineError> {
    let Some(image_format) = image_crate_format(format) else {
        return Err(EngineError::Unsupported(format!(
            "{} input (no maintained {} decoder is built into this engine yet)",
            format.name(),
            format.name()
        )));
    };
    let mut reader = ImageReader::with_format(Cursor::new(input), image_format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    reader.into_decoder().map_err(|err| decoder_error(format, err, limits, (0, 0)))
}

fn read_header(input: &[u8], format: Format, limits: &Limits) -> Result<Header, EngineError> {
    crate::contain::contain(decoder_failed(format), || {
        let mut decoder = open(input, format, limits)?;
        let (width, height) = decoder.dimensions();
        limits.check(width, height)?;
        Ok(Header {
            width,
            height,
            icc: decoder.icc_profile().ok().flatten(),
            exif: decoder.exif_metadata().ok().flatten(),
            orientation: decoder.orientation().unwrap_or(Orientation::NoTransforms),
        })
    })
}

/// Says whose bug a panic was: the decoders are libraries met with every kind of file.
fn decoder_failed(format: Format) -> impl FnOnce() -> String {
    move || format!("the {} decoder failed on this file", format.name())
}

/// The formats the `image` crate does not read: the media worker decodes HEIC and AVIF,
/// jxl-oxide JPEG XL.
fn decoded_elsewhere(format: Format) -> bool {
    matches!(format, Format::Heic | Format::Avif | Format::Jxl)
}

/// A picture decoded by the media worker or jxl-oxide: what a header would say, the pixels,
/// and what the decoder did.
struct DecodedPicture {
    header: Header,
    image: DynamicImage,
    notes: Vec<String>,
}

/// Decodes `input` (HEIC, AVIF) in the media worker: the bytes go to a temporary file for it
/// to read, and its pixels come back through another.
fn decode_elsewhere(input: &[u8], name: &str, format: Format, limits: &Limits) -> Result<DecodedPicture, EngineError> {
    if format == Format::Jxl {
        return decode_jxl(input, limits);
    }
    let folder = std::env::temp_dir();
    let source = crate::write_scratch(&folder, input)?;
    let pixels = crate::scratch_file(&folder)?;
    let decoded = crate::media::codec().decode_image(
        &crate::absolute(source.path())?,
        name,
        format,
        &crate::absolute(pixels.path())?,
        limits,
    )?;
    drop(source);
    let (width, height) = (decoded.width, decoded.height);
    limits.check(width, height)?;
    let channels: u64 = if decoded.alpha { 4 } else { 3 };
    let expected = u64::from(width) * u64::from(height) * channels;
    let bytes = std::fs::read(pixels.path()).map_err(|e| crate::cannot_read(pixels.path(), e))?;
    let short = || corrupt(format, format!("the decoder gave {} bytes of pixels, not {expected}", bytes.len()));
    if bytes.len() as u64 != expected {
        return Err(short());
    }
    let image = if decoded.alpha {
        image::RgbaImage::from_raw(width, height, bytes).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(width, height, bytes).map(DynamicImage::ImageRgb8)
    };
    let image = image.ok_or_else(|| corrupt(format, "the decoder's pixels do not fill the picture"))?;
    // The worker applied the container's rotation and mirroring: the pixels are upright.
    let header = Header { width, height, icc: decoded.icc, exif: decoded.exif, orientation: Orientation::NoTransforms };
    Ok(DecodedPicture { header, image, notes: decoded.notes })
}

#[cfg(feature = "jxl")]
fn decode_jxl(input: &[u8], limits: &Limits) -> Result<DecodedPicture, EngineError> {
    let jxl::Decoded { image, icc } =
        crate::contain::contain(decoder_failed(Format::Jxl), || jxl::decode(input, limits))?;
    // jxl-oxide applies the codestream's orientation: the pixels are upright.
    let header = Header {
        width: image.width(),
        height: image.height(),
        icc,
        exif: None,
        orientation: Orientation::NoTransforms,
    };
    Ok(DecodedPicture { header, image, notes: Vec::new() })
}

#[cfg(not(feature = "jxl"))]
fn decode_jxl(_: &[u8], _: &Limits) -> Result<DecodedPicture, EngineError> {
    Err(EngineError::Unsupported("JPEG XL (this build has no JPEG XL support)".into()))
}

/// An encoder's output decoded again, for a quality search to score.
fn decode_output(bytes: &[u8], format: Format, limits: &Limits) -> Option<DynamicImage> {
    if decoded_elsewhere(format) {
        decode_elsewhere(bytes, "output", format, limits).ok().map(|picture| picture.image)
    } else {
        image::load_from_memory(bytes).ok()
    }
}

fn decode(input: &[u8], format: Format, limits: &Limits) -> Result<DynamicImage, EngineError> {
    crate::contain::contain(decoder_failed(format), || {
        let decoder = open(input, format, limits)?;
        let size = decoder.dimensions();
        DynamicImage::from_decoder(decoder).map_err(|err| decoder_error(format, err, limits, size))
    })
}

/// Formats a web view (the desktop app's compare view) cannot show.
pub(crate) fn needs_preview(format: Format) -> bool {
    matches!(format, Format::Heic | Format::Avif | Format::Jxl | Format::Tiff)
}

/// The picture in `bytes` as a PNG a web view shows: decoded (by the worker for HEIC and
/// AVIF), upright, and written with fast compression (it is a preview, not a result).
pub(crate) fn preview_png(bytes: &[u8], name: &str, format: Format, limits: &Limits) -> Result<Vec<u8>, EngineError> {
    let image = if decoded_elsewhere(format) {
        decode_elsewhere(bytes, name, format, limits)?.image
    } else {
        let header = read_header(bytes, format, limits)?;
        let mut image = decode(bytes, format, limits)?;
        image.apply_orientation(header.orientation);
        image
    };
    // 16-bit and float pictures are shown as 8-bit, which every web view takes.
    let image = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    image.write_with_encoder(encoder).map_err(|e| EngineError::Encode { format: "PNG", reason: e.to_string() })?;
    Ok(png)
}

/// Fully decodes `bytes` to prove an output is readable; returns its dimensions.
pub(crate) fn verify(bytes: &[u8], format: Format, limits: &Limits) -> Result<(u32, u32), EngineError> {
    if decoded_elsewhere(format) {
        let picture = decode_elsewhere(bytes, "output", format, limits)?;
        return Ok((picture.header.width, picture.header.height));
    }
    if format == Format::Ico {
        // Every picture of the icon, not only the one a viewer would pick.
        return ico::verify(bytes);
    }
    let image = decode(bytes, format, limits)?;
    Ok((image.width(), image.height()))
}

fn default_target(format: Format) -> Format {
    match format {
        // No encoder here beats a lossless PNG for these uncompressed or loosely compressed inputs.
        Format::Bmp | Format::Tiff => Format::Png,
        // What every program opens, for the photos of every iPhone since 2017.
        Format::Heic => Format::Jpeg,
        other => other,
    }
}

fn requested_format(format: ImageFormat) -> Format {
    match format {
        ImageFormat::Jpeg => Format::Jpeg,
        ImageFormat::Png => Format::Png,
        ImageFormat::Webp => Format::Webp,
        ImageFormat::Avif => Format::Avif,
        ImageFormat::Gif => Format::Gif,
        ImageFormat::Jxl => Format::Jxl,
    }
}

fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// Composites transparent pixels over white, for formats without alpha.
pub(crate) fn flatten_alpha(image: &DynamicImage) -> image::RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
        let alpha = u32::from(px[3]);
        for c in 0..3 {
            out[c] = ((u32::from(px[c]) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        }
    }
    rgb
}

/// The work for one image, accumulated as it goes.
struct Job<'a> {
    input: &'a [u8],
    format: Format,
    target: Format,
    options: &'a ImageOptions,
    tuning: Tuning,
    limits: &'a Limits,
    actions: Vec<String>,
    warnings: Vec<String>,
    /// True while the decoded pixels still equal the input's (no rotation, colour change or resize).
    pixels_unchanged: bool,
    /// The pixels, when the media worker decoded them (HEIC, AVIF).
    decoded: Option<DynamicImage>,
}

pub(crate) fn compress(
    input: &[u8],
    name: &str,
    format: Format,
    options: &ImageOptions,
    limits: &Limits,
) -> Result<Compressed, EngineError> {
    // Only the first page would be decoded: the others must not vanish without a word.
    if format == Format::Tiff {
        let pages = crate::damage::tiff_pages(input);
        if pages > 1 {
            return Err(EngineError::Unsupported(format!(
                "a multipage TIFF ({pages} pages): only single pictures are compressed, and writing its \
                 first page alone would lose the others; nothing was written"
            )));
        }
    }
    // What the decoders read: the input, or a copy of it they can read (see `tolerate`).
    let decodable = tolerate::decodable(input, format);
    let (header, decoded, notes) = if decoded_elsewhere(format) {
        let DecodedPicture { header, image, notes } = decode_elsewhere(input, name, format, limits)?;
        (header, Some(image), notes)
    } else {
        (read_header(&decodable, format, limits)?, None, Vec::new())
    };
    let target = options.format.map(requested_format).unwrap_or_else(|| default_target(format));
    let (shown_w, shown_h) =
        if swaps_sides(header.orientation) { (header.height, header.width) } else { (header.width, header.height) };
    let plan = options.resize.as_ref().and_then(|r| resize::plan(r, shown_w, shown_h));
    let mut job = Job {
        input: &decodable,
        format,
        target,
        options,
        tuning: Tuning::for_options(options),
        limits,
        actions: notes,
        warnings: Vec::new(),
        pixels_unchanged: true,
        decoded,
    };
    // A conversion made for compatibility is the point, even when it is larger.
    let for_compatibility = format == Format::Heic && options.format.is_none();
    if for_compatibility {
        job.actions.push(format!("converted from HEIC to {} for compatibility", target.name()));
    }

    let (output, dimensions) = match (format, target, plan) {
        #[cfg(feature = "jpeg")]
        (Format::Jpeg, Format::Jpeg, None) if options.lossless => job.jpeg_lossless(&header)?,
        #[cfg(feature = "jxl")]
        (Format::Jpeg, Format::Jxl, None) if options.lossless => job.jpeg_to_jxl(&header)?,
        #[cfg(feature = "gif")]
        (Format::Gif, Format::Gif, None) => job.gif_reoptimize(&header)?,
        #[cfg(feature = "png")]
        (Format::Ico, Format::Ico, None) => {
            let (output, action) = ico::optimize(&decodable, job.tuning.oxipng_preset)?;
            job.actions.push(action);
            (output, (header.width, header.height))
        }
        _ => job.transcode(&header, plan)?,
    };

    let explicit = options.format.is_some_and(|f| requested_format(f) != format) || plan.is_some() || for_compatibility;
    let kept_input = output.len() >= input.len() && !explicit;
    if let Some(max_size) = options.max_size {
        // The lossy encoders met the size or said why already; this is the one check for
        // every lossless path. The size is what the user would get: the output, or the
        // original when it is kept.
        let size = if kept_input { input.len() } else { output.len() } as u64;
        if size > max_size {
            return Err(EngineError::OverTargetSize {
                target: max_size,
                closest: size,
                why: format!("{} has no quality to lower here; try another format or a resize", target.name()),
            });
        }
    }
    let input_facts = FileFacts::describe(name, format, input, Some((header.width, header.height)));
    let Job { actions, warnings, .. } = job;
    if kept_input {
        let reason = format!("output would not be smaller ({} bytes vs {} bytes)", output.len(), input.len());
        return Ok(Compressed::skipped(input_facts, reason, actions, warnings));
    }
    let output_facts = FileFacts::describe(&output_name(name, format, target), target, &output, Some(dimensions));
    Ok(Compressed::written(input_facts, output_facts, output, actions, warnings))
}

impl Job<'_> {
    /// ICC profiles that must survive a lossless pass: dropping a non-sRGB one would shift colours.
    fn must_keep_icc(&mut self, header: &Header) -> bool {
        match &header.icc {
            Some(icc) if self.options.keep_icc => {
                self.actions.push(format!("kept ICC profile ({} bytes)", icc.len()));
                true
            }
            Some(icc) if color::is_wide_gamut(icc) => {
                self.actions.push("kept the non-sRGB ICC profile (lossless mode cannot convert colours)".into());
                true
            }
            _ => false,
        }
    }

    #[cfg(feature = "jpeg")]
    fn jpeg_lossless(&mut self, header: &Header) -> Result<(Vec<u8>, (u32, u32)), EngineError> {
        let orientation = header.orientation.to_exif();
        let keep = jpeg::KeepMarkers {
            exif: self.options.keep_exif,
            icc: self.must_keep_icc(header),
            orientation: (!self.options.keep_exif && orientation != 1).then_some(orientation),
        };
        let output = jpeg::optimize_losslessly(self.input, keep)?;
        self.actions.push("lossless JPEG: same coefficients, progressive scans, optimal Huffman tables".into());
        if keep.orientation.is_some() {
            self.actions.push("kept the EXIF orientation tag only".into());
        }
        Ok((output, (header.width, header.height)))
    }

    /// A JPEG into JPEG XL without loss: its DCT coefficients are kept and the result
    /// rebuilds the original file byte for byte (proven before it is used).
    #[cfg(feature = "jxl")]
    fn jpeg_to_jxl(&mut self, header: &Header) -> Result<(Vec<u8>, (u32, u32)), EngineError> {
        let output = jxl::transcode_jpeg(self.input, JXL_EFFORT, self.limits)?;
        self.actions.push(
            "JPEG transcoded losslessly to JPEG XL (the original JPEG rebuilds from it byte for byte, checked)".into(),
        );
        Ok((output, (header.width, header.height)))
    }

    #[cfg(feature = "gif")]
    fn gif_reoptimize(&mut self, header: &Header) -> Result<(Vec<u8>, (u32, u32)), EngineError> {
        let (output, frames) = gif::reoptimize(self.input, self.limits.max_pixels)?;
        self.actions.push(format!("GIF re-encoded losslessly ({frames} frame{})", if frames == 1 { "" } else { "s" }));
        Ok((output, (header.width, header.height)))
    }

    /// Decode, orient, colour-manage, resize, encode.
    fn transcode(&mut self, header: &Header, plan: Option<resize::Plan>) -> Result<(Vec<u8>, (u32, u32)), EngineError> {
        let mut image = match self.decoded.take() {
            Some(image) => {
                self.pixels_unchanged = false;
                image
            }
            None => decode(self.input, self.format, self.limits)?,
        };
        if header.orientation != Orientation::NoTransforms {
            image.apply_orientation(header.orientation);
            self.pixels_unchanged = false;
            self.actions.push("applied EXIF orientation to the pixels".into());
        }
        let carries_icc = matches!(self.target, Format::Jpeg | Format::Png | Format::Webp | Format::Jxl);
        let mut icc_out = None;
        if let Some(icc) = &header.icc {
            let wide_gamut = color::is_wide_gamut(icc);
            if self.options.keep_icc && carries_icc {
                icc_out = Some(icc.as_slice());
            } else if wide_gamut && !(self.target == Format::Png && self.options.lossless) {
                image = color::convert_to_srgb(image, icc).map_err(|e| corrupt(self.format, e))?;
                self.pixels_unchanged = false;
                self.actions.push("converted colours from the embedded ICC profile to sRGB".into());
                if self.options.keep_icc {
                    self.warnings.push(format!("{} output cannot carry an ICC profile here", self.target.name()));
                }
            } else if wide_gamut {
                // Lossless PNG must not alter pixels: keep the profile instead.
                icc_out = Some(icc.as_slice());
                self.actions.push("kept the non-sRGB ICC profile (lossless mode cannot convert colours)".into());
            }
        }
        let mut exif_out = None;
        if self.options.keep_exif {
            if let Some(exif) = &header.exif {
                let mut exif = exif.clone();
                // The pixels are now upright: a kept orientation tag would rotate them twice.
                let _ = Orientation::remove_from_exif_chunk(&mut exif);
                exif_out = Some(exif);
            }
        }
        if let Some(plan) = plan {
            let before = (image.width(), image.height());
            image = resize::apply(&image, &plan).map_err(|e| EngineError::Encode { format: "resize", reason: e })?;
            self.pixels_unchanged = false;
            self.actions.push(format!("resized {}×{} → {}×{}", before.0, before.1, image.width(), image.height()));
        }
        let metadata = Metadata { icc: icc_out, exif: exif_out.as_deref() };
        let output = self.encode_within_size(&image, &metadata)?;
        Ok((output, (image.width(), image.height())))
    }

    /// Encodes, keeping to `max_size` when it is asked for: the level's quality first; if
    /// that is too big, a bisection below it for the highest quality that fits (at most
    /// seven more encodes). Never a silent miss: no fit at quality 1 is an error with the
    /// closest size.
    fn encode_within_size(&mut self, image: &DynamicImage, metadata: &Metadata) -> Result<Vec<u8>, EngineError> {
        if self.options.fixed_quality().is_none() && !self.options.lossless {
            self.choose_quality(image);
        }
        let (actions_mark, warnings_mark) = (self.actions.len(), self.warnings.len());
        let first = self.encode(image, metadata)?;
        let Some(target) = self.options.max_size else { return Ok(first) };
        if first.len() as u64 <= target {
            return Ok(first);
        }
        let lossy =
            !self.options.lossless && matches!(self.target, Format::Jpeg | Format::Webp | Format::Avif | Format::Jxl);
        if !lossy {
            // Nothing to lower: `compress` reports the miss, as for the other lossless paths.
            return Ok(first);
        }
        let ceiling = self.tuning.quality_step();
        let (mut low, mut high) = (1u8, ceiling.saturating_sub(1));
        let mut best: Option<(u8, Vec<u8>, Vec<String>)> = None;
        let (mut smallest, mut trials) = (first.len() as u64, 0);
        while low <= high && high >= 1 {
            let quality = low + (high - low) / 2;
            self.tuning.quality = f32::from(quality);
            self.actions.truncate(actions_mark);
            self.warnings.truncate(warnings_mark);
            let output = self.encode(image, metadata)?;
            trials += 1;
            smallest = smallest.min(output.len() as u64);
            if output.len() as u64 <= target {
                best = Some((quality, output, self.actions[actions_mark..].to_vec()));
                low = quality + 1;
            } else if quality == 1 {
                break;
            } else {
                high = quality - 1;
            }
        }
        self.actions.truncate(actions_mark);
        let Some((quality, output, actions)) = best else {
            return Err(EngineError::OverTargetSize {
                target,
                closest: smallest,
                why: format!("{} at quality 1; fewer pixels would take a resize", self.target.name()),
            });
        };
        self.actions.extend(actions);
        self.actions.push(format!(
            "quality lowered from {ceiling} to {quality} to fit {target} bytes ({} encodes)",
            trials + 1
        ));
        Ok(output)
    }

    /// `quality: "auto"`: sets the quality to the lowest whose SSIMULACRA2 score on a sample
    /// of the image keeps the level's target (see `perceptual`). JPEG and WebP only: AVIF
    /// trials cost seconds each, and PNG checks its palette in `encode_png` instead. A failed
    /// trial leaves the level's fixed quality.
    fn choose_quality(&mut self, image: &DynamicImage) {
        let format = self.target;
        let searchable = (format == Format::Jpeg && cfg!(feature = "jpeg"))
            || (format == Format::Webp && cfg!(feature = "webp"))
            || (format == Format::Jxl && cfg!(feature = "jxl"));
        let limits = self.limits;
        // An icon-sized image has too few pixels for SSIMULACRA2's coarser scales (and costs
        // next to nothing at the level's quality anyway).
        if !searchable || image.width() < perceptual::SMALLEST_SIDE || image.height() < perceptual::SMALLEST_SIDE {
            return;
        }
        let webp_effort = self.tuning.webp_effort;
        /// What a sample encode is measured for: a trial scores only its pixels, which JPEG's
        /// scan search leaves unchanged; comparing chroma choices needs the real size.
        #[derive(Clone, Copy, PartialEq)]
        enum Measure {
            Pixels,
            Size,
        }
        let encode = |sample: &DynamicImage, quality: u8, full_chroma: bool, measure: Measure| -> Option<Vec<u8>> {
            let quality = f32::from(quality);
            match format {
                #[cfg(feature = "jpeg")]
                Format::Jpeg => {
                    let chroma = if full_chroma { jpeg::Chroma::Full } else { jpeg::Chroma::Quarter };
                    let scans = if measure == Measure::Pixels { jpeg::Scans::Standard } else { jpeg::Scans::Searched };
                    jpeg::encode(sample, quality, chroma, scans, &Metadata::default()).ok()
                }
                #[cfg(feature = "webp")]
                Format::Webp => webp::encode(sample, quality, false, webp_effort).ok(),
                #[cfg(feature = "jxl")]
                Format::Jxl => jxl::encode(sample, quality, false, JXL_EFFORT, limits, (None, None)).ok(),
                _ => None,
            }
        };
        // JPEG has no alpha: score against what it will show, the image over white.
        let sample = if format == Format::Jpeg {
            perceptual::sample(image, flatten_alpha)
        } else {
            perceptual::sample(image, DynamicImage::to_rgb8)
        };
        let Some(reference) = perceptual::Reference::new(&sample) else {
            self.warn_search_failed();
            return;
        };
        let sample_image = DynamicImage::ImageRgb8(sample);
        let target = perceptual::target_score(self.options.compression);
        let start = self.tuning.quality_step();
        let search = |full_chroma: bool| {
            let aim = target
                + if format == Format::Jxl {
                    perceptual::JXL_SAMPLE_OVERESTIMATE
                } else {
                    perceptual::SAMPLE_OVERESTIMATE
                };
            let choice = perceptual::search(start, aim, |quality| {
                let bytes = encode(&sample_image, quality, full_chroma, Measure::Pixels)?;
                let decoded = decode_output(&bytes, format, limits)?;
                reference.score(&decoded.to_rgb8())
            })?;
            Some((choice, full_chroma))
        };
        // Near-lossless targets are where full-resolution chroma can pay for itself; below
        // them 4:2:0 won on every photo tried (12 to 21 % fewer bytes at equal score), so
        // only `medium` JPEGs search both and keep the smaller.
        let candidates: Vec<(perceptual::Choice, bool)> = if format == Format::Jpeg && self.tuning.full_chroma {
            [true, false].into_iter().filter_map(search).collect()
        } else {
            search(self.tuning.full_chroma).into_iter().collect()
        };
        // The smaller of those that reach the target (the sample encoded again only when
        // there are two to compare); if neither does, the one closer to it.
        let reaching: Vec<&(perceptual::Choice, bool)> = candidates.iter().filter(|c| c.0.score >= target).collect();
        let sample_bytes = |&(choice, full_chroma): &(perceptual::Choice, bool)| {
            encode(&sample_image, choice.quality, full_chroma, Measure::Size).map_or(usize::MAX, |bytes| bytes.len())
        };
        let smaller =
            if reaching.len() > 1 { reaching.iter().min_by_key(|c| sample_bytes(c)) } else { reaching.first() };
        let closest = || candidates.iter().max_by(|a, b| a.0.score.total_cmp(&b.0.score));
        let Some(&(choice, full_chroma)) = smaller.copied().or_else(closest) else {
            self.warn_search_failed();
            return;
        };
        self.tuning.quality = f32::from(choice.quality);
        self.tuning.full_chroma = full_chroma;
        let trials: usize = candidates.iter().map(|c| c.0.trials).sum();
        let chroma = if candidates.len() > 1 {
            format!(", {} chroma the smaller", if full_chroma { "4:4:4" } else { "4:2:0" })
        } else {
            String::new()
        };
        self.actions.push(format!(
            "quality {} chosen for SSIMULACRA2 {:.1} on a {}×{} sample (target {target:.0} for the whole image), {trials} trial encode{}{chroma}",
            choice.quality,
            choice.score,
            sample_image.width(),
            sample_image.height(),
            if trials == 1 { "" } else { "s" }
        ));
    }

    fn warn_search_failed(&mut self) {
        self.warnings
            .push(format!("the quality search failed; used the level's fixed quality {}", self.tuning.quality));
    }

    fn encode(&mut self, image: &DynamicImage, metadata: &Metadata) -> Result<Vec<u8>, EngineError> {
        let tuning = self.tuning;
        match self.target {
            #[cfg(feature = "jpeg")]
            Format::Jpeg => {
                let chroma = if tuning.full_chroma { jpeg::Chroma::Full } else { jpeg::Chroma::Quarter };
                self.actions.push(format!("mozjpeg q{} {} progressive", tuning.quality, chroma.label()));
                jpeg::encode(image, tuning.quality, chroma, jpeg::Scans::Searched, metadata)
            }
            #[cfg(feature = "png")]
            Format::Png => self.encode_png(image, metadata),
            #[cfg(feature = "webp")]
            Format::Webp => {
                let lossless = self.options.lossless;
                self.actions.push(if lossless {
                    "WebP lossless".to_string()
                } else {
                    format!("WebP q{}", tuning.quality)
                });
                let encoded = webp::encode(image, tuning.quality, lossless, tuning.webp_effort)?;
                self.note_kept_metadata(metadata);
                let size = (image.width(), image.height());
                webp::with_metadata(&encoded, size, image.color().has_alpha(), metadata.icc, metadata.exif)
            }
            #[cfg(feature = "avif")]
            Format::Avif => {
                self.actions.push(format!("AVIF q{} speed {}", tuning.avif_quality(), tuning.avif_speed));
                avif::encode(image, tuning.avif_quality(), tuning.avif_speed, metadata.exif)
            }
            #[cfg(feature = "jxl")]
            Format::Jxl => {
                let lossless = self.options.lossless;
                self.actions.push(if lossless {
                    format!("JPEG XL lossless, effort {JXL_EFFORT}")
                } else {
                    format!(
                        "JPEG XL q{} (distance {:.2}), effort {JXL_EFFORT}",
                        tuning.quality,
                        jxl::distance(tuning.quality)
                    )
                });
                self.note_kept_metadata(metadata);
                jxl::encode(image, tuning.quality, lossless, JXL_EFFORT, self.limits, (metadata.icc, metadata.exif))
            }
            #[cfg(feature = "gif")]
            Format::Gif => {
                if image.width() > u32::from(u16::MAX) || image.height() > u32::from(u16::MAX) {
                    return Err(EngineError::Encode {
                        format: "GIF",
                        reason: "GIF is limited to 65535 pixels a side".into(),
                    });
                }
                self.drop_unsupported_metadata(metadata);
                let quantized = png::quantize(image, 0, 100)?
                    .ok_or_else(|| EngineError::Encode { format: "GIF", reason: "no palette could be made".into() })?;
                self.actions.push(format!("GIF with a {}-colour palette", quantized.palette.len()));
                gif::encode(image, &quantized)
            }
            other => Err(EngineError::Unsupported(format!("{} output is not built into this engine", other.name()))),
        }
    }

    #[cfg(feature = "png")]
    fn encode_png(&mut self, image: &DynamicImage, metadata: &Metadata) -> Result<Vec<u8>, EngineError> {
        let preset = self.tuning.oxipng_preset;
        let keep = (metadata.icc.is_some(), metadata.exif.is_some());
        if !self.options.lossless {
            let (min, target) = self.tuning.palette_quality;
            match png::quantize(image, min, target)? {
                Some(quantized) if self.palette_keeps_the_target(image, &quantized) => {
                    let colours = quantized.palette.len();
                    let palette_png = png::encode_palette(&quantized, metadata)?;
                    self.actions
                        .push(format!("lossy PNG: {colours}-colour palette (libimagequant), oxipng -o{preset}"));
                    return png::optimize(&palette_png, preset, keep.0, keep.1);
                }
                Some(_) => {} // `palette_keeps_the_target` said why
                None => self.actions.push(format!("a palette could not reach quality {min}: kept full colour")),
            }
        }
        // A PNG input needs no re-encode: oxipng works on the original stream and keeps its bit depth.
        let source = if self.format == Format::Png && self.pixels_unchanged {
            self.input.to_vec()
        } else {
            png::encode_lossless(image, metadata)?
        };
        self.actions.push(format!("lossless PNG: oxipng -o{preset}"));
        png::optimize(&source, preset, keep.0, keep.1)
    }

    /// `quality: "auto"`: a palette is only worth it when its SSIMULACRA2 score (on the same
    /// sample as the lossy encoders') keeps the level's target; otherwise the PNG stays full
    /// colour. Transparent images are judged by libimagequant's own quality alone.
    #[cfg(feature = "png")]
    fn palette_keeps_the_target(&mut self, image: &DynamicImage, quantized: &png::Quantized) -> bool {
        if self.options.fixed_quality().is_some() || image.color().has_alpha() {
            return true;
        }
        let remapped = image::RgbImage::from_fn(quantized.width, quantized.height, |x, y| {
            let index = quantized.indices[(y * quantized.width + x) as usize];
            let colour = quantized.palette.get(usize::from(index)).copied().unwrap_or_default();
            image::Rgb([colour.r, colour.g, colour.b])
        });
        let target = perceptual::target_score(self.options.compression);
        let sample = |image: &DynamicImage| perceptual::sample(image, DynamicImage::to_rgb8);
        let Some(score) = perceptual::score(&sample(image), &sample(&DynamicImage::ImageRgb8(remapped))) else {
            return true;
        };
        if score < target {
            self.actions.push(format!(
                "a {}-colour palette scored SSIMULACRA2 {score:.1}, under the target {target:.0}: kept full colour",
                quantized.palette.len()
            ));
        }
        score >= target
    }

    /// Says what metadata goes into an output whose format only carries it on request.
    fn note_kept_metadata(&mut self, metadata: &Metadata) {
        let kept: Vec<&str> = [(metadata.icc.is_some(), "ICC profile"), (metadata.exif.is_some(), "EXIF")]
            .into_iter()
            .filter_map(|(kept, what)| kept.then_some(what))
            .collect();
        if !kept.is_empty() {
            self.actions.push(format!("kept the {} in the {}", kept.join(" and "), self.target.name()));
        }
    }

    fn drop_unsupported_metadata(&mut self, metadata: &Metadata) {
        if metadata.exif.is_some() || metadata.icc.is_some() {
            self.warnings.push(format!("{} output does not carry EXIF or ICC metadata here", self.target.name()));
        }
    }
}
