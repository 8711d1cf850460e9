//! Matroska and WebM: EBML elements, each an ID (a variable-length integer of 1 to 4 bytes,
//! its length marker kept) and a size (1 to 8 bytes; all ones means "unknown"), then the
//! data. After the EBML header comes the Segment, whose size says how long the file should
//! be; its children (SeekHead, Info, Tracks, Clusters of frames, Cues…) are walked by their
//! sizes too, which finds the cut in a file whose Segment size was never written (a live
//! recording). A Cluster of unknown size is walked into: its blocks are read as if they were
//! the Segment's children, which works because no Cluster child has a Segment child's ID.
//!
//! What this cannot tell: a recording with an unknown Segment size cut exactly between two
//! elements, or damage inside a frame (Matroska's optional CRC-32 elements are not checked).

use super::{percent, Damage};
use crate::Format;

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const CLUSTER: u32 = 0x1F43_B675;
const VOID: u32 = 0xEC;

/// Element headers read at most, so any input is walked in bounded time; a real file has a
/// few per frame, so this covers many hours of video.
const MAX_ELEMENTS: usize = 1 << 22;

pub(super) fn check(bytes: &[u8], format: Format) -> Option<Damage> {
    let name = format.name();
    let len = bytes.len() as u64;
    let header = match read(bytes, 0) {
        Read::Element(header) if header.id == EBML => header,
        Read::Cut => return Some(Damage::fatal(format!("the {name} file ends early, inside its EBML header"))),
        _ => return None,
    };
    let mut position = header.data.checked_add(header.size?)?;
    if position > len {
        return Some(Damage::fatal(format!("the {name} file ends early, inside its EBML header")));
    }
    // Void elements may pad the space before the Segment.
    let segment = loop {
        if position >= len {
            return Some(Damage::fatal(format!(
                "the {name} file ends early, right after its EBML header: it holds no tracks and no frames"
            )));
        }
        match read(bytes, position) {
            Read::Element(element) if element.id == SEGMENT => break element,
            Read::Element(Element { id: VOID, size: Some(size), data }) => position = data.checked_add(size)?,
            Read::Cut => {
                return Some(Damage::fatal(format!("the {name} file ends early, inside its segment's header")))
            }
            _ => return None,
        }
    };
    let segment_end = segment.size.and_then(|size| segment.data.checked_add(size));
    let walk = walk(bytes, segment.data, segment_end.map_or(len, |end| end.min(len)));
    // Without a Cluster before the cut there are no frames: FFmpeg reads tracks it has no
    // packets for, or fails on a cut Tracks element.
    let damaged = |reason: String| {
        if walk.seen_cluster || matches!(walk.end, End::Lost) {
            Damage::salvageable(reason)
        } else {
            Damage::fatal(reason)
        }
    };
    if let Some(end) = segment_end.filter(|&end| end > len) {
        return Some(damaged(format!(
            "the {name} file ends early: its header says {} bytes, the file has {} ({} missing)",
            super::bytes(end),
            super::bytes(len),
            percent(end - len, end)
        )));
    }
    match walk.end {
        End::Cut { id, size, missing } => Some(damaged(format!(
            "the {name} file ends early, inside {} ({} of it missing)",
            element_name(id),
            percent(missing, size)
        ))),
        End::CutHeader => Some(damaged(format!("the {name} file ends early, inside the header of an element"))),
        End::Whole | End::Lost => None,
    }
}

struct Element {
    id: u32,
    /// `None`: unknown, the element runs until something that cannot be inside it.
    size: Option<u64>,
    /// Where its data starts.
    data: u64,
}

enum Read {
    Element(Element),
    /// The file ends inside the element's ID or size.
    Cut,
    /// Not an element: a length marker that no ID or size has.
    Invalid,
}

fn read(bytes: &[u8], at: u64) -> Read {
    let Ok(at) = usize::try_from(at) else { return Read::Cut };
    let Some(&first) = bytes.get(at) else { return Read::Cut };
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return Read::Invalid;
    }
    let Some(id) = bytes.get(at..at + id_len) else { return Read::Cut };
    let id = id.iter().fold(0u32, |value, &b| (value << 8) | u32::from(b));
    let size_at = at + id_len;
    let Some(&first) = bytes.get(size_at) else { return Read::Cut };
    if first == 0 {
        return Read::Invalid;
    }
    let size_len = first.leading_zeros() as usize + 1;
    let Some(size) = bytes.get(size_at..size_at + size_len) else { return Read::Cut };
    let raw = size.iter().fold(0u64, |value, &b| (value << 8) | u64::from(b));
    let all_ones = (1u64 << (7 * size_len)) - 1;
    let size = raw & all_ones;
    Read::Element(Element { id, size: (size != all_ones).then_some(size), data: (size_at + size_len) as u64 })
}

