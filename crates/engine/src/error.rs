//! Why a file could not be compressed. Messages are written for people: the shells
//! prefix them with the file name.

use crate::options::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the file is empty")]
    Empty,
    #[error("not a supported file type (detected from content: {0})")]
    Unsupported(String),
    #[error("the {format} data is damaged: {reason}")]
    Corrupt { format: &'static str, reason: String },
    #[error("image is {width}×{height} pixels, over the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("{0}")]
    Invalid(#[from] InvalidOptions),
    #[error("encoding {format} failed: {reason}")]
    Encode { format: &'static str, reason: String },
    #[error("refused: {what} is over the limit of {limit}")]
    TooLarge { what: String, limit: String },
    #[error("{0}")]
    Refused(String),
    /// `max_size` cannot be met: the closest size reached, and why no smaller one exists.
    #[error("cannot fit in {target} bytes: the smallest output is {closest} bytes ({why})")]
    OverTargetSize { target: u64, closest: u64, why: String },
    /// The input's structure shows damage (cut short, a failed checksum); see `damage`.
    #[error("the file is damaged: {reason}{}", if *.salvageable { " (the option \"damaged\": \"salvage\" compresses what is readable)" } else { "" })]
    Damaged { reason: String, salvageable: bool },
    /// A decoder or encoder panicked (a bug in a library, met on this file).
    #[error("{0}")]
    Crashed(String),
    #[error("cancelled")]
    Cancelled,
    /// The file is fine, but this installation lacks what it takes (an FFmpeg encoder).
    #[error("cannot be done on this system: {0}")]
    Unavailable(String),
}

/// The data of `format` is damaged, for the reason given.
pub(crate) fn corrupt(format: crate::Format, reason: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt { format: format.name(), reason: reason.to_string() }
}

/// Options that failed validation, one entry per field, shaped like the API's 422 `errors`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("invalid options: {}", .errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct InvalidOptions {
    pub errors: Vec<FieldError>,
}
