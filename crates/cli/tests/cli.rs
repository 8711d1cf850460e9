//! Drives the real `compressor` binary over the committed fixtures: outputs are decoded,
//! hashes recomputed from disk, and bad inputs must fail alone, by name, leaving nothing behind.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

/// Copies the named fixtures into a fresh folder.
fn workspace(names: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for name in names {
        fs::copy(fixtures().join(name), input.join(name)).unwrap();
    }
    (dir, input)
}

fn compressor(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compressor"))
        .args(args)
        // Keep the trash (used by --in-place) inside the test's folder.
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", home)
        .output()
        .unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn by_name(lines: &[Value]) -> BTreeMap<String, Value> {
    lines
        .iter()
        .map(|l| {
            let path = PathBuf::from(l["path"].as_str().unwrap());
            (path.file_name().unwrap().to_string_lossy().into_owned(), l.clone())
        })
        .collect()
}

fn leftover_temp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".compressor-")).collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

const GOOD: [&str; 10] = [
    "photo.jpg",
    "photo-rotated.jpg",
    "photo.png",
    "alpha.png",
    "gray.png",
    "anim.gif",
    "photo.webp",
    "photo.tiff",
    "photo.bmp",
    "photo16.png",
];
const BAD: [&str; 6] = ["truncated.jpg", "bad-crc.png", "empty.jpg", "text.jpg", "huge-header.png", "truncated.png"];

