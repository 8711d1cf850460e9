//! MP3 (MPEG-1, 2 and 2.5 audio, layers I to III): skips the ID3v2 tags before the sound,
//! sets aside the tags after it (ID3v1, APEv2, Lyrics3, an appended ID3v2), then walks the
//! frames by the length each header gives (bitrate, sample rate, padding). A last frame that
//! runs past the end is a cut; so is a file holding fewer frames than the Xing/Info or VBRI
//! header in its first frame counts.
//!
//! What this cannot tell: a file without such a header cut exactly between two frames; a
//! changed byte inside a frame (the optional CRC-16 covers a few header bits only, and is not
//! checked); nor anything of a free-format stream, whose headers give no bitrate to walk by.

use super::{percent, Damage};

/// Bytes of junk between two frames passed over without a word: some encoders and editors
/// leave a few; a damaged stretch of a file is longer.
const FEW: usize = 16;

/// kbit/s by MPEG-1 / MPEG-2 and 2.5, then layer I, II, III, then bitrate index.
const BITRATES: [[[u16; 15]; 3]; 2] = [
    [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    ],
    [
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ],
];

/// Hz by MPEG-2.5 / MPEG-2 / MPEG-1, then sample rate index.
const SAMPLE_RATES: [[u32; 3]; 3] = [[11025, 12000, 8000], [22050, 24000, 16000], [44100, 48000, 32000]];

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let mut start = 0usize;
    // Bounded: each tag moves on by at least its 10-byte header.
    while let Some(length) = id3v2_length(bytes, start) {
        match start.checked_add(length).filter(|&end| end <= bytes.len()) {
            Some(end) => start = end,
            None => return Some(Damage::fatal("the MP3 ends early, inside its ID3 tag, before any sound")),
        }
    }
    let end = audio_end(bytes, start);
    // Junk before the first frame (tag padding its size leaves out) says nothing of the sound.
    // No frame at all: free format, or not MPEG audio; the decoder will say.
    let first = find_frame(bytes, start, end)?;
    let counted = bytes.get(first..).and_then(counted_frames);
    let mut frames = 0u64;
    let mut position = first;
    let mut cut = false;
    while position < end {
        if let Some(frame) = frame_at(bytes, position) {
            if position + frame.length > end {
                cut = true;
                break;
            }
            frames += 1;
            position += frame.length;
            continue;
        }
        if end - position < 4 {
            // Too short for a header: padding, not a frame.
            break;
        }
        if let Some(length) = tag_inside(bytes, position, end) {
            // A stream recording or files joined end to end.
            position += length;
            continue;
        }
        let Some(next) = find_frame(bytes, position + 1, end) else {
            // Something after the last frame that is no tag we know: not sound either way.
            break;
        };
        if next - position > FEW {
            return Some(Damage::salvageable(format!(
                "{} bytes between frames {frames} and {} are not MPEG audio",
                super::bytes((next - position) as u64),
                frames + 1
            )));
        }
        position = next;
    }
    // The header frame is silence and not counted in its own total.
    let held = frames.saturating_sub(u64::from(counted.is_some()));
    // One frame's leeway: writers differ in whether they count the header frame.
    if let Some(count) = counted.map(u64::from).filter(|&count| held + 1 < count) {
        return Some(Damage::salvageable(format!(
            "the MP3 ends early: its header counts {} frames, the file holds {} ({} missing)",
            super::bytes(count),
            super::bytes(held),
            percent(count - held, count)
        )));
    }
    if cut {
        return Some(Damage::salvageable("the MP3 ends early, inside its last frame"));
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    /// 0: MPEG-2.5, 1: MPEG-2, 2: MPEG-1.
    version: usize,
    /// 1, 2 or 3.
    layer: usize,
    sample_rate: u32,
    mono: bool,
    /// A CRC-16 follows the header.
    protected: bool,
    length: usize,
}

impl Frame {
    fn same_stream(&self, other: &Frame) -> bool {
        (self.version, self.layer, self.sample_rate) == (other.version, other.layer, other.sample_rate)
    }
}

