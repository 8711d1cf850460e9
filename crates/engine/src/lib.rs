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

use std::sync::atomic::{AtomicBool, Ordering};

pub use detect::{detect, Format, Kind};
pub use error::{EngineError, InvalidOptions};
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest width × height accepted (checked from the header, before decoding).
    pub max_pixels: u64,
    /// Largest single allocation a decoder may make, in bytes.
    pub max_alloc: u64,
    /// Most bytes an archive, a gzip stream or a PDF stream may expand to (zip bombs).
    pub max_expanded: u64,
    /// Most members an archive may have.
    pub max_members: u32,
}

impl Default for Limits {
    fn default() -> Self {
        // 100 megapixels covers medium-format cameras; RGBA at that size is 400 MB.
        Self { max_pixels: 100_000_000, max_alloc: 1 << 30, max_expanded: 1 << 30, max_members: 100_000 }
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
        let damage = contain::contain(
            || format!("checking this {} file's structure failed", format.name()),
            || Ok(damage::check(input, format)),
        )?;
        if let Some(damage) = &damage {
            // Damage no decoder here reads past is refused even when salvage was asked for.
            if options.damaged == DamagedInput::Refuse || !damage.salvageable {
                return Err(EngineError::Damaged { reason: damage.reason.clone(), salvageable: damage.salvageable });
            }
        }
        let compressed = contain::contain(
            || format!("compressing this {} file failed inside a library", format.name()),
            || self.compress_format(input, name, format, options, control),
        );
        match (compressed, damage) {
            (Ok(mut compressed), Some(damage)) => {
                // The media module may have said already (the packets stop short): once is enough.
                if compressed.report.damage.is_none() {
                    compressed.report.mark_damaged(damage.reason);
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
            Kind::Video | Kind::Audio => {
                media::codec(format)?.compress(input, name, format, options, &self.limits, control)
            }
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Unsupported(format!(
                "{} (this build has no {} support)",
                format.name(),
                format.name()
            ))),
        }
    }

    /// Reads `bytes` completely (decodes images and media, parses documents, inflates
    /// archives), proving a written output is usable. Returns its format.
    pub fn verify(&self, bytes: &[u8]) -> Result<Format, EngineError> {
        let format = detect(bytes).ok_or_else(|| EngineError::Unsupported(detect::describe_unknown(bytes)))?;
        contain::contain(
            || format!("reading this {} file back failed inside a library", format.name()),
            || match damage::check(bytes, format) {
                Some(damage) => Err(EngineError::Corrupt { format: format.name(), reason: damage.reason }),
                None => self.verify_format(bytes, format),
            },
        )
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
            Kind::Video | Kind::Audio => media::codec(format)?.verify(bytes, format, &self.limits).map(|_| format),
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Unsupported(format.name().to_string())),
        }
    }
}

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
