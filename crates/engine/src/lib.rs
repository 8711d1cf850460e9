//! Compressor's engine: bytes in, bytes out. Detects the format from content, applies the
//! options, and reports what it did. No file-system policy lives here: the pipeline crate
//! decides where bytes come from and where they go.
//!
//! ```no_run
//! use compressor_engine::{Engine, Options};
//! let input = std::fs::read("photo.jpg").unwrap();
//! let options = Options::from_json(r#"{"image": {"compression": "high"}}"#).unwrap();
//! let result = Engine::default().compress(&input, "photo.jpg", &options).unwrap();
//! println!("{} -> {} bytes", result.report.input.size, result.report.output.size);
//! ```

#[cfg(feature = "archive")]
mod archive;
pub mod contain;
pub mod damage;
pub mod detect;
pub mod error;
mod image;
pub mod media;
pub mod options;
#[cfg(feature = "pdf")]
mod pdf;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub use detect::{detect, Format, Kind};
pub use error::{EngineError, InvalidOptions};
pub use media::protocol::CompressJob;
pub use options::{
    ArchiveOptions, AudioCodec, AudioOptions, Compression, DamagedInput, FieldError, ImageFormat, ImageOptions,
    Options, PdfOptions, Quality, Resize, ResizeMode, VideoCodec, VideoContainer, VideoOptions,
};
pub use report::{FileFacts, Report, Status};

/// SSIMULACRA2 of `distorted` against `reference` (sRGB, same size): the perceptual score
/// `quality: "auto"` aims at, for benchmarks and tests to measure outputs by. `None` when the
/// sizes differ or the image is under 8×8.
pub fn ssimulacra2(reference: &::image::RgbImage, distorted: &::image::RgbImage) -> Option<f64> {
    image::perceptual::score(reference, distorted)
}

/// Resource limits that keep hostile or huge inputs from exhausting memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest width × height accepted (checked from the header, before decoding).
    pub max_pixels: u64,
    /// Largest single allocation a decoder may make, in bytes.
    pub max_alloc: u64,
    /// Most bytes an archive, a gzip stream or a PDF stream may expand to (zip bombs).
    pub max_expanded: u64,
    /// Most members an archive may have.
    pub max_members: u32,
    /// Most resident memory the media worker may use on one file, in bytes.
    pub worker_memory: u64,
    /// Longest the media worker may go without a word of progress, in milliseconds, before
    /// it is taken to hang and is stopped.
    pub worker_silence_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // 100 megapixels covers medium-format cameras; RGBA at that size is 400 MB.
        Self {
            max_pixels: 100_000_000,
            max_alloc: 1 << 30,
            max_expanded: 1 << 30,
            max_members: 100_000,
            // 4K HEVC decoded and x264 encoding at `slower` stay well under 2 GB.
            worker_memory: 3 << 30,
            // Progress comes with every frame; a minute without one is not slowness.
            worker_silence_ms: 60_000,
        }
    }
}

/// Progress and cancellation for long jobs (video). Checked between frames.
pub struct Control<'a> {
    pub cancel: &'a AtomicBool,
    /// Called with the fraction done, 0.0 to 1.0. It must not panic: video and audio call it
    /// from the media module, which a panic from this program's code cannot unwind through.
    pub progress: &'a (dyn Fn(f64) + Sync),
}

impl Control<'_> {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

static NEVER: AtomicBool = AtomicBool::new(false);

impl Default for Control<'static> {
    fn default() -> Self {
        Control { cancel: &NEVER, progress: &|_| {} }
    }
}

impl Limits {
    /// Refuses a picture of `width` × `height` over [`Limits::max_pixels`].
    pub fn check(&self, width: u32, height: u32) -> Result<(), EngineError> {
        if u64::from(width) * u64::from(height) > self.max_pixels {
            Err(EngineError::TooManyPixels { width, height, limit: self.max_pixels })
        } else {
            Ok(())
        }
    }
}

