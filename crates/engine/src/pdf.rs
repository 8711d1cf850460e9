//! PDFs through lopdf.
//!
//! Lossless pass (every level): Flate streams inflated and deflated again at level 9,
//! uncompressed streams deflated, identical streams merged, unreferenced objects dropped,
//! and the rest packed into object streams with a cross-reference stream.
//! Lossy pass (`high`, `ultra`, unless `lossless`): 8-bit DeviceGray/DeviceRGB images
//! (raw, Flate or already DCT) are re-encoded with mozjpeg and downsampled to the level's
//! resolution over the largest page that shows them. Images that a JPEG would harm or that
//! need colour management to convert are left exact: masks, soft masks (alpha), Indexed
//! palettes, CMYK and other colour spaces, 16-bit samples, JBIG2/CCITT/JPX data.

use std::collections::{HashMap, HashSet};

use image::DynamicImage;
use lopdf::xref::XrefRecovery;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use crate::image::jpeg::{self, Chroma};
use crate::options::{Compression, DamagedInput, Options, PdfOptions};
use crate::report::FileFacts;
use crate::{Compressed, EngineError, Format, Limits};

fn corrupt(reason: impl ToString) -> EngineError {
    EngineError::Corrupt { format: "PDF", reason: reason.to_string() }
}

fn load(input: &[u8], limits: &Limits) -> Result<Document, EngineError> {
    let options =
        lopdf::LoadOptions { max_decompressed_size: Some(limits.max_expanded as usize), ..Default::default() };
    Document::load_mem_with_options(input, options).map_err(corrupt)
}

pub(crate) fn verify(bytes: &[u8], limits: &Limits) -> Result<(), EngineError> {
    let document = load(bytes, limits)?;
    if document.get_pages().is_empty() {
        return Err(corrupt("no pages"));
    }
    Ok(())
}

/// How embedded images are re-encoded: at most this resolution, at this JPEG quality.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ImageSettings {
    ppi: f64,
    quality: f32,
}

/// The image settings from the finest to the coarsest: `high` and `ultra` use two of them,
/// and `max_size` steps down through the ones after the level's. Resolution falls first, as
/// it saves the most bytes for what the eye loses at reading size; 72 ppi at q40 is the
/// last step at which body text in scanned pages stays readable on screen.
const LADDER: [ImageSettings; 5] = [
    ImageSettings { ppi: 200.0, quality: 75.0 },
    ImageSettings { ppi: 150.0, quality: 65.0 },
    ImageSettings { ppi: 120.0, quality: 60.0 },
    ImageSettings { ppi: 96.0, quality: 50.0 },
    ImageSettings { ppi: 72.0, quality: 40.0 },
];

/// The level's image settings; `None`: lossless changes only.
fn level_settings(options: &PdfOptions) -> Option<ImageSettings> {
    if options.lossless {
        return None;
    }
    match options.compression {
        Compression::Medium => None,
        Compression::High => Some(LADDER[0]),
        Compression::Ultra => Some(LADDER[2]),
    }
}

/// The settings `max_size` may step down to, finest first: those coarser than the level's.
fn smaller_settings(level: Option<ImageSettings>) -> &'static [ImageSettings] {
    match level.and_then(|level| LADDER.iter().position(|step| *step == level)) {
        Some(index) => &LADDER[index + 1..],
        None => &LADDER,
    }
}

