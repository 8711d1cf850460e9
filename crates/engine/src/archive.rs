//! ZIP, the zip-based documents (OOXML, ODF, EPUB) and gzip.
//!
//! A zip is re-packed member by member: images, PDFs and nested zips go through the engine
//! (keeping their format, since documents refer to members by name), everything else is
//! re-deflated (with Zopfli at `ultra`). ODF and EPUB need their `mimetype` member first and
//! stored; it stays so. Hostile archives are refused before anything is inflated: too many
//! members, a declared total over the limit, or names that climb out of the archive
//! (`../`). A member that inflates to more than its header declared is refused too, so a
//! lying header cannot exhaust memory. A plain zip holding web pages is a website bundle:
//! its HTML, CSS and JavaScript are minified as well.

use std::io::{Cursor, Read, Write};

use rayon::prelude::*;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::error::corrupt;
use crate::options::{Compression, Options};
use crate::report::FileFacts;
use crate::{detect, Compressed, Control, Engine, EngineError, Format, Kind, Limits};

pub(crate) fn compress(
    engine: &Engine,
    input: &[u8],
    name: &str,
    format: Format,
    options: &Options,
    control: &Control,
) -> Result<Compressed, EngineError> {
    match format {
        Format::Gzip => gzip(input, name, options, &engine.limits),
        _ => zip(engine, input, name, format, options, control, 0),
    }
}

/// Zips inside zips are re-packed down to this depth, and left as they are below it (a
/// nested bomb such as 42.zip multiplies the work at every level).
const MAX_NESTING: u32 = 3;

/// Reads every member back (CRCs checked by the reader) and, for ODF and EPUB, checks the
/// `mimetype` member leads, stored.
pub(crate) fn verify(engine: &Engine, bytes: &[u8], format: Format) -> Result<(), EngineError> {
    if format == Format::Gzip {
        inflate_gzip(bytes, &engine.limits).map(|_| ())
    } else {
        let members = read_members(bytes, format, &engine.limits)?;
        if needs_leading_mimetype(format) {
            match members.first() {
                Some(first) if first.name == "mimetype" && first.stored => Ok(()),
                _ => Err(corrupt(format, "the 'mimetype' member must come first, uncompressed")),
            }
        } else {
            Ok(())
        }
    }
}

fn needs_leading_mimetype(format: Format) -> bool {
    matches!(format, Format::Odt | Format::Ods | Format::Odp | Format::Epub)
}

/// One member, read into memory.
struct Member {
    name: String,
    data: Vec<u8>,
    is_dir: bool,
    stored: bool,
    modified: Option<zip::DateTime>,
    unix_mode: Option<u32>,
}

fn read_members(input: &[u8], format: Format, limits: &Limits) -> Result<Vec<Member>, EngineError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(input)).map_err(|e| corrupt(format, e))?;
    if archive.len() as u64 > u64::from(limits.max_members) {
        return Err(EngineError::TooLarge {
            what: format!("an archive of {} members", archive.len()),
            limit: format!("{} members", limits.max_members),
        });
    }
    // Check every header before inflating anything.
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(|e| corrupt(format, e))?;
        let name = file.name().map_err(|e| corrupt(format, e))?.into_owned();
        if file.enclosed_name().is_none() {
            return Err(EngineError::Refused(format!(
                "the archive member '{name}' points outside the archive (absolute path or '..')"
            )));
        }
        declared = declared.saturating_add(file.size());
    }
    if declared > limits.max_expanded {
        return Err(EngineError::TooLarge {
            what: format!("the archive's declared content ({declared} bytes)"),
            limit: format!("{} bytes", limits.max_expanded),
        });
    }
    let mut members = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|e| corrupt(format, e))?;
        let name = file.name().map_err(|e| corrupt(format, e))?.into_owned();
        let size = file.size();
        let mut data = Vec::with_capacity(size.min(64 << 20) as usize);
        // One byte more than declared tells a lying header from an honest one.
        (&mut file).take(size + 1).read_to_end(&mut data).map_err(|e| member_damage(format, &name, e))?;
        if data.len() as u64 > size {
            return Err(EngineError::Refused(format!(
                "the archive member '{name}' inflates to more than its declared {size} bytes"
            )));
        }
        members.push(Member {
            is_dir: file.is_dir(),
            stored: file.compression() == CompressionMethod::Stored,
            modified: file.last_modified(),
            unix_mode: file.unix_mode(),
            name,
            data,
        });
    }
    Ok(members)
}