/// The result of compressing one file.
#[derive(Debug, Clone)]
pub struct Compressed {
    pub report: Report,
    /// The new bytes; `None` when the report says `skipped` and the original is the result.
    pub output: Option<Vec<u8>>,
}

impl Compressed {
    /// The original is the result (nothing smaller came out); `reason` says why.
    pub fn skipped(input: FileFacts, reason: String, actions: Vec<String>, warnings: Vec<String>) -> Self {
        let report = Report {
            status: Status::Skipped,
            reason: Some(reason),
            output: input.clone(),
            input,
            actions,
            warnings,
            damage: None,
        };
        Compressed { report, output: None }
    }

    /// A new output, described by `facts`.
    pub fn written(
        input: FileFacts,
        facts: FileFacts,
        output: Vec<u8>,
        actions: Vec<String>,
        warnings: Vec<String>,
    ) -> Self {
        let report =
            Report { status: Status::Compressed, reason: None, input, output: facts, actions, warnings, damage: None };
        Compressed { report, output: Some(output) }
    }
}

/// The engine, configured with its limits. Cheap to clone and safe to share across threads.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub limits: Limits,
}

impl Engine {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    /// Compresses `input` (whose file name is `name`, used only for the report and the
    /// output's name) according to `options`.
    pub fn compress(&self, input: &[u8], name: &str, options: &Options) -> Result<Compressed, EngineError> {
        self.compress_with(input, name, options, &Control::default())
    }

    /// [`Engine::compress`] with progress reports and cancellation.
    pub fn compress_with(
        &self,
        input: &[u8],
        name: &str,
        options: &Options,
        control: &Control,
    ) -> Result<Compressed, EngineError> {
        options.validate()?;
        if input.is_empty() {
            return Err(EngineError::Empty);
        }
        let format = detect(input).ok_or_else(|| EngineError::Unsupported(detect::describe_unknown(input)))?;
        let damage = check_damage(input, format, options)?;
        let compressed = contain::contain(
            || format!("compressing this {} file failed inside a library", format.name()),
            || self.compress_format(input, name, format, options, control),
        );
        judge(compressed, damage, |compressed| &mut compressed.report)
    }

    /// Compresses the file at `input` (`name` is used for the report and the output's name)
    /// without holding it in memory where its format allows: video and audio are read by the
    /// media worker from the file and written into a temporary file in `scratch`; a zip or
    /// zip-based document is re-packed member by member from the file into one. Other
    /// formats are read whole (images are bounded by the pixel limit) and their output is
    /// written into `scratch` the same way. Put `scratch` on the destination's file system,
    /// so that keeping the result is a rename.
    pub fn compress_file(
        &self,
        input: &Path,
        name: &str,
        options: &Options,
        control: &Control,
        scratch: &Path,
    ) -> Result<CompressedFile, EngineError> {
        options.validate()?;
        let format = match detect_file(input).map_err(|e| cannot_read(input, e))? {
            Some(format) if worked_from_the_file(format) => format,
            _ => {
                let bytes = std::fs::read(input).map_err(|e| cannot_read(input, e))?;
                let Compressed { report, output } = self.compress_with(&bytes, name, options, control)?;
                let output = output.map(|bytes| write_scratch(scratch, &bytes)).transpose()?;
                return Ok(CompressedFile { report, output });
            }
        };
        // The structure checks of these formats read only headers (a video's boxes and chunks,
        // a zip's end of central directory), so on a map only those pages are read. A zip's
        // members have their CRC-32 checked as the archive module reads them.
        let damage = check_damage(&map_file(input)?, format, options)?;
        let output = scratch_file(scratch)?;
        let compressed = contain::contain(
            || format!("compressing this {} file failed inside a library", format.name()),
            || {
                #[cfg(feature = "archive")]
                if archive::repacks_from_file(format) {
                    let mut output = output;
                    let archive::ZipFileOutcome { report, written } =
                        archive::compress_file(self, input, output.as_file_mut(), name, format, options, control)?;
                    return Ok(CompressedFile { report, output: written.then_some(output) });
                }
                let job = self.media_job(input, output.path(), name, format, options)?;
                let report = media::codec().compress(&job, control)?;
                let output = (report.status == Status::Compressed).then_some(output);
                Ok(CompressedFile { report, output })
            },
        );
        judge(compressed, damage, |compressed| &mut compressed.report)
    }