pub(crate) fn compress(
    input: &[u8],
    name: &str,
    all_options: &Options,
    limits: &Limits,
) -> Result<Compressed, EngineError> {
    let options = &all_options.pdf;
    let document = load(input, limits)?;
    let (mut recovery_warning, mut damage) = (None, None);
    match document.xref_recovery {
        None => {}
        Some(XrefRecovery::OffsetCorrected) => {
            recovery_warning = Some(
                "the PDF's cross-reference offsets were off and were corrected (a damaged or carelessly edited file)"
                    .to_string(),
            )
        }
        Some(_) => {
            let reason = "the PDF's cross-reference table could not be read and had to be rebuilt by scanning the \
                          file: objects may be missing or come from an older revision";
            if all_options.damaged == DamagedInput::Refuse {
                return Err(EngineError::Damaged { reason: reason.into(), salvageable: true });
            }
            damage = Some(reason.to_string());
        }
    }
    let pages = document.get_pages().len() as u32;
    let mut input_facts = FileFacts::describe(name, Format::Pdf, input, None);
    if document.is_encrypted() {
        let reason = "the PDF is encrypted: it is left exactly as it is".to_string();
        return Ok(Compressed::skipped(input_facts, reason, Vec::new(), Vec::new()));
    }
    if pages == 0 {
        // (Found by fuzzing: a damaged page tree would otherwise give an output `verify` refuses.)
        return Err(corrupt("no pages (the page tree is damaged)"));
    }
    input_facts.pages = Some(pages);
    let level = level_settings(options);
    let mut rewritten = rewrite(document, pages, level, limits)?;
    // An input that already fits is kept by the size check below.
    if let Some(limit) = options.max_size.filter(|&l| rewritten.output.len() as u64 > l && input.len() as u64 > l) {
        rewritten = fit(input, pages, level, options.lossless, limit, rewritten, limits)?;
    }
    let Rewritten { output, actions, mut warnings, .. } = rewritten;
    warnings.splice(0..0, recovery_warning);
    let mut result = if output.len() as u64 >= input_facts.size {
        let reason = format!("already smaller than a rewrite ({} bytes)", output.len());
        Compressed::skipped(input_facts, reason, actions, warnings)
    } else {
        let mut output_facts = FileFacts::describe(name, Format::Pdf, &output, None);
        output_facts.pages = Some(pages);
        Compressed::written(input_facts, output_facts, output, actions, warnings)
    };
    if let Some(damage) = damage {
        result.report.mark_damaged(damage);
    }
    Ok(result)
}

/// `max_size`: the document rewritten again with each coarser image setting until one fits.
fn fit(
    input: &[u8],
    pages: u32,
    level: Option<ImageSettings>,
    lossless: bool,
    limit: u64,
    first: Rewritten,
    limits: &Limits,
) -> Result<Rewritten, EngineError> {
    let mut closest = first.output.len();
    let over =
        |closest: usize, why: String| EngineError::OverTargetSize { target: limit, closest: closest as u64, why };
    if lossless {
        return Err(over(closest, "'lossless' keeps every image as it is".into()));
    }
    let mut rewrites = 1;
    // Parsed once here, where it is needed, and cloned for each step.
    let original = load(input, limits)?;
    for &step in smaller_settings(level) {
        let attempt = rewrite(original.clone(), pages, Some(step), limits)?;
        rewrites += 1;
        closest = closest.min(attempt.output.len());
        if attempt.output.len() as u64 <= limit {
            let mut attempt = attempt;
            attempt.actions.push(format!(
                "images at up to {} ppi, JPEG q{} to fit {limit} bytes ({rewrites} rewrites)",
                step.ppi, step.quality
            ));
            return Ok(attempt);
        }
        if attempt.image_candidates == 0 {
            return Err(over(
                closest,
                "no image in it can be re-encoded; text and drawings are already deflated".into(),
            ));
        }
    }
    let last = LADDER[LADDER.len() - 1];
    Err(over(closest, format!("images at {} ppi, JPEG q{}, are as far as it goes", last.ppi, last.quality)))
}

/// A rewritten document and what was done to it.
struct Rewritten {
    output: Vec<u8>,
    actions: Vec<String>,
    warnings: Vec<String>,
    /// Images the rewrite could decode and re-encode (whether or not that made them smaller).
    image_candidates: usize,
}

/// One rewrite of `document`: images re-encoded with `images` (if any), streams deflated
/// again, duplicates merged, unused objects dropped, objects packed; checked to read back.
fn rewrite(
    mut document: Document,
    pages: u32,
    images: Option<ImageSettings>,
    limits: &Limits,
) -> Result<Rewritten, EngineError> {
    let mut actions = Vec::new();
    let mut warnings = Vec::new();
    let mut candidates = 0;
    if let Some(ImageSettings { ppi, quality }) = images {
        let outcome = recompress_images(&mut document, ppi, quality, limits);
        // An image that cannot be decoded will not be at a coarser step either.
        candidates = outcome.candidates - outcome.failed;
        if outcome.replaced > 0 {
            actions.push(format!("{} images re-encoded as JPEG q{quality} at up to {ppi} ppi", outcome.replaced));
        }
        if outcome.failed > 0 {
            warnings.push(format!("{} images could not be decoded and were kept as they were", outcome.failed));
        }
    }
    let redeflated = redeflate_streams(&mut document, limits);
    actions.push(format!("{redeflated} streams deflated at level 9"));
    let merged = merge_identical_streams(&mut document);
    if merged > 0 {
        actions.push(format!("{merged} duplicate streams merged"));
    }
    let pruned = document.prune_objects().len();
    if pruned > 0 {
        actions.push(format!("{pruned} unused objects dropped"));
    }
    document.renumber_objects();

    let mut output = Vec::new();
    let save =
        lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).compression_level(9).build();
    document
        .save_with_options(&mut output, save)
        .map_err(|e| EngineError::Encode { format: "PDF", reason: e.to_string() })?;
    actions.push("objects packed into object streams".into());

    // The result must read back with the same pages.
    let check = load(&output, limits)?;
    if check.get_pages().len() as u32 != pages {
        return Err(EngineError::Encode { format: "PDF", reason: "the rewritten PDF lost pages".into() });
    }
    Ok(Rewritten { output, actions, warnings, image_candidates: candidates })
}

