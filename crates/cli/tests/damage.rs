//! Damaged inputs, generated rather than picked by hand: real files of every kind Compressor
//! reads, from more than one source, cut short at 1, 2, 5, 10, 25, 50, 75, 90 and 99 % of
//! their length and one byte short, and, where the format keeps a checksum (PNG's chunk CRCs,
//! ZIP's member CRCs, gzip's CRC), with one bit flipped inside the data it covers.
//!
//! The sources come from the fetched media (`tests/media/fetch.sh`) and the committed
//! fixtures, and the derived ones are made here by independent tools (ImageMagick, exiftool,
//! FFmpeg, qpdf, Ghostscript, Python's zipfile, tar and gzip), never by our code:
//!
//! | source | made by |
//! | --- | --- |
//! | JPEG from a Canon EOS 70D, EXIF thumbnail | fetched `FallenLeaf.jpg` as it is |
//! | JPEG 1680×1050, EXIF thumbnail | ImageMagick from `Kite.jpg`, exiftool adds Canon EXIF and a 160×100 thumbnail |
//! | JPEG progressive, Sony EXIF thumbnail | ImageMagick `-interlace Plane` from `ColorfulCups.jpg` (metadata kept) |
//! | JPEG baseline | fixture `photo.jpg` |
//! | PNG RGB, PNG grey | fetched `chelsea.png`, `camera.png` |
//! | GIF animated ×2 | fixture `anim.gif` (Pillow); FFmpeg from `vtest.avi` |
//! | WebP lossy, WebP lossy with alpha | fixture `photo.webp`; FFmpeg (libwebp) from fixture `alpha.png` |
//! | PDF ×2 | qpdf (pages 1-3) and Ghostscript's pdfwrite (pages 5-6) from `GS9_Color_Management.pdf` |
//! | MP4 ×2 | FFmpeg (x264) from `vtest.avi`: 2 s with `-movflags +faststart`, and 2 s with AAC sound, moov last |
//! | AVI ×2 | FFmpeg `-c copy` of 2 s of `vtest.avi`; fetched `Megamind.avi` (Xvid + AC-3) as it is |
//! | WAV, Ogg Vorbis | fetched `Front_Center.wav`, `complete.oga` |
//! | MP3, FLAC | FFmpeg (libmp3lame, flac) from `Front_Center.wav`, `Noise.wav` |
//! | DOCX, XLSX, ODT | fixtures in `tests/fixtures/documents` |
//! | ZIP | Python's zipfile: a JPEG stored, text and a PNG deflated |
//! | tar.gz | `tar -czf` of fixture scripts and notes |
//!
//! The rule, for every damaged file: by default it is `failed` with a reason, nothing is
//! written for it anywhere (beside it, in an output folder, in a bucket, in place) and the
//! original is left as it was; with `{"damaged": "salvage"}` it may instead be `compressed` or
//! `skipped` with a warning in `report.warnings` naming the damage. Never a silent
//! `compressed`. The few cases no reader can tell from an intact file are listed in
//! `UNDETECTABLE`, with the reason (the README names them too); for those the test checks
//! their premise and that whatever comes out decodes.
//!
//! `cargo test --workspace --test damage -- --nocapture` (the workspace, so that the media
//! module is built too) prints the table, kind × damage → failed, warned or SILENT, and what
//! each run said; a failure prints the table too, with every broken case, not only the first.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// ImageMagick, by full path: another `convert` earlier on PATH may not be ImageMagick.
const CONVERT: &str = "/usr/bin/convert";

/// Where the cuts fall, in percent of the file's length.
const CUT_PERCENTS: [u8; 9] = [1, 2, 5, 10, 25, 50, 75, 90, 99];

/// What was done to a copy of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Case {
    /// Only the first `n` % of the file is left.
    Cut(u8),
    /// All but the last byte.
    OneByteShort,
    /// One bit flipped in data a checksum covers (for JPEG, in data no checksum covers).
    Flip,
}

impl Case {
    fn all() -> Vec<Case> {
        let mut cases: Vec<Case> = CUT_PERCENTS.iter().map(|&percent| Case::Cut(percent)).collect();
        cases.extend([Case::OneByteShort, Case::Flip]);
        cases
    }

    /// The part of the damaged copy's name that says what was done.
    fn tag(self) -> String {
        match self {
            Case::Cut(percent) => format!("cut{percent:02}"),
            Case::OneByteShort => "short1".into(),
            Case::Flip => "flip".into(),
        }
    }

    fn column(self) -> String {
        match self {
            Case::Cut(percent) => format!("{percent} %"),
            Case::OneByteShort => "-1 B".into(),
            Case::Flip => "flip".into(),
        }
    }
}

/// Where a source's bit flip goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FlipIn {
    /// The middle of the longest entropy-coded segment of a JPEG, which no checksum covers.
    JpegScan,
    /// The middle of the first IDAT chunk's data: the chunk's CRC-32 covers it.
    PngIdat,
    /// The middle of a ZIP member's data (a stored one when there is one, so that only the
    /// member's CRC-32 can tell): the CRC-32 in its headers covers it.
    ZipMember,
    /// The middle of a gzip member's deflate data: its CRC-32 and length cover it.
    GzipData,
}

const JPEG_HAS_NO_CHECKSUM: &str =
    "JPEG has no checksum over its entropy-coded data: a flipped bit mid-scan decodes, to other pixels";
const PDF_LAST_BYTE_IS_AN_END_OF_LINE: &str =
    "the byte cut is the end-of-line after %%EOF: nothing of the document is lost";

/// The cases no reader can tell from an intact file, with the reason (named in the README).
/// Any outcome is accepted for them, but what comes out must decode, and their premise is
/// checked on the bytes so that this list cannot silently go stale.
const UNDETECTABLE: &[(&str, Case, &str)] = &[
    ("jpeg-canon", Case::Flip, JPEG_HAS_NO_CHECKSUM),
    ("jpeg-exiftool", Case::Flip, JPEG_HAS_NO_CHECKSUM),
    ("jpeg-progressive", Case::Flip, JPEG_HAS_NO_CHECKSUM),
    ("jpeg-baseline", Case::Flip, JPEG_HAS_NO_CHECKSUM),
    ("pdf-qpdf", Case::OneByteShort, PDF_LAST_BYTE_IS_AN_END_OF_LINE),
    ("pdf-gs", Case::OneByteShort, PDF_LAST_BYTE_IS_AN_END_OF_LINE),
];

