//! Valid or widely accepted inputs that the `image` crate's decoders refuse, made decodable
//! without changing what they show. Only the copy handed to the decoders is changed: the
//! report's size and hashes are the original's.
//!
//! - A GIF with no colour table at all (the format allows it; decoders then pick a default):
//!   given a 256-grey global table, which is what Pillow and browsers show.
//! - A JPEG with an Adobe APP14 segment shorter than its 12 bytes of data (libjpeg, Pillow and
//!   browsers read past it): the segment is dropped, leaving the colour transform to the
//!   component count, as libjpeg does when the segment is absent.

use std::borrow::Cow;

use crate::detect::Format;

/// `input` as the decoders can read it.
pub(crate) fn decodable(input: &[u8], format: Format) -> Cow<'_, [u8]> {
    match format {
        Format::Gif => gif_with_default_palette(input),
        Format::Jpeg => jpeg_without_short_app14(input),
        _ => Cow::Borrowed(input),
    }
}

/// The logical screen descriptor ends at byte 13; its packed field (byte 10) says whether a
/// global colour table follows and how big it is.
fn gif_with_default_palette(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(&flags) = input.get(10) else { return Cow::Borrowed(input) };
    if flags & 0x80 != 0 || input.len() < 13 || !frames_lack_a_table(input) {
        return Cow::Borrowed(input);
    }
    let mut patched = Vec::with_capacity(input.len() + 768);
    patched.extend_from_slice(&input[..13]);
    // A table of 2^(7+1) = 256 entries; the colour resolution bits are kept.
    patched[10] = 0x80 | (flags & 0x70) | 0x07;
    for grey in 0..=255u8 {
        patched.extend_from_slice(&[grey, grey, grey]);
    }
    patched.extend_from_slice(&input[13..]);
    Cow::Owned(patched)
}

/// Whether some image in a GIF without a global table also has no local one (else the GIF is
/// readable as it is). Walks the blocks as far as they are well formed.
fn frames_lack_a_table(input: &[u8]) -> bool {
    let mut position = 13;
    while let Some(&block) = input.get(position) {
        position += 1;
        match block {
            0x2C => {
                let Some(&local) = input.get(position + 8) else { return false };
                if local & 0x80 == 0 {
                    return true;
                }
                position += 9 + (3 << ((local & 7) + 1)) + 1;
            }
            0x21 => position += 1,
            _ => return false,
        }
        // Sub-blocks up to their terminator.
        loop {
            let Some(&length) = input.get(position) else { return false };
            position += 1 + usize::from(length);
            if length == 0 {
                break;
            }
        }
    }
    false
}

/// Drops APP14 segments too short for the Adobe fields (`Adobe`, version, two flag words and
/// the transform: 12 bytes after the length).
fn jpeg_without_short_app14(input: &[u8]) -> Cow<'_, [u8]> {
    let mut short = Vec::new();
    let mut position = 2;
    while let (Some(&0xFF), Some(&marker)) = (input.get(position), input.get(position + 1)) {
        // The scans begin (the APPn segments come before them), or a marker without a length.
        if matches!(marker, 0xDA | 0xD9 | 0xD0..=0xD8 | 0x01 | 0xFF) {
            break;
        }
        let Some(length) = input.get(position + 2..position + 4).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            break;
        };
        if marker == 0xEE && length < 14 {
            short.push(position..position + 2 + length);
        }
        position += 2 + length;
    }
    if short.is_empty() {
        return Cow::Borrowed(input);
    }
    let mut kept = Vec::with_capacity(input.len());
    let mut from = 0;
    for range in short {
        kept.extend_from_slice(&input[from..range.start]);
        from = range.end.min(input.len());
    }
    kept.extend_from_slice(&input[from..]);
    Cow::Owned(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gif_with_its_own_table_and_a_jpeg_without_app14_are_left_as_they_are() {
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff;";
        assert!(matches!(decodable(gif, Format::Gif), Cow::Borrowed(_)));
        let jpeg = b"\xff\xd8\xff\xe0\x00\x04\x00\x00\xff\xda";
        assert!(matches!(decodable(jpeg, Format::Jpeg), Cow::Borrowed(_)));
    }

    #[test]
    fn a_short_app14_is_dropped_and_a_full_one_kept() {
        let short = b"\xff\xd8\xff\xee\x00\x0cAdobe\x00\x64\x00\x00\x00\xff\xdb\x00\x02\xff\xda";
        assert_eq!(&decodable(short, Format::Jpeg)[..], b"\xff\xd8\xff\xdb\x00\x02\xff\xda");
        let full = b"\xff\xd8\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01\xff\xda";
        assert!(matches!(decodable(full, Format::Jpeg), Cow::Borrowed(_)));
    }
}