    /// What the media worker is asked to do for `input`, written into `output`.
    fn media_job(
        &self,
        input: &Path,
        output: &Path,
        name: &str,
        format: Format,
        options: &Options,
    ) -> Result<media::CompressJob, EngineError> {
        Ok(media::CompressJob {
            input: absolute(input)?,
            output: absolute(output)?,
            name: name.to_string(),
            format,
            options: options.clone(),
            limits: self.limits.clone(),
        })
    }

    fn compress_format(
        &self,
        input: &[u8],
        name: &str,
        format: Format,
        options: &Options,
        control: &Control,
    ) -> Result<Compressed, EngineError> {
        match format.kind() {
            Kind::Image => image::compress(input, name, format, &options.image, &self.limits),
            #[cfg(feature = "pdf")]
            Kind::Document if format == Format::Pdf => pdf::compress(input, name, options, &self.limits),
            #[cfg(feature = "archive")]
            Kind::Document | Kind::Archive => archive::compress(self, input, name, format, options, control),
            Kind::Video | Kind::Audio => self.compress_media_bytes(input, name, format, options, control),
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Unsupported(format!(
                "{} (this build has no {} support)",
                format.name(),
                format.name()
            ))),
        }
    }

    /// Video or audio held in memory (a member of an archive, a bucket's object): the media
    /// worker reads files, so it goes through one.
    fn compress_media_bytes(
        &self,
        input: &[u8],
        name: &str,
        format: Format,
        options: &Options,
        control: &Control,
    ) -> Result<Compressed, EngineError> {
        let scratch = std::env::temp_dir();
        let source = write_scratch(&scratch, input)?;
        let output = scratch_file(&scratch)?;
        let job = self.media_job(source.path(), output.path(), name, format, options)?;
        let report = media::codec().compress(&job, control)?;
        let output = match report.status {
            Status::Compressed => Some(std::fs::read(output.path()).map_err(|e| cannot_read(output.path(), e))?),
            Status::Skipped => None,
        };
        Ok(Compressed { report, output })
    }

    /// Reads `bytes` completely (decodes images and media, parses documents, inflates
    /// archives), proving a written output is usable. Returns its format.
    pub fn verify(&self, bytes: &[u8]) -> Result<Format, EngineError> {
        let format = detect(bytes).ok_or_else(|| EngineError::Unsupported(detect::describe_unknown(bytes)))?;
        contain::contain(
            || format!("reading this {} file back failed inside a library", format.name()),
            || {
                check_written_structure(bytes, format)?;
                self.verify_format(bytes, format)
            },
        )
    }

    /// [`Engine::verify`] of a written file. Video and audio are read at a bounded cost (the
    /// container's structure, every stream's headers, and decoded samples including the
    /// end: see the media crate's `verify`), so that checking a long video does not take as
    /// long as making it; a zip is read member by member from the file, never whole.
    pub fn verify_file(&self, path: &Path) -> Result<Format, EngineError> {
        let format = match detect_file(path).map_err(|e| cannot_read(path, e))? {
            Some(format) if worked_from_the_file(format) => format,
            _ => return self.verify(&std::fs::read(path).map_err(|e| cannot_read(path, e))?),
        };
        contain::contain(
            || format!("reading this {} file back failed inside a library", format.name()),
            || {
                // The map is only for the structure check (headers): dropped before the rest.
                check_written_structure(&map_file(path)?, format)?;
                #[cfg(feature = "archive")]
                if archive::repacks_from_file(format) {
                    return archive::verify_file(self, path, format).map(|()| format);
                }
                media::codec().verify(&absolute(path)?, format, &self.limits).map(|()| format)
            },
        )
    }

    /// A PNG of the picture at `path` when a web view cannot show its format (HEIC, AVIF,
    /// JPEG XL, TIFF), for the desktop app's compare view; `None` when it can show the file
    /// itself, or it is no picture.
    pub fn preview_png(&self, path: &Path) -> Result<Option<Vec<u8>>, EngineError> {
        let bytes = std::fs::read(path).map_err(|e| cannot_read(path, e))?;
        let Some(format) = detect(&bytes) else { return Ok(None) };
        if !image::needs_preview(format) {
            return Ok(None);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        image::preview_png(&bytes, &name, format, &self.limits).map(Some)
    }

    /// Decodes an image completely and gives its width and height (`None` for other
    /// kinds): what a report's output dimensions are checked against.
    pub fn picture_size(&self, bytes: &[u8]) -> Result<Option<(u32, u32)>, EngineError> {
        let format = detect(bytes).ok_or_else(|| EngineError::Unsupported(detect::describe_unknown(bytes)))?;
        if format.kind() != Kind::Image || format == Format::Avif {
            return Ok(None);
        }
        image::verify(bytes, format, &self.limits).map(Some)
    }

    fn verify_format(&self, bytes: &[u8], format: Format) -> Result<Format, EngineError> {
        match format.kind() {
            Kind::Image => image::verify(bytes, format, &self.limits).map(|_| format),
            #[cfg(feature = "pdf")]
            Kind::Document if format == Format::Pdf => pdf::verify(bytes, &self.limits).map(|_| format),
            #[cfg(feature = "archive")]
            Kind::Document | Kind::Archive => archive::verify(self, bytes, format).map(|_| format),
            Kind::Video | Kind::Audio => {
                let file = write_scratch(&std::env::temp_dir(), bytes)?;
                media::codec().verify(&absolute(file.path())?, format, &self.limits).map(|()| format)
            }
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Unsupported(format.name().to_string())),
        }
    }
}