/// Words a message naming damage uses, in lower case. Lenient on purpose: the wording is
/// the engine's to choose, this only tells a damage warning from an unrelated one.
const DAMAGE_WORDS: &[&str] = &[
    "damage",
    "truncat",
    "ends early",
    "end early",
    "cut short",
    "incomplete",
    "crc",
    "checksum",
    "corrupt",
    "salvag",
];

fn names_damage(text: &str) -> bool {
    let text = text.to_lowercase();
    DAMAGE_WORDS.iter().any(|word| text.contains(word))
}

/// An intact file of the corpus.
struct Source {
    /// The start of its copies' names.
    id: &'static str,
    /// Its row in the table.
    label: &'static str,
    /// What its copies' names end with.
    ext: &'static str,
    path: PathBuf,
    flip: Option<FlipIn>,
}

impl Source {
    fn new(id: &'static str, label: &'static str, ext: &'static str, path: PathBuf, flip: Option<FlipIn>) -> Source {
        Source { id, label, ext, path, flip }
    }
}

/// A damaged copy of a source.
struct Damaged {
    source: usize,
    case: Case,
    path: PathBuf,
    sha256: String,
    /// Every file written for this copy starts with it (`jpeg-canon.cut05.`).
    prefix: String,
    /// Why no reader can tell, for the cases in `UNDETECTABLE`.
    undetectable: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    /// The default options: damaged files are refused.
    Refuse,
    /// `{"damaged": "salvage"}`.
    Salvage,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Refuse => "default",
            Mode::Salvage => "salvage",
        }
    }
}

