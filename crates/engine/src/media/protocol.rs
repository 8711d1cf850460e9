//! The media worker's protocol: what the engine and `compressor-media-worker` say to each
//! other. This file is the whole contract.
//!
//! The worker is a child process. It reads one JSON [`Request`] per line on its stdin and
//! answers on its stdout with JSON [`Reply`] lines: first, once, [`Reply::Hello`]; then for
//! each request any number of [`Reply::Progress`] and exactly one final reply
//! ([`Reply::Compressed`], [`Reply::Verified`], [`Reply::DecodedImage`], [`Reply::Encoded`] or
//! [`Reply::Failed`]).
//! Nothing else is written
//! to stdout; FFmpeg's and Rust's own messages go to stderr, which the engine keeps the end
//! of to explain a crash. The worker exits when its stdin closes.
//!
//! Files, never bytes, cross: the request names the input (read in place) and the output
//! (a temporary file the engine created, which the worker fills). The worker writes nothing
//! else but trial encodes beside the output, named by [`trial_path`], which it removes; the
//! engine removes them too when it had to kill the worker. A picture the worker decodes
//! (HEIC, AVIF) crosses the same way: its pixels go to a file the engine names, only its
//! facts come back in the reply.
//!
//! There is no cancel request: the engine kills the worker (it may be deep inside a C
//! library) and starts another for the next file. Progress lines double as the heartbeat:
//! a worker silent for longer than the timeout is taken to hang.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{EngineError, Format, Limits, Options, Report};

/// Bumped whenever a type here changes meaning; the worker says its own in [`Reply::Hello`]
/// and a worker of another version is not used.
pub const PROTOCOL_VERSION: u32 = 2;

/// One file's compression.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompressJob {
    /// The original, read in place (never written).
    pub input: PathBuf,
    /// Where the result goes: an existing empty temporary file. Left as it is (to be
    /// removed by the engine) when the report says `skipped`.
    pub output: PathBuf,
    /// The original's file name, for the report and the output's name.
    pub name: String,
    pub format: Format,
    pub options: Options,
    pub limits: Limits,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Compress(Box<CompressJob>),
    /// Read a written file back (bounded: see the media crate's `verify`).
    Verify {
        path: PathBuf,
        format: Format,
        limits: Limits,
    },
    /// Decode a still picture (HEIC/HEIF, AVIF) that no decoder in the engine reads: its
    /// pixels into `pixels` (an existing empty temporary file), its facts in the reply.
    DecodeImage {
        input: PathBuf,
        /// The file's own name, for messages (the input may be a temporary copy).
        name: String,
        format: Format,
        pixels: PathBuf,
        limits: Limits,
    },
    /// Encode a JPEG XL file (libjxl) into `output` of the job.
    EncodeJxl(Box<JxlJob>),
    /// Rebuild the JPEG a losslessly transcoded JPEG XL holds (libjxl's reconstruction) into
    /// `jpeg`, an existing empty temporary file.
    RebuildJpeg {
        jxl: PathBuf,
        jpeg: PathBuf,
    },
}

/// What a JPEG XL is made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum JxlSource {
    /// Packed rows of 8-bit sRGB (or RGBA, with `alpha`) pixels.
    Pixels { path: PathBuf, width: u32, height: u32, alpha: bool },
    /// A JPEG file, transcoded without loss: its DCT coefficients kept, and what rebuilds it.
    Jpeg { path: PathBuf },
}

/// One JPEG XL encode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JxlJob {
    pub source: JxlSource,
    /// libjxl's butteraugli distance for lossy pixels (1.0 is visually lossless).
    pub distance: f32,
    /// Pixels kept exactly (always so for a JPEG source).
    pub lossless: bool,
    /// libjxl's effort, 1 (fastest) to 9.
    pub effort: u8,
    /// An existing empty temporary file, filled by the worker.
    pub output: PathBuf,
    /// The pixels' ICC profile, kept in the file (else they are sRGB). Pixels only.
    #[serde(default)]
    pub icc: Option<Vec<u8>>,
    /// EXIF from its TIFF header on, kept in an `Exif` box. Pixels only.
    #[serde(default)]
    pub exif: Option<Vec<u8>>,
}

/// A decoded picture: upright (the container's rotation and mirroring applied), 8 bits a
/// channel. The pixels are in the request's `pixels` file: `height` packed rows of `width`
/// RGB (or RGBA, with `alpha`) pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodedImage {
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
    /// Bits a channel in the file (8, 10, 12).
    pub depth: u8,
    pub icc: Option<Vec<u8>>,
    /// From the TIFF header on, as a JPEG's APP1 carries it.
    pub exif: Option<Vec<u8>>,
    /// What the decoder did that a report should say ("10-bit content dithered to 8 bits").
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Hello {
        protocol: u32,
    },
    /// The fraction done, 0.0 to 1.0.
    Progress {
        done: f64,
    },
    Compressed {
        report: Box<Report>,
    },
    Verified,
    DecodedImage {
        image: Box<DecodedImage>,
    },
    /// The request's output file is written (`EncodeJxl`, `RebuildJpeg`).
    Encoded,
    Failed {
        error: WireError,
    },
}

