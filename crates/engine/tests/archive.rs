//! ZIP, office documents, ODF, EPUB and gzip: re-packed smaller, still readable by the
//! formats' own readers (python-docx, openpyxl, python-pptx, Python's zipfile), and hostile
//! archives refused before they can exhaust memory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use compressor_engine::{Engine, EngineError, Format, Limits, Options, Status};

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
