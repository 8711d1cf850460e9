//! RIFF files (WebP, AVI, WAV): chunks of a four-letter id, a little-endian u32 size and that
//! many bytes, padded to an even length. The top-level `RIFF` chunk's size says how long the
//! file should be (an AVI over 1 GB goes on in further `RIFF`/`AVIX` chunks, each with its own
//! size); inside it, a WAV's `data` chunk says how much sound there is, which its `fmt `
//! chunk's byte rate turns into seconds, and every chunk of a WebP must fit in the file.
//!
//! What this cannot tell: a file whose sizes were never filled in (a WAV or AVI written to a
//! pipe says 0 or 0xFFFFFFFF, "unknown") cut exactly where a chunk ends, nor an AVI cut exactly
//! between its `RIFF` chunks; and nothing here checks the sound or picture data itself, which
//! RIFF keeps no checksum of.

use super::{percent, Damage};
use crate::Format;

/// A chunk's id and size fields.
const HEADER: u64 = 8;

pub(super) fn check(bytes: &[u8], format: Format) -> Option<Damage> {
    let form: &[u8] = match format {
        Format::Webp => b"WEBP",
        Format::Avi => b"AVI ",
        Format::Wav => b"WAVE",
        _ => return None,
    };
    if !bytes.starts_with(b"RIFF") || bytes.get(8..12) != Some(form) {
        return None;
    }
    let len = bytes.len() as u64;
    let (_, size) = chunk_at(bytes, 0)?;
    let first_end = if format != Format::Webp && is_unknown(size) { None } else { Some(HEADER + u64::from(size)) };
    if let Some(damage) = inside(bytes, format, HEADER + 4, first_end) {
        return Some(damage);
    }
    // The first RIFF chunk, then (an AVI over 1 GB) the `RIFF`/`AVIX` chunks after it.
    let mut position = 0u64;
    let mut end = first_end;
    loop {
        let Some(chunk_end) = end else {
            // A size left unknown runs to the end of the file.
            return None;
        };
        if chunk_end > len {
            let reason = format!(
                "the {} file ends early: its header says {} bytes, the file has {} ({} missing)",
                format.name(),
                super::bytes(chunk_end),
                super::bytes(len),
                percent(chunk_end - len, chunk_end)
            );
            return Some(damaged(format, reason));
        }
        if format != Format::Avi {
            return None;
        }
        position = chunk_end + (chunk_end - position) % 2;
        // Fewer bytes than a header (padding some writers add) are no chunk; data after the
        // last `RIFF` chunk that is not another one (tags appended by other tools) is no part
        // of the file, and players pass over it.
        match chunk_at(bytes, position) {
            Some((id, size)) if &id == b"RIFF" => {
                end = if is_unknown(size) { None } else { Some(position + HEADER + u64::from(size)) };
            }
            _ => return None,
        }
    }
}