struct Walk {
    /// A Cluster started before the walk ended: there are frames to salvage.
    seen_cluster: bool,
    end: End,
}

#[derive(Clone, Copy)]
enum End {
    /// Every element fits.
    Whole,
    /// The file ends inside element `id`, `missing` bytes of its `size` short.
    Cut {
        id: u32,
        size: u64,
        missing: u64,
    },
    CutHeader,
    /// Something that is no element, an element that overruns its Segment but not the file,
    /// or too many elements: no cut to tell of.
    Lost,
}

/// Walks the elements from `start` to `limit` (the Segment's end, or the file's when its
/// size is unknown), walking into Clusters of unknown size.
fn walk(bytes: &[u8], start: u64, limit: u64) -> Walk {
    let len = bytes.len() as u64;
    let mut seen_cluster = false;
    let mut position = start;
    for _ in 0..MAX_ELEMENTS {
        if position >= limit {
            return Walk { seen_cluster, end: End::Whole };
        }
        let element = match read(bytes, position) {
            Read::Element(element) => element,
            Read::Cut => return Walk { seen_cluster, end: End::CutHeader },
            Read::Invalid => return Walk { seen_cluster, end: End::Lost },
        };
        seen_cluster |= element.id == CLUSTER;
        position = match element.size {
            None if element.id == CLUSTER => element.data,
            None => return Walk { seen_cluster, end: End::Lost },
            Some(size) => match element.data.checked_add(size) {
                Some(end) if end <= limit => end,
                // Only when the walk goes to the end of the file: past a Segment's end that
                // fits in the file, the sizes disagree with each other, not with the file.
                Some(end) if end > len && limit == len => {
                    let missing = end - len.max(element.data);
                    return Walk { seen_cluster, end: End::Cut { id: element.id, size, missing } };
                }
                _ => return Walk { seen_cluster, end: End::Lost },
            },
        };
    }
    Walk { seen_cluster, end: End::Lost }
}

