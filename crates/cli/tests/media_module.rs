//! The CLI does not link FFmpeg: it opens the media module (`libcompressor_media.so`) on its
//! first video or audio file. Checked on the real binary with a real recording; missing media
//! is a failure, not a skip. The module must come from the same build as the binary:
//! `cargo test --workspace` (scripts/test.sh) builds both, `cargo test -p compressor-cli`
//! alone does not, and then these tests fail on a missing or refused module.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn sound() -> PathBuf {
    support::media_dir().join("audio/Noise.wav")
}

/// A folder holding a copy of the recording and of a photo.
fn inputs() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::copy(sound(), input.join("Noise.wav")).unwrap();
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photo.png");
    fs::copy(photo, input.join("photo.png")).unwrap();
    (dir, input)
}

fn compress(dir: &Path, input: &Path, module: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_compressor"));
    command.args(["compress", "--json", "--out"]).arg(dir.join("out")).arg(input).env("HOME", dir);
    match module {
        Some(module) => command.env("COMPRESSOR_MEDIA_MODULE", module),
        None => command.env_remove("COMPRESSOR_MEDIA_MODULE"),
    };
    command.output().unwrap()
}

/// Each file's JSON line, by file name.
fn lines(output: &Output) -> Vec<(String, Value)> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            let path = value["path"].as_str().unwrap().to_string();
            (Path::new(&path).file_name().unwrap().to_string_lossy().into_owned(), value)
        })
        .collect()
}

fn line<'a>(lines: &'a [(String, Value)], name: &str) -> &'a Value {
    &lines.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no line for {name}: {lines:?}")).1
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// What `ldd` lists for the program: the shared libraries loaded when it starts.
fn libraries_of_the_program() -> String {
    let out = Command::new("ldd").arg(env!("CARGO_BIN_EXE_compressor")).output().expect("ldd is installed");
    let libraries = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && libraries.contains("libc.so"), "{libraries}");
    libraries
}

#[test]
fn the_program_does_not_load_ffmpeg_when_it_starts() {
    let libraries = libraries_of_the_program();
    assert!(!libraries.contains("libavcodec"), "FFmpeg is linked into the program:\n{libraries}");
}

#[test]
fn sound_is_compressed_through_the_module_beside_the_program() {
    let (dir, input) = inputs();
    let output = compress(dir.path(), &input, None);
    let lines = lines(&output);
    assert!(output.status.success(), "{}\n{lines:?}", String::from_utf8_lossy(&output.stderr));
    let report = &line(&lines, "Noise.wav")["report"];
    assert_eq!(report["status"], "compressed", "{report}");
    let written = line(&lines, "Noise.wav")["destination"].as_str().unwrap();
    // An independent decoder reads the whole output.
    let probe = Command::new("ffmpeg").args(["-v", "error", "-i", written, "-f", "null", "-"]).output().unwrap();
    assert!(probe.status.success() && probe.stderr.is_empty(), "{}", String::from_utf8_lossy(&probe.stderr));
    assert!(fs::metadata(written).unwrap().len() < fs::metadata(input.join("Noise.wav")).unwrap().len());
}

#[test]
fn without_the_module_sound_fails_by_name_and_the_photo_is_still_compressed() {
    let (dir, input) = inputs();
    let nowhere = dir.path().join("nowhere/libcompressor_media.so");
    let output = compress(dir.path(), &input, Some(&nowhere));
    let lines = lines(&output);
    assert_eq!(output.status.code(), Some(1), "{lines:?}");
    let failed = line(&lines, "Noise.wav");
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("media module is missing") && error.contains(&nowhere.display().to_string()), "{error}");
    assert_eq!(line(&lines, "photo.png")["report"]["status"], "compressed");
    let written = files_under(&dir.path().join("out"));
    assert!(written.iter().any(|f| f.ends_with("photo.png")), "{written:?}");
    assert!(!written.iter().any(|f| f.file_stem().is_some_and(|s| s == "Noise")), "{written:?}");
}

/// The C library the program runs with: a real shared library, but not our module.
fn libc_of_the_program() -> PathBuf {
    let libraries = libraries_of_the_program();
    let line = libraries.lines().find(|l| l.trim_start().starts_with("libc.so")).expect("libc in ldd's list");
    PathBuf::from(line.split("=>").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("a path"))
}

#[test]
fn another_library_in_the_module_s_place_is_refused_before_it_is_called() {
    let (dir, input) = inputs();
    let libc = libc_of_the_program();
    let output = compress(dir.path(), &input, Some(&libc));
    let lines = lines(&output);
    let error = line(&lines, "Noise.wav")["error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("is not Compressor's media module"), "{error}");
    assert_eq!(line(&lines, "photo.png")["report"]["status"], "compressed");
}