fn filters(stream: &Stream) -> Vec<Vec<u8>> {
    stream.filters().map(|f| f.into_iter().map(<[u8]>::to_vec).collect()).unwrap_or_default()
}

/// Streams that are Flate only (no predictor) or not compressed at all: deflated anew at
/// level 9. Others (DCT, predictors, LZW...) keep their bytes. XMP metadata stays plain,
/// as PDF/A asks.
fn redeflate_streams(document: &mut Document, limits: &Limits) -> usize {
    let mut count = 0;
    for object in document.objects.values_mut() {
        let Object::Stream(stream) = object else { continue };
        if stream.dict.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"Metadata") {
            continue;
        }
        let filters = filters(stream);
        let plain = match filters.as_slice() {
            [] => stream.content.clone(),
            [flate] if flate == b"FlateDecode" && stream.dict.get(b"DecodeParms").is_err() => {
                match stream.decompressed_content_with_limit(limits.max_expanded as usize) {
                    Ok(plain) => plain,
                    Err(_) => continue,
                }
            }
            _ => continue,
        };
        let before = stream.content.len();
        let mut candidate = stream.clone();
        candidate.set_plain_content(plain);
        if candidate.compress().is_ok() && candidate.content.len() < before {
            *stream = candidate;
            count += 1;
        }
    }
    count
}

/// Streams with the same dictionary and bytes (fonts embedded twice, a logo on every page)
/// become one object; references to the others are pointed at it.
fn merge_identical_streams(document: &mut Document) -> usize {
    let mut first_of: HashMap<(Vec<u8>, Vec<u8>), ObjectId> = HashMap::new();
    let mut replace: HashMap<ObjectId, ObjectId> = HashMap::new();
    for (id, object) in &document.objects {
        let Object::Stream(stream) = object else { continue };
        let mut dict_bytes = Vec::new();
        let mut keys: Vec<_> = stream.dict.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in keys {
            dict_bytes.extend_from_slice(key);
            dict_bytes.extend_from_slice(format!("{value:?}").as_bytes());
        }
        match first_of.entry((dict_bytes, stream.content.clone())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                replace.insert(*id, *first.get());
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(*id);
            }
        }
    }
    if replace.is_empty() {
        return 0;
    }
    fn redirect(object: &mut Object, replace: &HashMap<ObjectId, ObjectId>) {
        match object {
            Object::Reference(id) => {
                if let Some(target) = replace.get(id) {
                    *id = *target;
                }
            }
            Object::Array(items) => items.iter_mut().for_each(|item| redirect(item, replace)),
            Object::Dictionary(dict) => dict.iter_mut().for_each(|(_, value)| redirect(value, replace)),
            Object::Stream(stream) => stream.dict.iter_mut().for_each(|(_, value)| redirect(value, replace)),
            _ => {}
        }
    }
    for object in document.objects.values_mut() {
        redirect(object, &replace);
    }
    let mut trailer = Object::Dictionary(std::mem::take(&mut document.trailer));
    redirect(&mut trailer, &replace);
    if let Object::Dictionary(dict) = trailer {
        document.trailer = dict;
    }
    replace.len()
}