#[test]
fn every_damaged_file_fails_or_warns_and_is_never_silently_compressed() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let home = home.path();
    let sources = build_corpus(&home.join("sources"), &home.join("work"));

    // The intact sources first: each must compress (or be kept) without a word about
    // damage, or the corpus proves nothing.
    let intact_out = home.join("out-intact");
    let intact: Vec<PathBuf> = sources.iter().map(|source| source.path.clone()).collect();
    let output = run(compressor(home).args(["compress", "--json", "-j", "2", "--out"]).arg(&intact_out).args(&intact));
    let lines = lines_by_name(&output);
    let mut bad = Vec::new();
    for source in &sources {
        match lines.get(&file_name(&source.path)) {
            None => bad.push(format!("{}: no JSON line", source.label)),
            Some(line) if line["status"] == "failed" || warnings(line).iter().any(|w| names_damage(w)) => {
                bad.push(format!("{}: {line}", source.label))
            }
            Some(_) => {}
        }
    }
    assert!(
        bad.is_empty(),
        "the corpus is bad: every intact source must be compressed or skipped with no damage warning\n{}\nstderr:\n{}",
        bad.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );

    // The damaged copies, named `<source>.<case>.<ext>`, all in one folder.
    let damaged_dir = home.join("damaged");
    fs::create_dir_all(&damaged_dir).expect("create the damaged folder");
    let mut failures = Vec::new();
    let mut cases = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let bytes = fs::read(&source.path).expect("read a source");
        for case in Case::all() {
            let Some(broken) = damage(&bytes, case, source.flip) else { continue };
            let prefix = format!("{}.{}.", source.id, case.tag());
            let path = damaged_dir.join(format!("{prefix}{}", source.ext));
            fs::write(&path, &broken).expect("write a damaged copy");
            let undetectable = UNDETECTABLE.iter().find(|(id, c, _)| *id == source.id && *c == case).map(|u| u.2);
            if undetectable.is_some() {
                if let Err(broken) = premise_holds(source, case, &bytes) {
                    failures.push(format!("{}: listed as undetectable, but {broken}", file_name(&path)));
                }
            }
            cases.push(Damaged { source: index, case, path, sha256: sha256(&broken), prefix, undetectable });
        }
    }
    for (id, case, _) in UNDETECTABLE {
        if !cases.iter().any(|d| sources[d.source].id == *id && d.case == *case) {
            failures.push(format!("UNDETECTABLE lists {id} {case:?}, which the corpus does not make"));
        }
    }
    let inputs: Vec<PathBuf> = cases.iter().map(|d| d.path.clone()).collect();
    let names: BTreeSet<String> = inputs.iter().map(|p| file_name(p)).collect();

    let mut cells: BTreeMap<(Mode, usize, Case), String> = BTreeMap::new();
    let mut log = String::new();
    for mode in [Mode::Refuse, Mode::Salvage] {
        let out = home.join(format!("out-{}", mode.name()));
        let mut command = compressor(home);
        command.args(["compress", "--json", "-j", "2", "--out"]).arg(&out);
        if mode == Mode::Salvage {
            command.args(["--options", r#"{"damaged": "salvage"}"#]);
        }
        let output = run(command.args(&inputs));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected_exit: &[i32] = if mode == Mode::Refuse { &[1] } else { &[0, 1] };
        if !output.status.code().is_some_and(|code| expected_exit.contains(&code)) {
            failures.push(format!("{} run: exit status {} (expected {expected_exit:?})", mode.name(), output.status));
        }
        if stderr.contains("panicked at") {
            failures.push(format!("{} run: a panic reached stderr:\n{stderr}", mode.name()));
        }
        let lines = lines_by_name(&output);
        if lines.len() != cases.len() {
            failures.push(format!("{} run: {} JSON lines for {} files", mode.name(), lines.len(), cases.len()));
        }
        let written = if out.exists() { support::files_under(&out) } else { Vec::new() };
        for damaged in &cases {
            let line = lines.get(&file_name(&damaged.path));
            let cell = judge(mode, damaged, line, &written, &mut failures);
            if let Some(line) = line {
                let said = match line["error"].as_str() {
                    Some(error) => error.to_string(),
                    None => warnings(line).join("; "),
                };
                writeln!(log, "{} [{}] {cell}: {said}", file_name(&damaged.path), mode.name()).unwrap();
            }
            cells.insert((mode, damaged.source, damaged.case), cell);
        }
        // The originals are as they were, and nothing was written beside them.
        for damaged in &cases {
            if sha256(&fs::read(&damaged.path).unwrap_or_default()) != damaged.sha256 {
                failures.push(format!("{} ({}): the original changed", file_name(&damaged.path), mode.name()));
            }
        }
        let present: BTreeSet<String> = support::files_under(&damaged_dir).iter().map(|p| file_name(p)).collect();
        if present != names {
            let extra: Vec<&String> = present.difference(&names).collect();
            let gone: Vec<&String> = names.difference(&present).collect();
            failures.push(format!("{} run: the damaged folder changed: new {extra:?}, gone {gone:?}", mode.name()));
        }
    }
    let leftovers: Vec<PathBuf> =
        support::files_under(home).into_iter().filter(|p| file_name(p).starts_with(".compressor-")).collect();
    if !leftovers.is_empty() {
        failures.push(format!("temporary files left behind: {leftovers:?}"));
    }

    let tables = format!(
        "{}\n{}\n{}",
        table("default options: damaged files are refused", &sources, &cells, Mode::Refuse),
        table(r#"{"damaged": "salvage"}"#, &sources, &cells, Mode::Salvage),
        footnotes(),
    );
    println!("{tables}\n\nWhat each run said:\n{log}");
    assert!(
        failures.is_empty(),
        "{tables}\n{} broken case(s):\n{}",
        failures.len(),
        failures.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n")
    );
}

/// Checks one damaged copy's outcome in one mode against the rule, records what breaks it,
/// and returns the table's cell.
fn judge(
    mode: Mode,
    damaged: &Damaged,
    line: Option<&Value>,
    written: &[PathBuf],
    failures: &mut Vec<String>,
) -> String {
    let name = file_name(&damaged.path);
    let mut fail = |what: String| failures.push(format!("{name} ({}): {what}", mode.name()));
    let Some(line) = line else {
        fail("no JSON line for it".into());
        return "MISSING".into();
    };
    let status = line["status"].as_str().unwrap_or("");
    let error = line["error"].as_str().unwrap_or("").trim();
    let mine: Vec<&PathBuf> = written.iter().filter(|p| file_name(p).starts_with(&damaged.prefix)).collect();
    let destination = line["destination"].as_str().map(PathBuf::from);

    if damaged.undetectable.is_some() {
        if status != "failed" {
            match &destination {
                Some(destination) => {
                    if let Err(why) = decodes(destination) {
                        fail(format!("{status}, and its output does not decode: {why}"));
                    }
                }
                None => fail(format!("{status} with no destination: {line}")),
            }
        }
        return format!("{status}†");
    }

    let cell = match status {
        "failed" if error.is_empty() => "NO REASON",
        "failed" => "failed",
        "compressed" | "skipped" if warnings(line).iter().any(|w| names_damage(w)) => "warned",
        "compressed" | "skipped" => "SILENT",
        _ => "??",
    };
    match (mode, cell) {
        (_, "NO REASON") => fail(format!("failed with no reason: {line}")),
        (_, "SILENT") => fail(format!("{status} with no warning naming the damage: {line}")),
        (_, "??") => fail(format!("unknown status: {line}")),
        (Mode::Refuse, "warned") => fail(format!("{status} (with a warning) though damaged files are refused: {line}")),
        _ => {}
    }
    if status == "failed" && !mine.is_empty() {
        fail(format!("refused, yet written: {mine:?}"));
    }
    if cell == "warned" && !destination.as_deref().is_some_and(Path::exists) {
        fail(format!("salvaged, but its destination is missing: {line}"));
    }
    cell.into()
}

fn table(title: &str, sources: &[Source], cells: &BTreeMap<(Mode, usize, Case), String>, mode: Mode) -> String {
    let label_width = sources.iter().map(|s| s.label.chars().count()).max().unwrap_or(0);
    let mut text = format!("{title}\n{:label_width$}", "");
    for case in Case::all() {
        write!(text, " {:>11}", case.column()).unwrap();
    }
    text.push('\n');
    for (index, source) in sources.iter().enumerate() {
        write!(text, "{:label_width$}", source.label).unwrap();
        for case in Case::all() {
            let cell = cells.get(&(mode, index, case)).map_or("n/a", String::as_str);
            write!(text, " {cell:>11}").unwrap();
        }
        text.push('\n');
    }
    text
}

fn footnotes() -> String {
    let mut text = String::from(
        "failed: refused with a reason; warned: salvaged with a warning naming the damage; \
         SILENT: compressed as if intact (the rule's failure); n/a: no checksum to flip a bit under\n\
         † undetectable (named in README), any outcome accepted if its output decodes:\n",
    );
    let mut reasons: Vec<(&str, Vec<String>)> = Vec::new();
    for (id, case, reason) in UNDETECTABLE {
        let which = format!("{id} {}", case.column());
        match reasons.iter_mut().find(|(r, _)| *r == *reason) {
            Some((_, all)) => all.push(which),
            None => reasons.push((*reason, vec![which])),
        }
    }
    for (reason, which) in reasons {
        writeln!(text, "  {}: {reason}", which.join(", ")).unwrap();
    }
    text
}

/// Every case's premise, checked on the intact source's bytes.
fn premise_holds(source: &Source, case: Case, bytes: &[u8]) -> Result<(), String> {
    match case {
        Case::Flip if source.flip == Some(FlipIn::JpegScan) => Ok(()),
        Case::OneByteShort if source.ext == "pdf" => {
            let kept = &bytes[..bytes.len() - 1];
            let trimmed = kept.trim_ascii_end();
            if matches!(bytes.last(), Some(b'\n' | b'\r')) && trimmed.ends_with(b"%%EOF") {
                Ok(())
            } else {
                Err(format!(
                    "its last bytes are {:?}",
                    String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(8)..])
                ))
            }
        }
        _ => Err("no premise is known for this case".into()),
    }
}

