//! Damage detection that follows each format's structure: where the picture, sound or
//! document data really ends, checksums where the format has them, and sizes a header
//! promises. A decoder fed a file cut short often "succeeds" (a JPEG grey-fills its missing
//! rows, FFmpeg stops where the data stops), so a damaged input would be compressed into a
//! damaged output and reported as fine. Every check here reads the bytes only, without
//! decoding pixels or samples; what only a decoder can tell (a video's undecodable packets,
//! a PDF whose cross-reference table had to be rebuilt) is checked where that decoding runs.
//!
//! One module per format family; each has `check(bytes) -> Option<Damage>`.

mod bmp;
mod flac;
mod gif;
mod iso_media;
mod jpeg;
mod matroska;
mod mp3;
mod ogg;
mod pdf;
mod png;
mod riff;
mod tiff;

pub(crate) use tiff::pages as tiff_pages;
mod zip;

use crate::Format;

/// What is wrong with a file, said for a person ("the JPEG data ends early: 90 % of the
/// picture is missing").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub reason: String,
    /// The format's decoders read what is left (a JPEG's top rows, a video up to the cut),
    /// so `"damaged": "salvage"` can make something of it.
    pub salvageable: bool,
}

impl Damage {
    /// Damage a decoder can still read past (the readable part is worth salvaging).
    pub(crate) fn salvageable(reason: impl Into<String>) -> Self {
        Damage { reason: reason.into(), salvageable: true }
    }

    /// Damage no decoder of ours reads past.
    pub(crate) fn fatal(reason: impl Into<String>) -> Self {
        Damage { reason: reason.into(), salvageable: false }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The damage found in `bytes`, a file of `format`, or `None` when its structure is whole.
/// Formats whose checks run as they are read (gzip's trailer, zip members' CRCs, FFmpeg's
/// packets) or that no decoder here reads (AVIF, HEIC) answer `None` here.
pub fn check(bytes: &[u8], format: Format) -> Option<Damage> {
    match format {
        Format::Jpeg => jpeg::check(bytes),
        Format::Png => png::check(bytes),
        Format::Gif => gif::check(bytes),
        Format::Webp => riff::check(bytes, format),
        Format::Tiff => tiff::check(bytes),
        Format::Bmp => bmp::check(bytes),
        Format::Pdf => pdf::check(bytes),
        Format::Avi | Format::Wav => riff::check(bytes, format),
        Format::Mp4 | Format::Mov | Format::M4a => iso_media::check(bytes, format),
        Format::Mkv | Format::Webm => matroska::check(bytes, format),
        Format::Ogg => ogg::check(bytes),
        Format::Mp3 => mp3::check(bytes),
        Format::Flac => flac::check(bytes),
        // Listed rather than `is_zip_family()`, so that a new format must be placed here.
        Format::Zip
        | Format::Docx
        | Format::Xlsx
        | Format::Pptx
        | Format::Odt
        | Format::Ods
        | Format::Odp
        | Format::Epub => zip::check(bytes, format),
        // gzip's CRC-32 and length trailer are checked as the stream is inflated (archive module).
        Format::Gzip => None,
        Format::Avif | Format::Heic | Format::Jxl => None,
        Format::Ico => crate::image::ico::damage(bytes).map(Damage::fatal),
    }
}

/// "N %" of `part` in `whole`, never "0 %" or "100 %" for a part that is not.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "all".into();
    }
    let exact = part as f64 * 100.0 / whole as f64;
    if part > 0 && exact < 1.0 {
        "less than 1 %".into()
    } else if part < whole && exact > 99.0 {
        "more than 99 %".into()
    } else {
        format!("{} %", exact.round() as u64)
    }
}

/// `n` with thousands separators ("8,123,456"), for the byte counts in messages.
pub(crate) fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