/// For each image XObject, the largest page size (in points) it appears on.
fn image_pages(document: &Document) -> HashMap<ObjectId, (f64, f64)> {
    let mut sizes: HashMap<ObjectId, (f64, f64)> = HashMap::new();
    for page_id in document.get_pages().values() {
        let Ok(page) = document.get_dictionary(*page_id) else { continue };
        let size = media_box(document, page).unwrap_or((612.0, 792.0));
        let mut seen = HashSet::new();
        let (resources, inherited) = document.get_page_resources(*page_id).unwrap_or((None, Vec::new()));
        let mut dictionaries: Vec<&Dictionary> = resources.into_iter().collect();
        dictionaries.extend(inherited.iter().filter_map(|id| document.get_dictionary(*id).ok()));
        collect_images(document, &dictionaries, size, &mut sizes, &mut seen);
    }
    sizes
}

/// Walks the XObjects of `resources`, into form XObjects too.
fn collect_images(
    document: &Document,
    resources: &[&Dictionary],
    size: (f64, f64),
    sizes: &mut HashMap<ObjectId, (f64, f64)>,
    seen: &mut HashSet<ObjectId>,
) {
    for resources in resources {
        let Ok(xobjects) = resources.get(b"XObject").and_then(|o| resolve_dict(document, o)) else { continue };
        for (_, value) in xobjects.iter() {
            let Ok(id) = value.as_reference() else { continue };
            if !seen.insert(id) {
                continue;
            }
            let Ok(Object::Stream(stream)) = document.get_object(id) else { continue };
            match stream.dict.get(b"Subtype").and_then(Object::as_name) {
                Ok(b"Image") => {
                    let entry = sizes.entry(id).or_insert(size);
                    entry.0 = entry.0.max(size.0);
                    entry.1 = entry.1.max(size.1);
                }
                Ok(b"Form") => {
                    if let Ok(inner) = stream.dict.get(b"Resources").and_then(|o| resolve_dict(document, o)) {
                        collect_images(document, &[inner], size, sizes, seen);
                    }
                }
                _ => {}
            }
        }
    }
}

fn resolve_dict<'a>(document: &'a Document, object: &'a Object) -> lopdf::Result<&'a Dictionary> {
    match object {
        Object::Reference(id) => document.get_dictionary(*id),
        other => other.as_dict(),
    }
}

fn media_box(document: &Document, page: &Dictionary) -> Option<(f64, f64)> {
    let object = page.get(b"MediaBox").ok()?;
    let array = match object {
        Object::Reference(id) => document.get_object(*id).ok()?.as_array().ok()?,
        other => other.as_array().ok()?,
    };
    let numbers: Vec<f64> = array.iter().filter_map(|n| n.as_float().ok().map(f64::from)).collect();
    match numbers.as_slice() {
        [x0, y0, x1, y1] => Some(((x1 - x0).abs(), (y1 - y0).abs())),
        _ => None,
    }
}

/// The number of colour components, for the colour spaces JPEG can carry without colour
/// management: DeviceGray/DeviceRGB, or ICC-based with 1 or 3 components.
fn jpeg_safe_components(document: &Document, color_space: &Object) -> Option<u8> {
    let resolved = match color_space {
        Object::Reference(id) => document.get_object(*id).ok()?,
        other => other,
    };
    match resolved {
        Object::Name(name) if name == b"DeviceGray" => Some(1),
        Object::Name(name) if name == b"DeviceRGB" => Some(3),
        Object::Name(name) if name == b"DeviceCMYK" => Some(4),
        Object::Array(items) if items.first().and_then(|n| n.as_name().ok()) == Some(b"ICCBased") => {
            let profile = items.get(1)?.as_reference().ok()?;
            let Object::Stream(stream) = document.get_object(profile).ok()? else { return None };
            match stream.dict.get(b"N").and_then(Object::as_i64).ok()? {
                n @ (1 | 3 | 4) => Some(n as u8),
                _ => None,
            }
        }
        _ => None,
    }
}

/// What [`recompress_images`] did.
struct ImagesOutcome {
    /// Images that could be re-encoded (8-bit, no mask, a colour space JPEG holds, …).
    candidates: usize,
    /// Of those, the ones replaced (their JPEG came out smaller).
    replaced: usize,
    /// Of those, the ones that could not be decoded.
    failed: usize,
}

