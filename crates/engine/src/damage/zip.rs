//! ZIP and the documents built on it: the end-of-central-directory record, which ends the
//! file and points at the index of the members, must be there and fit. A zip cut anywhere
//! loses it. Each member's CRC-32 is checked as the archive module reads it.

use super::Damage;
use crate::Format;

const END_RECORD: &[u8] = b"PK\x05\x06";
/// The record's fixed part, and the longest comment that may follow it.
const END_RECORD_SIZE: usize = 22;
const LONGEST_COMMENT: usize = 0xFFFF;

pub(super) fn check(bytes: &[u8], format: Format) -> Option<Damage> {
    let search_from = bytes.len().saturating_sub(END_RECORD_SIZE + LONGEST_COMMENT);
    let tail = &bytes[search_from..];
    let whole = tail.windows(4).enumerate().rev().filter(|(_, w)| *w == END_RECORD).any(|(at, _)| {
        let at = search_from + at;
        let comment = bytes.get(at + 20..at + 22).map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])));
        comment.is_some_and(|comment| at + END_RECORD_SIZE + comment <= bytes.len())
    });
    if whole {
        return None;
    }
    Some(Damage::fatal(format!(
        "the {} ends early: its central directory (the index of its members, at the end of the file) is missing",
        format.name()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_zip_lacks_its_end_record() {
        let mut bytes = b"PK\x03\x04 member data ".to_vec();
        bytes.extend_from_slice(END_RECORD);
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&3u16.to_le_bytes());
        bytes.extend_from_slice(b"abc");
        assert_eq!(check(&bytes, Format::Zip), None);
        assert!(check(&bytes[..bytes.len() - 1], Format::Zip).is_some());
        assert!(check(&bytes[..10], Format::Docx).unwrap().reason.contains("Word document"));
    }
}