/// Walks the chunks inside the first `RIFF` chunk, which ends at `riff_end` (`None`: its size
/// is unknown, so at the end of the file). A cut the `RIFF` size already shows is left to
/// the caller's message, except in a WAV's sound, which is said in seconds.
fn inside(bytes: &[u8], format: Format, start: u64, riff_end: Option<u64>) -> Option<Damage> {
    let len = bytes.len() as u64;
    let limit = riff_end.map_or(len, |end| end.min(len));
    // The `RIFF` chunk is cut short, or its size was never written: either way a chunk that
    // runs past the end of the file is where the cut is.
    let riff_cut = riff_end.is_none_or(|end| end > len);
    let mut byte_rate = None;
    let mut position = start;
    while position.saturating_add(HEADER) <= limit {
        let Some((id, size)) = chunk_at(bytes, position) else { break };
        if !id.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            // Not a chunk: the sizes before it were wrong. FFmpeg copes; this is no cut.
            return None;
        }
        let body = position + HEADER;
        if format == Format::Wav && &id == b"fmt " && size >= 12 {
            byte_rate = u32_at(bytes, body + 8).filter(|&rate| rate > 0);
        }
        if format != Format::Webp && is_placeholder(&id, size) {
            if &id == b"LIST" {
                // A list written to a pipe (an AVI's `movi`): its chunks follow its form type.
                position = body + 4;
                continue;
            }
            // A streamed WAV's `data` chunk runs to the end of the file.
            return None;
        }
        let end = body + u64::from(size);
        if end > limit {
            let cut_inside = end > len && riff_cut;
            return if cut_inside && format == Format::Wav && &id == b"data" {
                Some(wav_data_cut(u64::from(size), len - body, byte_rate))
            } else if cut_inside && riff_end.is_none() {
                let reason = format!(
                    "the {} file ends early, inside its '{}' chunk ({} of it missing)",
                    format.name(),
                    String::from_utf8_lossy(&id),
                    percent(end - len, u64::from(size))
                );
                Some(damaged(format, reason))
            } else if format == Format::Webp && !cut_inside {
                // libwebp refuses a chunk larger than the RIFF data around it.
                Some(Damage::fatal(format!(
                    "the WebP file's '{}' chunk says {} bytes, but the file has only {} left",
                    String::from_utf8_lossy(&id),
                    super::bytes(u64::from(size)),
                    super::bytes(limit - body.min(limit))
                )))
            } else {
                // Cut short: the `RIFF` size says by how much. Otherwise the sizes disagree
                // with each other, not with the file, and FFmpeg reads on to the end.
                None
            };
        }
        // A pad byte missing after the very last chunk loses nothing: the loop ends anyway.
        position = end + u64::from(size % 2);
    }
    None
}

fn wav_data_cut(promised: u64, held: u64, byte_rate: Option<u32>) -> Damage {
    let missing = percent(promised - held.min(promised), promised);
    Damage::salvageable(match byte_rate {
        Some(rate) => format!(
            "the WAV data ends early: its header promises {} of sound, the file holds {} ({missing} missing)",
            seconds(promised as f64 / f64::from(rate)),
            seconds(held as f64 / f64::from(rate))
        ),
        None => format!(
            "the WAV data ends early: its header promises {} bytes of sound, the file holds {} ({missing} missing)",
            super::bytes(promised),
            super::bytes(held)
        ),
    })
}

/// FFmpeg reads an AVI or WAV up to where it stops; libwebp decodes nothing of a cut WebP.
fn damaged(format: Format, reason: String) -> Damage {
    if format == Format::Webp {
        Damage::fatal(reason)
    } else {
        Damage::salvageable(reason)
    }
}

/// Sizes a recorder writing to a pipe puts in place of the real ones and never fills in.
fn is_unknown(size: u32) -> bool {
    size == 0 || size == u32::MAX
}

/// The same inside the `RIFF` chunk, where only a list or the sound (the chunks that grow as
/// it records) is left at 0: any other chunk may really be empty.
fn is_placeholder(id: &[u8; 4], size: u32) -> bool {
    size == u32::MAX || (size == 0 && (id == b"LIST" || id == b"data"))
}

/// "5.1 s", "3 min 20 s", "1 h 5 min".
fn seconds(s: f64) -> String {
    if s < 59.95 {
        format!("{s:.1} s")
    } else if s < 3599.5 {
        let whole = s.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        let minutes = (s / 60.0).round() as u64;
        format!("{} h {} min", minutes / 60, minutes % 60)
    }
}

fn chunk_at(bytes: &[u8], at: u64) -> Option<([u8; 4], u32)> {
    let start = usize::try_from(at).ok()?;
    let id: [u8; 4] = bytes.get(start..start.checked_add(4)?)?.try_into().ok()?;
    Some((id, u32_at(bytes, at + 4)?))
}

