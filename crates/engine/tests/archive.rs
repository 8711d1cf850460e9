//! ZIP, office documents, ODF, EPUB and gzip: re-packed smaller, still readable by the
//! formats' own readers (python-docx, openpyxl, python-pptx, Python's zipfile), and hostile
//! archives refused before they can exhaust memory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use compressor_engine::{Control, Engine, EngineError, Format, Limits, Options, Status};
use zip::CompressionMethod::{Deflated, Stored};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

/// Runs a Python snippet with the file as `sys.argv[1]`; returns its stdout.
fn python(script: &str, bytes: &[u8], suffix: &str) -> String {
    let file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let out = Command::new("python3").arg("-c").arg(script).arg(file.path()).output().expect("python3");
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const ZIP_LISTING: &str = "import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist(): print(i.filename, i.compress_type, i.file_size)";

fn compress(name: &str, options: &str) -> (Vec<u8>, compressor_engine::Compressed) {
    let input = std::fs::read(fixture(name)).unwrap();
    let result = Engine::default().compress(&input, name, &Options::from_json(options).unwrap()).unwrap();
    (input, result)
}

#[test]
fn a_docx_gets_smaller_and_python_docx_reads_the_same_text() {
    let (input, result) = compress("documents/report.docx", "{}");
    let output = result.output.expect("smaller");
    assert_eq!(result.report.status, Status::Compressed);
    assert_eq!(result.report.output.format, Format::Docx);
    assert!(output.len() < input.len() * 9 / 10, "{} -> {}", input.len(), output.len());
    assert_eq!(result.report.input.members, result.report.output.members);
    let text = "import sys, docx
d = docx.Document(sys.argv[1])
print(len(d.paragraphs), len(d.inline_shapes), sum(len(p.text) for p in d.paragraphs))";
    assert_eq!(python(text, &output, ".docx"), python(text, &input, ".docx"));
    // The pictures are still pictures of the same size.
    let images = "import sys, zipfile, io
z = zipfile.ZipFile(sys.argv[1])
for n in sorted(z.namelist()):
    if n.startswith('word/media/'): print(n, len(z.read(n)))";
    let (before, after) = (python(images, &input, ".docx"), python(images, &output, ".docx"));
    assert_eq!(before.lines().count(), 2);
    for (b, a) in before.lines().zip(after.lines()) {
        let (b_name, b_size) = b.split_once(' ').unwrap();
        let (a_name, a_size) = a.split_once(' ').unwrap();
        assert_eq!(a_name, b_name);
        assert!(a_size.parse::<u64>().unwrap() < b_size.parse::<u64>().unwrap(), "{b} -> {a}");
    }
    Engine::default().verify(&output).unwrap();
}

#[test]
fn xlsx_and_pptx_keep_their_content() {
    let (input, result) = compress("documents/budget.xlsx", r#"{"archive": {"compression": "ultra"}}"#);
    let output = result.output.expect("smaller");
    assert!(result.report.actions.iter().any(|a| a.contains("Zopfli")), "{:?}", result.report.actions);
    let cells = "import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1]).active
print(ws.max_row, ws.max_column, sum(r[1] for r in ws.iter_rows(min_row=2, values_only=True)))";
    assert_eq!(python(cells, &output, ".xlsx"), python(cells, &input, ".xlsx"));

    let (input, result) = compress("documents/slides.pptx", "{}");
    let output = result.output.expect("smaller");
    let slides = "import sys, pptx
p = pptx.Presentation(sys.argv[1])
print([[s.shape_type for s in slide.shapes] for slide in p.slides])";
    assert_eq!(python(slides, &output, ".pptx"), python(slides, &input, ".pptx"));
    assert!(output.len() < input.len());
}

#[test]
fn odf_and_epub_keep_mimetype_first_and_stored() {
    for (name, format) in [("documents/notes.odt", Format::Odt), ("documents/book.epub", Format::Epub)] {
        let (input, result) = compress(name, "{}");
        assert_eq!(result.report.input.format, format);
        let output = result.output.unwrap_or_else(|| panic!("{name} smaller"));
        assert!(output.len() < input.len(), "{name}");
        let listing = python(ZIP_LISTING, &output, ".zip");
        let first = listing.lines().next().unwrap();
        assert!(first.starts_with("mimetype 0 "), "{name}: {listing}");
        assert_eq!(listing.lines().count(), python(ZIP_LISTING, &input, ".zip").lines().count());
        assert_eq!(Engine::default().verify(&output).unwrap(), format);
    }
}

#[test]
fn lossless_repacks_without_touching_a_member() {
    let (input, result) = compress("documents/notes.odt", r#"{"archive": {"lossless": true}}"#);
    let output = result.output.expect("re-deflating level-1 members saves bytes");
    let contents = "import sys, zipfile, hashlib
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist(): print(n, hashlib.sha256(z.read(n)).hexdigest())";
    assert_eq!(python(contents, &output, ".zip"), python(contents, &input, ".zip"));
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn a_plain_zip_with_a_photo_and_a_nested_zip() {
    let photo = std::fs::read(fixture("photo.jpg")).unwrap();
    let text = "All work and no play makes a small archive. ".repeat(500);
    let inner = zip_of(&[("inner/photo.jpg", &photo)]);
    let input = zip_of(&[("photo.jpg", &photo), ("notes.txt", text.as_bytes()), ("nested.zip", &inner)]);
    let result = Engine::default().compress(&input, "bundle.zip", &Options::default()).unwrap();
    let output = result.output.expect("smaller");
    assert_eq!(result.report.output.members, Some(3));
    assert!(result.report.actions[0].contains("1 images and 1 nested"), "{:?}", result.report.actions);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&output)).unwrap();
    let mut notes = String::new();
    archive.by_name("notes.txt").unwrap().read_to_string(&mut notes).unwrap();
    assert_eq!(notes, text);
    let mut new_photo = Vec::new();
    archive.by_name("photo.jpg").unwrap().read_to_end(&mut new_photo).unwrap();
    assert!(new_photo.len() < photo.len());
    image::load_from_memory(&new_photo).expect("the photo decodes");
}

#[test]
fn a_zip_bomb_is_refused_by_its_declared_size_or_its_real_one() {
    let zeros = vec![0u8; 50 << 20];
    let bomb = zip_of(&[("zeros.bin", &zeros)]);
    assert!(bomb.len() < 200_000);
    let engine = Engine::new(Limits { max_expanded: 10 << 20, ..Limits::default() });
    let err = engine.compress(&bomb, "bomb.zip", &Options::default()).unwrap_err();
    assert!(matches!(err, EngineError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("52428800 bytes"), "{err}");

    // A header that lies (declares 1 KiB) is caught as soon as the member inflates past it.
    let mut liar = bomb.clone();
    let declared = (50u32 << 20).to_le_bytes();
    let small = 1024u32.to_le_bytes();
    let mut patched = 0;
    for i in 0..liar.len() - 4 {
        if liar[i..i + 4] == declared {
            liar[i..i + 4].copy_from_slice(&small);
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local and central headers");
    let err = engine.compress(&liar, "liar.zip", &Options::default()).unwrap_err();
    // (zip's reader notices first; our own `take(declared + 1)` check backs it up.)
    assert!(err.to_string().contains("declared"), "{err}");

    // gzip: the real size counts.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&zeros).unwrap();
    let err = engine.compress(&gz.finish().unwrap(), "bomb.gz", &Options::default()).unwrap_err();
    assert!(matches!(err, EngineError::TooLarge { .. }), "{err}");
}

#[test]
fn members_that_climb_out_are_refused() {
    let evil = zip_of(&[("ok.txt", b"fine"), ("../../etc/evil.txt", b"owned")]);
    let err = Engine::default().compress(&evil, "evil.zip", &Options::default()).unwrap_err();
    assert!(err.to_string().contains("'../../etc/evil.txt' points outside"), "{err}");
    let truncated = &std::fs::read(fixture("documents/report.docx")).unwrap()[..50_000];
    let err = Engine::default().compress(truncated, "cut.docx", &Options::default()).unwrap_err();
    assert!(matches!(err, EngineError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("central directory"), "{err}");
}

#[test]
fn gzip_and_tar_gz_are_recompressed_losslessly() {
    let text = std::fs::read(fixture("documents/make.py")).unwrap().repeat(50);
    let mut gz = flate2::GzBuilder::new().filename("make.py").write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let input = gz.finish().unwrap();
    for level in ["high", "ultra"] {
        let options = Options::from_json(&format!(r#"{{"archive": {{"compression": "{level}"}}}}"#)).unwrap();
        let result = Engine::default().compress(&input, "make.py.gz", &options).unwrap();
        let output = result.output.expect("smaller");
        assert!(output.len() < input.len(), "{level}");
        let out = Command::new("gzip")
            .args(["-dc"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        out.stdin.as_ref().unwrap().write_all(&output).unwrap();
        let decoded = out.wait_with_output().unwrap();
        assert!(decoded.status.success());
        assert!(decoded.stdout == text, "gzip -d gives the original back ({level})");
    }
}

#[test]
fn a_website_bundle_is_minified_and_still_works() {
    let html = r#"<!DOCTYPE html>
<html>
  <head>
    <!-- the page's title -->
    <title>  Compressor   demo  </title>
    <style>
      body   { margin : 0 ;  color : #333333 ; }
      .note  { font-weight : bold ; }
    </style>
  </head>
  <body>
    <h1>   Hello,    world   </h1>
    <p class="note">
       Smaller files,   same page.
    </p>
    <pre>  keep   this   spacing  </pre>
    <img src="photo.jpg" alt="a photo">
    <script>
      // greet the reader
      const  greeting =  "hi" ;
      console.log( greeting ) ;
    </script>
  </body>
</html>
"#;
    let css = "/* site styles */\nbody {\n    margin: 0;\n    padding: 0;\n}\n\n.card   >   h2 {\n    color: red;\n}\n";
    let js = r#"// totals, in a way a careless minifier would break
function total(items) {
    let sum = 0;
    for (const item of items) {
        sum += item.price * item.count; // price times count
    }
    return sum
}
const text = 'a  string  with  spaces';
const items = [{ price: 3, count: 2 }, { price: 10, count: 1 }];
console.log(total(items), text, `${items.length} items`);
"#;
    let photo = std::fs::read(fixture("photo.jpg")).unwrap();
    let input = zip_of(&[
        ("site/index.html", html.as_bytes()),
        ("site/style.css", css.as_bytes()),
        ("site/app.js", js.as_bytes()),
        ("site/photo.jpg", &photo),
    ]);
    let result = Engine::default().compress(&input, "site.zip", &Options::default()).unwrap();
    assert!(result.report.actions.iter().any(|a| a.contains("minified 3")), "{:?}", result.report.actions);
    let output = result.output.expect("smaller");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&output)).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    };
    let (new_html, new_css, new_js) = (read("site/index.html"), read("site/style.css"), read("site/app.js"));
    assert!(new_html.len() < html.len() && new_css.len() < css.len() && new_js.len() < js.len());

    // The script prints the same thing (node runs both).
    let run = |source: &str| {
        let out = Command::new("node").args(["-e", source]).output().expect("node");
        assert!(out.status.success(), "node: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(&new_js), run(js));
    let inline = new_html.split("<script>").nth(1).and_then(|s| s.split("</script>").next()).expect("inline script");
    assert_eq!(run(inline), "hi\n", "the page's own script still runs: {inline}");
    // The page has the same text (whitespace collapsed, <pre> kept) and the same elements.
    let page = "import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.tags = []; self.text = []; self.current = None
    def handle_starttag(self, tag, attrs): self.tags.append((tag, sorted(attrs))); self.current = tag
    def handle_endtag(self, tag): self.current = None
    def handle_data(self, data):
        if self.current in ('script', 'style'): return
        self.text.append(data if self.current == 'pre' else ' '.join(data.split()))
p = P(); p.feed(open(sys.argv[1]).read())
print(p.tags); print([t for t in p.text if t.strip()])";
    assert_eq!(python(page, new_html.as_bytes(), ".html"), python(page, html.as_bytes(), ".html"));
    assert!(new_html.contains("<pre>  keep   this   spacing  </pre>"), "{new_html}");
    assert_eq!(new_css.matches('{').count(), css.matches('{').count());
}

/// Pseudo-random bytes (xorshift64): content no compressor shrinks, the same on every run.
fn random_bytes(len: usize, mut state: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// Writes a zip of `members` (name, content, method) to `path`; deflated at level 1, which
/// is quick on tens of megabytes.
fn write_zip(path: &Path, members: &[(&str, &[u8], zip::CompressionMethod)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::BufWriter::new(file));
    for (name, data, method) in members {
        let mut options = zip::write::SimpleFileOptions::default().compression_method(*method);
        if *method == Deflated {
            options = options.compression_level(Some(1));
        }
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().flush().unwrap();
}

fn compress_file(
    engine: &Engine,
    path: &Path,
    control: &Control,
    scratch: &Path,
) -> Result<compressor_engine::CompressedFile, EngineError> {
    let name = path.file_name().unwrap().to_str().unwrap();
    engine.compress_file(path, name, &Options::default(), control, scratch)
}

#[test]
fn a_big_zip_is_repacked_from_its_file_and_its_big_member_copied_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = std::fs::read(fixture("photo.jpg")).unwrap();
    let png = std::fs::read(fixture("photo.png")).unwrap();
    // Over the 64 MiB a member may take in memory: read through, then copied raw.
    let random = random_bytes(70 << 20, 0x9E37_79B9_7F4A_7C15);
    let input = dir.path().join("bundle.zip");
    write_zip(
        &input,
        &[
            ("photos/photo.jpg", &jpeg, Deflated),
            ("data/random.bin", &random, Deflated),
            ("photos/photo.png", &png, Deflated),
        ],
    );
    let input_size = std::fs::metadata(&input).unwrap().len();

    // Positive fractions order as their bits do.
    let highest = AtomicU64::new(0);
    let progress = |fraction: f64| {
        highest.fetch_max(fraction.to_bits(), Ordering::Relaxed);
    };
    let cancel = AtomicBool::new(false);
    let control = Control { cancel: &cancel, progress: &progress };
    let engine = Engine::default();
    let result = compress_file(&engine, &input, &control, dir.path()).unwrap();
    assert_eq!(result.report.status, Status::Compressed, "{:?}", result.report);
    assert!(result.report.actions[0].contains("2 images and 0 nested"), "{:?}", result.report.actions);
    assert_eq!((result.report.input.members, result.report.output.members), (Some(3), Some(3)));
    assert!((f64::from_bits(highest.load(Ordering::Relaxed)) - 1.0).abs() < 1e-9);
    let output = result.output.expect("a smaller zip");
    let output_size = std::fs::metadata(output.path()).unwrap().len();
    assert!(output_size < input_size, "{input_size} -> {output_size}");
    assert_eq!((result.report.input.size, result.report.output.size), (input_size, output_size));
    let (_, input_sha256) = compressor_engine::report::sha256_file(&input).unwrap();
    let (_, output_sha256) = compressor_engine::report::sha256_file(output.path()).unwrap();
    assert_eq!(result.report.input.hashes.sha256, input_sha256);
    assert_eq!(result.report.output.hashes.sha256, output_sha256);

    // Every member reads back (CRCs checked by the zip crate).
    let mut before = zip::ZipArchive::new(std::fs::File::open(&input).unwrap()).unwrap();
    let mut after = zip::ZipArchive::new(std::fs::File::open(output.path()).unwrap()).unwrap();
    assert_eq!(after.len(), 3);
    for index in 0..after.len() {
        std::io::copy(&mut after.by_index(index).unwrap(), &mut std::io::sink()).unwrap();
    }
    // The big member's compressed bytes were copied as they were, and read back the same.
    let packed = |archive: &mut zip::ZipArchive<std::fs::File>| {
        let file = archive.by_name("data/random.bin").unwrap();
        (file.compression(), file.compressed_size(), file.crc32())
    };
    assert_eq!(packed(&mut after), packed(&mut before));
    let mut data = Vec::new();
    after.by_name("data/random.bin").unwrap().read_to_end(&mut data).unwrap();
    assert!(data == random, "the random member reads back unchanged");
    for (name, original) in [("photos/photo.jpg", &jpeg), ("photos/photo.png", &png)] {
        let mut photo = Vec::new();
        after.by_name(name).unwrap().read_to_end(&mut photo).unwrap();
        assert!(photo.len() < original.len(), "{name}: {} -> {}", original.len(), photo.len());
        image::load_from_memory(&photo).expect("the photo decodes");
    }
    assert_eq!(engine.verify_file(output.path()).unwrap(), Format::Zip);
}

#[test]
fn a_big_member_with_a_changed_byte_is_refused_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let random = random_bytes(70 << 20, 7);
    let input = dir.path().join("damaged.zip");
    write_zip(&input, &[("notes.txt", b"a small member first", Deflated), ("big/random.bin", &random, Stored)]);
    // The middle of the file is inside the big member's (stored) data.
    let mut bytes = std::fs::read(&input).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&input, &bytes).unwrap();
    drop(bytes);
    let err = compress_file(&Engine::default(), &input, &Control::default(), dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("member 'big/random.bin' fails its CRC-32 check"), "{err}");
    assert!(Engine::default().verify_file(&input).is_err());
    // The temporary output went with the error.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn odf_and_epub_from_their_files_keep_mimetype_first_and_repack_as_from_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [("documents/notes.odt", Format::Odt), ("documents/book.epub", Format::Epub)] {
        let options = Options::from_json("{}").unwrap();
        let result =
            Engine::default().compress_file(&fixture(name), name, &options, &Control::default(), dir.path()).unwrap();
        assert_eq!(result.report.input.format, format);
        let output = result.output.unwrap_or_else(|| panic!("{name} smaller"));
        let mut archive = zip::ZipArchive::new(std::fs::File::open(output.path()).unwrap()).unwrap();
        let first = archive.by_index(0).unwrap();
        assert_eq!(first.name().unwrap(), "mimetype", "{name}");
        assert_eq!(first.compression(), Stored, "{name}");
        drop(first);
        // The same re-pack as from bytes: the same facts of the input, actions and size.
        let (_, from_bytes) = compress(name, "{}");
        assert_eq!(result.report.input, from_bytes.report.input, "{name}");
        assert_eq!(result.report.actions, from_bytes.report.actions, "{name}");
        assert_eq!(result.report.output.size, from_bytes.report.output.size, "{name}");
        assert_eq!(result.report.output.members, from_bytes.report.output.members, "{name}");
        assert_eq!(Engine::default().verify_file(output.path()).unwrap(), format);
    }
}

#[test]
fn from_a_file_a_bomb_is_still_refused_a_plain_zip_over_the_limit_is_not_and_a_cancel_stops() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Limits { max_expanded: 10 << 20, ..Limits::default() });
    // Declared content over the limit by far more than the file holds: a bomb.
    let bomb = dir.path().join("bomb.zip");
    std::fs::write(&bomb, zip_of(&[("zeros.bin", &vec![0u8; 50 << 20])])).unwrap();
    let err = compress_file(&engine, &bomb, &Control::default(), dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::TooLarge { .. }), "{err}");

    // Content as large as the file holding it is no bomb: read from its file, it passes.
    let plain = dir.path().join("plain.zip");
    write_zip(&plain, &[("random.bin", &random_bytes(12 << 20, 3), Stored)]);
    let result = compress_file(&engine, &plain, &Control::default(), dir.path()).unwrap();
    // Incompressible: the original is the result.
    assert_eq!(result.report.status, Status::Skipped);
    assert!(result.output.is_none());
    assert!(result.report.reason.as_deref().unwrap().contains("already smaller than a re-pack"), "{:?}", result.report);

    let cancel = AtomicBool::new(true);
    let quiet = |_: f64| {};
    let control = Control { cancel: &cancel, progress: &quiet };
    let err = compress_file(&engine, &plain, &control, dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled), "{err}");
}

#[test]
fn a_gzip_file_is_recompressed_as_it_is_read_and_its_damage_bomb_and_cancel_are_told() {
    let dir = tempfile::tempdir().unwrap();
    // 24 MB of text, half of it hard to compress: several progress steps, content over the
    // test limit below, and a file too big for that to make it a bomb.
    let mut text = hex::encode(random_bytes(8 << 20, 11)).into_bytes();
    let source = std::fs::read(fixture("documents/make.py")).unwrap();
    text.extend(source.iter().cycle().take(8 << 20));
    let input = dir.path().join("make.py.gz");
    let mut gz = flate2::GzBuilder::new()
        .filename("make.py")
        .mtime(1_700_000_000)
        .write(std::fs::File::create(&input).unwrap(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    gz.finish().unwrap();
    let input_bytes = std::fs::read(&input).unwrap();

    let highest = AtomicU64::new(0);
    let progress = |fraction: f64| {
        highest.fetch_max(fraction.to_bits(), Ordering::Relaxed);
    };
    let cancel = AtomicBool::new(false);
    let control = Control { cancel: &cancel, progress: &progress };
    // Content over `max_expanded`, but no more than the file itself could hold: no bomb.
    let engine = Engine::new(Limits { max_expanded: 20 << 20, ..Limits::default() });
    let result = compress_file(&engine, &input, &control, dir.path()).unwrap();
    assert_eq!(result.report.status, Status::Compressed, "{:?}", result.report);
    assert!(f64::from_bits(highest.load(Ordering::Relaxed)) > 0.9);
    let output = result.output.expect("smaller");
    let written = std::fs::read(output.path()).unwrap();
    assert_eq!(result.report.output.size, written.len() as u64);
    assert!(written.len() < input_bytes.len());
    // The same bytes as the re-pack of the file held in memory, header and all.
    let from_bytes = Engine::default().compress(&input_bytes, "make.py.gz", &Options::default()).unwrap();
    assert!(from_bytes.output.as_deref() == Some(&written[..]), "the same output as from memory");
    let decoder = flate2::read::GzDecoder::new(&written[..]);
    let header = decoder.header().unwrap();
    assert_eq!((header.filename(), header.mtime()), (Some(&b"make.py"[..]), 1_700_000_000));
    let decoded = Command::new("gzip").arg("-dc").arg(output.path()).output().unwrap();
    assert!(decoded.status.success() && decoded.stdout == text, "gzip -d gives the original back");
    assert_eq!(engine.verify_file(output.path()).unwrap(), Format::Gzip);
    drop(output);

    // A changed byte in the middle: the CRC-32 (or the deflate stream) tells.
    let damaged = dir.path().join("damaged.gz");
    let mut bytes = input_bytes.clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&damaged, &bytes).unwrap();
    let err = compress_file(&engine, &damaged, &Control::default(), dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::Damaged { .. }), "{err}");
    assert!(engine.verify_file(&damaged).is_err());

    // Zeros: far more content than the file could hold is a bomb.
    let bomb = dir.path().join("zeros.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&bomb).unwrap(), flate2::Compression::fast());
    gz.write_all(&vec![0u8; 40 << 20]).unwrap();
    gz.finish().unwrap();
    let err = compress_file(&engine, &bomb, &Control::default(), dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::TooLarge { .. }), "{err}");

    cancel.store(true, Ordering::Relaxed);
    let err = compress_file(&engine, &input, &control, dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled), "{err}");
    // Nothing was left behind by the failures: the inputs are all there is.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}
