//! GIF: walks the blocks (extensions, image descriptors with their LZW sub-blocks) to the
//! trailer byte. A GIF has no checksum; a file cut short ends inside a frame or before the
//! trailer. An animation cut exactly between two frames is told only by its missing trailer.

use super::Damage;

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let flags = *bytes.get(10)?;
    let mut position = 13 + colour_table_size(flags);
    let mut frames = 0u32;
    loop {
        let Some(&block) = bytes.get(position) else {
            return Some(ended_early(frames, false));
        };
        position += 1;
        match block {
            0x3B => return None,
            0x21 => {
                position += 1; // the extension's label
                position = match skip_sub_blocks(bytes, position) {
                    Some(end) => end,
                    None => return Some(ended_early(frames, false)),
                };
            }
            0x2C => {
                let Some(&local_flags) = bytes.get(position + 8) else {
                    return Some(ended_early(frames, true));
                };
                // Descriptor, local colour table, LZW minimum code size.
                position += 9 + colour_table_size(local_flags) + 1;
                position = match skip_sub_blocks(bytes, position) {
                    Some(end) => end,
                    None => return Some(ended_early(frames, true)),
                };
                frames += 1;
            }
            other => {
                return Some(Damage::salvageable(format!(
                    "the GIF data is damaged: an unknown block (0x{other:02X}) at byte {} after frame {frames}",
                    position - 1
                )))
            }
        }
    }
}

fn colour_table_size(flags: u8) -> usize {
    if flags & 0x80 != 0 {
        3 << ((flags & 7) + 1)
    } else {
        0
    }
}

/// The position after a chain of sub-blocks (each a length byte and data, ended by a zero
/// length); `None` when the file ends first.
fn skip_sub_blocks(bytes: &[u8], mut position: usize) -> Option<usize> {
    loop {
        let length = usize::from(*bytes.get(position)?);
        position += 1 + length;
        if length == 0 {
            return Some(position);
        }
        if position > bytes.len() {
            return None;
        }
    }
}

fn ended_early(frames: u32, inside_frame: bool) -> Damage {
    let plural = |n: u32| if n == 1 { "" } else { "s" };
    if inside_frame {
        Damage::salvageable(format!(
            "the GIF data ends early, inside frame {} ({frames} whole frame{} before it)",
            frames + 1,
            plural(frames)
        ))
    } else if frames == 0 {
        Damage::fatal("the GIF data ends early, before its first frame")
    } else {
        Damage::salvageable(format!(
            "the GIF data ends early: it lacks its trailer after {frames} frame{} (more may have followed)",
            plural(frames)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn animation() -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = gif::Encoder::new(&mut out, 8, 8, &[0, 0, 0, 255, 255, 255]).unwrap();
            for i in 0..3u8 {
                let frame = gif::Frame { width: 8, height: 8, buffer: vec![i % 2; 64].into(), ..Default::default() };
                encoder.write_frame(&frame).unwrap();
            }
        }
        out
    }

    #[test]
    fn whole_gif_passes_and_cuts_fail() {
        let gif = animation();
        assert_eq!(check(&gif), None);
        for cut in [12, 20, gif.len() / 2, gif.len() - 1] {
            let damage = check(&gif[..cut]).unwrap_or_else(|| panic!("cut at {cut} passed"));
            assert!(damage.reason.contains("ends early"), "{damage}");
        }
        assert!(check(&gif[..gif.len() - 1]).unwrap().reason.contains("trailer after 3 frames"));
    }
}
