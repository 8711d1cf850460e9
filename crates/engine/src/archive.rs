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
//!
//! A zip given as a file ([`compress_zip_file`]) is never held whole: its members are read in
//! order, the small ones (up to [`MEMBER_BUDGET`]) in batches of about [`BATCH_BUDGET`] that go
//! through the engine in parallel exactly as a zip held in memory does, and the large ones
//! are read through once (their CRC-32 checked) and then copied as they are, compressed bytes
//! and all. Since only a batch is ever in memory, its declared content may exceed
//! `max_expanded` by as much as the file itself holds: content as large as the archive
//! holding it is no bomb.

use std::fs::File;
use std::io::{BufReader, BufWriter, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::error::corrupt;
use crate::options::{Compression, Options};
use crate::report::FileFacts;
use crate::{detect, Compressed, Control, Engine, EngineError, Format, Kind, Limits, Report};

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

/// A member of a zip read from a file is held in memory (and so may go through the engine)
/// up to this declared size; a larger one is copied as it is.
const MEMBER_BUDGET: u64 = 64 << 20;

/// Consecutive members held in memory are put through the engine in parallel in batches of
/// up to this many declared bytes (or one member, when it is alone over it). With the
/// engine's own working memory for the pictures being compressed, this keeps a re-pack of
/// any size well under 300 MB.
const BATCH_BUDGET: u64 = 64 << 20;

/// The piece a member is inflated, or a file hashed, in.
const COPY_BUFFER: u64 = 256 << 10;

/// Reads every member back (CRCs checked by the reader) and, for ODF and EPUB, checks the
/// `mimetype` member leads, stored.
pub(crate) fn verify(engine: &Engine, bytes: &[u8], format: Format) -> Result<(), EngineError> {
    if format == Format::Gzip {
        inflate_gzip(bytes, &engine.limits).map(|_| ())
    } else {
        let members = read_members(bytes, format, &engine.limits)?;
        check_leading_mimetype(format, members.first().map(|m| (m.name.as_str(), m.stored)))
    }
}

/// [`verify`] of the zip-family file at `path`, read member by member (each inflated and
/// dropped as it is read, its CRC-32 checked), never whole.
fn verify_zip_file(engine: &Engine, path: &Path, format: Format) -> Result<(), EngineError> {
    let (mut archive, length) = open_file(path, format)?;
    let headers = check_headers(&mut archive, format, &engine.limits, length)?;
    for (index, header) in headers.iter().enumerate() {
        let file = archive.by_index(index).map_err(|e| corrupt(format, e))?;
        inflate_member(file, header.size, format, &header.name, &mut std::io::sink())?;
    }
    check_leading_mimetype(format, headers.first().map(|h| (h.name.as_str(), h.stored)))
}

fn needs_leading_mimetype(format: Format) -> bool {
    matches!(format, Format::Odt | Format::Ods | Format::Odp | Format::Epub)
}

/// ODF and EPUB: the first member (its name, and whether it is stored) must be `mimetype`,
/// stored.
fn check_leading_mimetype(format: Format, first: Option<(&str, bool)>) -> Result<(), EngineError> {
    if !needs_leading_mimetype(format) {
        return Ok(());
    }
    match first {
        Some(("mimetype", true)) => Ok(()),
        _ => Err(corrupt(format, "the 'mimetype' member must come first, uncompressed")),
    }
}

/// Where the `mimetype` member is among `names`, when the format wants it first.
fn leading_mimetype<'n>(format: Format, mut names: impl Iterator<Item = &'n str>) -> Option<usize> {
    if !needs_leading_mimetype(format) {
        return None;
    }
    names.position(|name| name == "mimetype")
}

/// A plain zip with web pages in it is a website bundle: its text is minified too.
/// (EPUB and office documents hold XHTML/XML, which these minifiers are not for.)
fn is_website<'n>(format: Format, mut names: impl Iterator<Item = &'n str>) -> bool {
    format == Format::Zip && names.any(|name| web_text(name) == Some(WebText::Html))
}

/// One member as the central directory declares it, before anything is inflated.
struct Header {
    name: String,
    /// Declared size, inflated.
    size: u64,
    /// Size in the archive, compressed.
    packed: u64,
    stored: bool,
}