/// A member that does not read back whole: the zip reader checks each member's CRC-32 and
/// length as it inflates it.
fn member_damage(format: Format, name: &str, error: std::io::Error) -> EngineError {
    let text = error.to_string();
    let how = if text.contains("checksum") {
        "fails its CRC-32 check".to_string()
    } else {
        format!("cannot be read ({text})")
    };
    EngineError::Damaged { reason: format!("the {}'s member '{name}' {how}", format.name()), salvageable: false }
}

/// Content that deflate cannot shrink: stored as it is.
fn is_already_compressed(data: &[u8]) -> bool {
    match detect(data) {
        Some(format) => !matches!(format, Format::Bmp | Format::Tiff | Format::Wav | Format::Pdf),
        None => false,
    }
}

/// What the engine may do to a member: its own format kept, and only kinds that are quick
/// and safe inside a document (no video re-encodes inside a presentation).
fn member_options(options: &Options) -> Options {
    let mut options = options.clone();
    options.image.format = None;
    options
}

/// What a member of a website bundle is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WebText {
    Html,
    Css,
    Js,
}

fn web_text(name: &str) -> Option<WebText> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => Some(WebText::Html),
        "css" => Some(WebText::Css),
        "js" | "mjs" => Some(WebText::Js),
        _ => None,
    }
}

/// Minifies the HTML, CSS and JavaScript of a website bundle (html-minifier for pages, with
/// their inline styles and scripts; minifier, rustdoc's own, for files). Text that does not
/// parse, or would not get smaller, is kept as it is.
fn minify_web_text(kind: WebText, data: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let minified = match kind {
        WebText::Html => html_minifier::minify(text).ok()?,
        WebText::Css => minifier::css::minify(text).ok()?.to_string(),
        WebText::Js => minifier::js::minify(text).to_string(),
    };
    (minified.len() < data.len()).then(|| minified.into_bytes())
}

fn recompress_member(
    engine: &Engine,
    member: &Member,
    options: &Options,
    depth: u32,
    website: bool,
    damaged: &std::sync::Mutex<Vec<String>>,
) -> Option<(Vec<u8>, Kind)> {
    if member.is_dir || member.data.is_empty() {
        return None;
    }
    if website {
        if let Some(kind) = web_text(&member.name) {
            return minify_web_text(kind, &member.data).map(|data| (data, Kind::Document));
        }
    }
    let format = detect(&member.data)?;
    let wanted = matches!(format.kind(), Kind::Image | Kind::Archive | Kind::Document);
    if !wanted {
        return None;
    }
    let leaf = member.name.rsplit('/').next().unwrap_or(&member.name);
    let result = if format.is_zip_family() {
        if depth >= MAX_NESTING {
            return None;
        }
        zip(engine, &member.data, leaf, format, options, &Control::default(), depth + 1).ok()?
    } else {
        match engine.compress(&member.data, leaf, options) {
            Ok(result) => result,
            Err(EngineError::Damaged { reason, .. }) => {
                damaged.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{}: {reason}", member.name));
                return None;
            }
            Err(_) => return None,
        }
    };
    let output = result.output?;
    // A document refers to the member by name: a format change would break it.
    (result.report.output.format == format && output.len() < member.data.len()).then_some((output, format.kind()))
}

