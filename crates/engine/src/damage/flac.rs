//! FLAC: the metadata blocks, then every audio frame, each ended by a CRC-16 over the frame
//! (so a cut inside the last frame, or a changed byte anywhere in the sound, is seen); and
//! the sample count STREAMINFO declares against the samples the frames hold, which tells a
//! file cut exactly between two frames. Frame boundaries are found as the decoders do: a
//! sync code whose header passes its CRC-8, where the frame before it passes its CRC-16.

use super::{percent, Damage};

const STREAMINFO: u8 = 0;

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let mut position = 4; // "fLaC"
    let mut declared_samples = 0u64;
    let mut sample_rate = 0u32;
    loop {
        let Some(&[flags, a, b, c]) = bytes.get(position..position + 4) else {
            return Some(Damage::fatal("the FLAC ends early, inside its metadata, before any sound"));
        };
        let length = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        let Some(block) = bytes.get(position + 4..position + 4 + length) else {
            return Some(Damage::fatal("the FLAC ends early, inside its metadata, before any sound"));
        };
        if flags & 0x7F == STREAMINFO && block.len() >= 18 {
            sample_rate = u32::from(block[10]) << 12 | u32::from(block[11]) << 4 | u32::from(block[12]) >> 4;
            declared_samples = u64::from(block[13] & 0x0F) << 32
                | u64::from(u32::from_be_bytes([block[14], block[15], block[16], block[17]]));
        }
        position += 4 + length;
        if flags & 0x80 != 0 {
            break;
        }
    }
    let mut samples = 0u64;
    let mut frames = 0u64;
    let Some(mut header) = frame_header(bytes, position) else {
        return Some(Damage::fatal("the FLAC holds no audio frame after its metadata"));
    };
    loop {
        frames += 1;
        samples += u64::from(header.block_size);
        match frame_end(bytes, header.start) {
            FrameEnd::Next(next) => header = next,
            FrameEnd::Last => break,
            FrameEnd::Damaged => {
                let at = if header.start + 64 >= bytes.len() { "its last frame" } else { "a frame" };
                return Some(Damage::salvageable(format!(
                    "the FLAC data ends early or is damaged: {at} (frame {frames}) fails its checksum"
                )));
            }
        }
    }
    if declared_samples > 0 && samples < declared_samples {
        let seconds = |n: u64| {
            if sample_rate > 0 {
                format!(" ({:.1} s)", n as f64 / f64::from(sample_rate))
            } else {
                String::new()
            }
        };
        return Some(Damage::salvageable(format!(
            "the FLAC ends early: its header counts {declared_samples} samples{}, the file holds {samples}{} ({} missing)",
            seconds(declared_samples),
            seconds(samples),
            percent(declared_samples - samples, declared_samples)
        )));
    }
    None
}

struct FrameHeader {
    start: usize,
    block_size: u32,
}

/// The frame header at `at`, when there is one whose CRC-8 holds.
fn frame_header(bytes: &[u8], at: usize) -> Option<FrameHeader> {
    let head = bytes.get(at..at + 4)?;
    if head[0] != 0xFF || head[1] & 0xFE != 0xF8 {
        return None;
    }
    let size_code = head[2] >> 4;
    let rate_code = head[2] & 0x0F;
    if rate_code == 0x0F || size_code == 0 {
        return None;
    }
    // The frame or sample number, coded like UTF-8 (up to 7 bytes).
    let lead = *bytes.get(at + 4)?;
    let extra = match lead.leading_ones() {
        0 => 0,
        n @ 2..=7 => n as usize - 1,
        _ => return None,
    };
    let mut end = at + 5 + extra;
    let block_size = match size_code {
        1 => 192,
        2..=5 => 576 << (size_code - 2),
        6 => {
            end += 1;
            u32::from(*bytes.get(end - 1)?) + 1
        }
        7 => {
            end += 2;
            u32::from(u16::from_be_bytes([*bytes.get(end - 2)?, *bytes.get(end - 1)?])) + 1
        }
        _ => 256 << (size_code - 8),
    };
    end += match rate_code {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    let stored = *bytes.get(end)?;
    (crc8(bytes.get(at..end)?) == stored).then_some(FrameHeader { start: at, block_size })
}

enum FrameEnd {
    /// The next frame starts here.
    Next(FrameHeader),
    /// This frame runs whole to the end of the file.
    Last,
    /// No end where the frame's CRC-16 holds: cut or changed.
    Damaged,
}

fn frame_end(bytes: &[u8], start: usize) -> FrameEnd {
    let mut crc = 0u16;
    // Where the frame could have ended whole, in case a tag follows the last frame.
    let mut whole_until = None;
    for (offset, &byte) in bytes[start..].iter().enumerate() {
        let at = start + offset;
        // A frame is at least a header and a CRC; a candidate is checked before its byte joins.
        if offset > 6 && crc == 0 {
            if byte == 0xFF {
                if let Some(next) = frame_header(bytes, at) {
                    return FrameEnd::Next(next);
                }
            }
            whole_until = Some(at);
        }
        crc = crc16_step(crc, byte);
    }
    if crc == 0 {
        return FrameEnd::Last;
    }
    // Some taggers append ID3v1, ID3v2 or APE tags after the last frame: not sound, not damage.
    let tagged = whole_until
        .and_then(|at| bytes.get(at..))
        .is_some_and(|rest| [&b"TAG"[..], b"ID3", b"APETAGEX"].iter().any(|tag| rest.starts_with(tag)));
    if tagged {
        FrameEnd::Last
    } else {
        FrameEnd::Damaged
    }
}

/// CRC-8, polynomial 0x07 (x^8 + x^2 + x + 1), as FLAC frame headers use; a few lines here,
/// where a crate would bring a table generator for one call site.
fn crc8(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &byte in data {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 { (crc << 1) ^ 0x07 } else { crc << 1 };
        }
    }
    crc
}

/// One byte of FLAC's CRC-16 (polynomial 0x8005, not reflected, starting at 0).
fn crc16_step(crc: u16, byte: u8) -> u16 {
    let mut crc = crc ^ (u16::from(byte) << 8);
    for _ in 0..8 {
        crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x8005 } else { crc << 1 };
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crcs_match_the_reference_values() {
        // CRC-8/SMBUS and CRC-16/UMTS (FLAC's two) of "123456789".
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(b"123456789".iter().fold(0, |crc, &b| crc16_step(crc, b)), 0xFEE8);
    }

    #[test]
    fn garbage_never_panics() {
        assert!(check(b"fLaC").is_some());
        assert!(check(b"fLaC\x80\x00\x00\x22").is_some());
        let mut bytes = b"fLaC\x80\x00\x00\x00".to_vec();
        bytes.extend_from_slice(&[0xFF, 0xF8, 0x69, 0x08, 0x00, 0x00, 0xFF]);
        let _ = check(&bytes);
    }
}