/// A compression whose output is a file (see [`Engine::compress_file`]).
#[derive(Debug)]
pub struct CompressedFile {
    pub report: Report,
    /// The new file, a temporary file in the scratch folder (removed when dropped unless
    /// persisted); `None` when the report says `skipped` and the original is the result.
    pub output: Option<tempfile::NamedTempFile>,
}

/// Formats compressed and verified from their file rather than from bytes in memory: video
/// and audio (the media worker reads files), and zips (re-packed member by member).
fn worked_from_the_file(format: Format) -> bool {
    #[cfg(feature = "archive")]
    if archive::repacks_from_file(format) {
        return true;
    }
    matches!(format.kind(), Kind::Video | Kind::Audio)
}

/// A written file's structure, checked as an input's is: any damage makes it a corrupt output.
fn check_written_structure(bytes: &[u8], format: Format) -> Result<(), EngineError> {
    match damage::check(bytes, format) {
        Some(damage) => Err(EngineError::Corrupt { format: format.name(), reason: damage.reason }),
        None => Ok(()),
    }
}

/// The damage in `bytes`, or the error when it is to be refused.
fn check_damage(bytes: &[u8], format: Format, options: &Options) -> Result<Option<damage::Damage>, EngineError> {
    let damage = contain::contain(
        || format!("checking this {} file's structure failed", format.name()),
        || Ok(damage::check(bytes, format)),
    )?;
    if let Some(damage) = &damage {
        // Damage no decoder here reads past is refused even when salvage was asked for.
        if options.damaged == DamagedInput::Refuse || !damage.salvageable {
            return Err(EngineError::Damaged { reason: damage.reason.clone(), salvageable: damage.salvageable });
        }
    }
    Ok(damage)
}

