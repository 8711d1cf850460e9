//! JPEG: walks the marker segments by their lengths (so an EXIF thumbnail's own end-of-image
//! marker inside APP1 is passed over, not taken for the file's end), then each scan's
//! entropy-coded data to the next marker, up to the end-of-image marker after the last scan.
//!
//! A file that ends inside a sequential (baseline) scan is measured: its Huffman data is
//! decoded just far enough to count the blocks it still holds, which gives the share of the
//! picture that is missing. A progressive file cut short is named by its scan: every row has
//! its coarse pass, the finer ones are what is lost.
//!
//! What this cannot tell: JPEG has no checksum over its scans, so a byte changed inside the
//! entropy-coded data decodes into a wrong-looking block without any error.

use super::{percent, Damage};

/// What the frame header (SOF) says.
#[derive(Default, Clone, Copy)]
struct Component {
    id: u8,
    h: u8,
    v: u8,
}

#[derive(Default)]
struct Frame {
    width: u32,
    height: u32,
    components: Vec<Component>,
    progressive: bool,
    arithmetic: bool,
}

pub(super) fn check(bytes: &[u8]) -> Option<Damage> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Some(Damage::fatal("it does not start with a JPEG start-of-image marker"));
    }
    let mut tables = HuffmanTables::default();
    let mut frame: Option<Frame> = None;
    let mut restart_interval = 0u32;
    let mut scans = 0u32;
    let mut position = 2usize;
    loop {
        // Fill bytes (0xFF runs) may stand before any marker.
        let Some(offset) = bytes.get(position..).and_then(|rest| rest.iter().position(|&b| b != 0xFF)) else {
            return Some(ended_between_segments(scans));
        };
        if offset == 0 {
            return Some(Damage::salvageable(format!(
                "the JPEG data is corrupt: stray bytes where a marker should be (at byte {position})"
            )));
        }
        position += offset;
        let marker = bytes[position];
        position += 1;
        match marker {
            0xD9 if scans == 0 => return Some(Damage::fatal("the JPEG holds no picture data (no scan)")),
            0xD9 => return None,
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let Some(length) = bytes.get(position..position + 2).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return Some(ended_in_segment(marker, scans));
        };
        if length < 2 {
            return Some(Damage::fatal(format!("its {} segment has an impossible length", segment_name(marker))));
        }
        let Some(body) = bytes.get(position + 2..position + length) else {
            return Some(ended_in_segment(marker, scans));
        };
        position += length;
        match marker {
            0xC4 => tables.define(body),
            0xDD => restart_interval = body.get(..2).map_or(0, |r| u32::from(u16::from_be_bytes([r[0], r[1]]))),
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => frame = Some(Frame::parse(marker, body)),
            0xDA => {
                scans += 1;
                let data = &bytes[position..];
                let end = scan_end(data);
                if end == data.len() {
                    return Some(match &frame {
                        Some(frame) => ended_in_scan(frame, &tables, body, restart_interval, data, scans),
                        None => Damage::fatal("the JPEG has picture data but no frame header"),
                    });
                }
                position += end;
            }
            _ => {}
        }
    }
}

fn segment_name(marker: u8) -> String {
    match marker {
        0xE1 => "EXIF (APP1)".into(),
        0xE0..=0xEF => format!("APP{}", marker - 0xE0),
        0xDB => "quantisation table".into(),
        0xC4 => "Huffman table".into(),
        0xDA => "scan header".into(),
        0xFE => "comment".into(),
        0xC0..=0xCF => "frame header".into(),
        other => format!("0xFF{other:02X}"),
    }
}

fn ended_between_segments(scans: u32) -> Damage {
    if scans == 0 {
        Damage::fatal("the JPEG data ends early, before its picture data: the whole picture is missing")
    } else {
        Damage::salvageable("the JPEG data ends early: it lacks its end-of-image marker")
    }
}

fn ended_in_segment(marker: u8, scans: u32) -> Damage {
    let name = segment_name(marker);
    if scans == 0 {
        Damage::fatal(format!(
            "the JPEG data ends early, inside its {name} segment before the picture data: the whole picture is missing"
        ))
    } else {
        Damage::salvageable(format!("the JPEG data ends early, inside its {name} segment after scan {scans}"))
    }
}

/// Where a scan's entropy-coded data ends: at the first marker that is neither a stuffed
/// 0xFF00 nor a restart marker; the data's length when none comes.
fn scan_end(data: &[u8]) -> usize {
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == 0xFF && !matches!(data[i + 1], 0x00 | 0xFF | 0xD0..=0xD7) {
            return i;
        }
        i += 1;
    }
    data.len()
}

