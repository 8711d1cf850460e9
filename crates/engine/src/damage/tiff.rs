//! TIFF: follows the chain of image file directories (IFDs) and checks that every strip or
//! tile each one points at lies inside the file. TIFF has no checksum; a cut file points
//! past its end. BigTIFF is not walked (its decoder reports what it cannot read).

use super::{percent, Damage};

const STRIP_OFFSETS: u16 = 273;
const STRIP_BYTE_COUNTS: u16 = 279;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
/// More directories than any real file has: a loop in the chain ends here.
const MOST_DIRECTORIES: usize = 10_000;

struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at + 2)?;
        Some(if self.big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at + 4)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    /// The values of the 12-byte directory entry at `entry`, when they are SHORTs or LONGs.
    fn values(&self, entry: usize, ended_early: impl Fn(&str) -> Damage) -> Option<Result<Vec<u64>, Damage>> {
        let kind = self.u16(entry + 2)?;
        let count = self.u32(entry + 4)? as usize;
        let width = match kind {
            3 => 2,
            4 => 4,
            _ => return None,
        };
        let inline = count * width <= 4;
        let start = if inline { entry + 8 } else { self.u32(entry + 8)? as usize };
        if start.checked_add(count.checked_mul(width)?)? > self.bytes.len() {
            return Some(Err(ended_early("inside a directory's list of data offsets")));
        }
        let read = |i: usize| {
            if width == 2 {
                self.u16(start + i * 2).map(u64::from)
            } else {
                self.u32(start + i * 4).map(u64::from)
            }
        };
        Some(Ok((0..count).filter_map(read).collect()))
    }
}

/// NewSubfileType: bit 0 marks a reduced-resolution copy (a thumbnail), not a page.
const NEW_SUBFILE_TYPE: u16 = 254;

/// How many pages (full-resolution images) the chain of directories holds; thumbnails are
/// not counted. 1 when the chain cannot be read (the decoder then says what is wrong).
pub(crate) fn pages(bytes: &[u8]) -> usize {
    let reader = Reader { bytes, big_endian: bytes.starts_with(b"MM") };
    if reader.u16(2) != Some(42) {
        return 1;
    }
    let mut directory = reader.u32(4).unwrap_or(0) as usize;
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    while directory != 0 && seen.insert(directory) && seen.len() <= MOST_DIRECTORIES {
        let Some(entries) = reader.u16(directory).map(usize::from) else { break };
        let reduced = (0..entries).any(|i| {
            let entry = directory + 2 + i * 12;
            // A LONG (or, in some writers, a SHORT) held in the entry itself.
            let kind = match reader.u16(entry + 2) {
                Some(3) => reader.u16(entry + 8).map(u32::from),
                _ => reader.u32(entry + 8),
            };
            reader.u16(entry) == Some(NEW_SUBFILE_TYPE) && kind.is_some_and(|kind| kind & 1 == 1)
        });
        if !reduced {
            pages += 1;
        }
        let Some(next) = reader.u32(directory + 2 + entries * 12) else { break };
        directory = next as usize;
    }
    pages.max(1)
}

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    let big_endian = bytes.starts_with(b"MM");
    let reader = Reader { bytes, big_endian };
    if reader.u16(2)? != 42 {
        return None; // BigTIFF (43) or not a TIFF: the decoder says.
    }
    let mut directory = reader.u32(4)? as usize;
    let (mut needed, mut missing) = (0u64, 0u64);
    // A chain that loops back is walked once.
    let mut seen = std::collections::HashSet::new();
    for index in 0..MOST_DIRECTORIES {
        if directory == 0 || !seen.insert(directory) {
            break;
        }
        // Past the first picture (the one decoded), a bad pointer is damage a decoder reads past.
        let ended_early = |place: &str| {
            let reason = format!("the TIFF data ends early, {place}");
            if index == 0 {
                Damage::fatal(reason)
            } else {
                Damage::salvageable(reason)
            }
        };
        let Some(entries) = reader.u16(directory) else {
            return Some(ended_early("before one of its image directories"));
        };
        let entries = usize::from(entries);
        let end = directory + 2 + entries * 12;
        if end + 4 > bytes.len() {
            return Some(ended_early("inside one of its image directories"));
        }
        let (mut offsets, mut counts) = (None, None);
        for i in 0..entries {
            let entry = directory + 2 + i * 12;
            match reader.u16(entry) {
                Some(STRIP_OFFSETS | TILE_OFFSETS) => offsets = reader.values(entry, ended_early),
                Some(STRIP_BYTE_COUNTS | TILE_BYTE_COUNTS) => counts = reader.values(entry, ended_early),
                _ => {}
            }
        }
        if let (Some(offsets), Some(counts)) = (offsets, counts) {
            let (offsets, counts) = match (offsets, counts) {
                (Ok(o), Ok(c)) => (o, c),
                (Err(damage), _) | (_, Err(damage)) => return Some(damage),
            };
            for (offset, count) in offsets.iter().zip(&counts) {
                needed = needed.saturating_add(*count);
                let length = bytes.len() as u64;
                let beyond = (offset + count).saturating_sub(length.max(*offset)).min(*count);
                missing = missing.saturating_add(beyond);
            }
        }
        directory = reader.u32(end)? as usize;
    }
    if missing > 0 {
        return Some(Damage::salvageable(format!(
            "the TIFF data ends early: {} of its image data is missing",
            percent(missing, needed)
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_tiff_points_past_its_end() {
        let image = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Tiff).unwrap();
        let tiff = out.into_inner();
        assert_eq!(check(&tiff), None);
        for cut in [8, 100, tiff.len() / 2, tiff.len() - 1] {
            assert!(check(&tiff[..cut]).is_some(), "cut at {cut} of {} passed", tiff.len());
        }
    }
}