fn zip(
    engine: &Engine,
    input: &[u8],
    name: &str,
    format: Format,
    options: &Options,
    control: &Control,
    depth: u32,
) -> Result<Compressed, EngineError> {
    let mut members = read_members(input, format, &engine.limits)?;
    let level = options.archive.compression;
    let mut actions = Vec::new();
    let mut warnings = Vec::new();

    // A plain zip with web pages in it is a website bundle: its text is minified too.
    // (EPUB and office documents hold XHTML/XML, which these minifiers are not for.)
    let website = format == Format::Zip && members.iter().any(|m| web_text(&m.name) == Some(WebText::Html));
    if !options.archive.lossless {
        let inner = member_options(options);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let total = members.len().max(1);
        let damaged = std::sync::Mutex::new(Vec::new());
        let results: Vec<Option<(Vec<u8>, Kind)>> = members
            .par_iter()
            .map(|member| {
                if control.cancelled() {
                    return None;
                }
                let result = recompress_member(engine, member, &inner, depth, website, &damaged);
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                (control.progress)(finished as f64 / total as f64);
                result
            })
            .collect();
        if control.cancelled() {
            return Err(EngineError::Cancelled);
        }
        // A damaged member is kept exactly as it was, and said: the archive itself is whole.
        let mut damaged = damaged.into_inner().unwrap_or_else(|e| e.into_inner());
        damaged.sort();
        warnings.extend(damaged.into_iter().map(|d| format!("a damaged member was kept as it was: {d}")));
        let (mut images, mut documents, mut minified) = (0, 0, 0);
        for (member, result) in members.iter_mut().zip(results) {
            if let Some((data, kind)) = result {
                if website && web_text(&member.name).is_some() {
                    minified += 1;
                } else if kind == Kind::Image {
                    images += 1;
                } else {
                    documents += 1;
                }
                member.data = data;
            }
        }
        if images + documents > 0 {
            actions.push(format!("recompressed {images} images and {documents} nested documents/archives inside"));
        }
        if minified > 0 {
            actions.push(format!("minified {minified} HTML/CSS/JS files"));
        }
    }

    // ODF and EPUB: `mimetype` first and stored, whatever order it came in.
    if needs_leading_mimetype(format) {
        if let Some(position) = members.iter().position(|m| m.name == "mimetype") {
            let mimetype = members.remove(position);
            members.insert(0, mimetype);
        }
    }

    let deflate_level = match level {
        // Zopfli: 5 iterations (levels above 9 select Zopfli, 9 + iterations).
        Compression::Ultra => 14,
        _ => 9,
    };
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(input.len())));
    for member in &members {
        let mut file_options = SimpleFileOptions::default().large_file(member.data.len() as u64 >= u32::MAX as u64);
        if let Some(modified) = member.modified {
            file_options = file_options.last_modified_time(modified);
        }
        if let Some(mode) = member.unix_mode {
            file_options = file_options.unix_permissions(mode);
        }
        let write_error =
            |e: zip::result::ZipError| EngineError::Encode { format: format.name(), reason: e.to_string() };
        if member.is_dir {
            writer.add_directory(member.name.as_str(), file_options).map_err(write_error)?;
            continue;
        }
        let keep_stored = (member.name == "mimetype" && needs_leading_mimetype(format)) || member.data.is_empty();
        let file_options = if keep_stored || is_already_compressed(&member.data) {
            file_options.compression_method(CompressionMethod::Stored)
        } else {
            file_options.compression_method(CompressionMethod::Deflated).compression_level(Some(deflate_level))
        };
        writer.start_file(member.name.as_str(), file_options).map_err(write_error)?;
        writer
            .write_all(&member.data)
            .map_err(|e| EngineError::Encode { format: format.name(), reason: e.to_string() })?;
    }
    let output =
        writer.finish().map_err(|e| EngineError::Encode { format: format.name(), reason: e.to_string() })?.into_inner();
    actions.push(match level {
        Compression::Ultra => format!("re-packed {} members (Zopfli)", members.len()),
        _ => format!("re-packed {} members (deflate level 9)", members.len()),
    });

    let count = Some(members.len() as u32);
    let mut input_facts = FileFacts::describe(name, format, input, None);
    input_facts.members = count;
    finish(input_facts, name, format, output, (actions, warnings), count)
}