/// One member, read into memory.
struct Member {
    name: String,
    data: Vec<u8>,
    is_dir: bool,
    stored: bool,
    modified: Option<zip::DateTime>,
    unix_mode: Option<u32>,
    /// Its size in the archive, compressed (what progress is counted in).
    packed: u64,
}

/// Checks every header before anything is inflated: the member count, names that climb out
/// of the archive, and the declared total against `max_expanded` plus `allowance` (0 for a
/// zip held in memory; a zip read from a file, which never holds more than a batch, may
/// declare as much more as the file itself holds).
fn check_headers<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    format: Format,
    limits: &Limits,
    allowance: u64,
) -> Result<Vec<Header>, EngineError> {
    if archive.len() as u64 > u64::from(limits.max_members) {
        return Err(EngineError::TooLarge {
            what: format!("an archive of {} members", archive.len()),
            limit: format!("{} members", limits.max_members),
        });
    }
    let mut headers = Vec::with_capacity(archive.len());
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
        headers.push(Header {
            size: file.size(),
            packed: file.compressed_size(),
            stored: file.compression() == CompressionMethod::Stored,
            name,
        });
    }
    if declared > limits.max_expanded.saturating_add(allowance) {
        let limit = if allowance == 0 {
            format!("{} bytes", limits.max_expanded)
        } else {
            format!("{} bytes more than the archive's own {allowance} bytes", limits.max_expanded)
        };
        return Err(EngineError::TooLarge {
            what: format!("the archive's declared content ({declared} bytes)"),
            limit,
        });
    }
    Ok(headers)
}

fn read_members(input: &[u8], format: Format, limits: &Limits) -> Result<Vec<Member>, EngineError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(input)).map_err(|e| corrupt(format, e))?;
    let headers = check_headers(&mut archive, format, limits, 0)?;
    (0..headers.len()).map(|index| read_member(&mut archive, index, format)).collect()
}

/// Reads member `index` into memory, checked as [`inflate_member`] checks it.
fn read_member<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    format: Format,
) -> Result<Member, EngineError> {
    let mut file = archive.by_index(index).map_err(|e| corrupt(format, e))?;
    let name = file.name().map_err(|e| corrupt(format, e))?.into_owned();
    let size = file.size();
    let mut data = Vec::with_capacity(size.min(MEMBER_BUDGET) as usize);
    inflate_member(&mut file, size, format, &name, &mut data)?;
    Ok(Member {
        is_dir: file.is_dir(),
        stored: file.compression() == CompressionMethod::Stored,
        modified: file.last_modified(),
        unix_mode: file.unix_mode(),
        packed: file.compressed_size(),
        name,
        data,
    })
}

/// Inflates one member (`file`, which declared `size` bytes) into `out`. The zip reader
/// checks its CRC-32 and length as it goes; one that inflates past its declared size is
/// refused as soon as it does, so a lying header cannot exhaust memory.
fn inflate_member(
    file: impl Read,
    size: u64,
    format: Format,
    name: &str,
    out: &mut impl Write,
) -> Result<u64, EngineError> {
    // One byte more than declared tells a lying header from an honest one.
    let mut limited = file.take(size.saturating_add(1));
    let mut buffer = vec![0u8; size.saturating_add(1).min(COPY_BUFFER) as usize];
    let mut inflated: u64 = 0;
    loop {
        let n = match limited.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(member_damage(format, name, e)),
        };
        inflated += n as u64;
        if inflated > size {
            return Err(EngineError::Refused(format!(
                "the archive member '{name}' inflates to more than its declared {size} bytes"
            )));
        }
        out.write_all(&buffer[..n]).map_err(|e| encode_error(format, e))?;
    }
    Ok(inflated)
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