fn ended_in_scan(
    frame: &Frame,
    tables: &HuffmanTables,
    scan_header: &[u8],
    restart_interval: u32,
    data: &[u8],
    scan: u32,
) -> Damage {
    if frame.progressive {
        return Damage::salvageable(if scan == 1 {
            "the JPEG data ends early, in the first scan of a progressive picture: most of the picture is missing"
                .to_string()
        } else {
            format!(
                "the JPEG data ends early, inside scan {scan} of a progressive picture: the detail it and any later \
                 scans add is missing"
            )
        });
    }
    let counted =
        if frame.arithmetic { None } else { count_blocks(frame, tables, scan_header, restart_interval, data) };
    let Some((done, total)) = counted else {
        return Damage::salvageable(format!("the JPEG data ends early, inside scan {scan}"));
    };
    let whole = if scan == 1 && frame.components.len() == usize::from(scan_header.first().copied().unwrap_or(0)) {
        "the picture"
    } else {
        "this scan's colour component"
    };
    if done >= total {
        Damage::salvageable(format!(
            "the JPEG data ends early: its end-of-image marker is missing (every block of {whole} is present)"
        ))
    } else {
        Damage::salvageable(format!("the JPEG data ends early: {} of {whole} is missing", percent(total - done, total)))
    }
}

impl Frame {
    fn parse(marker: u8, body: &[u8]) -> Frame {
        let read16 = |at: usize| body.get(at..at + 2).map_or(0, |b| u32::from(u16::from_be_bytes([b[0], b[1]])));
        let count = usize::from(body.get(5).copied().unwrap_or(0));
        let components = (0..count)
            .filter_map(|i| {
                let c = body.get(6 + i * 3..9 + i * 3)?;
                Some(Component { id: c[0], h: (c[1] >> 4).max(1), v: (c[1] & 15).max(1) })
            })
            .collect();
        Frame {
            height: read16(1),
            width: read16(3),
            components,
            progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
            arithmetic: marker >= 0xC9,
        }
    }
}

/// A Huffman table in libjpeg's canonical form: for each code length, the largest code
/// and where its symbols start.
#[derive(Clone)]
struct Huffman {
    max_code: [i32; 17],
    first_index: [i32; 17],
    min_code: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8], symbols: &[u8]) -> Huffman {
        let mut table =
            Huffman { max_code: [-1; 17], first_index: [0; 17], min_code: [0; 17], symbols: symbols.to_vec() };
        let (mut code, mut index) = (0i32, 0i32);
        for length in 1..=16 {
            let count = i32::from(counts[length - 1]);
            table.first_index[length] = index;
            table.min_code[length] = code;
            code += count;
            index += count;
            table.max_code[length] = if count > 0 { code - 1 } else { -1 };
            code <<= 1;
        }
        table
    }

    fn decode(&self, bits: &mut Bits) -> Option<u8> {
        let mut code = 0i32;
        for length in 1..=16 {
            code = (code << 1) | i32::from(bits.bit()?);
            if code <= self.max_code[length] && self.max_code[length] >= 0 {
                let index = self.first_index[length] + code - self.min_code[length];
                return self.symbols.get(usize::try_from(index).ok()?).copied();
            }
        }
        None
    }
}

#[derive(Default)]
struct HuffmanTables {
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
}

impl HuffmanTables {
    /// Reads every table of a DHT segment.
    fn define(&mut self, mut body: &[u8]) {
        while body.len() >= 17 {
            let (class, id) = (body[0] >> 4, usize::from(body[0] & 3));
            let counts = &body[1..17];
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let Some(symbols) = body.get(17..17 + total) else { return };
            let table = Some(Huffman::new(counts, symbols));
            if class == 0 {
                self.dc[id] = table;
            } else {
                self.ac[id] = table;
            }
            body = &body[17 + total..];
        }
    }
}

/// Bits of entropy-coded data, with stuffed zero bytes taken out.
struct Bits<'a> {
    data: &'a [u8],
    position: usize,
    current: u8,
    left: u8,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, position: 0, current: 0, left: 0 }
    }

    fn bit(&mut self) -> Option<u8> {
        if self.left == 0 {
            let byte = *self.data.get(self.position)?;
            self.position += if byte == 0xFF { 2 } else { 1 };
            self.current = byte;
            self.left = 8;
        }
        self.left -= 1;
        Some((self.current >> self.left) & 1)
    }

    fn skip(&mut self, count: u8) -> Option<()> {
        for _ in 0..count {
            self.bit()?;
        }
        Some(())
    }
}

