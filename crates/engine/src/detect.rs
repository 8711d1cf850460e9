//! Format detection from content (magic bytes), never from the file name.

use serde::{Deserialize, Serialize};

/// A file format the engine recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Avif,
    Tiff,
    Bmp,
    Heic,
}

/// The broad kind of a file, as the API's `type` field reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
            Format::Tiff => "image/tiff",
            Format::Bmp => "image/bmp",
            Format::Heic => "image/heic",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Heic => "heic",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::Webp => "WebP",
            Format::Avif => "AVIF",
            Format::Tiff => "TIFF",
            Format::Bmp => "BMP",
            Format::Heic => "HEIC",
        }
    }

    pub fn kind(self) -> Kind {
        Kind::Image
    }
}

/// Detects the format from the first bytes. `None` means "not a format we know".
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(Format::Gif)
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(Format::Webp)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some(Format::Tiff)
    } else if starts(b"BM") && bytes.len() >= 26 {
        Some(Format::Bmp)
    } else if bytes.get(4..8) == Some(b"ftyp") {
        iso_media_brand(bytes)
    } else {
        None
    }
}

/// HEIF-family files share the ISO base media `ftyp` box; the brands tell AVIF from HEIC.
fn iso_media_brand(bytes: &[u8]) -> Option<Format> {
    let box_len = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let ftyp = bytes.get(8..box_len.min(bytes.len()))?;
    // major brand, minor version, then compatible brands: all 4-byte codes.
    let brands = ftyp.chunks_exact(4).enumerate().filter(|(i, _)| *i != 1).map(|(_, b)| b);
    let mut format = None;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some(Format::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" => format = Some(Format::Heic),
            _ => {}
        }
    }
    format
}

/// A short description of unknown content for error messages ("text", "zero bytes", ...).
pub fn describe_unknown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "zero bytes".into();
    }
    let head = &bytes[..bytes.len().min(512)];
    if std::str::from_utf8(head).is_ok() || head.iter().all(|b| b.is_ascii()) {
        "plain text".into()
    } else {
        let hex: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("unknown binary data starting {}", hex.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_not_name() {
        assert_eq!(detect(b"\xFF\xD8\xFF\xE0rest"), Some(Format::Jpeg));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(detect(b"GIF89a......"), Some(Format::Gif));
        assert_eq!(detect(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(detect(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(detect(b"II*\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(detect(b"hello, I am text"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn tells_avif_from_heic() {
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        assert_eq!(detect(avif), Some(Format::Avif));
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(detect(heic), Some(Format::Heic));
        let mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isomiso2";
        assert_eq!(detect(mp4), None);
    }

    #[test]
    fn describes_unknown_content() {
        assert_eq!(describe_unknown(b""), "zero bytes");
        assert_eq!(describe_unknown(b"just some text\n"), "plain text");
        assert!(describe_unknown(&[0, 159, 146, 150, 1]).starts_with("unknown binary data"));
    }
}