fn encode_error(format: Format, error: impl std::fmt::Display) -> EngineError {
    EngineError::Encode { format: format.name(), reason: error.to_string() }
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
    damaged: &Mutex<Vec<String>>,
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

/// How one archive's members are re-packed, whether it came as bytes or as a file.
struct Repack<'a, 'c> {
    engine: &'a Engine,
    format: Format,
    /// The options members go through the engine with; `None` when the archive is re-packed
    /// losslessly (every member's content kept as it is, only re-deflated).
    inner: Option<Options>,
    compression: Compression,
    depth: u32,
    website: bool,
    control: &'a Control<'c>,
}

impl<'a, 'c> Repack<'a, 'c> {
    fn new(
        engine: &'a Engine,
        format: Format,
        options: &Options,
        depth: u32,
        website: bool,
        control: &'a Control<'c>,
    ) -> Self {
        Repack {
            engine,
            format,
            inner: (!options.archive.lossless).then(|| member_options(options)),
            compression: options.archive.compression,
            depth,
            website,
            control,
        }
    }

    fn deflate_level(&self) -> i64 {
        match self.compression {
            // Zopfli: 5 iterations (levels above 9 select Zopfli, 9 + iterations).
            Compression::Ultra => 14,
            _ => 9,
        }
    }
}

/// What was done to an archive's members, counted batch by batch.
#[derive(Default)]
struct Tally {
    images: usize,
    documents: usize,
    minified: usize,
    damaged: Vec<String>,
}

impl Tally {
    /// The report's actions and warnings for an archive of `members` members.
    fn into_report(mut self, compression: Compression, members: usize) -> (Vec<String>, Vec<String>) {
        let mut actions = Vec::new();
        if self.images + self.documents > 0 {
            actions.push(format!(
                "recompressed {} images and {} nested documents/archives inside",
                self.images, self.documents
            ));
        }
        if self.minified > 0 {
            actions.push(format!("minified {} HTML/CSS/JS files", self.minified));
        }
        actions.push(match compression {
            Compression::Ultra => format!("re-packed {members} members (Zopfli)"),
            _ => format!("re-packed {members} members (deflate level 9)"),
        });
        // A damaged member is kept exactly as it was, and said: the archive itself is whole.
        self.damaged.sort();
        let warnings: Vec<String> =
            self.damaged.into_iter().map(|d| format!("a damaged member was kept as it was: {d}")).collect();
        (actions, warnings)
    }
}

/// Puts `members` through the engine in parallel, each replaced by its smaller version as
/// soon as there is one (so that a batch holds one copy of each member), and counts what was
/// done. `done` is called as each member is handled.
fn recompress_batch(
    repack: &Repack<'_, '_>,
    members: &mut [Member],
    tally: &mut Tally,
    done: &(dyn Fn(&Member) + Sync),
) -> Result<(), EngineError> {
    let Some(inner) = &repack.inner else {
        for member in members.iter() {
            done(member);
        }
        return Ok(());
    };
    let damaged = Mutex::new(Vec::new());
    let kinds: Vec<Option<Kind>> = members
        .par_iter_mut()
        .map(|member| {
            if repack.control.cancelled() {
                return None;
            }
            let result = recompress_member(repack.engine, &*member, inner, repack.depth, repack.website, &damaged);
            done(&*member);
            let (data, kind) = result?;
            member.data = data;
            Some(kind)
        })
        .collect();
    if repack.control.cancelled() {
        return Err(EngineError::Cancelled);
    }
    tally.damaged.extend(damaged.into_inner().unwrap_or_else(|e| e.into_inner()));
    for (member, kind) in members.iter().zip(kinds) {
        match kind {
            None => {}
            Some(_) if repack.website && web_text(&member.name).is_some() => tally.minified += 1,
            Some(Kind::Image) => tally.images += 1,
            Some(_) => tally.documents += 1,
        }
    }
    Ok(())
}

/// Writes one member held in memory: `mimetype` and empty members stored, content deflate
/// cannot shrink stored, the rest deflated at `deflate_level`.
fn write_member<W: Write + Seek>(
    writer: &mut zip::ZipWriter<W>,
    member: &Member,
    format: Format,
    deflate_level: i64,
) -> Result<(), EngineError> {
    let mut file_options = SimpleFileOptions::default().large_file(member.data.len() as u64 >= u32::MAX as u64);
    if let Some(modified) = member.modified {
        file_options = file_options.last_modified_time(modified);
    }
    if let Some(mode) = member.unix_mode {
        file_options = file_options.unix_permissions(mode);
    }
    if member.is_dir {
        return writer.add_directory(member.name.as_str(), file_options).map_err(|e| encode_error(format, e));
    }
    let keep_stored = (member.name == "mimetype" && needs_leading_mimetype(format)) || member.data.is_empty();
    let file_options = if keep_stored || is_already_compressed(&member.data) {
        file_options.compression_method(CompressionMethod::Stored)
    } else {
        file_options.compression_method(CompressionMethod::Deflated).compression_level(Some(deflate_level))
    };
    writer.start_file(member.name.as_str(), file_options).map_err(|e| encode_error(format, e))?;
    writer.write_all(&member.data).map_err(|e| encode_error(format, e))
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
    let website = is_website(format, members.iter().map(|m| m.name.as_str()));
    let repack = Repack::new(engine, format, options, depth, website, control);
    let mut tally = Tally::default();
    let done = AtomicUsize::new(0);
    let total = members.len().max(1);
    let progress = |_: &Member| {
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        (control.progress)(finished as f64 / total as f64);
    };
    recompress_batch(&repack, &mut members, &mut tally, &progress)?;

    // ODF and EPUB: `mimetype` first and stored, whatever order it came in.
    if let Some(position) = leading_mimetype(format, members.iter().map(|m| m.name.as_str())) {
        let mimetype = members.remove(position);
        members.insert(0, mimetype);
    }

    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(input.len())));
    for member in &members {
        write_member(&mut writer, member, format, repack.deflate_level())?;
    }
    let output = writer.finish().map_err(|e| encode_error(format, e))?.into_inner();

    let (actions, warnings) = tally.into_report(options.archive.compression, members.len());
    let count = Some(members.len() as u32);
    let mut input_facts = FileFacts::describe(name, format, input, None);
    input_facts.members = count;
    finish(input_facts, name, format, output, (actions, warnings), count)
}