fn frame_at(bytes: &[u8], at: usize) -> Option<Frame> {
    let &[sync, b, c, d] = bytes.get(at..at.checked_add(4)?)? else { return None };
    if sync != 0xFF || b & 0xE0 != 0xE0 {
        return None;
    }
    let version = match (b >> 3) & 0b11 {
        0b00 => 0,
        0b10 => 1,
        0b11 => 2,
        _ => return None,
    };
    let layer = match (b >> 1) & 0b11 {
        0b11 => 1,
        0b10 => 2,
        0b01 => 3,
        _ => return None,
    };
    // Index 0 is free format (no length to walk by), 15 is forbidden; emphasis 2 is reserved,
    // which rules out more of the false syncs inside junk.
    let bitrate_index = usize::from(c >> 4);
    let rate_index = usize::from((c >> 2) & 0b11);
    if bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 || d & 0b11 == 0b10 {
        return None;
    }
    let kbps = *BITRATES.get(usize::from(version != 2))?.get(layer - 1)?.get(bitrate_index)?;
    let bitrate = u32::from(kbps) * 1000;
    let sample_rate = *SAMPLE_RATES.get(version)?.get(rate_index)?;
    let padding = u32::from((c >> 1) & 1);
    let length = match layer {
        // Layer I counts in 4-byte slots.
        1 => (12 * bitrate / sample_rate + padding) * 4,
        2 => 144 * bitrate / sample_rate + padding,
        // MPEG-2 and 2.5 layer III frames hold half the samples.
        _ => (if version == 2 { 144 } else { 72 }) * bitrate / sample_rate + padding,
    };
    Some(Frame {
        version,
        layer,
        sample_rate,
        mono: d >> 6 == 0b11,
        protected: b & 1 == 0,
        length: usize::try_from(length).ok()?,
    })
}

/// The first frame from `from` on whose header is followed by another of the same stream (or
/// by the end of the sound): a lone "header" is too often a few bytes of data that look like one.
fn find_frame(bytes: &[u8], from: usize, end: usize) -> Option<usize> {
    let area = bytes.get(from..end)?;
    area.iter().enumerate().filter(|&(_, &b)| b == 0xFF).map(|(i, _)| from + i).find(|&at| {
        let Some(frame) = frame_at(bytes, at) else { return false };
        let next = at + frame.length;
        next == end || (next < end && frame_at(bytes, next).is_some_and(|n| n.same_stream(&frame)))
    })
}

/// The frames a Xing/Info (LAME and most encoders) or VBRI (Fraunhofer) header in the first
/// frame counts, not counting that frame itself.
fn counted_frames(first: &[u8]) -> Option<u32> {
    let frame = frame_at(first, 0)?;
    if frame.layer != 3 {
        return None;
    }
    let u32_at = |at: usize| Some(u32::from_be_bytes(first.get(at..at + 4)?.try_into().ok()?));
    // The tag follows the side information, whose size depends on the version and channels.
    let side_info = match (frame.version == 2, frame.mono) {
        (true, false) => 32,
        (true, true) | (false, false) => 17,
        (false, true) => 9,
    };
    // Encoders write the header frame without a CRC; readers that allow one skip it too.
    let crc = if frame.protected { 2 } else { 0 };
    for at in [4 + side_info, 4 + side_info + crc] {
        let tag = first.get(at..at + 4)?;
        if tag == b"Xing" || tag == b"Info" {
            let flags = u32_at(at + 4)?;
            return if flags & 1 != 0 { u32_at(at + 8).filter(|&n| n > 0) } else { None };
        }
    }
    if first.get(36..40)? == b"VBRI" {
        return u32_at(36 + 14).filter(|&n| n > 0);
    }
    None
}

