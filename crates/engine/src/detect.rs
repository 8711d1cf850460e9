//! Format detection from content (magic bytes), never from the file name.

use serde::{Deserialize, Serialize};

/// A file format the engine recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    Jxl,
    Ico,
    Pdf,
    Zip,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Epub,
    Gzip,
    Mp4,
    Mov,
    Mkv,
    Webm,
    Avi,
    Wav,
    Flac,
    Ogg,
    Mp3,
    M4a,
}

/// Every format, in declaration order.
pub const ALL: [Format; 30] = [
    Format::Jpeg,
    Format::Png,
    Format::Gif,
    Format::Webp,
    Format::Avif,
    Format::Tiff,
    Format::Bmp,
    Format::Heic,
    Format::Jxl,
    Format::Ico,
    Format::Pdf,
    Format::Zip,
    Format::Docx,
    Format::Xlsx,
    Format::Pptx,
    Format::Odt,
    Format::Ods,
    Format::Odp,
    Format::Epub,
    Format::Gzip,
    Format::Mp4,
    Format::Mov,
    Format::Mkv,
    Format::Webm,
    Format::Avi,
    Format::Wav,
    Format::Flac,
    Format::Ogg,
    Format::Mp3,
    Format::M4a,
];

/// The broad kind of a file, as the API's `type` field reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Video,
    Audio,
    Document,
    Archive,
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
            Format::Jxl => "image/jxl",
            Format::Ico => "image/vnd.microsoft.icon",
            Format::Pdf => "application/pdf",
            Format::Zip => "application/zip",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Epub => "application/epub+zip",
            Format::Gzip => "application/gzip",
            Format::Mp4 => "video/mp4",
            Format::Mov => "video/quicktime",
            Format::Mkv => "video/x-matroska",
            Format::Webm => "video/webm",
            Format::Avi => "video/x-msvideo",
            Format::Wav => "audio/wav",
            Format::Flac => "audio/flac",
            Format::Ogg => "audio/ogg",
            Format::Mp3 => "audio/mpeg",
            Format::M4a => "audio/mp4",
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
            Format::Jxl => "jxl",
            Format::Ico => "ico",
            Format::Pdf => "pdf",
            Format::Zip => "zip",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Epub => "epub",
            Format::Gzip => "gz",
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::Mkv => "mkv",
            Format::Webm => "webm",
            Format::Avi => "avi",
            Format::Wav => "wav",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
            Format::Mp3 => "mp3",
            Format::M4a => "m4a",
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
            Format::Jxl => "JPEG XL",
            Format::Ico => "ICO",
            Format::Pdf => "PDF",
            Format::Zip => "ZIP",
            Format::Docx => "Word document",
            Format::Xlsx => "Excel workbook",
            Format::Pptx => "PowerPoint presentation",
            Format::Odt => "OpenDocument text",
            Format::Ods => "OpenDocument spreadsheet",
            Format::Odp => "OpenDocument presentation",
            Format::Epub => "EPUB",
            Format::Gzip => "gzip",
            Format::Mp4 => "MP4",
            Format::Mov => "QuickTime",
            Format::Mkv => "Matroska",
            Format::Webm => "WebM",
            Format::Avi => "AVI",
            Format::Wav => "WAV",
            Format::Flac => "FLAC",
            Format::Ogg => "Ogg",
            Format::Mp3 => "MP3",
            Format::M4a => "M4A",
        }
    }

    pub fn kind(self) -> Kind {
        use Format::*;
        match self {
            Jpeg | Png | Gif | Webp | Avif | Tiff | Bmp | Heic | Jxl | Ico => Kind::Image,
            Pdf | Docx | Xlsx | Pptx | Odt | Ods | Odp | Epub => Kind::Document,
            Zip | Gzip => Kind::Archive,
            Mp4 | Mov | Mkv | Webm | Avi => Kind::Video,
            Wav | Flac | Ogg | Mp3 | M4a => Kind::Audio,
        }
    }

    /// Zip-based formats (ZIP itself, office documents, EPUB).
    pub fn is_zip_family(self) -> bool {
        matches!(
            self,
            Format::Zip
                | Format::Docx
                | Format::Xlsx
                | Format::Pptx
                | Format::Odt
                | Format::Ods
                | Format::Odp
                | Format::Epub
        )
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
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0CJXL \r\n\x87\n") {
        // A bare JPEG XL codestream, or the ISO media container that wraps one.
        Some(Format::Jxl)
    } else if starts(b"BM") && bytes.len() >= 26 {
        Some(Format::Bmp)
    } else if bytes.get(4..8) == Some(b"ftyp") {
        iso_media_brand(bytes)
    } else if is_icon(bytes) {
        Some(Format::Ico)
    } else if bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        Some(Format::Pdf)
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Some(zip_flavour(bytes))
    } else if starts(&[0x1F, 0x8B]) {
        Some(Format::Gzip)
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        Some(Format::Wav)
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"AVI ") {
        Some(Format::Avi)
    } else if starts(b"fLaC") {
        Some(Format::Flac)
    } else if starts(b"OggS") {
        Some(Format::Ogg)
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        let head = &bytes[..bytes.len().min(64)];
        Some(if head.windows(4).any(|w| w == b"webm") { Format::Webm } else { Format::Mkv })
    } else if starts(b"ID3") || is_mpeg_audio_frame(bytes) {
        Some(Format::Mp3)
    } else {
        None
    }
}