/// The formats re-packed from their file, never held whole: the zip family and gzip.
pub(crate) fn repacks_from_file(format: Format) -> bool {
    format.is_zip_family() || format == Format::Gzip
}

/// Re-packs the zip-family or gzip file at `input` into `output` (an empty temporary file).
pub(crate) fn compress_file(
    engine: &Engine,
    input: &Path,
    output: &mut File,
    name: &str,
    format: Format,
    options: &Options,
    control: &Control,
) -> Result<ZipFileOutcome, EngineError> {
    match format {
        Format::Gzip => compress_gzip_file(engine, input, output, name, options, control),
        _ => compress_zip_file(engine, input, output, name, format, options, control),
    }
}

/// Reads the zip-family or gzip file at `path` back, piece by piece.
pub(crate) fn verify_file(engine: &Engine, path: &Path, format: Format) -> Result<(), EngineError> {
    match format {
        Format::Gzip => verify_gzip_file(engine, path),
        _ => verify_zip_file(engine, path, format),
    }
}

/// The result of [`compress_zip_file`] and [`compress_gzip_file`].
pub(crate) struct ZipFileOutcome {
    /// Sizes and SHA-256 of the input file and, when written, of the output file.
    pub report: Report,
    /// The output file holds the re-pack; `false` when skipped (the output is not to be used).
    pub written: bool,
}

