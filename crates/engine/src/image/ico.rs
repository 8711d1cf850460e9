//! ICO and CUR (favicons, Windows icons and cursors): every picture of the icon is made
//! smaller and the icon kept, its directory (sizes, colour counts, a cursor's hotspots)
//! unchanged but for where each picture now lies. PNG members go through oxipng, kept 8-bit
//! RGBA (icon readers, Windows among them, take no other PNG there); 32-bit
//! bitmap members (the usual 16–64 px sizes, stored uncompressed) become PNG when that is
//! smaller, as every reader since Windows Vista and every browser takes. Other bitmaps
//! (1, 4, 8 and 24 bits) are kept as they are.

use image::{DynamicImage, RgbaImage};

use super::{png, Metadata};
use crate::error::{corrupt, EngineError};
use crate::Format;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// One picture of the icon: its 16-byte directory entry and its data.
struct Member<'a> {
    entry: [u8; 16],
    data: &'a [u8],
}

fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The icon's kind (1 icon, 2 cursor) and members; an error naming what is wrong.
fn members(bytes: &[u8]) -> Result<(u16, Vec<Member<'_>>), EngineError> {
    if bytes.len() < 6 {
        return Err(corrupt(Format::Ico, "the file ends inside its header"));
    }
    let (kind, count) = (le16(bytes, 2), usize::from(le16(bytes, 4)));
    if bytes.len() < 6 + 16 * count {
        return Err(corrupt(Format::Ico, "the file ends inside its directory"));
    }
    let mut members = Vec::with_capacity(count);
    for index in 0..count {
        let at = 6 + 16 * index;
        let mut entry = [0u8; 16];
        entry.copy_from_slice(&bytes[at..at + 16]);
        let (size, offset) = (le32(&entry, 8) as usize, le32(&entry, 12) as usize);
        let data =
            offset.checked_add(size).and_then(|end| bytes.get(offset..end)).ok_or_else(|| EngineError::Damaged {
                reason: format!("the ICO data ends early: picture {} of {count} lies past the end", index + 1),
                salvageable: false,
            })?;
        members.push(Member { entry, data });
    }
    Ok((kind, members))
}

/// Damage a directory shows without decoding: a picture that lies past the end.
pub(crate) fn damage(bytes: &[u8]) -> Option<String> {
    match members(bytes) {
        Err(EngineError::Damaged { reason, .. }) => Some(reason),
        _ => None,
    }
}

/// A 32-bit bitmap member's pixels: BGRA rows, bottom up, then the 1-bit AND mask (used for
/// transparency only when no pixel has any alpha, as old writers left it).
fn bitmap_pixels(data: &[u8]) -> Option<RgbaImage> {
    if data.len() < 40 || le32(data, 0) < 40 || le16(data, 14) != 32 || le32(data, 16) != 0 {
        return None;
    }
    let width = u32::try_from(i32::from_le_bytes(data[4..8].try_into().ok()?)).ok()?;
    // The height counts the colour rows and the mask's.
    let height = u32::try_from(i32::from_le_bytes(data[8..12].try_into().ok()?)).ok()? / 2;
    if width == 0 || height == 0 || width > 1024 || height > 1024 {
        return None;
    }
    let pixels_at = le32(data, 0) as usize;
    let row = width as usize * 4;
    let mask_row = (width as usize).div_ceil(32) * 4;
    let pixels = data.get(pixels_at..pixels_at + row * height as usize)?;
    let mask = data.get(pixels_at + row * height as usize..);
    let any_alpha = pixels.chunks_exact(4).any(|p| p[3] != 0);
    let mut image = RgbaImage::new(width, height);
    for y in 0..height {
        let source = (height - 1 - y) as usize;
        for x in 0..width {
            let p = &pixels[source * row + x as usize * 4..][..4];
            let alpha = if any_alpha {
                p[3]
            } else {
                let bit = mask
                    .and_then(|m| m.get(source * mask_row + x as usize / 8))
                    .map_or(0, |byte| byte >> (7 - x % 8) & 1);
                if bit == 1 {
                    0
                } else {
                    255
                }
            };
            image.put_pixel(x, y, image::Rgba([p[2], p[1], p[0], alpha]));
        }
    }
    Some(image)
}

/// The icon with every member made as small as it losslessly gets; and what was done.
pub(crate) fn optimize(bytes: &[u8], oxipng_preset: u8) -> Result<(Vec<u8>, String), EngineError> {
    let (kind, members) = members(bytes)?;
    let (mut pngs, mut converted) = (0, 0);
    let mut datas: Vec<Vec<u8>> = Vec::with_capacity(members.len());
    for member in &members {
        let smaller = if member.data.starts_with(PNG_SIGNATURE) {
            pngs += 1;
            png::optimize_keeping_rgba(member.data, oxipng_preset)?
        } else if let Some(pixels) = bitmap_pixels(member.data) {
            let png = png::encode_lossless(&DynamicImage::ImageRgba8(pixels), &Metadata::default())?;
            let png = png::optimize_keeping_rgba(&png, oxipng_preset)?;
            if png.len() < member.data.len() {
                converted += 1;
            }
            png
        } else {
            member.data.to_vec()
        };
        datas.push(if smaller.len() < member.data.len() { smaller } else { member.data.to_vec() });
    }
    let mut out = vec![0, 0];
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    let mut offset = 6 + 16 * members.len();
    for (member, data) in members.iter().zip(&datas) {
        let mut entry = member.entry;
        entry[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        entry[12..16].copy_from_slice(&(offset as u32).to_le_bytes());
        out.extend_from_slice(&entry);
        offset += data.len();
    }
    for data in &datas {
        out.extend_from_slice(data);
    }
    let what = if kind == 2 { "cursor" } else { "icon" };
    let action = format!(
        "{what} kept with its {} pictures: {pngs} PNG optimised (oxipng -o{oxipng_preset}), {converted} 32-bit bitmap{} stored as PNG",
        members.len(),
        if converted == 1 { "" } else { "s" }
    );
    Ok((out, action))
}

/// Every member reads back: PNGs decode, 32-bit bitmaps are read here, and other bitmaps (kept
/// byte for byte) lie inside the file. Not the `image` crate's ICO decoder: it refuses the
/// RGB PNG members that Windows, Pillow and ImageMagick read (and write).
pub(crate) fn verify(bytes: &[u8]) -> Result<(u32, u32), EngineError> {
    let (_, members) = members(bytes)?;
    let mut largest = (0, 0);
    for (index, member) in members.iter().enumerate() {
        let size = if member.data.starts_with(PNG_SIGNATURE) {
            let image = image::load_from_memory_with_format(member.data, image::ImageFormat::Png)
                .map_err(|e| corrupt(Format::Ico, format!("picture {}: {e}", index + 1)))?;
            (image.width(), image.height())
        } else if let Some(pixels) = bitmap_pixels(member.data) {
            pixels.dimensions()
        } else {
            // A stored size of 0 means 256.
            let side = |b: u8| if b == 0 { 256 } else { u32::from(b) };
            (side(member.entry[0]), side(member.entry[1]))
        };
        if size.0 * size.1 > largest.0 * largest.1 {
            largest = size;
        }
    }
    Ok(largest)
}
