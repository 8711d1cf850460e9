//! Ogg (Vorbis, Opus, FLAC, Theora): walks the pages, each "OggS", version 0, a header type
//! (bit 2: the last page of its stream), a granule position, the stream's serial number, a
//! sequence number, a CRC-32 and a segment table whose lacing values add up to the body's
//! length. Every page's CRC is checked, and every stream (by serial number) must end with a
//! page flagged end-of-stream: that is what tells a file cut exactly between two pages.
//!
//! What this cannot tell: a chained file (one stream after another) cut exactly after the
//! last page of one of its streams, and damage a writer made before it computed the CRC.
//! A recording of a live stream that was stopped without an end-of-stream page is reported
//! as cut short, which it is.

use std::collections::HashMap;

use super::Damage;

/// The fixed part of a page header, up to the segment table.
const HEADER: usize = 27;
const END_OF_STREAM: u8 = 0x04;

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let mut position = 0usize;
    let mut pages = 0u64;
    // Whether the last page seen of each stream was flagged end-of-stream.
    let mut ended: HashMap<u32, bool> = HashMap::new();
    // Until a page of sound, only the codec's headers were read: a decoder has nothing to
    // go on without all of them.
    let mut sound = false;
    let damaged = |sound: bool, reason: String| if sound { Damage::salvageable(reason) } else { Damage::fatal(reason) };
    let cut_off = |sound: bool| damaged(sound, "the Ogg stream ends early: its last page is cut off".to_string());
    while let Some(rest) = bytes.get(position..).filter(|rest| !rest.is_empty()) {
        if !is_page(rest) {
            if b"OggS\0".starts_with(rest) {
                // The file ends inside the next page's capture pattern.
                return Some(cut_off(sound));
            }
            let Some(next) = next_page(bytes, position + 1) else {
                // Data appended after the last page: nothing a decoder reads. A page that
                // should have followed is missed by its stream's end-of-stream flag.
                break;
            };
            let reason = if pages == 0 {
                format!("the file starts with {} bytes that are not Ogg data", super::bytes((next - position) as u64))
            } else {
                format!(
                    "{} bytes between pages {pages} and {} are not Ogg data",
                    super::bytes((next - position) as u64),
                    pages + 1
                )
            };
            return Some(damaged(sound, reason));
        }
        let Some(header) = rest.get(..HEADER) else { return Some(cut_off(sound)) };
        let segments = usize::from(header.get(26).copied()?);
        let Some(table) = rest.get(HEADER..HEADER + segments) else { return Some(cut_off(sound)) };
        let length = HEADER + segments + table.iter().map(|&lacing| usize::from(lacing)).sum::<usize>();
        let Some(page) = rest.get(..length) else { return Some(cut_off(sound)) };
        pages += 1;
        sound |= i64::from_le_bytes(page.get(6..14)?.try_into().ok()?) > 0;
        let stored = u32::from_le_bytes(page.get(22..26)?.try_into().ok()?);
        let computed = crc(crc(crc(0, page.get(..22)?), &[0; 4]), page.get(26..)?);
        if stored != computed {
            return Some(damaged(sound, format!("page {pages} fails its checksum: the data is damaged")));
        }
        let serial = u32::from_le_bytes(page.get(14..18)?.try_into().ok()?);
        ended.insert(serial, page.get(5).is_some_and(|flags| flags & END_OF_STREAM != 0));
        position += length;
    }
    if ended.values().any(|&ended| !ended) {
        return Some(damaged(
            sound,
            "the Ogg stream ends without its end-of-stream page (the file was cut short)".to_string(),
        ));
    }
    None
}

/// "OggS" and version 0; a version Ogg never had is data that happens to hold "OggS".
fn is_page(rest: &[u8]) -> bool {
    rest.starts_with(b"OggS\0")
}

/// Where the next page starts, from `from` on.
fn next_page(bytes: &[u8], from: usize) -> Option<usize> {
    let found = bytes.get(from..)?.windows(5).position(is_page)?;
    Some(from + found)
}

/// Ogg's CRC-32 is not zlib's (that one is bit-reflected, starts from all ones and inverts
/// its result), so the crates at hand do not compute it; its table is 256 words, made here
/// at compile time rather than pulling in a crate for it.
const CRC_TABLE: [u32; 256] = crc_table();

/// Polynomial 0x04C11DB7, most significant bit first.
const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut remainder = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            remainder = if remainder & 0x8000_0000 != 0 { (remainder << 1) ^ 0x04C1_1DB7 } else { remainder << 1 };
            bit += 1;
        }
        table[i] = remainder;
        i += 1;
    }
    table
}