/// Re-encodes the images it is safe to, keeping each new JPEG only when it is smaller.
fn recompress_images(document: &mut Document, ppi: f64, quality: f32, limits: &Limits) -> ImagesOutcome {
    let pages = image_pages(document);
    // Soft masks and masks are alpha or stencils: never JPEG.
    let mut masks = HashSet::new();
    for object in document.objects.values() {
        if let Object::Stream(stream) = object {
            for key in [&b"SMask"[..], b"Mask"] {
                if let Ok(id) = stream.dict.get(key).and_then(Object::as_reference) {
                    masks.insert(id);
                }
            }
        }
    }
    let mut jobs = Vec::new();
    for (id, page_size) in &pages {
        if masks.contains(id) {
            continue;
        }
        let Ok(Object::Stream(stream)) = document.get_object(*id) else { continue };
        let dict = &stream.dict;
        let get_i64 = |key: &[u8]| dict.get(key).and_then(Object::as_i64).ok();
        if dict.get(b"ImageMask").and_then(Object::as_bool).unwrap_or(false)
            || get_i64(b"BitsPerComponent") != Some(8)
            || dict.get(b"Decode").is_ok()
        {
            continue;
        }
        let Some(components) = dict.get(b"ColorSpace").ok().and_then(|cs| jpeg_safe_components(document, cs)) else {
            continue;
        };
        let (Some(width), Some(height)) = (get_i64(b"Width"), get_i64(b"Height")) else { continue };
        if width <= 0 || height <= 0 || (width as u64) * (height as u64) > limits.max_pixels {
            continue;
        }
        let filters = filters(stream);
        let source = match filters.as_slice() {
            [] => ImageSource::Raw(stream.content.clone()),
            [f] if f == b"FlateDecode" => match stream.decompressed_content_with_limit(limits.max_expanded as usize) {
                Ok(raw) => ImageSource::Raw(raw),
                Err(_) => continue,
            },
            // A CMYK JPEG would come back from the decoder as RGB: left as it is.
            [f] if f == b"DCTDecode" && components != 4 => ImageSource::Jpeg(stream.content.clone()),
            _ => continue,
        };
        // The longest side the image needs at the target resolution over its page.
        let longest_page_inches = page_size.0.max(page_size.1) / 72.0;
        let max_side = (longest_page_inches * ppi).round().max(16.0) as u32;
        jobs.push(ImageJob {
            id: *id,
            width: width as u32,
            height: height as u32,
            components,
            source,
            before: stream.content.len(),
            max_side,
        });
    }
    let candidates = jobs.len();
    use rayon::prelude::*;
    let results: Vec<(ObjectId, Result<Option<Reencoded>, String>)> =
        jobs.into_par_iter().map(|job| (job.id, job.reencode(quality))).collect();
    let (mut done, mut failed) = (0, 0);
    for (id, result) in results {
        match result {
            Ok(Some(image)) => {
                if let Ok(Object::Stream(stream)) = document.get_object_mut(id) {
                    stream.dict.set("Filter", Object::Name(b"DCTDecode".to_vec()));
                    stream.dict.remove(b"DecodeParms");
                    stream.dict.set("Width", image.width as i64);
                    stream.dict.set("Height", image.height as i64);
                    stream.set_content(image.bytes);
                    // Already compressed: the save must not deflate it again.
                    stream.allows_compression = false;
                    done += 1;
                }
            }
            Ok(None) => {}
            Err(_) => failed += 1,
        }
    }
    ImagesOutcome { candidates, replaced: done, failed }
}

enum ImageSource {
    Raw(Vec<u8>),
    Jpeg(Vec<u8>),
}

struct ImageJob {
    id: ObjectId,
    width: u32,
    height: u32,
    components: u8,
    source: ImageSource,
    before: usize,
    max_side: u32,
}