/// Re-packs the zip-family file at `input` into `output` (an empty temporary file), member by
/// member: memory stays bounded whatever the archive's size. Members up to
/// [`MEMBER_BUDGET`] are read into memory in batches of about [`BATCH_BUDGET`] and handled
/// as in a zip held in memory; larger ones are read through once (CRC-32 and length checked,
/// damage reported as for any member) and copied as they are, compressed bytes, name,
/// method and times. The report's actions and warnings, and the rule for skipping, are those
/// of [`compress`].
fn compress_zip_file(
    engine: &Engine,
    input: &Path,
    output: &mut File,
    name: &str,
    format: Format,
    options: &Options,
    control: &Control,
) -> Result<ZipFileOutcome, EngineError> {
    let (mut archive, length) = open_file(input, format)?;
    let headers = check_headers(&mut archive, format, &engine.limits, length)?;
    let website = is_website(format, headers.iter().map(|h| h.name.as_str()));
    let repack = Repack::new(engine, format, options, 0, website, control);

    // ODF and EPUB: `mimetype` first (and stored: see `write_member`), whatever order it came in.
    let mut order: Vec<usize> = (0..headers.len()).collect();
    if let Some(position) = leading_mimetype(format, headers.iter().map(|h| h.name.as_str())) {
        order.remove(position);
        order.insert(0, position);
    }

    // Progress is counted in bytes of the archive handled.
    let total = headers.iter().fold(0u64, |sum, h| sum.saturating_add(h.packed)).max(1);
    let handled = AtomicU64::new(0);
    let advance = |bytes: u64| {
        let now = handled.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        (control.progress)((now as f64 / total as f64).min(1.0));
    };
    let done = |member: &Member| advance(member.packed);

    let mut writer = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, &mut *output));
    let mut tally = Tally::default();
    let mut batch: Vec<Member> = Vec::new();
    let mut batched: u64 = 0;
    for index in order {
        if control.cancelled() {
            return Err(EngineError::Cancelled);
        }
        let header = &headers[index];
        if header.size <= MEMBER_BUDGET {
            if !batch.is_empty() && batched.saturating_add(header.size) > BATCH_BUDGET {
                flush_batch(&repack, &mut batch, &mut writer, &mut tally, &done)?;
                batched = 0;
            }
            batch.push(read_member(&mut archive, index, format)?);
            batched = batched.saturating_add(header.size);
        } else {
            flush_batch(&repack, &mut batch, &mut writer, &mut tally, &done)?;
            batched = 0;
            copy_member(&mut archive, index, header, format, &mut writer)?;
            advance(header.packed);
        }
    }
    flush_batch(&repack, &mut batch, &mut writer, &mut tally, &done)?;
    let buffered = writer.finish().map_err(|e| encode_error(format, e))?;
    buffered.into_inner().map_err(|e| encode_error(format, e.into_error()))?;

    let (actions, warnings) = tally.into_report(options.archive.compression, headers.len());
    let count = Some(headers.len() as u32);
    let mut input_facts =
        FileFacts::describe_file(name, format, input, None).map_err(|e| crate::cannot_read(input, e))?;
    input_facts.members = count;
    let size = output.metadata().map_err(|e| encode_error(format, e))?.len();
    if let Some(reason) = not_smaller(size, input_facts.size) {
        let report = Compressed::skipped(input_facts, reason, actions, warnings).report;
        return Ok(ZipFileOutcome { report, written: false });
    }
    let (size, sha256) = sha256_open(output).map_err(|e| encode_error(format, e))?;
    let mut output_facts = FileFacts::describe(name, format, &[], None);
    output_facts.size = size;
    output_facts.hashes.sha256 = sha256;
    output_facts.members = count;
    let report = Compressed::written(input_facts, output_facts, Vec::new(), actions, warnings).report;
    Ok(ZipFileOutcome { report, written: true })
}

/// The zip at `path`, opened for reading member by member, and the file's length.
fn open_file(path: &Path, format: Format) -> Result<(zip::ZipArchive<BufReader<File>>, u64), EngineError> {
    let file = File::open(path).map_err(|e| crate::cannot_read(path, e))?;
    let length = file.metadata().map_err(|e| crate::cannot_read(path, e))?.len();
    let archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| corrupt(format, e))?;
    Ok((archive, length))
}

/// Puts a batch of members held in memory through the engine, writes them in order, and
/// empties the batch.
fn flush_batch<W: Write + Seek>(
    repack: &Repack<'_, '_>,
    batch: &mut Vec<Member>,
    writer: &mut zip::ZipWriter<W>,
    tally: &mut Tally,
    done: &(dyn Fn(&Member) + Sync),
) -> Result<(), EngineError> {
    if batch.is_empty() {
        return Ok(());
    }
    recompress_batch(repack, batch, tally, done)?;
    for member in batch.iter() {
        write_member(writer, member, repack.format, repack.deflate_level())?;
    }
    batch.clear();
    Ok(())
}