/// The damaged copy for `case`, or `None` when the source has nothing to flip a bit under.
fn damage(bytes: &[u8], case: Case, flip: Option<FlipIn>) -> Option<Vec<u8>> {
    match case {
        Case::Cut(percent) => Some(bytes[..bytes.len() * usize::from(percent) / 100].to_vec()),
        Case::OneByteShort => Some(bytes[..bytes.len() - 1].to_vec()),
        Case::Flip => {
            let at = match flip? {
                FlipIn::JpegScan => jpeg_scan_flip(bytes),
                FlipIn::PngIdat => png_idat_flip(bytes),
                FlipIn::ZipMember => zip_member_flip(bytes),
                FlipIn::GzipData => gzip_data_flip(bytes),
            };
            let mut copy = bytes.to_vec();
            copy[at] ^= 0x01;
            Some(copy)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The corpus

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn media(path: &str) -> PathBuf {
    let path = support::media_dir().join(path);
    assert!(path.exists(), "{} missing: run tests/media/fetch.sh", path.display());
    path
}

/// Runs a tool that makes part of the corpus; fails the test with its stderr if it fails.
fn tool(command: &mut Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}; scripts/setup.sh installs it"));
    assert!(output.status.success(), "{what} failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    output
}

fn ffmpeg() -> Command {
    let mut command = Command::new("ffmpeg");
    command.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]);
    command
}

fn copy(from: &Path, to: &Path) -> PathBuf {
    fs::copy(from, to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    to.to_path_buf()
}

/// Makes every source into `dir` (with scratch files in `work`).
fn build_corpus(dir: &Path, work: &Path) -> Vec<Source> {
    fs::create_dir_all(dir).expect("create the sources folder");
    fs::create_dir_all(work).expect("create the work folder");
    let at = |name: &str| dir.join(name);
    let zip = Some(FlipIn::ZipMember);
    vec![
        Source::new(
            "jpeg-canon",
            "JPEG Canon EOS 70D, EXIF thumb",
            "jpg",
            copy(&media("jpeg/FallenLeaf.jpg"), &at("jpeg-canon.jpg")),
            Some(FlipIn::JpegScan),
        ),
        Source::new(
            "jpeg-exiftool",
            "JPEG + thumb by exiftool",
            "jpg",
            camera_jpeg(&at("jpeg-exiftool.jpg"), work),
            Some(FlipIn::JpegScan),
        ),
        Source::new(
            "jpeg-progressive",
            "JPEG progressive, EXIF thumb",
            "jpg",
            progressive_jpeg(&at("jpeg-progressive.jpg")),
            Some(FlipIn::JpegScan),
        ),
        Source::new(
            "jpeg-baseline",
            "JPEG baseline (fixture)",
            "jpg",
            copy(&fixture("photo.jpg"), &at("jpeg-baseline.jpg")),
            Some(FlipIn::JpegScan),
        ),
        Source::new(
            "png-rgb",
            "PNG RGB (chelsea)",
            "png",
            copy(&media("png/chelsea.png"), &at("png-rgb.png")),
            Some(FlipIn::PngIdat),
        ),
        Source::new(
            "png-grey",
            "PNG grey (camera)",
            "png",
            copy(&media("png/camera.png"), &at("png-grey.png")),
            Some(FlipIn::PngIdat),
        ),
        Source::new(
            "gif-pillow",
            "GIF animated (Pillow)",
            "gif",
            copy(&fixture("anim.gif"), &at("gif-pillow.gif")),
            None,
        ),
        Source::new("gif-ffmpeg", "GIF animated (FFmpeg)", "gif", ffmpeg_gif(&at("gif-ffmpeg.gif")), None),
        Source::new(
            "webp-lossy",
            "WebP lossy (fixture)",
            "webp",
            copy(&fixture("photo.webp"), &at("webp-lossy.webp")),
            None,
        ),
        Source::new("webp-alpha", "WebP lossy + alpha (FFmpeg)", "webp", webp_with_alpha(&at("webp-alpha.webp")), None),
        Source::new("pdf-qpdf", "PDF 3 pages (qpdf)", "pdf", qpdf_pages(&at("pdf-qpdf.pdf")), None),
        Source::new("pdf-gs", "PDF 2 pages (Ghostscript)", "pdf", ghostscript_pages(&at("pdf-gs.pdf")), None),
        Source::new("mp4-faststart", "MP4 H.264, moov first", "mp4", mp4(&at("mp4-faststart.mp4"), true), None),
        Source::new("mp4-moov-last", "MP4 H.264 + AAC, moov last", "mp4", mp4(&at("mp4-moov-last.mp4"), false), None),
        Source::new("avi-remux", "AVI MS-MPEG4 (FFmpeg remux)", "avi", avi_remux(&at("avi-remux.avi")), None),
        Source::new(
            "avi-megamind",
            "AVI Xvid + AC-3 (Megamind)",
            "avi",
            copy(&media("video/Megamind.avi"), &at("avi-megamind.avi")),
            None,
        ),
        Source::new("wav", "WAV PCM", "wav", copy(&media("audio/Front_Center.wav"), &at("wav.wav")), None),
        Source::new("ogg", "Ogg Vorbis", "oga", copy(&media("audio/complete.oga"), &at("ogg.oga")), None),
        Source::new(
            "mp3",
            "MP3 LAME (FFmpeg)",
            "mp3",
            audio(&at("mp3.mp3"), "audio/Front_Center.wav", "libmp3lame"),
            None,
        ),
        Source::new("flac", "FLAC (FFmpeg)", "flac", audio(&at("flac.flac"), "audio/Noise.wav", "flac"), None),
        Source::new("docx", "DOCX (fixture)", "docx", copy(&fixture("documents/report.docx"), &at("docx.docx")), zip),
        Source::new("xlsx", "XLSX (fixture)", "xlsx", copy(&fixture("documents/budget.xlsx"), &at("xlsx.xlsx")), zip),
        Source::new("odt", "ODT (fixture)", "odt", copy(&fixture("documents/notes.odt"), &at("odt.odt")), zip),
        Source::new("zip", "ZIP, a JPEG stored (Python)", "zip", python_zip(&at("zip.zip")), zip),
        Source::new("targz", "tar.gz (tar + gzip)", "tar.gz", tar_gz(&at("targz.tar.gz")), Some(FlipIn::GzipData)),
    ]
}

/// A camera-sized JPEG with a camera's EXIF and a 160×100 thumbnail, written by exiftool.
/// The thumbnail is a whole JPEG (SOI … EOI) inside APP1, so an EOI sits long before the
/// file's end: a cut in the main scan after it must still be seen.
fn camera_jpeg(path: &Path, work: &Path) -> PathBuf {
    let thumb = work.join("thumbnail.jpg");
    tool(
        Command::new(CONVERT)
            .arg(media("jpeg/Kite.jpg"))
            .args(["-strip", "-resize", "1680x1050!", "-quality", "92"])
            .arg(path),
        "ImageMagick (convert)",
    );
    tool(
        Command::new(CONVERT).arg(path).args(["-strip", "-resize", "160x100!", "-quality", "80"]).arg(&thumb),
        "ImageMagick (convert)",
    );
    tool(
        Command::new("exiftool")
            .args(["-q", "-overwrite_original", "-Make=Canon", "-Model=Canon EOS 5D"])
            .args(["-DateTimeOriginal=2014:07:21 16:17:44", "-Orientation#=1"])
            .arg(format!("-ThumbnailImage<={}", thumb.display()))
            .arg(path),
        "exiftool (libimage-exiftool-perl)",
    );
    // The thumbnail landed: exiftool reads it back, a whole JPEG, inside the file.
    let read_back = tool(Command::new("exiftool").args(["-b", "-ThumbnailImage"]).arg(path), "exiftool").stdout;
    let bytes = fs::read(path).expect("read the camera JPEG");
    assert!(
        read_back.starts_with(&[0xFF, 0xD8])
            && read_back.ends_with(&[0xFF, 0xD9])
            && find(&bytes, &read_back).is_some(),
        "exiftool did not put a JPEG thumbnail into {} ({} bytes read back)",
        path.display(),
        read_back.len()
    );
    path.to_path_buf()
}

/// ColorfulCups at 1280×800 as a progressive JPEG, keeping its Sony EXIF (and thumbnail).
fn progressive_jpeg(path: &Path) -> PathBuf {
    tool(
        Command::new(CONVERT)
            .arg(media("jpeg/ColorfulCups.jpg"))
            .args(["-resize", "1280x800", "-interlace", "Plane", "-quality", "90"])
            .arg(path),
        "ImageMagick (convert)",
    );
    let (markers, scans) = jpeg_structure(&fs::read(path).expect("read the progressive JPEG"));
    assert!(markers.contains(&0xC2) && scans.len() > 1, "{} is not progressive: {markers:x?}", path.display());
    path.to_path_buf()
}

/// One second of vtest.avi, 160 px wide, five frames a second.
fn ffmpeg_gif(path: &Path) -> PathBuf {
    tool(
        ffmpeg()
            .args(["-t", "1", "-i"])
            .arg(media("video/vtest.avi"))
            .args(["-vf", "scale=160:-1", "-r", "5"])
            .arg(path),
        "FFmpeg",
    );
    path.to_path_buf()
}

/// The fixture alpha.png (a radial alpha fade) as lossy WebP: VP8X, ALPH and VP8 chunks.
fn webp_with_alpha(path: &Path) -> PathBuf {
    tool(ffmpeg().arg("-i").arg(fixture("alpha.png")).args(["-c:v", "libwebp", "-quality", "80"]).arg(path), "FFmpeg");
    let bytes = fs::read(path).expect("read the WebP");
    assert!(find(&bytes, b"ALPH").is_some(), "FFmpeg's WebP has no alpha chunk");
    path.to_path_buf()
}

/// Pages 1-3 of the Ghostscript guide, objects copied as they are by qpdf.
fn qpdf_pages(path: &Path) -> PathBuf {
    tool(
        Command::new("qpdf")
            .arg("--empty")
            .arg("--pages")
            .arg(media("pdf/GS9_Color_Management.pdf"))
            .args(["1-3", "--"])
            .arg(path),
        "qpdf",
    );
    path.to_path_buf()
}

/// Pages 5-6 of the Ghostscript guide, rewritten by Ghostscript's pdfwrite (with images).
fn ghostscript_pages(path: &Path) -> PathBuf {
    tool(
        Command::new("gs")
            .args(["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-dFirstPage=5", "-dLastPage=6"])
            .arg(format!("-sOutputFile={}", path.display()))
            .arg(media("pdf/GS9_Color_Management.pdf")),
        "Ghostscript (gs)",
    );
    path.to_path_buf()
}

/// Two seconds of vtest.avi at 320 px in H.264: with `faststart` the moov box comes before
/// the media data and there is no sound; without, it comes last and an AAC track is added.
fn mp4(path: &Path, faststart: bool) -> PathBuf {
    let mut command = ffmpeg();
    command.args(["-t", "2", "-i"]).arg(media("video/vtest.avi"));
    if !faststart {
        command.arg("-i").arg(media("audio/Front_Center.wav"));
    }
    command.args(["-vf", "scale=320:-2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]);
    if faststart {
        command.args(["-an", "-movflags", "+faststart"]);
    } else {
        command.args(["-c:a", "aac", "-b:a", "96k"]);
    }
    tool(command.arg(path), "FFmpeg");
    let boxes = mp4_boxes(&fs::read(path).expect("read the MP4"));
    let position = |kind: &str| boxes.iter().position(|b| b == kind);
    let (moov, mdat) = (position("moov"), position("mdat"));
    assert!(moov.is_some() && mdat.is_some() && (moov < mdat) == faststart, "{}: boxes {boxes:?}", path.display());
    path.to_path_buf()
}

/// Two seconds of vtest.avi, streams copied as they are into FFmpeg's AVI muxer.
fn avi_remux(path: &Path) -> PathBuf {
    tool(ffmpeg().args(["-t", "2", "-i"]).arg(media("video/vtest.avi")).args(["-c", "copy"]).arg(path), "FFmpeg");
    path.to_path_buf()
}

fn audio(path: &Path, from: &str, codec: &str) -> PathBuf {
    let mut command = ffmpeg();
    command.arg("-i").arg(media(from)).args(["-c:a", codec]);
    if codec == "libmp3lame" {
        command.args(["-b:a", "128k"]);
    }
    tool(command.arg(path), "FFmpeg");
    path.to_path_buf()
}

/// A ZIP as zip tools make one: the JPEG stored (it is compressed already), the rest deflated.
fn python_zip(path: &Path) -> PathBuf {
    let script = "import sys, zipfile\n\
                  out, *members = sys.argv[1:]\n\
                  with zipfile.ZipFile(out, 'w') as z:\n\
                  \x20   for member in members:\n\
                  \x20       name = member.rsplit('/', 1)[-1]\n\
                  \x20       method = zipfile.ZIP_STORED if name.endswith('.jpg') else zipfile.ZIP_DEFLATED\n\
                  \x20       z.write(member, name, compress_type=method)\n";
    let mut command = Command::new("python3");
    command.args(["-c", script]).arg(path);
    for member in ["photo.jpg", "photo.png", "README.md", "make.py"] {
        command.arg(fixture(member));
    }
    tool(&mut command, "python3");
    path.to_path_buf()
}

fn tar_gz(path: &Path) -> PathBuf {
    tool(
        Command::new("tar").arg("-czf").arg(path).arg("-C").arg(fixture("")).args([
            "README.md",
            "make.py",
            "documents/make.py",
        ]),
        "tar and gzip",
    );
    path.to_path_buf()
}

// ---------------------------------------------------------------------------------------
// Where the bit flips go, read from each format's structure.

/// The markers of a JPEG in order, and the (start, length) of each entropy-coded segment.
fn jpeg_structure(bytes: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let (mut markers, mut scans) = (Vec::new(), Vec::new());
    let mut i = 2;
    while i + 1 < bytes.len() {
        assert_eq!(bytes[i], 0xFF, "a JPEG marker at {i}");
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1; // a fill byte
            continue;
        }
        markers.push(marker);
        if marker == 0xD9 || i + 3 >= bytes.len() {
            break;
        }
        i += 2 + usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if marker == 0xDA {
            let start = i;
            while i + 1 < bytes.len()
                && !(bytes[i] == 0xFF && bytes[i + 1] != 0x00 && !(0xD0..=0xD7).contains(&bytes[i + 1]))
            {
                i += 1;
            }
            scans.push((start, i - start));
        }
    }
    (markers, scans)
}

/// A byte in the middle of the longest entropy-coded segment whose flip neither makes nor
/// breaks a marker: not 0xFF, not the 0x00 stuffed after one, not 0xFE (which would become 0xFF).
fn jpeg_scan_flip(bytes: &[u8]) -> usize {
    let (_, scans) = jpeg_structure(bytes);
    let (start, length) = scans.into_iter().max_by_key(|&(_, length)| length).expect("a JPEG has a scan");
    (start + length / 2..start + length)
        .find(|&i| bytes[i] != 0xFF && bytes[i] != 0xFE && bytes[i - 1] != 0xFF)
        .expect("a byte to flip in the scan")
}

fn png_idat_flip(bytes: &[u8]) -> usize {
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        if &bytes[i + 4..i + 8] == b"IDAT" {
            return i + 8 + length / 2;
        }
        i += 12 + length;
    }
    panic!("the PNG has no IDAT chunk");
}

/// The middle of a member's data, from the central directory: the largest stored member of
/// 1 KB or more if there is one (only its CRC-32 can tell), else the largest member.
fn zip_member_flip(bytes: &[u8]) -> usize {
    let le16 = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let end = (0..=bytes.len() - 22).rev().find(|&i| bytes[i..].starts_with(b"PK\x05\x06")).expect("a ZIP end record");
    let mut at = le32(end + 16);
    let mut members = Vec::new();
    for _ in 0..le16(end + 10) {
        assert!(bytes[at..].starts_with(b"PK\x01\x02"), "a central directory entry at {at}");
        let (stored, size, local) = (le16(at + 10) == 0, le32(at + 20), le32(at + 42));
        let data = local + 30 + le16(local + 26) + le16(local + 28);
        members.push((stored && size >= 1024, size, data));
        at += 46 + le16(at + 28) + le16(at + 30) + le16(at + 32);
    }
    let (_, size, data) = members.into_iter().max_by_key(|&(stored, size, _)| (stored, size)).expect("a ZIP member");
    data + size / 2
}

fn gzip_data_flip(bytes: &[u8]) -> usize {
    assert!(bytes.starts_with(&[0x1F, 0x8B, 8]), "a gzip member");
    let flags = bytes[3];
    let mut at = 10;
    if flags & 4 != 0 {
        at += 2 + usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    }
    for field in [8, 16] {
        if flags & field != 0 {
            at += bytes[at..].iter().position(|&b| b == 0).expect("a NUL-terminated header field") + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    at + (bytes.len() - 8 - at) / 2
}

/// The kinds of an MP4's top-level boxes, in order.
fn mp4_boxes(bytes: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&bytes[i + 4..i + 8]).into_owned());
        if size < 8 {
            break;
        }
        i += size;
    }
    boxes
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

// ---------------------------------------------------------------------------------------
// Running the CLI

/// The `compressor` binary with its settings, state and trash inside `home`.
fn compressor(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_compressor"));
    command
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("COMPRESSOR_CONFIG_DIR", home.join("config"))
        // With it unset, a panic that reaches the default hook says "RUST_BACKTRACE".
        .env_remove("RUST_BACKTRACE");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the compressor binary runs")
}

/// Each file's JSON line, by file name.
fn lines_by_name(output: &Output) -> BTreeMap<String, Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            let path = value["path"].as_str().unwrap_or_else(|| panic!("a JSON line with no path: {line}"));
            (file_name(Path::new(path)), value)
        })
        .collect()
}