/// How many MCUs of a sequential scan `data` holds whole, of how many the scan has.
fn count_blocks(
    frame: &Frame,
    tables: &HuffmanTables,
    scan_header: &[u8],
    restart_interval: u32,
    data: &[u8],
) -> Option<(u64, u64)> {
    let count = usize::from(*scan_header.first()?);
    let h_max = u32::from(frame.components.iter().map(|c| c.h).max()?);
    let v_max = u32::from(frame.components.iter().map(|c| c.v).max()?);
    // Per block of an MCU: its DC and AC tables.
    let mut mcu: Vec<(&Huffman, &Huffman)> = Vec::new();
    let mut single: Option<Component> = None;
    for i in 0..count {
        let entry = scan_header.get(1 + i * 2..3 + i * 2)?;
        let component = *frame.components.iter().find(|c| c.id == entry[0])?;
        let dc = tables.dc[usize::from(entry[1] >> 4 & 3)].as_ref()?;
        let ac = tables.ac[usize::from(entry[1] & 3)].as_ref()?;
        let blocks = if count == 1 { 1 } else { usize::from(component.h) * usize::from(component.v) };
        mcu.extend(std::iter::repeat_n((dc, ac), blocks));
        single = Some(component);
    }
    if frame.width == 0 || frame.height == 0 || mcu.is_empty() {
        return None;
    }
    let total = if count == 1 {
        // A non-interleaved scan codes the component's own blocks one by one.
        let component = single?;
        let width = (frame.width * u32::from(component.h)).div_ceil(h_max);
        let height = (frame.height * u32::from(component.v)).div_ceil(v_max);
        u64::from(width.div_ceil(8)) * u64::from(height.div_ceil(8))
    } else {
        u64::from(frame.width.div_ceil(8 * h_max)) * u64::from(frame.height.div_ceil(8 * v_max))
    };
    // Restart markers split the data into intervals of known length: whole ones count as
    // they are, only the last is decoded.
    let mut done = 0u64;
    let mut rest = data;
    if restart_interval > 0 {
        while let Some(at) = rest.windows(2).position(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1])) {
            done += u64::from(restart_interval);
            rest = &rest[at + 2..];
        }
    }
    let mut bits = Bits::new(rest);
    'mcus: while done < total {
        for (dc, ac) in &mcu {
            if decode_block(&mut bits, dc, ac).is_none() {
                break 'mcus;
            }
        }
        done += 1;
    }
    Some((done.min(total), total))
}

/// Reads past one block's coefficients; `None` when the data runs out (or is not valid).
fn decode_block(bits: &mut Bits, dc: &Huffman, ac: &Huffman) -> Option<()> {
    let size = dc.decode(bits)?;
    bits.skip(size)?;
    let mut k = 1;
    while k < 64 {
        let symbol = ac.decode(bits)?;
        let (run, size) = (symbol >> 4, symbol & 15);
        if size == 0 {
            if run != 15 {
                break;
            }
            k += 16;
        } else {
            k += usize::from(run);
            bits.skip(size)?;
            k += 1;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels() -> image::RgbImage {
        image::RgbImage::from_fn(200, 120, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 3) as u8, 90]))
    }

    /// A sequential JPEG, from the image crate's own (baseline) encoder.
    fn photo() -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&pixels()).unwrap();
        out
    }

    #[cfg(feature = "jpeg")]
    fn progressive() -> Vec<u8> {
        let mut encoder = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        encoder.set_size(200, 120);
        encoder.set_quality(85.0);
        encoder.set_progressive_mode();
        let mut started = encoder.start_compress(Vec::new()).unwrap();
        started.write_scanlines(pixels().as_raw()).unwrap();
        started.finish().unwrap()
    }

    #[test]
    fn whole_jpegs_pass() {
        assert_eq!(check(&photo()), None);
    }

    #[test]
    fn a_baseline_cut_says_how_much_is_missing() {
        let jpeg = photo();
        let damage = check(&jpeg[..jpeg.len() / 2]).unwrap();
        assert!(damage.reason.contains("% of the picture is missing"), "{damage}");
        assert!(damage.salvageable);
        let damage = check(&jpeg[..jpeg.len() - 2]).unwrap();
        assert!(damage.reason.contains("every block"), "{damage}");
        let damage = check(&jpeg[..jpeg.len() - 1]).unwrap();
        assert!(damage.reason.contains("end-of-image"), "{damage}");
    }

    #[cfg(feature = "jpeg")]
    #[test]
    fn a_progressive_cut_names_its_scan() {
        let jpeg = progressive();
        assert_eq!(check(&jpeg), None);
        let damage = check(&jpeg[..jpeg.len() * 3 / 4]).unwrap();
        assert!(damage.reason.contains("progressive"), "{damage}");
    }

    #[test]
    fn an_end_marker_inside_exif_is_not_the_end() {
        // An APP1 segment holding a whole thumbnail (with its own FFD9), then a cut.
        let jpeg = photo();
        let thumbnail = photo();
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((thumbnail.len() + 2 + 6) as u16).to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(&thumbnail);
        let camera = [&jpeg[..2], &app1, &jpeg[2..]].concat();
        assert_eq!(check(&camera), None);
        let cut = &camera[..app1.len() + 100];
        let damage = check(cut).unwrap();
        assert!(damage.reason.contains("whole picture is missing") || damage.reason.contains("missing"), "{damage}");
        let damage = check(&camera[..app1.len() - 10]).unwrap();
        assert!(damage.reason.contains("EXIF (APP1)"), "{damage}");
        assert!(!damage.salvageable);
    }

    #[test]
    fn garbage_never_panics() {
        for length in 0..64 {
            let bytes: Vec<u8> = (0..length).map(|i| [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02][i % 6]).collect();
            let _ = check(&bytes);
        }
    }
}