/// A member too large to hold: read through once (the reader checks its CRC-32 and length,
/// as for a member held in memory, and damage is reported the same way), then its
/// compressed bytes are copied as they are, with its name, method and times.
fn copy_member<R: Read + Seek, W: Write + Seek>(
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    header: &Header,
    format: Format,
    writer: &mut zip::ZipWriter<W>,
) -> Result<(), EngineError> {
    let file = archive.by_index(index).map_err(|e| corrupt(format, e))?;
    inflate_member(file, header.size, format, &header.name, &mut std::io::sink())?;
    let raw = archive.by_index_raw(index).map_err(|e| corrupt(format, e))?;
    writer.raw_copy_file(raw).map_err(|e| encode_error(format, e))
}

/// The size and SHA-256 of an open file, read from its start in pieces.
fn sha256_open(file: &mut File) -> std::io::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; COPY_BUFFER as usize];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Why a re-pack of `output` bytes is not kept, when it is no smaller than the `input`.
fn not_smaller(output: u64, input: u64) -> Option<String> {
    (output >= input).then(|| format!("already smaller than a re-pack ({output} bytes)"))
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
    if let Some(reason) = not_smaller(output.len() as u64, input_facts.size) {
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

fn gzip_encode_error(error: std::io::Error) -> EngineError {
    EngineError::Encode { format: "gzip", reason: error.to_string() }
}

/// Writes `content` to `sink` as gzip again, harder: Zopfli at `ultra` (which writes its own
/// header), else level 9 keeping the original header's file name and time. The action says
/// which. Both the in-memory and the streaming path go through here, so they write the same.
fn deflate_again(
    content: &mut impl Read,
    header: Option<&flate2::GzHeader>,
    compression: Compression,
    sink: &mut impl Write,
) -> (std::io::Result<()>, &'static str) {
    if compression == Compression::Ultra {
        let zopfli = zopfli::Options {
            iteration_count: std::num::NonZeroU64::new(5).unwrap_or(std::num::NonZeroU64::MIN),
            ..Default::default()
        };
        return (zopfli::compress(zopfli, zopfli::Format::Gzip, content, sink), "re-deflated with Zopfli");
    }
    let mut builder = flate2::GzBuilder::new();
    if let Some(header) = header {
        if let Some(filename) = header.filename() {
            builder = builder.filename(filename);
        }
        builder = builder.mtime(header.mtime());
    }
    let mut encoder = builder.write(sink, flate2::Compression::best());
    let copied = std::io::copy(content, &mut encoder).and_then(|_| encoder.finish().map(|_| ()));
    (copied, "re-deflated at level 9")
}

/// gzip (and so `.tar.gz`): the stream is inflated and deflated again, harder. The original
/// header's file name and time are kept.
fn gzip(input: &[u8], name: &str, options: &Options, limits: &Limits) -> Result<Compressed, EngineError> {
    let data = inflate_gzip(input, limits)?;
    let header = flate2::read::GzDecoder::new(input).header().cloned();
    let mut output = Vec::new();
    let (written, action) = deflate_again(&mut &data[..], header.as_ref(), options.archive.compression, &mut output);
    written.map_err(gzip_encode_error)?;
    let input_facts = FileFacts::describe(name, Format::Gzip, input, None);
    finish(input_facts, name, Format::Gzip, output, (vec![action.to_string()], Vec::new()), None)
}

/// Reads a gzip file's content as it inflates it: progress is the share of the file read, a
/// cancel stops it, and content past `limit` is refused. The first failure is kept so the
/// caller can tell damage (or a cancel) from a failure of whatever it was writing to.
struct Inflating<'c, 'a> {
    decoder: flate2::read::MultiGzDecoder<Counting<'c, 'a>>,
    inflated: u64,
    limit: u64,
    failure: Option<EngineError>,
}

/// The compressed file, counted as it is read.
struct Counting<'c, 'a> {
    file: BufReader<File>,
    read: u64,
    total: u64,
    reported: u64,
    control: &'c Control<'a>,
}

impl Read for Counting<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        // A report per 1 MiB read is plenty for a bar and costs nothing.
        if self.read - self.reported >= 1 << 20 {
            self.reported = self.read;
            (self.control.progress)((self.read as f64 / self.total.max(1) as f64).min(1.0));
        }
        Ok(n)
    }
}