/// Continues `crc` over `data` (Ogg's starts from 0 and is not inverted at the end).
fn crc(crc: u32, data: &[u8]) -> u32 {
    data.iter().fold(crc, |crc, &byte| (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ byte)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGINNING: u8 = 0x02;

    fn page(serial: u32, sequence: u32, flags: u8, granule: i64, body: &[u8]) -> Vec<u8> {
        assert!(body.len() < 255, "one segment is enough here");
        let mut out = b"OggS\0".to_vec();
        out.push(flags);
        out.extend_from_slice(&granule.to_le_bytes());
        out.extend_from_slice(&serial.to_le_bytes());
        out.extend_from_slice(&sequence.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(1);
        out.push(body.len() as u8);
        out.extend_from_slice(body);
        let sum = crc(0, &out);
        out[22..26].copy_from_slice(&sum.to_le_bytes());
        out
    }

    /// Two header pages, then three of sound, the last one flagged end-of-stream.
    fn stream(serial: u32) -> Vec<Vec<u8>> {
        vec![
            page(serial, 0, BEGINNING, 0, b"OpusHead\x01\x02\x38\x01\x80\xbb\0\0\0\0\0"),
            page(serial, 1, 0, 0, b"OpusTags\0\0\0\0\0\0\0\0"),
            page(serial, 2, 0, 960, &[0x11; 100]),
            page(serial, 3, 0, 1920, &[0x22; 120]),
            page(serial, 4, END_OF_STREAM, 2880, &[0x33; 80]),
        ]
    }

    #[test]
    fn the_crc_is_oggs() {
        // The first page of an Opus file FFmpeg wrote: whole, but its stream never ends.
        let mut real = vec![
            0x4F, 0x67, 0x67, 0x53, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC5, 0x63, 0xFB, 0x25,
            0x00, 0x00, 0x00, 0x00, 0x24, 0x8A, 0x53, 0x61, 0x01, 0x13, 0x4F, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64,
            0x01, 0x02, 0x38, 0x01, 0x80, 0xBB, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(check(&real), Some(damaged_eos(false)));
        real[22..26].fill(0);
        assert_eq!(crc(0, &real), 0x6153_8A24);
    }

    fn damaged_eos(sound: bool) -> Damage {
        let reason = "the Ogg stream ends without its end-of-stream page (the file was cut short)";
        if sound {
            Damage::salvageable(reason)
        } else {
            Damage::fatal(reason)
        }
    }

    #[test]
    fn whole_streams_pass() {
        assert_eq!(check(&stream(7).concat()), None);
        // Two streams multiplexed, then a chained third; and data appended after the last page.
        let (a, b) = (stream(1), stream(2));
        let mut pages: Vec<Vec<u8>> = a.iter().zip(&b).flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
        pages.extend(stream(3));
        pages.push(b"TAG".to_vec());
        assert_eq!(check(&pages.concat()), None);
    }

    #[test]
    fn a_cut_page_and_a_missing_last_page() {
        let file = stream(7).concat();
        let damage = check(&file[..file.len() - 30]).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "the Ogg stream ends early: its last page is cut off");
        let without_last = stream(7)[..4].concat();
        assert_eq!(check(&without_last), Some(damaged_eos(true)));
        assert_eq!(check(&[without_last.clone(), b"Og".to_vec()].concat()).unwrap().reason, damage.reason);
        // Only the headers: no sound to salvage.
        assert!(!check(&stream(7)[..2].concat()).unwrap().salvageable);
        // One stream of two ends, the other does not.
        let (a, b) = (stream(1), stream(2));
        assert_eq!(check(&[a.concat(), b[..4].concat()].concat()), Some(damaged_eos(true)));
    }

    #[test]
    fn a_changed_byte_fails_the_checksum() {
        let mut file = stream(7).concat();
        let fourth = stream(7)[..3].concat().len();
        file[fourth + 40] ^= 0x01;
        let damage = check(&file).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "page 4 fails its checksum: the data is damaged");
    }

    #[test]
    fn garbage_between_pages_is_damage() {
        let pages = stream(7);
        let file = [pages[..3].concat(), vec![0xAB; 1500], pages[3..].concat()].concat();
        let damage = check(&file).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "1,500 bytes between pages 3 and 4 are not Ogg data");
    }

    #[test]
    fn every_cut_is_seen_and_garbage_never_panics() {
        let file = stream(7).concat();
        for cut in 1..file.len() {
            assert!(check(&file[..cut]).is_some(), "cut at {cut}");
        }
        let mut garbage = file.clone();
        for (i, b) in garbage.iter_mut().enumerate() {
            if i % 7 == 3 {
                *b = (i as u8).wrapping_mul(13);
            }
        }
        let _ = check(&garbage);
        let _ = check(b"OggS\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff");
        assert_eq!(check(b""), None);
    }
}
