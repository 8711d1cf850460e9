//! What the engine did to one file, shaped like the API response's `input`/`output` objects.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::detect::{Format, Kind};

/// Facts about one side (input or output) of a compression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileFacts {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub format: Format,
    pub mime: String,
    pub size: u64,
    pub hashes: Hashes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Video and audio: length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    /// Video and audio: average bits per second over the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u64>,
    /// PDF: page count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Archives and zip-based documents: member count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hashes {
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl FileFacts {
    pub fn describe(name: &str, format: Format, bytes: &[u8], dimensions: Option<(u32, u32)>) -> Self {
        Self {
            name: name.to_string(),
            kind: format.kind(),
            format,
            mime: format.mime().to_string(),
            size: bytes.len() as u64,
            hashes: Hashes { sha256: sha256_hex(bytes) },
            width: dimensions.map(|d| d.0),
            height: dimensions.map(|d| d.1),
            duration: None,
            video_codec: None,
            audio_codec: None,
            bitrate: None,
            pages: None,
            members: None,
        }
    }
}

impl FileFacts {
    /// [`FileFacts::describe`] of a file, hashed as it is read (never held whole).
    pub fn describe_file(
        name: &str,
        format: Format,
        path: &std::path::Path,
        dimensions: Option<(u32, u32)>,
    ) -> std::io::Result<Self> {
        let (size, sha256) = sha256_file(path)?;
        let mut facts = Self::describe(name, format, &[], dimensions);
        facts.size = size;
        facts.hashes.sha256 = sha256;
        Ok(facts)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The output is a new, smaller (or explicitly requested) file.
    Compressed,
    /// The original is the result; `reason` says why.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub input: FileFacts,
    pub output: FileFacts,
    /// What was done, in order, for people: "resized 5640×3172 → 1920×1080", "mozjpeg q75 4:2:0".
    pub actions: Vec<String>,
    /// Things asked for that could not be honoured exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Set only when a damaged input was salvaged (`"damaged": "salvage"`): what is wrong
    /// with it. The output holds what could be read, no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
}

impl Report {
    /// Records that the input was damaged and salvaged: the field, and a warning saying so.
    pub fn mark_damaged(&mut self, reason: String) {
        self.warnings.insert(0, format!("the input is damaged ({reason}): this is what could be read of it"));
        self.damage = Some(reason);
    }

    /// Bytes saved (negative when the output is larger, as an explicit conversion may be).
    pub fn saved_bytes(&self) -> i64 {
        self.input.size as i64 - self.output.size as i64
    }

    /// Percentage saved, relative to the input.
    pub fn saved_percent(&self) -> f64 {
        if self.input.size == 0 {
            0.0
        } else {
            self.saved_bytes() as f64 * 100.0 / self.input.size as f64
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The size and SHA-256 of the file at `path`, read in pieces.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