impl Read for Inflating<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let failed = |this: &mut Self, error: EngineError| {
            let text = error.to_string();
            this.failure.get_or_insert(error);
            Err(std::io::Error::other(text))
        };
        if self.decoder.get_ref().control.cancelled() {
            return failed(self, EngineError::Cancelled);
        }
        let n = match self.decoder.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return failed(self, gzip_damage(e)),
        };
        self.inflated += n as u64;
        if self.inflated > self.limit {
            let limit = format!("{} bytes", self.limit);
            return failed(self, EngineError::TooLarge { what: "the gzip stream's content".into(), limit });
        }
        Ok(n)
    }
}

/// Opens the gzip file at `path` for inflating. Its content may exceed `max_expanded` by as
/// much as the file itself holds: only a piece is ever in memory, and content as large as
/// the file holding it is no bomb.
fn inflating<'c, 'a>(path: &Path, limits: &Limits, control: &'c Control<'a>) -> Result<Inflating<'c, 'a>, EngineError> {
    let file = File::open(path).map_err(|e| crate::cannot_read(path, e))?;
    let total = file.metadata().map_err(|e| crate::cannot_read(path, e))?.len();
    let counting = Counting { file: BufReader::with_capacity(1 << 20, file), read: 0, total, reported: 0, control };
    Ok(Inflating {
        decoder: flate2::read::MultiGzDecoder::new(counting),
        inflated: 0,
        limit: limits.max_expanded.saturating_add(total),
        failure: None,
    })
}

/// [`verify`] of the gzip file at `path`: inflated piece by piece (its CRC-32 and length
/// checked at the end of every member) and dropped.
fn verify_gzip_file(engine: &Engine, path: &Path) -> Result<(), EngineError> {
    let control = Control::default();
    let mut content = inflating(path, &engine.limits, &control)?;
    let copied = std::io::copy(&mut content, &mut std::io::sink());
    match (content.failure.take(), copied) {
        (Some(error), _) => Err(error),
        (None, Err(e)) => Err(gzip_damage(e)),
        (None, Ok(_)) => Ok(()),
    }
}

/// gzip given as a file: inflated and deflated again into `output` (an empty temporary
/// file) as it is read, in pieces, so memory stays flat whatever the size. The original
/// header's file name and time are kept (except by Zopfli, which writes its own header).
fn compress_gzip_file(
    engine: &Engine,
    input: &Path,
    output: &mut File,
    name: &str,
    options: &Options,
    control: &Control,
) -> Result<ZipFileOutcome, EngineError> {
    let header = {
        let file = File::open(input).map_err(|e| crate::cannot_read(input, e))?;
        flate2::read::GzDecoder::new(BufReader::new(file)).header().cloned()
    };
    let mut content = inflating(input, &engine.limits, control)?;
    let encode_error = gzip_encode_error;
    let mut sink = BufWriter::with_capacity(1 << 20, &mut *output);
    let (written, action) = deflate_again(&mut content, header.as_ref(), options.archive.compression, &mut sink);
    if let Some(failure) = content.failure.take() {
        return Err(failure);
    }
    written.map_err(encode_error)?;
    sink.into_inner().map_err(|e| encode_error(e.into_error()))?;

    let actions = vec![action.to_string()];
    let input_facts =
        FileFacts::describe_file(name, Format::Gzip, input, None).map_err(|e| crate::cannot_read(input, e))?;
    let size = output.metadata().map_err(encode_error)?.len();
    if let Some(reason) = not_smaller(size, input_facts.size) {
        let report = Compressed::skipped(input_facts, reason, actions, Vec::new()).report;
        return Ok(ZipFileOutcome { report, written: false });
    }
    let (size, sha256) = sha256_open(output).map_err(encode_error)?;
    let mut output_facts = FileFacts::describe(name, Format::Gzip, &[], None);
    output_facts.size = size;
    output_facts.hashes.sha256 = sha256;
    let report = Compressed::written(input_facts, output_facts, Vec::new(), actions, Vec::new()).report;
    Ok(ZipFileOutcome { report, written: true })
}