fn u32_at(bytes: &[u8], at: u64) -> Option<u32> {
    let start = usize::try_from(at).ok()?;
    Some(u32::from_le_bytes(bytes.get(start..start.checked_add(4)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
        if payload.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    fn riff(form: &[u8; 4], chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut payload = form.to_vec();
        for c in chunks {
            payload.extend_from_slice(c);
        }
        chunk(b"RIFF", &payload)
    }

    /// One second of 8 kHz 8-bit mono: 8,000 bytes a second.
    fn wav() -> Vec<u8> {
        let mut fmt = 1u16.to_le_bytes().to_vec(); // PCM
        fmt.extend_from_slice(&1u16.to_le_bytes());
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&1u16.to_le_bytes());
        fmt.extend_from_slice(&8u16.to_le_bytes());
        riff(b"WAVE", &[chunk(b"fmt ", &fmt), chunk(b"data", &[0x80; 8000])])
    }

    fn avi() -> Vec<u8> {
        let hdrl = [b"hdrl".to_vec(), chunk(b"avih", &[0; 56])].concat();
        let movi = [b"movi".to_vec(), chunk(b"00dc", &[1; 301]), chunk(b"00dc", &[2; 200])].concat();
        riff(b"AVI ", &[chunk(b"LIST", &hdrl), chunk(b"LIST", &movi), chunk(b"idx1", &[0; 32])])
    }

    fn webp() -> Vec<u8> {
        riff(b"WEBP", &[chunk(b"VP8X", &[0; 10]), chunk(b"VP8 ", &[7; 501]), chunk(b"EXIF", &[1; 30])])
    }

    #[test]
    fn whole_files_pass() {
        assert_eq!(check(&wav(), Format::Wav), None);
        assert_eq!(check(&avi(), Format::Avi), None);
        assert_eq!(check(&webp(), Format::Webp), None);
        // A few bytes of padding after the RIFF, or something appended by another tool.
        assert_eq!(check(&[wav(), vec![0; 3]].concat(), Format::Wav), None);
        assert_eq!(check(&[webp(), b"ID3\x03\0\0\0\0\0\x20".to_vec(), vec![0; 32]].concat(), Format::Webp), None);
        // An odd last chunk whose pad byte was never written (nor counted in the RIFF size).
        let mut odd = riff(b"WAVE", &[chunk(b"data", &[1; 7])]);
        odd.pop();
        odd[4..8].copy_from_slice(&19u32.to_le_bytes());
        assert_eq!(check(&odd, Format::Wav), None);
    }

    #[test]
    fn a_cut_wav_says_how_much_sound_is_missing() {
        let file = wav();
        let cut = &file[..file.len() - 4000];
        let damage = check(cut, Format::Wav).unwrap();
        assert!(damage.salvageable);
        assert_eq!(
            damage.reason,
            "the WAV data ends early: its header promises 1.0 s of sound, the file holds 0.5 s (50 % missing)"
        );
        // Without a byte rate, in bytes.
        let no_fmt = riff(b"WAVE", &[chunk(b"data", &[0; 2000])]);
        let reason = check(&no_fmt[..1020], Format::Wav).unwrap().reason;
        assert!(reason.contains("promises 2,000 bytes of sound, the file holds 1,000 (50 % missing)"), "{reason}");
    }

    #[test]
    fn a_cut_after_the_sound_is_measured_by_the_riff_size() {
        let with_list = {
            let mut payload = wav()[8..].to_vec();
            payload.extend_from_slice(&chunk(b"LIST", &[b'x'; 400]));
            chunk(b"RIFF", &payload)
        };
        let reason = check(&with_list[..with_list.len() - 200], Format::Wav).unwrap().reason;
        assert!(
            reason.starts_with("the WAV file ends early: its header says 8,452 bytes, the file has 8,252"),
            "{reason}"
        );
    }

    #[test]
    fn a_streamed_wav_has_no_sizes_to_check() {
        let mut file = wav();
        file[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let data = file.windows(4).position(|w| w == b"data").unwrap();
        file[data + 4..data + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(check(&file[..file.len() / 2], Format::Wav), None);
        file[data + 4..data + 8].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(check(&file[..file.len() / 2], Format::Wav), None);
        // Its RIFF size unknown, but the data's written: that still says where the sound ends.
        file[data + 4..data + 8].copy_from_slice(&8000u32.to_le_bytes());
        assert!(check(&file[..file.len() / 2], Format::Wav).unwrap().reason.contains("promises 1.0 s"));
    }

    #[test]
    fn a_cut_avi_says_how_much_is_missing() {
        let file = avi();
        let damage = check(&file[..file.len() / 2], Format::Avi).unwrap();
        assert!(damage.salvageable);
        let expected = format!(
            "the AVI file ends early: its header says {} bytes, the file has {} (50 % missing)",
            file.len(),
            file.len() / 2
        );
        assert_eq!(damage.reason, expected);
    }

    #[test]
    fn an_avi_over_1_gb_is_checked_in_each_riff_chunk() {
        let avix = riff(b"AVIX", &[chunk(b"LIST", &[b"movi".to_vec(), chunk(b"00dc", &[3; 1000])].concat())]);
        let file = [avi(), avix].concat();
        assert_eq!(check(&file, Format::Avi), None);
        let reason = check(&file[..file.len() - 500], Format::Avi).unwrap().reason;
        assert!(
            reason.contains(&format!("its header says {} bytes", super::super::bytes(file.len() as u64))),
            "{reason}"
        );
    }

    #[test]
    fn an_avi_written_to_a_pipe_is_walked_chunk_by_chunk() {
        let mut file = avi();
        file[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let movi = file.windows(4).position(|w| w == b"movi").unwrap();
        file[movi - 4..movi].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(check(&file, Format::Avi), None);
        let second_frame = file.windows(5).position(|w| w == b"00dc\xc8").unwrap();
        let reason = check(&file[..second_frame + 108], Format::Avi).unwrap().reason;
        assert_eq!(reason, "the AVI file ends early, inside its '00dc' chunk (50 % of it missing)");
    }

    #[test]
    fn a_cut_webp_is_fatal() {
        let file = webp();
        let damage = check(&file[..300], Format::Webp).unwrap();
        assert!(!damage.salvageable);
        assert!(damage.reason.starts_with("the WebP file ends early: its header says 578 bytes, the file has 300"));
        // A chunk larger than the RIFF it is in.
        let mut lying = webp();
        let vp8 = lying.windows(4).position(|w| w == b"VP8 ").unwrap();
        lying[vp8 + 4..vp8 + 8].copy_from_slice(&5000u32.to_le_bytes());
        let damage = check(&lying, Format::Webp).unwrap();
        assert!(!damage.salvageable);
        assert_eq!(damage.reason, "the WebP file's 'VP8 ' chunk says 5,000 bytes, but the file has only 540 left");
    }

    #[test]
    fn every_cut_and_garbage_never_panics() {
        for (file, format) in [(wav(), Format::Wav), (avi(), Format::Avi), (webp(), Format::Webp)] {
            for cut in 0..file.len() {
                let damage = check(&file[..cut], format);
                // Past the form type, every cut that loses more than a pad byte is seen.
                if cut >= 12 && cut + 1 < file.len() {
                    assert!(damage.is_some(), "{format:?} cut at {cut}");
                }
            }
            let mut garbage = file.clone();
            for (i, b) in garbage.iter_mut().enumerate().skip(12) {
                *b = (i as u8).wrapping_mul(37) ^ 0xA5;
            }
            let _ = check(&garbage, format);
        }
        let _ = check(b"RIFF\xff\xff\xff\xffWAVELIST\xff\xff\xff\xff", Format::Wav);
        let _ = check(b"RIFF\0\0\0\0AVI LIST\0\0\0\0LIST\0\0\0\0", Format::Avi);
        let _ = check(b"RIFF", Format::Avi);
    }
}