/// An ICO or CUR: reserved 0, type 1 (icon) or 2 (cursor), 1 to 255 pictures whose directory
/// fits in the file, the first picture after it. Four zero-ish bytes alone would be too weak.
fn is_icon(bytes: &[u8]) -> bool {
    let (Some(head), Some(count)) = (bytes.get(0..4), bytes.get(4..6)) else { return false };
    let count = usize::from(u16::from_le_bytes([count[0], count[1]]));
    if !(head == [0, 0, 1, 0] || head == [0, 0, 2, 0]) || count == 0 || count > 255 {
        return false;
    }
    let directory_end = 6 + 16 * count;
    let Some(first) = bytes.get(6..22) else { return false };
    let offset = u32::from_le_bytes([first[12], first[13], first[14], first[15]]) as usize;
    first[3] == 0 && offset >= directory_end
}

/// An MPEG-1/2 Layer III frame header: 11 sync bits, then a valid version, layer, bitrate
/// and sample-rate index.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    let [a, b, c, ..] = *bytes else { return false };
    a == 0xFF
        && b & 0xE0 == 0xE0
        && (b >> 3) & 0b11 != 0b01
        && (b >> 1) & 0b11 == 0b01
        && c >> 4 != 0xF
        && (c >> 2) & 0b11 != 0b11
}

/// Office documents, ODF and EPUB are zips: told apart by their `mimetype` member (ODF,
/// EPUB: stored first, uncompressed) or the folders OOXML uses.
fn zip_flavour(bytes: &[u8]) -> Format {
    const MIMETYPES: [(&[u8], Format); 4] = [
        (b"application/epub+zip", Format::Epub),
        (b"application/vnd.oasis.opendocument.text", Format::Odt),
        (b"application/vnd.oasis.opendocument.spreadsheet", Format::Ods),
        (b"application/vnd.oasis.opendocument.presentation", Format::Odp),
    ];
    // The first local header: name at 30, then the (stored) data.
    let name_len = bytes.get(26..28).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize).unwrap_or(0);
    let extra_len = bytes.get(28..30).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize).unwrap_or(0);
    if bytes.get(30..30 + name_len) == Some(b"mimetype") {
        let data = bytes.get(30 + name_len + extra_len..).unwrap_or_default();
        for (mimetype, format) in MIMETYPES {
            if data.starts_with(mimetype) && !data[mimetype.len()..].starts_with(b".") {
                return format;
            }
        }
    }
    // OOXML: the central directory lists `word/`, `xl/` or `ppt/` parts.
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
    let has = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
    if has(b"[Content_Types].xml") {
        if has(b"word/document") {
            return Format::Docx;
        } else if has(b"xl/workbook") {
            return Format::Xlsx;
        } else if has(b"ppt/presentation") {
            return Format::Pptx;
        }
    }
    Format::Zip
}

/// HEIF-family files share the ISO base media `ftyp` box; the brands tell AVIF from HEIC.
fn iso_media_brand(bytes: &[u8]) -> Option<Format> {
    let box_len = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let ftyp = bytes.get(8..box_len.min(bytes.len()))?;
    // major brand, minor version, then compatible brands: all 4-byte codes.
    let brands = ftyp.chunks_exact(4).enumerate().filter(|(i, _)| *i != 1).map(|(_, b)| b);
    let major = bytes.get(8..12)?;
    let mut format = None;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some(Format::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" => format = Some(Format::Heic),
            _ => {}
        }
    }
    format.or(match major {
        b"M4A " | b"M4B " => Some(Format::M4a),
        b"qt  " => Some(Format::Mov),
        _ => Some(Format::Mp4),
    })
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
        assert_eq!(detect(b"RIFF\0\0\0\0WAVEfmt "), Some(Format::Wav));
        assert_eq!(detect(b"%PDF-1.7\n"), Some(Format::Pdf));
        assert_eq!(detect(b"\x1f\x8b\x08\0"), Some(Format::Gzip));
        assert_eq!(detect(b"OggS\0\x02"), Some(Format::Ogg));
        assert_eq!(detect(b"fLaC\0\0\0\x22"), Some(Format::Flac));
        assert_eq!(detect(b"ID3\x04\0\0"), Some(Format::Mp3));
        assert_eq!(detect(&[0xFF, 0xFB, 0x90, 0x64]), Some(Format::Mp3));
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
        assert_eq!(detect(mp4), Some(Format::Mp4));
        let m4a = b"\0\0\0\x18ftypM4A \0\0\0\0M4A mp42";
        assert_eq!(detect(m4a), Some(Format::M4a));
    }

    #[test]
    fn describes_unknown_content() {
        assert_eq!(describe_unknown(b""), "zero bytes");
        assert_eq!(describe_unknown(b"just some text\n"), "plain text");
        assert!(describe_unknown(&[0, 159, 146, 150, 1]).starts_with("unknown binary data"));
    }
}