/// The report: compressed when smaller, else skipped with the original kept.
fn finish(
    input_facts: FileFacts,
    name: &str,
    format: Format,
    output: Vec<u8>,
    (actions, warnings): (Vec<String>, Vec<String>),
    members: Option<u32>,
) -> Result<Compressed, EngineError> {
    if output.len() as u64 >= input_facts.size {
        let reason = format!("already smaller than a re-pack ({} bytes)", output.len());
        return Ok(Compressed::skipped(input_facts, reason, actions, warnings));
    }
    let mut output_facts = FileFacts::describe(name, format, &output, None);
    output_facts.members = members;
    Ok(Compressed::written(input_facts, output_facts, output, actions, warnings))
}

/// gzip ends with the CRC-32 and length of what it holds, checked as the stream is read: a
/// stream cut short or changed fails there, and is damage like any other.
fn gzip_damage(error: std::io::Error) -> EngineError {
    let text = error.to_string();
    let reason = if error.kind() == std::io::ErrorKind::UnexpectedEof || text.contains("incomplete") {
        "the gzip data ends early: the compressed stream is cut off".to_string()
    } else if text.contains("checksum") {
        "the gzip data fails its CRC-32 check".to_string()
    } else {
        format!("the gzip data cannot be read ({text})")
    };
    EngineError::Damaged { reason, salvageable: false }
}

fn inflate_gzip(input: &[u8], limits: &Limits) -> Result<Vec<u8>, EngineError> {
    let mut data = Vec::new();
    flate2::read::MultiGzDecoder::new(input)
        .take(limits.max_expanded + 1)
        .read_to_end(&mut data)
        .map_err(gzip_damage)?;
    if data.len() as u64 > limits.max_expanded {
        return Err(EngineError::TooLarge {
            what: "the gzip stream's content".into(),
            limit: format!("{} bytes", limits.max_expanded),
        });
    }
    Ok(data)
}

/// gzip (and so `.tar.gz`): the stream is inflated and deflated again, harder. The original
/// header's file name and time are kept.
fn gzip(input: &[u8], name: &str, options: &Options, limits: &Limits) -> Result<Compressed, EngineError> {
    let data = inflate_gzip(input, limits)?;
    let header = flate2::read::GzDecoder::new(input).header().cloned();
    let encode_error = |e: std::io::Error| EngineError::Encode { format: "gzip", reason: e.to_string() };
    let (output, action) = match options.archive.compression {
        Compression::Ultra => {
            let mut output = Vec::new();
            let zopfli = zopfli::Options {
                iteration_count: std::num::NonZeroU64::new(5).unwrap_or(std::num::NonZeroU64::MIN),
                ..Default::default()
            };
            zopfli::compress(zopfli, zopfli::Format::Gzip, &data[..], &mut output).map_err(encode_error)?;
            (output, "re-deflated with Zopfli")
        }
        _ => {
            let mut builder = flate2::GzBuilder::new();
            if let Some(header) = &header {
                if let Some(filename) = header.filename() {
                    builder = builder.filename(filename);
                }
                builder = builder.mtime(header.mtime());
            }
            let mut encoder = builder.write(Vec::new(), flate2::Compression::best());
            encoder.write_all(&data).map_err(encode_error)?;
            (encoder.finish().map_err(encode_error)?, "re-deflated at level 9")
        }
    };
    let input_facts = FileFacts::describe(name, Format::Gzip, input, None);
    finish(input_facts, name, Format::Gzip, output, (vec![action.to_string()], Vec::new()), None)
}