/// [`EngineError`] as it crosses: the same variants, with owned strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireError {
    Empty,
    Unsupported { message: String },
    Corrupt { format: String, reason: String },
    TooManyPixels { width: u32, height: u32, limit: u64 },
    Encode { format: String, reason: String },
    TooLarge { what: String, limit: String },
    Refused { message: String },
    OverTargetSize { target: u64, closest: u64, why: String },
    Damaged { reason: String, salvageable: bool },
    Crashed { message: String },
    Cancelled,
    Unavailable { message: String },
}

impl From<&EngineError> for WireError {
    fn from(error: &EngineError) -> Self {
        match error.clone_parts() {
            Some(wire) => wire,
            None => WireError::Refused { message: error.to_string() },
        }
    }
}

impl EngineError {
    fn clone_parts(&self) -> Option<WireError> {
        Some(match self {
            EngineError::Empty => WireError::Empty,
            EngineError::Unsupported(message) => WireError::Unsupported { message: message.clone() },
            EngineError::Corrupt { format, reason } => {
                WireError::Corrupt { format: format.to_string(), reason: reason.clone() }
            }
            EngineError::TooManyPixels { width, height, limit } => {
                WireError::TooManyPixels { width: *width, height: *height, limit: *limit }
            }
            EngineError::Encode { format, reason } => {
                WireError::Encode { format: format.to_string(), reason: reason.clone() }
            }
            EngineError::TooLarge { what, limit } => WireError::TooLarge { what: what.clone(), limit: limit.clone() },
            EngineError::Refused(message) => WireError::Refused { message: message.clone() },
            EngineError::OverTargetSize { target, closest, why } => {
                WireError::OverTargetSize { target: *target, closest: *closest, why: why.clone() }
            }
            EngineError::Damaged { reason, salvageable } => {
                WireError::Damaged { reason: reason.clone(), salvageable: *salvageable }
            }
            EngineError::Crashed(message) => WireError::Crashed { message: message.clone() },
            EngineError::Cancelled => WireError::Cancelled,
            EngineError::Unavailable(message) => WireError::Unavailable { message: message.clone() },
            // Options are checked before a request is sent.
            EngineError::Invalid(_) => return None,
        })
    }
}

impl From<WireError> for EngineError {
    fn from(error: WireError) -> Self {
        match error {
            WireError::Empty => EngineError::Empty,
            WireError::Unsupported { message } => EngineError::Unsupported(message),
            WireError::Corrupt { format, reason } => EngineError::Corrupt { format: static_name(&format), reason },
            WireError::TooManyPixels { width, height, limit } => EngineError::TooManyPixels { width, height, limit },
            WireError::Encode { format, reason } => EngineError::Encode { format: static_name(&format), reason },
            WireError::TooLarge { what, limit } => EngineError::TooLarge { what, limit },
            WireError::Refused { message } => EngineError::Refused(message),
            WireError::OverTargetSize { target, closest, why } => EngineError::OverTargetSize { target, closest, why },
            WireError::Damaged { reason, salvageable } => EngineError::Damaged { reason, salvageable },
            WireError::Crashed { message } => EngineError::Crashed(message),
            WireError::Cancelled => EngineError::Cancelled,
            WireError::Unavailable { message } => EngineError::Unavailable(message),
        }
    }
}

/// The engine's errors name formats by static strings; the worker only ever uses a format's
/// name or one of a few words for a stream.
fn static_name(name: &str) -> &'static str {
    const WORDS: [&str; 4] = ["media", "video", "audio", "stream"];
    WORDS
        .into_iter()
        .chain(crate::detect::ALL.iter().map(|format| format.name()))
        .find(|known| *known == name)
        .unwrap_or("media")
}

/// The most trial encodes one request makes (fitting a `max_size` tries several).
pub const MAX_TRIALS: u32 = 16;

/// The `n`th trial encode beside `output` (`.compressor-12-abc.tmp` → `.compressor-12-abc.try2.tmp`):
/// still a temporary name of the engine's process, so a crashed run's leftovers are cleaned
/// up like any other.
pub fn trial_path(output: &Path, n: u32) -> PathBuf {
    output.with_extension(format!("try{n}.tmp"))
}

/// Removes whatever trial encodes are beside `output`: the worker's own clean-up, and the
/// engine's after it had to stop a worker mid-file.
pub fn remove_trials(output: &Path) {
    for n in 0..=MAX_TRIALS {
        let _ = std::fs::remove_file(trial_path(output, n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_unchanged() {
        let errors = [
            EngineError::Corrupt { format: "AVI", reason: "cut".into() },
            EngineError::Encode { format: "video", reason: "x".into() },
            EngineError::Damaged { reason: "the packets stop at 3 s".into(), salvageable: true },
            EngineError::OverTargetSize { target: 1, closest: 2, why: "w".into() },
            EngineError::Cancelled,
        ];
        for error in errors {
            let wire = WireError::from(&error);
            let json = serde_json::to_string(&Reply::Failed { error: wire }).unwrap();
            let Reply::Failed { error: back } = serde_json::from_str(&json).unwrap() else { panic!("{json}") };
            assert_eq!(EngineError::from(back).to_string(), error.to_string());
        }
    }

    #[test]
    fn trial_files_keep_the_temporary_suffix() {
        let output = Path::new("/out/.compressor-12-abc.tmp");
        assert_eq!(trial_path(output, 2), Path::new("/out/.compressor-12-abc.try2.tmp"));
    }
}