fn element_name(id: u32) -> String {
    let known = match id {
        0x114D_9B74 => "SeekHead",
        0x1549_A966 => "Info",
        0x1654_AE6B => "Tracks",
        CLUSTER => "Cluster",
        0x1C53_BB6B => "Cues",
        0x1043_A770 => "Chapters",
        0x1254_C367 => "Tags",
        0x1941_A469 => "Attachments",
        0xA3 => "SimpleBlock",
        0xA0 => "BlockGroup",
        VOID => "Void",
        _ => return format!("an element (ID 0x{id:X})"),
    };
    format!("its '{known}' element")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACKS: u32 = 0x1654_AE6B;
    const SIMPLE_BLOCK: u32 = 0xA3;

    fn id_bytes(id: u32) -> Vec<u8> {
        id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect()
    }

    fn element(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = id_bytes(id);
        if payload.len() < 127 {
            out.push(0x80 | payload.len() as u8);
        } else {
            out.push(0x01);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes()[1..]);
        }
        out.extend_from_slice(payload);
        out
    }

    fn unknown_size(id: u32, payload: &[u8]) -> Vec<u8> {
        [id_bytes(id), vec![0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], payload.to_vec()].concat()
    }

    fn cluster(frames: usize) -> Vec<u8> {
        let mut payload = element(0xE7, &[0]);
        for i in 0..frames {
            payload.extend_from_slice(&element(SIMPLE_BLOCK, &[i as u8; 200]));
        }
        payload
    }

    /// A file whose Segment has its size, as a seekable writer leaves it.
    fn file() -> Vec<u8> {
        let header = element(EBML, &[element(0x4282, b"webm"), element(0x4287, &[4])].concat());
        let children = [
            element(0x114D_9B74, &[0; 10]),
            element(VOID, &[0; 30]),
            element(0x1549_A966, &[0x11; 20]),
            element(TRACKS, &[0x55; 40]),
            element(CLUSTER, &cluster(3)),
            element(CLUSTER, &cluster(3)),
            element(0x1C53_BB6B, &[0; 20]),
        ]
        .concat();
        [header, element(SEGMENT, &children)].concat()
    }

    /// A live recording: the Segment's and Clusters' sizes unknown.
    fn live() -> Vec<u8> {
        let header = element(EBML, &[element(0x4282, b"webm")].concat());
        let children = [
            element(0x1549_A966, &[0x11; 20]),
            element(TRACKS, &[0x55; 40]),
            unknown_size(CLUSTER, &cluster(3)),
            unknown_size(CLUSTER, &cluster(3)),
        ]
        .concat();
        [header, unknown_size(SEGMENT, &children)].concat()
    }

    #[test]
    fn whole_files_pass() {
        assert_eq!(check(&file(), Format::Webm), None);
        assert_eq!(check(&live(), Format::Webm), None);
        // A known-size Cluster inside a live recording, and data after a whole Segment.
        let mixed = [live(), element(CLUSTER, &cluster(1))].concat();
        assert_eq!(check(&mixed, Format::Mkv), None);
        assert_eq!(check(&[file(), vec![0; 100]].concat(), Format::Mkv), None);
    }

    #[test]
    fn a_cut_file_says_how_much_is_missing() {
        let file = file();
        let damage = check(&file[..file.len() / 2], Format::Webm).unwrap();
        assert!(damage.salvageable);
        let expected = format!(
            "the WebM file ends early: its header says {} bytes, the file has {} (50 % missing)",
            super::super::bytes(file.len() as u64),
            super::super::bytes(file.len() as u64 / 2)
        );
        assert_eq!(damage.reason, expected);
        // Cut before the first Cluster: nothing to play.
        let tracks = file.windows(2).position(|w| w == [0xAE, 0x6B]).unwrap();
        let damage = check(&file[..tracks + 20], Format::Mkv).unwrap();
        assert!(!damage.salvageable, "{}", damage.reason);
        assert!(damage.reason.starts_with("the Matroska file ends early: its header says"));
    }

    #[test]
    fn a_cut_live_recording_is_found_in_its_blocks() {
        let file = live();
        // A block: its ID, an 8-byte size and 200 bytes.
        let last_block = file.len() - 209;
        let damage = check(&file[..last_block + 109], Format::Webm).unwrap();
        assert!(damage.salvageable);
        assert_eq!(damage.reason, "the WebM file ends early, inside its 'SimpleBlock' element (50 % of it missing)");
        let damage = check(&file[..last_block + 2], Format::Webm).unwrap();
        assert_eq!(damage.reason, "the WebM file ends early, inside the header of an element");
        // Cut between two blocks: nothing says more was to come.
        assert_eq!(check(&file[..last_block], Format::Webm), None);
        // Cut inside the Tracks: fatal.
        let tracks = file.windows(2).position(|w| w == [0xAE, 0x6B]).unwrap();
        let damage = check(&file[..tracks + 3 + 20], Format::Webm).unwrap();
        assert!(!damage.salvageable);
        assert_eq!(damage.reason, "the WebM file ends early, inside its 'Tracks' element (50 % of it missing)");
    }

    #[test]
    fn a_file_cut_in_its_header_is_fatal() {
        let file = file();
        let damage = check(&file[..10], Format::Mkv).unwrap();
        assert!(!damage.salvageable);
        assert_eq!(damage.reason, "the Matroska file ends early, inside its EBML header");
        let header_end = file.windows(4).position(|w| w == SEGMENT.to_be_bytes()).unwrap();
        let damage = check(&file[..header_end], Format::Mkv).unwrap();
        assert!(!damage.salvageable);
        assert!(damage.reason.contains("right after its EBML header"));
        assert!(check(&file[..header_end + 3], Format::Mkv).unwrap().reason.contains("inside its segment's header"));
    }

    #[test]
    fn every_cut_and_garbage_never_panics() {
        for file in [file(), live()] {
            for cut in 0..file.len() {
                let _ = check(&file[..cut], Format::Mkv);
            }
            let mut garbage = file.clone();
            for (i, b) in garbage.iter_mut().enumerate().skip(4) {
                *b = (i as u8).wrapping_mul(97) ^ 0x5A;
            }
            let _ = check(&garbage, Format::Mkv);
        }
        // Every cut of a file whose Segment has its size is seen.
        let file = file();
        let segment = file.windows(4).position(|w| w == SEGMENT.to_be_bytes()).unwrap();
        for cut in segment..file.len() {
            assert!(check(&file[..cut], Format::Mkv).is_some(), "cut at {cut}");
        }
        let _ = check(&[0x1A, 0x45, 0xDF, 0xA3, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE], Format::Mkv);
        let _ = check(&[0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67, 0xFF, 0, 0, 0], Format::Mkv);
        let _ =
            check(&[0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67, 0x81, 0x1F, 0x43, 0xB6, 0x75], Format::Mkv);
    }
}