fn warnings(line: &Value) -> Vec<String> {
    line["report"]["warnings"]
        .as_array()
        .map(|all| all.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sha256_file(path: &Path) -> String {
    sha256(&fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// Whether a result opens in a reader other than ours: the image crate for pictures,
/// poppler's pdfinfo for PDFs; anything else must at least not be empty.
fn decodes(path: &Path) -> Result<(), String> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" => image::open(path).map(drop).map_err(|e| e.to_string()),
        "pdf" => {
            let output = Command::new("pdfinfo").arg(path).output().map_err(|e| format!("pdfinfo: {e}"))?;
            output.status.success().then_some(()).ok_or_else(|| String::from_utf8_lossy(&output.stderr).into_owned())
        }
        _ => match fs::metadata(path) {
            Ok(meta) if meta.len() > 0 => Ok(()),
            Ok(_) => Err("empty".into()),
            Err(e) => Err(e.to_string()),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Nothing from a refused file anywhere

/// Where results go in `a_refused_file_leaves_nothing_anywhere`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// Beside the original, `-min` added to the name (the default).
    Suffix,
    InPlace,
    /// A local-folder connector: a bucket.
    Bucket,
}

/// Three refused files (a camera JPEG cut at 5 %, in its main scan after the thumbnail's
/// EOI; an MP4 cut at 50 %; a PNG with a bit flipped in its IDAT) and a good photo beside
/// them, compressed beside the originals, in place and into a bucket: the damaged ones fail,
/// stay as they were, get nothing beside them, nothing in the bucket and nothing in the
/// trash, while the good one shows that each sink did write.
#[test]
fn a_refused_file_leaves_nothing_anywhere() {
    let make = tempfile::tempdir().expect("a temporary folder");
    let camera = fs::read(camera_jpeg(&make.path().join("camera.jpg"), make.path())).expect("read the camera JPEG");
    let clip = fs::read(mp4(&make.path().join("clip.mp4"), true)).expect("read the MP4");
    let chelsea = fs::read(media("png/chelsea.png")).expect("read chelsea.png");
    let damaged = [
        ("camera-cut05.jpg", damage(&camera, Case::Cut(5), None).unwrap()),
        ("clip-cut50.mp4", damage(&clip, Case::Cut(50), None).unwrap()),
        ("chelsea-flip.png", damage(&chelsea, Case::Flip, Some(FlipIn::PngIdat)).unwrap()),
    ];
    let control = fs::read(fixture("photo.jpg")).expect("read the fixture photo.jpg");
    let control_sha = sha256(&control);

    for sink in [Sink::Suffix, Sink::InPlace, Sink::Bucket] {
        let home = tempfile::tempdir().expect("a temporary folder");
        let home = home.path();
        let folder = home.join("photos");
        fs::create_dir_all(&folder).expect("create the folder");
        let mut files = Vec::new();
        for (name, bytes) in damaged.iter().map(|(n, b)| (*n, b)).chain([("photo.jpg", &control)]) {
            fs::write(folder.join(name), bytes).expect("write an input");
            files.push(folder.join(name));
        }
        let before: BTreeMap<String, String> =
            support::files_under(&folder).iter().map(|p| (file_name(p), sha256_file(p))).collect();

        let bucket = home.join("bucket");
        let mut command = compressor(home);
        command.args(["compress", "--json"]);
        match sink {
            Sink::Suffix => {}
            Sink::InPlace => {
                command.arg("--in-place");
            }
            Sink::Bucket => {
                fs::create_dir_all(bucket.join("b")).expect("create the bucket folder");
                let added = run(compressor(home)
                    .args(["connectors", "add", "--name", "bucket", "--provider", "local", "--bucket", "b"])
                    .arg("--endpoint")
                    .arg(&bucket));
                assert!(added.status.success(), "connectors add: {}", String::from_utf8_lossy(&added.stderr));
                let id = String::from_utf8_lossy(&added.stdout).trim().to_string();
                command.arg("--store").arg(&id);
            }
        }
        let output = run(command.args(&files));
        let context = format!(
            "{sink:?}:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(1), "{context}");
        let lines = lines_by_name(&output);
        assert_eq!(lines.len(), 4, "{context}");
        for (name, _) in &damaged {
            let line = &lines[*name];
            assert_eq!(line["status"], "failed", "{name}: {context}");
            assert!(line["error"].as_str().is_some_and(|e| !e.trim().is_empty()), "{name}: no reason: {context}");
            assert_eq!(sha256_file(&folder.join(name)), before[*name], "{name} changed: {context}");
        }
        assert_eq!(lines["photo.jpg"]["status"], "compressed", "the good photo: {context}");

        // The folder holds what it held, and only the good photo's result is new.
        let after: BTreeMap<String, String> =
            support::files_under(&folder).iter().map(|p| (file_name(p), sha256_file(p))).collect();
        let mut expected: BTreeSet<String> = before.keys().cloned().collect();
        if sink == Sink::Suffix {
            expected.insert("photo-min.jpg".into());
        }
        assert_eq!(after.keys().cloned().collect::<BTreeSet<_>>(), expected, "{context}");
        assert_eq!(
            after["photo.jpg"] == control_sha,
            sink != Sink::InPlace,
            "the good photo, in place or not: {context}"
        );

        // The trash holds the good photo's original after an in-place run, and nothing else.
        let trash = home.join("data/Trash/files");
        let trashed: Vec<String> =
            if trash.exists() { support::files_under(&trash).iter().map(|p| sha256_file(p)).collect() } else { vec![] };
        let expected_trash = if sink == Sink::InPlace { vec![control_sha.clone()] } else { vec![] };
        assert_eq!(trashed, expected_trash, "the trash: {context}");

        // The bucket holds the good photo only.
        if sink == Sink::Bucket {
            assert_eq!(support::files_under(&bucket), vec![bucket.join("b/photo.jpg")], "the bucket: {context}");
        }
        let leftovers: Vec<PathBuf> =
            support::files_under(home).into_iter().filter(|p| file_name(p).starts_with(".compressor-")).collect();
        assert_eq!(leftovers, Vec::<PathBuf>::new(), "temporary files: {context}");
    }
}

// ---------------------------------------------------------------------------------------
// A decoder's panic is a failed file, not a crashed run

/// What a TIFF's first IFD says about its layout.
#[derive(Debug)]
struct TiffLayout {
    tiled: bool,
    /// 1: chunky (RGBRGB…), 2: planar (all R, then all G, then all B).
    planar: u32,
    bits: Vec<u32>,
    compression: u32,
}

/// Reads the first IFD of a classic TIFF (either byte order).
fn tiff_layout(bytes: &[u8]) -> TiffLayout {
    let little = match &bytes[..4] {
        b"II*\0" => true,
        b"MM\0*" => false,
        other => panic!("not a classic TIFF: {other:?}"),
    };
    let u16_at = |at: usize| {
        let pair = [bytes[at], bytes[at + 1]];
        u32::from(if little { u16::from_le_bytes(pair) } else { u16::from_be_bytes(pair) })
    };
    let u32_at = |at: usize| {
        let quad: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        if little {
            u32::from_le_bytes(quad)
        } else {
            u32::from_be_bytes(quad)
        }
    };
    let ifd = u32_at(4) as usize;
    let mut tags: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in (0..u16_at(ifd) as usize).map(|n| ifd + 2 + 12 * n) {
        let (tag, kind, count) = (u16_at(entry), u16_at(entry + 2), u32_at(entry + 4) as usize);
        let width = match kind {
            3 => 2,
            4 => 4,
            _ => continue,
        };
        let start = if width * count <= 4 { entry + 8 } else { u32_at(entry + 8) as usize };
        let values = (0..count).map(|n| if width == 2 { u16_at(start + 2 * n) } else { u32_at(start + 4 * n) });
        tags.insert(tag, values.collect());
    }
    let first = |tag: u32, default: u32| tags.get(&tag).and_then(|v| v.first().copied()).unwrap_or(default);
    TiffLayout {
        tiled: tags.contains_key(&322) && tags.contains_key(&323),
        planar: first(284, 1),
        bits: tags.get(&258).cloned().unwrap_or_default(),
        compression: first(259, 1),
    }
}

/// Valid tiled TIFFs with planar configuration (8- and 16-bit, raw and LZW), which make the
/// `tiff` crate fail an assertion, beside a good photo: the run must carry on and answer
/// for every file. A TIFF fails with an error naming the TIFF decoder (or, once the decoder
/// copes, compresses to a PNG that decodes); no panic reaches stderr and the exit status is
/// 1 or 0, never 101.
#[test]
fn tiled_planar_tiffs_fail_by_name_and_never_crash_the_run() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let home = home.path();
    let input = home.join("in");
    fs::create_dir_all(&input).expect("create the input folder");
    let variants: [(&str, u32, &str); 4] = [
        ("planar8.tif", 8, "None"),
        ("planar16.tif", 16, "None"),
        ("planar8-lzw.tif", 8, "LZW"),
        ("planar16-lzw.tif", 16, "LZW"),
    ];
    let mut files = Vec::new();
    for (name, depth, compression) in variants {
        let path = input.join(name);
        tool(
            Command::new(CONVERT)
                .arg(media("png/chelsea.png"))
                .args(["-define", "tiff:tile-geometry=64x64", "-interlace", "Plane"])
                .arg("-depth")
                .arg(depth.to_string())
                .args(["-compress", compression])
                .arg(&path),
            "ImageMagick (convert)",
        );
        let layout = tiff_layout(&fs::read(&path).expect("read the TIFF"));
        let expected_compression = if compression == "LZW" { 5 } else { 1 };
        assert!(
            layout.tiled
                && layout.planar == 2
                && layout.bits == [depth; 3]
                && layout.compression == expected_compression,
            "{name} is not a tiled, planar, {depth}-bit {compression} TIFF: {layout:?}"
        );
        // Valid: ImageMagick (libtiff) decodes every pixel of it.
        tool(
            Command::new(CONVERT).arg(&path).args(["-format", "%[fx:mean]", "info:"]),
            "ImageMagick decoding the TIFF",
        );
        files.push(path);
    }
    files.push(copy(&fixture("photo.jpg"), &input.join("good.jpg")));

    let out = home.join("out");
    let output = run(compressor(home).args(["compress", "--json", "--out"]).arg(&out).args(&files));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("stdout:\n{}\nstderr:\n{stderr}", String::from_utf8_lossy(&output.stdout));
    for sign in ["panicked at", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!stderr.contains(sign), "a panic reached stderr ({sign:?}): {context}");
    }
    let lines = lines_by_name(&output);
    assert_eq!(lines.len(), files.len(), "one JSON line per file: {context}");
    let mut any_failed = false;
    for (name, ..) in variants {
        let line = lines.get(name).unwrap_or_else(|| panic!("{name}: no JSON line: {context}"));
        match line["status"].as_str() {
            Some("failed") => {
                any_failed = true;
                let error = line["error"].as_str().unwrap_or("");
                assert!(error.contains("TIFF"), "{name}: the error should name the TIFF decoder: {line}");
            }
            Some("compressed" | "skipped") => {
                let destination = line["destination"].as_str().unwrap_or_else(|| panic!("{name}: {line}"));
                let decoded = image::open(destination).unwrap_or_else(|e| panic!("{name}: {destination}: {e}"));
                assert_eq!((decoded.width(), decoded.height()), (451, 300), "{name}");
            }
            _ => panic!("{name}: {line}"),
        }
    }
    assert_eq!(lines["good.jpg"]["status"], "compressed", "the good photo: {context}");
    assert_eq!(output.status.code(), Some(if any_failed { 1 } else { 0 }), "exit status: {context}");
}
