//! PDFs on a real 42-page document with images (Ghostscript's colour-management guide),
//! checked with independent tools: pdfinfo and pdftotext (poppler), qpdf --check, and
//! pdftoppm renders compared page by page.

use std::path::{Path, PathBuf};
use std::process::Command;

use compressor_engine::{Engine, EngineError, Options, Status};

fn media(name: &str) -> PathBuf {
    let root = std::env::var_os("COMPRESSOR_MEDIA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/compressor-media"));
    let path = root.join(name);
    assert!(path.exists(), "{} missing: run tests/media/fetch.sh", path.display());
    path
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    file
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn stdout(program: &str, file: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&str> = extra.to_vec();
    args.push(file.to_str().unwrap());
    if program == "pdftotext" {
        args.push("-");
    }
    let out = run(program, &args);
    assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pages(file: &Path) -> u32 {
    let info = stdout("pdfinfo", file, &[]);
    let line = info.lines().find(|l| l.starts_with("Pages:")).expect("Pages line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Each page rendered in grey at a low resolution.
fn renders(file: &Path) -> Vec<image::GrayImage> {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let out = run("pdftoppm", &["-r", "24", "-gray", "-png", file.to_str().unwrap(), prefix.to_str().unwrap()]);
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names.iter().map(|p| image::open(p).unwrap().to_luma8()).collect()
}

/// Mean absolute difference of two renders, 0–255.
fn difference(a: &image::GrayImage, b: &image::GrayImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a.pixels().zip(b.pixels()).map(|(x, y)| (x.0[0] as i64 - y.0[0] as i64).unsigned_abs()).sum();
    total as f64 / (a.width() * a.height()) as f64
}

fn qpdf_check(file: &Path) {
    let out = run("qpdf", &["--check", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.code() == Some(0), "qpdf --check: {text}{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn lossy_levels_shrink_images_and_keep_pages_text_and_looks() {
    let path = media("pdf/GS9_Color_Management.pdf");
    let input = std::fs::read(&path).unwrap();
    let result = Engine::default().compress(&input, "guide.pdf", &Options::default()).unwrap();
    assert_eq!(result.report.status, Status::Compressed, "{:?}", result.report);
    let output = result.output.unwrap();
    let out_file = write_temp(&output);
    eprintln!("{} -> {} bytes; {:?}", input.len(), output.len(), result.report.actions);
    assert!(output.len() < input.len() * 7 / 10, "{} -> {}", input.len(), output.len());
    assert_eq!(pages(out_file.path()), 42);
    assert_eq!(result.report.output.pages, Some(42));
    assert_eq!(stdout("pdftotext", out_file.path(), &[]), stdout("pdftotext", &path, &[]));
    qpdf_check(out_file.path());
    for (page, (a, b)) in renders(&path).iter().zip(renders(out_file.path()).iter()).enumerate() {
        let diff = difference(a, b);
        assert!(diff < 4.0, "page {} differs by {diff:.2}", page + 1);
    }
    Engine::default().verify(&output).unwrap();
}

#[test]
fn the_lossless_pass_renders_every_page_identically() {
    let path = media("pdf/GS9_Color_Management.pdf");
    let input = std::fs::read(&path).unwrap();
    let options = Options::from_json(r#"{"pdf": {"lossless": true}}"#).unwrap();
    let result = Engine::default().compress(&input, "guide.pdf", &options).unwrap();
    let output = result.output.expect("smaller even without touching images");
    eprintln!("lossless: {} -> {} bytes; {:?}", input.len(), output.len(), result.report.actions);
    let out_file = write_temp(&output);
    qpdf_check(out_file.path());
    assert_eq!(stdout("pdftotext", out_file.path(), &[]), stdout("pdftotext", &path, &[]));
    for (page, (a, b)) in renders(&path).iter().zip(renders(out_file.path()).iter()).enumerate() {
        assert!(a == b, "page {} renders differently", page + 1);
    }
}

#[test]
fn broken_and_encrypted_pdfs_get_a_clear_answer() {
    let input = std::fs::read(media("pdf/GS9_Color_Management.pdf")).unwrap();
    // Cut short: the cross-reference data at the end is gone.
    let cut = &input[..input.len() / 3];
    let err = Engine::default().compress(cut, "cut.pdf", &Options::default()).unwrap_err();
    assert!(matches!(err, EngineError::Damaged { salvageable: true, .. }), "{err}");
    assert!(err.to_string().contains("the PDF ends early"), "{err}");
    // Salvaged on request: what lopdf finds by scanning, said to be damaged.
    let salvage = Options::from_json(r#"{"damaged": "salvage"}"#).unwrap();
    match Engine::default().compress(cut, "cut.pdf", &salvage) {
        Err(EngineError::Corrupt { format: "PDF", .. } | EngineError::Damaged { .. }) => {}
        Ok(result) => {
            assert!(result.report.damage.is_some(), "{:?}", result.report);
            // Recovered by scanning the objects: then the result must be a sound PDF.
            let output = result.output.expect("a recovered PDF is rewritten");
            qpdf_check(write_temp(&output).path());
        }
        Err(other) => panic!("unexpected: {other}"),
    }
    let garbage = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\nxref\nnonsense\n%%EOF";
    let err = Engine::default().compress(garbage, "junk.pdf", &Options::default()).unwrap_err();
    assert!(err.to_string().contains("PDF"), "{err}");

    // Encrypted with a user password: left exactly as it is, saying why.
    let plain = write_temp(&input);
    let encrypted = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    let out = run(
        "qpdf",
        &[
            "--encrypt",
            "secret",
            "owner",
            "256",
            "--",
            plain.path().to_str().unwrap(),
            encrypted.path().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(encrypted.path()).unwrap();
    match Engine::default().compress(&bytes, "locked.pdf", &Options::default()) {
        Ok(result) => {
            assert_eq!(result.report.status, Status::Skipped);
            assert!(result.report.reason.unwrap().contains("encrypted"));
            assert!(result.output.is_none());
        }
        Err(err) => assert!(err.to_string().contains("encrypt") || err.to_string().contains("password"), "{err}"),
    }
}

/// Inputs the fuzzer (scripts/fuzz.sh) found, kept as regression tests: whatever the engine
/// makes of them must verify.
#[test]
fn fuzzer_findings_give_an_error_or_an_output_that_verifies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fuzz");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let engine = Engine::default();
        if let Ok(result) = engine.compress(&input, "fuzz", &Options::default()) {
            if let Some(output) = &result.output {
                if let Err(err) = engine.verify(output) {
                    panic!("{}: the output does not verify: {err}", path.display());
                }
            }
        }
    }
}

/// `pdf.max_size`: images step down in resolution and quality until the document fits, with
/// its pages and text intact; a size no step reaches is an error that says how close it came.
#[test]
fn max_size_steps_images_down_until_the_document_fits() {
    let path = media("pdf/GS9_Color_Management.pdf");
    let input = std::fs::read(&path).unwrap();
    let compress = |json: &str| Engine::default().compress(&input, "guide.pdf", &Options::from_json(json).unwrap());
    let level = compress("{}").unwrap().output.unwrap().len() as u64;
    // `ultra`'s images (120 ppi, q60) are two steps down from `high`'s (200 ppi, q75).
    let limit = compress(r#"{"pdf": {"compression": "ultra"}}"#).unwrap().output.unwrap().len() as u64;
    assert!(limit < level);
    let result = compress(&format!(r#"{{"pdf": {{"max_size": {limit}}}}}"#)).unwrap();
    let output = result.output.unwrap();
    eprintln!("{level} bytes at the level, {} under {limit}; {:?}", output.len(), result.report.actions);
    assert!(output.len() as u64 <= limit, "{} > {limit}", output.len());
    let fitted = "images at up to 120 ppi, JPEG q60 to fit";
    assert!(result.report.actions.iter().any(|a| a.starts_with(fitted)), "{:?}", result.report.actions);
    let out_file = write_temp(&output);
    assert_eq!(pages(out_file.path()), 42);
    assert_eq!(stdout("pdftotext", out_file.path(), &[]), stdout("pdftotext", &path, &[]));
    qpdf_check(out_file.path());

    match compress(r#"{"pdf": {"max_size": 10000}}"#) {
        Err(EngineError::OverTargetSize { target, closest, why }) => {
            eprintln!("10,000 bytes: closest {closest} ({why})");
            assert_eq!(target, 10_000);
            assert!(closest > 10_000 && closest < limit, "{closest}");
            assert!(why.contains("72 ppi"), "{why}");
        }
        other => panic!("expected OverTargetSize, got {other:?}"),
    }
    match compress(r#"{"pdf": {"lossless": true, "max_size": 10000}}"#) {
        Err(EngineError::OverTargetSize { why, .. }) => assert!(why.contains("lossless"), "{why}"),
        other => panic!("expected OverTargetSize, got {other:?}"),
    }
}