/// A compression of a damaged input (salvage was asked for): the report says so, and a
/// failure to read is the damage's doing.
fn judge<T>(
    compressed: Result<T, EngineError>,
    damage: Option<damage::Damage>,
    report: impl FnOnce(&mut T) -> &mut Report,
) -> Result<T, EngineError> {
    match (compressed, damage) {
        (Ok(mut compressed), Some(damage)) => {
            let report = report(&mut compressed);
            // The media worker may have said already (the packets stop short): once is enough.
            if report.damage.is_none() {
                report.mark_damaged(damage.reason);
            }
            Ok(compressed)
        }
        // Only a failure to read is the damage's doing: a cancel, a missing encoder or a
        // size that cannot be met say so as they are.
        (Err(err @ (EngineError::Corrupt { .. } | EngineError::Crashed(_))), Some(damage)) => {
            Err(EngineError::Damaged {
                reason: format!("{damage}, and what is left cannot be read ({err})"),
                salvageable: false,
            })
        }
        (result, _) => result,
    }
}

/// The format of the file at `path`, from its first bytes (and, for zip-based documents,
/// its central directory at the end), without reading the rest.
pub fn detect_file(path: &Path) -> std::io::Result<Option<Format>> {
    use std::io::{Read, Seek, SeekFrom};
    const PART: u64 = 64 * 1024;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size == 0 {
        return Ok(None);
    }
    let mut sample = Vec::new();
    if size <= 2 * PART {
        file.read_to_end(&mut sample)?;
    } else {
        // The head and the tail: detection looks at nothing in between.
        file.by_ref().take(PART).read_to_end(&mut sample)?;
        file.seek(SeekFrom::End(-(PART as i64)))?;
        file.read_to_end(&mut sample)?;
    }
    Ok(detect(&sample))
}

/// The file at `path`, mapped rather than read: the structure checks of a video walk its
/// box and chunk headers, so only those pages are read from disk, not the gigabytes between.
fn map_file(path: &Path) -> Result<memmap2::Mmap, EngineError> {
    let file = std::fs::File::open(path).map_err(|e| cannot_read(path, e))?;
    // SAFETY: the map is only read, and only while the file is being compressed; a file
    // changed meanwhile by another program can at worst be misjudged, as reading it would be.
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| cannot_read(path, e))
}

fn cannot_read(path: &Path, error: std::io::Error) -> EngineError {
    EngineError::Refused(format!("cannot read {}: {error}", path.display()))
}

/// The media worker runs in `/`: it is given absolute paths.
fn absolute(path: &Path) -> Result<PathBuf, EngineError> {
    std::path::absolute(path).map_err(|e| cannot_read(path, e))
}

/// An empty temporary file in `scratch`, named as every temporary file of this process is
/// (`.compressor-<pid>-….tmp`), so that what a killed run leaves is recognised and removed.
fn scratch_file(scratch: &Path) -> Result<tempfile::NamedTempFile, EngineError> {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(scratch)
        .map_err(|e| EngineError::Refused(format!("cannot write a temporary file in {}: {e}", scratch.display())))
}

fn write_scratch(scratch: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, EngineError> {
    use std::io::Write;
    let mut file = scratch_file(scratch)?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| EngineError::Refused(format!("cannot write a temporary file in {}: {e}", scratch.display())))?;
    Ok(file)
}

/// How every temporary file of Compressor's is named: `.compressor-<pid>-<random>.tmp`. The
/// process id lets a later run tell a dead run's leftovers from a live one's.
pub const TEMP_PREFIX: &str = ".compressor-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// The output's file name: the input's, with the extension changed when the format changed.
pub fn output_name(input_name: &str, input_format: Format, output_format: Format) -> String {
    if input_format == output_format {
        return input_name.to_string();
    }
    let stem = match input_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => input_name,
    };
    format!("{stem}.{}", output_format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_name_changes_extension_only_on_conversion() {
        assert_eq!(output_name("a.jpeg", Format::Jpeg, Format::Jpeg), "a.jpeg");
        assert_eq!(output_name("a.b.png", Format::Png, Format::Webp), "a.b.webp");
        assert_eq!(output_name("noext", Format::Bmp, Format::Png), "noext.png");
        assert_eq!(output_name(".hidden", Format::Bmp, Format::Png), ".hidden.png");
    }
}