#[test]
fn compresses_a_folder_into_an_output_folder_and_reports_true_hashes() {
    let names: Vec<&str> = GOOD.iter().chain(BAD.iter()).copied().collect();
    let (dir, input) = workspace(&names);
    let before: BTreeMap<_, _> = names.iter().map(|n| (n.to_string(), sha256_file(&input.join(n)))).collect();
    let out = dir.path().join("out");
    let output =
        compressor(&["compress", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"], dir.path());

    assert_eq!(output.status.code(), Some(1), "bad inputs make the run fail: {output:?}");
    let lines = by_name(&json_lines(&output));
    assert_eq!(lines.len(), names.len(), "one line per file: {lines:#?}");

    for name in GOOD {
        let line = &lines[name];
        assert_ne!(line["status"], "failed", "{name}: {line}");
        let report = &line["report"];
        let destination = PathBuf::from(line["destination"].as_str().unwrap());
        assert!(destination.starts_with(&out), "{name} written under --out");
        // The reported output hash and size are the file's.
        assert_eq!(report["output"]["hashes"]["sha256"], sha256_file(&destination), "{name}");
        assert_eq!(report["output"]["size"], fs::metadata(&destination).unwrap().len(), "{name}");
        // It decodes, with the reported dimensions.
        let decoded = image::open(&destination).unwrap_or_else(|e| panic!("{name}: output does not decode: {e}"));
        assert_eq!(report["output"]["width"], decoded.width(), "{name}");
        assert_eq!(report["output"]["height"], decoded.height(), "{name}");
        if report["status"] == "compressed" {
            assert!(report["output"]["size"].as_u64() < report["input"]["size"].as_u64(), "{name}: not smaller");
        } else {
            assert!(report["reason"].as_str().unwrap().contains("not be smaller"), "{name}: {report}");
            assert_eq!(sha256_file(&destination), before[name], "{name}: a skipped file is copied as is");
        }
    }
    // BMP and TIFF become PNG without taking the real photo.png's name.
    assert_eq!(lines["photo.png"]["destination"], out.join("photo.png").to_str().unwrap());
    assert_eq!(lines["photo.bmp"]["destination"], out.join("photo.bmp.png").to_str().unwrap());
    assert_eq!(lines["photo.tiff"]["destination"], out.join("photo.tiff.png").to_str().unwrap());

    let expected_reasons = [
        ("truncated.jpg", "the JPEG data ends early"),
        ("bad-crc.png", "CRC"),
        ("empty.jpg", "empty"),
        ("text.jpg", "plain text"),
        ("huge-header.png", "100000×100000"),
        ("truncated.png", "PNG"),
    ];
    for (name, reason) in expected_reasons {
        let line = &lines[name];
        assert_eq!(line["status"], "failed", "{name}: {line}");
        let error = line["error"].as_str().unwrap();
        assert!(error.contains(reason), "{name}: error {error:?} should mention {reason:?}");
        let stem = Path::new(name).file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            !walk(&out).iter().any(|p| p.file_stem().unwrap().to_string_lossy() == stem),
            "{name}: no output for a failed file"
        );
    }
    // Originals untouched, no temporary files anywhere.
    for name in &names {
        assert_eq!(sha256_file(&input.join(name)), before[*name], "{name} changed");
    }
    assert_eq!(leftover_temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn text_mode_names_the_file_and_the_reason() {
    let (dir, input) = workspace(&["photo.jpg", "text.jpg"]);
    let output = compressor(&["compress", input.to_str().unwrap()], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("text.jpg: not a supported file type"), "{stderr}");
    assert!(stderr.contains("2 files: 1 compressed, 0 skipped, 1 failed"), "{stderr}");
    // Default sink: beside the original with "-min".
    let result = input.join("photo-min.jpg");
    assert!(image::open(&result).is_ok());
    assert!(fs::metadata(&result).unwrap().len() < fs::metadata(input.join("photo.jpg")).unwrap().len());
}

#[test]
fn in_place_replaces_only_after_writing_and_moves_the_original_to_the_trash() {
    let (dir, input) = workspace(&["photo.jpg", "photo.bmp", "truncated.jpg"]);
    let original_jpg = sha256_file(&input.join("photo.jpg"));
    let original_bad = sha256_file(&input.join("truncated.jpg"));
    let output = compressor(&["compress", input.to_str().unwrap(), "--in-place", "--json"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let lines = by_name(&json_lines(&output));

    let jpg = input.join("photo.jpg");
    assert_eq!(lines["photo.jpg"]["report"]["output"]["hashes"]["sha256"], sha256_file(&jpg));
    assert_ne!(sha256_file(&jpg), original_jpg);
    image::open(&jpg).unwrap();
    // BMP in place becomes a PNG of the same name; the BMP goes to the trash.
    assert!(!input.join("photo.bmp").exists());
    image::open(input.join("photo.png")).unwrap();

    let trash = dir.path().join("data/Trash/files");
    let trashed: Vec<String> = walk(&trash).iter().map(|p| sha256_file(p)).collect();
    assert!(trashed.contains(&original_jpg), "the original JPEG is in the trash");
    assert_eq!(trashed.len(), 2, "two originals trashed: {trashed:?}");
    // The bad file is left alone.
    assert_eq!(sha256_file(&input.join("truncated.jpg")), original_bad);
    assert_eq!(leftover_temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn keep_dates_copies_the_modification_time() {
    let (dir, input) = workspace(&["photo.jpg"]);
    let source = input.join("photo.jpg");
    let old = filetime_of(1_234_567_890);
    set_mtime(&source, old);
    let output = compressor(&["compress", source.to_str().unwrap(), "--suffix", ".small", "--keep-dates"], dir.path());
    assert!(output.status.success(), "{output:?}");
    let result = input.join("photo.small.jpg");
    assert_eq!(mtime(&result), old);
}

fn filetime_of(seconds: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64)
}

fn set_mtime(path: &Path, time: std::time::SystemTime) {
    fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

fn mtime(path: &Path) -> std::time::SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn invalid_options_are_refused_with_field_errors() {
    let (dir, input) = workspace(&["photo.jpg"]);
    let output = compressor(
        &["compress", input.to_str().unwrap(), "--options", r#"{"image": {"resize": {"mode": "auto"}}}"#],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("image.resize: When mode='auto', at least one of 'width' or 'height' must be specified."),
        "{stderr}"
    );
    let output =
        compressor(&["compress", input.to_str().unwrap(), "--options", r#"{"image": {"qualty": 5}}"#], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("qualty"));
    assert_eq!(walk(&input).len(), 1, "nothing written");
}

#[test]
fn options_from_a_file_and_presets_convert_and_resize() {
    let (dir, input) = workspace(&["photo.jpg", "alpha.png"]);
    let options = dir.path().join("options.json");
    fs::write(&options, r#"{"image": {"format": "webp", "resize": {"width": 200, "mode": "auto"}}}"#).unwrap();
    let out = dir.path().join("out");
    let arg = format!("@{}", options.display());
    let output = compressor(
        &["compress", input.to_str().unwrap(), "--options", &arg, "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(output.status.success(), "{output:?}");
    for name in ["photo.webp", "alpha.webp"] {
        let image = image::open(out.join(name)).unwrap();
        assert_eq!(image.width(), 200, "{name}");
    }
    assert!(image::open(out.join("alpha.webp")).unwrap().color().has_alpha());

    let out = dir.path().join("web");
    let output = compressor(
        &["compress", input.to_str().unwrap(), "--preset", "web", "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(output.status.success(), "{output:?}");
    assert!(out.join("photo.webp").exists());
    let output = Command::new(env!("CARGO_BIN_EXE_compressor"))
        .args(["compress", input.to_str().unwrap(), "--preset", "nope"])
        .env("COMPRESSOR_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no preset named 'nope'"));
}

#[test]
fn in_place_conversion_never_overwrites_another_file() {
    let (dir, input) = workspace(&["photo.bmp"]);
    // An unrelated photo.png sits beside photo.bmp: converting in place must not replace it.
    fs::write(input.join("photo.png"), b"someone else's file").unwrap();
    let output = compressor(&["compress", input.join("photo.bmp").to_str().unwrap(), "--in-place"], dir.path());
    assert!(output.status.success(), "{output:?}");
    assert_eq!(fs::read(input.join("photo.png")).unwrap(), b"someone else's file");
    image::open(input.join("photo.bmp.png")).unwrap();
}

#[test]
fn presets_are_exported_imported_and_used_from_the_shared_settings() {
    let (dir, input) = workspace(&["photo.jpg"]);
    let config = dir.path().join("config");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_compressor"))
            .args(args)
            .env("COMPRESSOR_CONFIG_DIR", &config)
            .output()
            .unwrap()
    };
    // Export a built-in, rename it, import it as the user's own.
    let exported = dir.path().join("web.json");
    assert!(run(&["presets", "export", "web", exported.to_str().unwrap()]).status.success());
    let mut preset: Value = serde_json::from_slice(&fs::read(&exported).unwrap()).unwrap();
    preset["name"] = "Thumbs".into();
    preset["options"]["image"]["resize"] = serde_json::json!({"width": 100, "mode": "auto"});
    fs::write(&exported, preset.to_string()).unwrap();
    let imported = run(&["presets", "import", exported.to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");

    // Listed as the user's, stored in the settings file the desktop app reads.
    let list = String::from_utf8_lossy(&run(&["presets", "list"]).stdout).into_owned();
    assert!(list.lines().any(|l| l.starts_with("Thumbs") && l.ends_with("(yours)")), "{list}");
    let settings: Value = serde_json::from_slice(&fs::read(config.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["user_presets"][0]["name"], "Thumbs");

    // Used by name when compressing.
    let out = dir.path().join("out");
    let used = run(&["compress", input.to_str().unwrap(), "--preset", "thumbs", "--out", out.to_str().unwrap()]);
    assert!(used.status.success(), "{used:?}");
    assert_eq!(image::open(out.join("photo.webp")).unwrap().width(), 100);

    // Refused: a second import of the same name, a built-in name, bad options.
    assert_eq!(run(&["presets", "import", exported.to_str().unwrap()]).status.code(), Some(2));
    preset["name"] = "web".into();
    fs::write(&exported, preset.to_string()).unwrap();
    assert_eq!(run(&["presets", "import", exported.to_str().unwrap()]).status.code(), Some(2));
    preset["name"] = "Broken".into();
    preset["options"]["image"]["quality"] = 0.into();
    fs::write(&exported, preset.to_string()).unwrap();
    let refused = run(&["presets", "import", exported.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("image.quality"), "{refused:?}");
}

#[test]
fn documents_and_archives_in_a_folder_are_compressed_and_still_open() {
    let names = ["documents/report.docx", "documents/budget.xlsx", "documents/book.epub"];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for name in names {
        fs::copy(fixtures().join(name), input.join(Path::new(name).file_name().unwrap())).unwrap();
    }
    let out = dir.path().join("out");
    let output = compressor(
        &["compress", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--preset", "maximum", "--json"],
        dir.path(),
    );
    assert!(output.status.success(), "{output:?}");
    let lines = by_name(&json_lines(&output));
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for (name, kind) in [("report.docx", "document"), ("budget.xlsx", "document"), ("book.epub", "document")] {
        let report = &lines[name]["report"];
        assert_eq!(report["status"], "compressed", "{name}: {report}");
        assert_eq!(report["input"]["type"], kind);
        assert_eq!(report["output"]["members"], report["input"]["members"], "{name}");
        let destination = out.join(name);
        assert_eq!(report["output"]["hashes"]["sha256"], sha256_file(&destination));
        // Python's zipfile checks every member's CRC.
        let check = Command::new("python3")
            .args(["-c", "import sys, zipfile; assert zipfile.ZipFile(sys.argv[1]).testzip() is None"])
            .arg(&destination)
            .status()
            .unwrap();
        assert!(check.success(), "{name}");
    }
}

/// A result dropped in again is recognised by its SHA-256 (the index beside the settings)
/// and kept as it is: a second lossy pass would only lose quality. `--recompress` overrides.
#[test]
fn our_own_results_are_not_compressed_again() {
    let (dir, input) = workspace(&["photo.jpg"]);
    let photo = input.join("photo.jpg");
    let first = compressor(&["compress", photo.to_str().unwrap(), "--json"], dir.path());
    assert!(first.status.success(), "{first:?}");
    let result = input.join("photo-min.jpg");
    let result_sha = sha256_file(&result);
    assert_eq!(json_lines(&first)[0]["report"]["output"]["hashes"]["sha256"], result_sha);

    let again = compressor(&["compress", result.to_str().unwrap(), "--json", "--preset", "maximum"], dir.path());
    assert!(again.status.success(), "{again:?}");
    let report = &json_lines(&again)[0]["report"];
    assert_eq!(report["status"], "skipped", "{report}");
    assert!(report["reason"].as_str().unwrap().contains("Compressor made this file"), "{report}");
    assert_eq!(sha256_file(&result), result_sha);
    assert!(!input.join("photo-min-min.jpg").exists());

    let forced = compressor(
        &["compress", result.to_str().unwrap(), "--json", "--preset", "maximum", "--recompress"],
        dir.path(),
    );
    assert!(forced.status.success(), "{forced:?}");
    let report = &json_lines(&forced)[0]["report"];
    assert_eq!(report["status"], "compressed", "maximum (ultra) makes the high result smaller: {report}");
    assert!(input.join("photo-min-min.jpg").exists());
}