/// The length of an ID3v2 tag at `at`, from its header (the size is "syncsafe": 7 bits a byte).
fn id3v2_length(bytes: &[u8], at: usize) -> Option<usize> {
    let header = bytes.get(at..at.checked_add(10)?)?;
    let &[b'I', b'D', b'3', major, minor, flags, ref size @ ..] = header else { return None };
    if major == 0xFF || minor == 0xFF || size.iter().any(|&b| b >= 0x80) {
        return None;
    }
    let size = size.iter().fold(0usize, |value, &b| (value << 7) | usize::from(b));
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// A tag found where a frame should be: an ID3v2 or ID3v1 tag, or an APEv2 tag's header.
fn tag_inside(bytes: &[u8], at: usize, end: usize) -> Option<usize> {
    let rest = bytes.get(at..end)?;
    let length = if rest.starts_with(b"ID3") {
        id3v2_length(bytes, at)?
    } else if rest.starts_with(b"TAG") {
        128
    } else if rest.starts_with(b"APETAGEX") {
        let size = u32::from_le_bytes(rest.get(12..16)?.try_into().ok()?);
        usize::try_from(size).ok()?.checked_add(32)?
    } else {
        return None;
    };
    (length <= rest.len()).then_some(length)
}

/// Where the sound ends: before the tags players read from the end of the file.
fn audio_end(bytes: &[u8], start: usize) -> usize {
    let mut end = bytes.len();
    // Each tag is set aside once; a few kinds can be stacked.
    for _ in 0..8 {
        let Some(area) = bytes.get(start..end) else { break };
        let tail = |n: usize| area.len().checked_sub(n).and_then(|from| area.get(from..));
        let length = if tail(128).is_some_and(|t| t.starts_with(b"TAG")) {
            // ID3v1.
            Some(128)
        } else if let Some(footer) = tail(32).filter(|t| t.starts_with(b"APETAGEX")) {
            // APEv2: the size counts the items and this footer, not the header in front.
            let size = footer.get(12..16).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes);
            let flags = footer.get(20..24).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes);
            let header = if flags.is_some_and(|f| f & 0x8000_0000 != 0) { 32 } else { 0 };
            size.and_then(|size| usize::try_from(size).ok()?.checked_add(header))
        } else if tail(9).is_some_and(|t| t == b"LYRICS200") {
            // Lyrics3 v2: six digits give the size of what comes before them.
            let digits = tail(15).and_then(|t| t.get(..6)).and_then(|d| std::str::from_utf8(d).ok());
            digits.and_then(|d| d.parse::<usize>().ok()).map(|size| size + 15)
        } else if tail(9).is_some_and(|t| t == b"LYRICSEND") {
            // Lyrics3 v1: at most 5,100 bytes after "LYRICSBEGIN".
            let from = area.len().saturating_sub(5100 + 20);
            let window = area.get(from..).unwrap_or_default();
            window.windows(11).rposition(|w| w == b"LYRICSBEGIN").map(|at| window.len() - at)
        } else if tail(10).is_some_and(|t| t.starts_with(b"3DI")) {
            // An ID3v2 tag at the end, found by its footer.
            let size = tail(10).and_then(|t| t.get(6..10)).filter(|s| s.iter().all(|&b| b < 0x80));
            size.map(|s| s.iter().fold(0usize, |value, &b| (value << 7) | usize::from(b)) + 20)
        } else {
            None
        };
        match length.filter(|&length| length <= area.len()) {
            Some(length) => end -= length,
            None => break,
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MPEG-1 layer III, 128 kbit/s, 44.1 kHz, joint stereo: 417 bytes, 418 with padding.
    fn frame(padded: bool) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFB, if padded { 0x92 } else { 0x90 }, 0x40];
        out.resize(if padded { 418 } else { 417 }, 0x55);
        out
    }

    fn info_frame(count: u32) -> Vec<u8> {
        let mut out = frame(false);
        out[36..40].copy_from_slice(b"Info");
        out[40..44].copy_from_slice(&0x0Fu32.to_be_bytes());
        out[44..48].copy_from_slice(&count.to_be_bytes());
        out
    }

    fn id3(payload: usize) -> Vec<u8> {
        let mut out = b"ID3\x04\0\0".to_vec();
        out.extend_from_slice(&[0, 0, (payload >> 7) as u8 & 0x7F, payload as u8 & 0x7F]);
        out.resize(10 + payload, b'x');
        out
    }

    fn frames(count: usize) -> Vec<u8> {
        (0..count).flat_map(|i| frame(i % 3 == 1)).collect()
    }

    /// A tag, padding it does not count, the header frame and 20 frames of sound, an ID3v1 tag.
    fn file() -> Vec<u8> {
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, b' ');
        [id3(200), vec![0; 30], info_frame(20), frames(20), v1].concat()
    }

    #[test]
    fn frame_lengths() {
        let length = |header: [u8; 4]| frame_at(&header, 0).map(|f| f.length);
        assert_eq!(length([0xFF, 0xFB, 0x90, 0x00]), Some(417));
        assert_eq!(length([0xFF, 0xFB, 0x92, 0x00]), Some(418));
        // MPEG-2 layer III mono, 22.05 kHz, as LAME writes it: 56 kbit/s for its Info frame,
        // then 32 kbit/s.
        assert_eq!(length([0xFF, 0xF3, 0x70, 0xC0]), Some(182));
        assert_eq!(length([0xFF, 0xF3, 0x40, 0xC4]), Some(104));
        // MPEG-1 layer II, 192 kbit/s, 44.1 kHz, as FFmpeg's mp2 encoder writes it.
        assert_eq!(length([0xFF, 0xFD, 0xA0, 0x04]), Some(626));
        // MPEG-1 layer I, 384 kbit/s, 48 kHz: 12 × 384,000 / 48,000 = 96 slots of 4 bytes.
        assert_eq!(length([0xFF, 0xFF, 0xC4, 0x00]), Some(384));
        // Free format and bad indexes are not walked.
        assert_eq!(length([0xFF, 0xFB, 0x00, 0x00]), None);
        assert_eq!(length([0xFF, 0xFB, 0xF0, 0x00]), None);
        assert_eq!(length([0xFF, 0xFB, 0x9C, 0x00]), None);
        assert_eq!(length([0xFF, 0xF9, 0x90, 0x00]), None);
    }

    /// An APEv2 tag with its header: 8 bytes of items, and a footer whose size counts them
    /// and itself.
    fn ape() -> Vec<u8> {
        let part = |flags: u32| {
            let mut out = b"APETAGEX".to_vec();
            out.extend_from_slice(&2000u32.to_le_bytes());
            out.extend_from_slice(&40u32.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(&flags.to_le_bytes());
            out.resize(32, 0);
            out
        };
        [part(0xA000_0000), b"Artist\0x".to_vec(), part(0x8000_0000)].concat()
    }

    #[test]
    fn whole_files_pass() {
        assert_eq!(check(&file()), None);
        assert_eq!(check(&frames(10)), None);
        // Junk of a few bytes, a tag in the middle, an APE tag and a few stray bytes at the end.
        let joined = [frames(5), vec![0; 7], frames(5), id3(50), frames(5), ape(), vec![0; 3]].concat();
        assert_eq!(check(&joined), None);
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, 0);
        let tagged = [frames(5), ape(), v1.clone()].concat();
        assert_eq!(check(&tagged), None);
        // A cut frame before the tags at the end is still found.
        let cut = [frames(5)[..1500].to_vec(), ape(), v1].concat();
        assert_eq!(check(&cut).unwrap().reason, "the MP3 ends early, inside its last frame");
    }

    #[test]
    fn a_cut_frame_is_found() {
        let file = [id3(20), frames(10)].concat();
        let damage = check(&file[..file.len() - 100]).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "the MP3 ends early, inside its last frame");
        // Without a header that counts them, ten frames cut after the fifth look like five.
        assert_eq!(check(&file[..30 + frames(5).len()]), None);
    }

    #[test]
    fn the_header_count_finds_a_cut_between_frames() {
        let file = [id3(20), info_frame(20), frames(20)].concat();
        let cut = 30 + 417 + frames(10).len();
        let damage = check(&file[..cut]).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "the MP3 ends early: its header counts 20 frames, the file holds 10 (50 % missing)");
        // Cut inside a frame, the count says how much.
        assert!(check(&file[..cut + 200]).unwrap().reason.contains("the file holds 10 (50 % missing)"));
        // One frame short is within what writers differ on; but inside it is still a cut.
        let one_short = [id3(20), info_frame(20), frames(19)].concat();
        assert_eq!(check(&one_short), None);
        let damage = check(&file[..file.len() - 1]).unwrap();
        assert_eq!(damage.reason, "the MP3 ends early, inside its last frame");
    }

    #[test]
    fn a_cut_tag_is_fatal() {
        let file = file();
        let damage = check(&file[..100]).unwrap();
        assert!(!damage.salvageable);
        assert_eq!(damage.reason, "the MP3 ends early, inside its ID3 tag, before any sound");
    }

    #[test]
    fn junk_between_frames_is_damage() {
        let file = [frames(5), vec![0; 4096], frames(5)].concat();
        let damage = check(&file).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "4,096 bytes between frames 5 and 6 are not MPEG audio");
    }

    #[test]
    fn every_cut_and_garbage_never_panics() {
        let file = file();
        for cut in 0..file.len() {
            let _ = check(&file[..cut]);
        }
        let mut garbage = file.clone();
        for (i, b) in garbage.iter_mut().enumerate() {
            if i % 5 == 2 {
                *b = 0xFF;
            }
        }
        let _ = check(&garbage);
        let _ = check(&[0xFF; 1000]);
        let _ = check(b"ID3\x04\0\x10\x7f\x7f\x7f\x7f");
        let _ = check(b"LYRICS200");
        let _ = check(b"999999LYRICS200");
        let _ = check(b"APETAGEX\xff\xff\xff\xff\0\0\0\0\0\0\0\0\xff\xff\xff\xff\0\0\0\0\0\0\0\0");
    }
}
