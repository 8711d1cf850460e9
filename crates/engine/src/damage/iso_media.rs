//! ISO base media files (MP4, MOV, M4A): walks the top-level boxes, each a big-endian u32 size
//! (1: a u64 follows the type; 0: to the end of the file) and a four-letter type, and looks
//! for the `moov` index. FFmpeg opens a cut file whose index comes first and quietly stops
//! where the data ends, so the output would be a shorter video; one without its index it
//! cannot open at all.
//!
//! What this cannot tell: a file cut exactly at the end of a box (with `moov` first and the
//! media data split over several `mdat` boxes, or a fragmented MP4's `moof`/`mdat` pairs),
//! nor damage inside the media data, which has no checksum.

use super::{percent, Damage};
use crate::Format;

pub(super) fn check(bytes: &[u8], format: Format) -> Option<Damage> {
    if !matches!(format, Format::Mp4 | Format::Mov | Format::M4a) {
        return None;
    }
    let name = format.name();
    let len = bytes.len() as u64;
    let mut position = 0usize;
    let mut has_index = false;
    // With its index read, FFmpeg plays what the index points at up to the cut; without it
    // (missing, or itself cut short) it opens nothing.
    let damaged = |has_index: bool, reason: String| {
        if has_index {
            Damage::salvageable(reason)
        } else {
            Damage::fatal(reason)
        }
    };
    while let Some(header) = bytes.get(position..position.saturating_add(8)) {
        let kind = header.get(4..8)?;
        if !kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            // Not a box: trailing data some writers append. Nothing more to check.
            break;
        }
        let (size, header_size) = match u32::from_be_bytes(header.get(0..4)?.try_into().ok()?) {
            0 => (len - position as u64, 8),
            1 => match bytes.get(position + 8..position + 16) {
                Some(large) => (u64::from_be_bytes(large.try_into().ok()?), 16),
                None => {
                    let reason = format!("the {name} file ends early, inside the header of its '{}' box", text(kind));
                    return Some(damaged(has_index, before_index(reason, has_index)));
                }
            },
            size => (u64::from(size), 8),
        };
        if size < header_size {
            let reason = format!("the {name} file's '{}' box has an impossible size ({size} bytes)", text(kind));
            return Some(damaged(has_index, reason));
        }
        let end = (position as u64).saturating_add(size);
        if end > len {
            let reason = format!(
                "the {name} file ends early: it has {} bytes but its '{}' box runs to {} bytes ({} missing)",
                super::bytes(len),
                text(kind),
                super::bytes(end),
                percent(end - len, end)
            );
            return Some(damaged(has_index, before_index(reason, has_index)));
        }
        // Counted only once whole: FFmpeg cannot read a cut index.
        has_index |= kind == b"moov";
        position = usize::try_from(end).ok()?;
    }
    if !has_index {
        return Some(Damage::fatal(format!(
            "the {name} file is incomplete: it has no 'moov' index (a download cut short or a recording that was \
             never finished)"
        )));
    }
    None
}

/// A cut before the index has lost the index too, which is what makes it unreadable.
fn before_index(reason: String, has_index: bool) -> String {
    if has_index {
        reason
    } else {
        format!("{reason}, and its 'moov' index is missing")
    }
}

fn text(kind: &[u8]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], payload: usize) -> Vec<u8> {
        let mut out = ((payload + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.resize(payload + 8, 0);
        out
    }

    #[test]
    fn whole_files_pass_and_cut_ones_do_not() {
        let file = [boxed(b"ftyp", 16), boxed(b"moov", 100), boxed(b"mdat", 1000)].concat();
        assert_eq!(check(&file, Format::Mp4), None);
        let damage = check(&file[..file.len() / 2], Format::Mp4).unwrap();
        assert!(damage.salvageable);
        assert_eq!(
            damage.reason,
            "the MP4 file ends early: it has 570 bytes but its 'mdat' box runs to 1,140 bytes (50 % missing)"
        );
        // Other containers are not walked here.
        assert_eq!(check(&file[..40], Format::Mkv), None);
    }

    #[test]
    fn a_file_without_its_index_is_fatal() {
        let no_index = [boxed(b"ftyp", 16), boxed(b"mdat", 1000)].concat();
        let damage = check(&no_index, Format::Mp4).unwrap();
        assert!(!damage.salvageable);
        assert!(damage.reason.contains("no 'moov' index"), "{}", damage.reason);
        // The index after the media data, and the cut before it.
        let index_last = [boxed(b"ftyp", 16), boxed(b"mdat", 1000), boxed(b"moov", 100)].concat();
        assert_eq!(check(&index_last, Format::Mov), None);
        let damage = check(&index_last[..500], Format::Mov).unwrap();
        assert!(!damage.salvageable);
        assert_eq!(
            damage.reason,
            "the QuickTime file ends early: it has 500 bytes but its 'mdat' box runs to 1,032 bytes (52 % missing), \
             and its 'moov' index is missing"
        );
        // A cut index is no index.
        let index_first = [boxed(b"ftyp", 16), boxed(b"moov", 100), boxed(b"mdat", 1000)].concat();
        assert!(!check(&index_first[..60], Format::M4a).unwrap().salvageable);
    }

    #[test]
    fn large_sizes_and_impossible_ones() {
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        large.extend_from_slice(&1016u64.to_be_bytes());
        large.resize(1016, 0);
        let file = [boxed(b"ftyp", 16), boxed(b"moov", 100), large].concat();
        assert_eq!(check(&file, Format::Mp4), None);
        assert!(check(&file[..file.len() - 1], Format::Mp4).unwrap().reason.contains("'mdat' box runs to"));
        let reason = check(&file[..140], Format::Mp4).unwrap().reason;
        assert_eq!(reason, "the MP4 file ends early, inside the header of its 'mdat' box");
        let mut tiny = boxed(b"free", 0);
        tiny[3] = 3;
        let reason = check(&[boxed(b"moov", 8), tiny].concat(), Format::Mp4).unwrap().reason;
        assert_eq!(reason, "the MP4 file's 'free' box has an impossible size (3 bytes)");
        // A last box that runs to the end of the file, and data appended after the boxes.
        let mut to_end = boxed(b"mdat", 50);
        to_end[..4].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(check(&[boxed(b"moov", 8), to_end].concat(), Format::Mp4), None);
        assert_eq!(check(&[boxed(b"moov", 8), vec![0xFF; 20]].concat(), Format::Mp4), None);
    }

    #[test]
    fn garbage_never_panics() {
        let huge: &[u8] = b"\0\0\0\x01ftyp\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\x08moov";
        for cut in 0..64 {
            let _ = check(&[0x01u8; 64][..cut], Format::Mp4);
            let _ = check(&huge[..cut.min(huge.len())], Format::Mp4);
        }
    }
}