struct Reencoded {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

impl ImageJob {
    /// `Ok(None)` when the JPEG would not be smaller.
    fn reencode(self, quality: f32) -> Result<Option<Reencoded>, String> {
        if self.components == 4 {
            return self.reencode_cmyk(quality);
        }
        let image = match &self.source {
            ImageSource::Raw(raw) => {
                let (w, h) = (self.width, self.height);
                let expected = w as usize * h as usize * self.components as usize;
                if raw.len() < expected {
                    return Err("image data shorter than its dimensions".into());
                }
                let pixels = raw[..expected].to_vec();
                if self.components == 1 {
                    image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
                } else {
                    image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
                }
                .ok_or("bad image buffer")?
            }
            ImageSource::Jpeg(bytes) => {
                let decoded =
                    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).map_err(|e| e.to_string())?;
                if (decoded.width(), decoded.height()) != (self.width, self.height) {
                    return Err("JPEG size differs from the image dictionary".into());
                }
                if self.components == 1 {
                    DynamicImage::ImageLuma8(decoded.to_luma8())
                } else {
                    DynamicImage::ImageRgb8(decoded.to_rgb8())
                }
            }
        };
        let longest = image.width().max(image.height());
        let image = if longest > self.max_side {
            let scale = self.max_side as f64 / longest as f64;
            let plan = crate::image::resize::Plan {
                width: ((image.width() as f64 * scale).round() as u32).max(1),
                height: ((image.height() as f64 * scale).round() as u32).max(1),
                source: None,
            };
            crate::image::resize::apply(&image, &plan)?
        } else {
            image
        };
        let bytes = jpeg::encode(&image, quality, Chroma::Quarter, jpeg::Scans::Searched, &Default::default())
            .map_err(|e| e.to_string())?;
        if bytes.len() >= self.before {
            return Ok(None);
        }
        Ok(Some(Reencoded { bytes, width: image.width(), height: image.height() }))
    }

    /// CMYK samples go into a CMYK JPEG as they are: no colour conversion, so the page's
    /// colour management is unchanged. (The four channels ride in an RGBA buffer only to be
    /// resized; nothing treats the fourth as alpha.)
    fn reencode_cmyk(self, quality: f32) -> Result<Option<Reencoded>, String> {
        let ImageSource::Raw(raw) = &self.source else { return Ok(None) };
        let expected = self.width as usize * self.height as usize * 4;
        if raw.len() < expected {
            return Err("image data shorter than its dimensions".into());
        }
        let mut samples =
            image::RgbaImage::from_raw(self.width, self.height, raw[..expected].to_vec()).ok_or("bad image buffer")?;
        let longest = self.width.max(self.height);
        if longest > self.max_side {
            let scale = self.max_side as f64 / longest as f64;
            let (w, h) = (
                ((self.width as f64 * scale).round() as u32).max(1),
                ((self.height as f64 * scale).round() as u32).max(1),
            );
            samples = image::imageops::resize(&samples, w, h, image::imageops::FilterType::Lanczos3);
        }
        let (width, height) = samples.dimensions();
        let bytes = std::panic::catch_unwind(|| -> std::io::Result<Vec<u8>> {
            let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_CMYK);
            compress.set_size(width as usize, height as usize);
            compress.set_quality(quality);
            compress.set_optimize_coding(true);
            let mut started = compress.start_compress(Vec::new())?;
            started.write_scanlines(samples.as_raw())?;
            started.finish()
        })
        .map_err(|_| "libjpeg failed".to_string())?
        .map_err(|e| e.to_string())?;
        if bytes.len() >= self.before {
            return Ok(None);
        }
        Ok(Some(Reencoded { bytes, width, height }))
    }
}

#[cfg(test)]
mod tests {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Object, Stream};

    use super::*;

    /// A one-page PDF holding only a line of text (lopdf's own minimal document).
    fn text_only_pdf() -> Vec<u8> {
        let mut document = Document::with_version("1.5");
        let pages_id = document.new_object_id();
        let font_id = document.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier",
        });
        let resources_id = document.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
        let text = "Nothing here is an image. ".repeat(40);
        let content = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 10.into()]),
                Operation::new("Td", vec![20.into(), 700.into()]),
                Operation::new("Tj", vec![Object::string_literal(text)]),
                Operation::new("ET", vec![]),
            ],
        };
        let content_id = document.add_object(Stream::new(dictionary! {}, content.encode().expect("encodes")));
        let page_id = document.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        document.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
                "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        document.trailer.set("Root", catalog_id);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).expect("saves");
        bytes
    }

    /// Without images there is nothing to step down: the first coarser step says so instead of
    /// trying every other one.
    #[test]
    fn a_pdf_without_images_cannot_be_squeezed_and_says_why() {
        let input = text_only_pdf();
        let pdf = PdfOptions { max_size: Some(100), ..PdfOptions::default() };
        match compress(&input, "text.pdf", &Options { pdf, ..Options::default() }, &Limits::default()) {
            Err(EngineError::OverTargetSize { target, closest, why }) => {
                assert_eq!(target, 100);
                assert!(closest > 100 && closest < input.len() as u64, "{closest} of {}", input.len());
                assert!(why.contains("no image"), "{why}");
            }
            other => panic!("expected OverTargetSize, got {other:?}"),
        }
    }
}
