//! A full disk and a read-only one, for real: the output folder is a small tmpfs (mounted in
//! a private mount namespace through `unshare`, so no privileges are needed). Files that fit
//! are written whole; the others fail by name with the reason; originals are untouched and
//! no temporary file is left behind.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

fn media_photo(name: &str) -> PathBuf {
    let media = support::media_dir();
    media.join("jpeg").join(name)
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

/// Runs the CLI with `--out` on a fresh tmpfs of `size` (`ro` to mount it read-only), and
/// copies what landed there to `copy` before the namespace (and the mount) goes away.
fn run_on_small_disk(input: &Path, size: &str, read_only: bool, work: &Path) -> (i32, Vec<Value>, PathBuf) {
    let mount_point = work.join("disk");
    let copy = work.join("copy");
    fs::create_dir_all(&mount_point).unwrap();
    fs::create_dir_all(&copy).unwrap();
    let script = format!(
        "mount -t tmpfs -o size={size} tmpfs \"$1\" || exit 90
         {remount}
         \"$2\" compress \"$3\" --out \"$1\" --json -j 2 > \"$4/report.jsonl\"
         echo $? > \"$4/status\"
         cp -a \"$1/.\" \"$4/files/\" 2>/dev/null || mkdir -p \"$4/files\"",
        remount = if read_only { "mount -o remount,ro \"$1\" || exit 91" } else { "" },
    );
    fs::create_dir_all(copy.join("files")).unwrap();
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script, "sh"])
        .arg(&mount_point)
        .arg(env!("CARGO_BIN_EXE_compressor"))
        .arg(input)
        .arg(&copy)
        .env("XDG_DATA_HOME", work.join("data"))
        .output()
        .expect("unshare (util-linux)");
    assert!(out.status.success(), "the namespace or the mount failed: {out:?}");
    let status: i32 = fs::read_to_string(copy.join("status")).unwrap().trim().parse().unwrap();
    let report = fs::read_to_string(copy.join("report.jsonl")).unwrap();
    let lines = report.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (status, lines, copy.join("files"))
}

fn photos(work: &Path, count: usize) -> (PathBuf, Vec<(PathBuf, String)>) {
    let input = work.join("in");
    fs::create_dir_all(&input).unwrap();
    let names = ["Kite.jpg", "FallenLeaf.jpg", "EveningGlow.jpg", "Path.jpg", "ColorfulCups.jpg"];
    let mut originals = Vec::new();
    for i in 0..count {
        let path = input.join(format!("{i:02}-{}", names[i % names.len()]));
        fs::copy(media_photo(names[i % names.len()]), &path).unwrap();
        originals.push((path.clone(), sha(&path)));
    }
    (input, originals)
}

#[test]
fn a_full_disk_fails_the_files_that_do_not_fit_and_only_those() {
    let work = tempfile::tempdir().unwrap();
    let (input, originals) = photos(work.path(), 12);
    // Room for a few outputs (they are 100-700 kB each), not for twelve.
    let (status, lines, files) = run_on_small_disk(&input, "1200k", false, work.path());
    assert_eq!(status, 1, "some files failed: {lines:#?}");
    assert_eq!(lines.len(), originals.len(), "one line per file");
    let failed: Vec<&Value> = lines.iter().filter(|l| l["status"] == "failed").collect();
    let written: Vec<&Value> = lines.iter().filter(|l| l["status"] != "failed").collect();
    assert!(!failed.is_empty() && !written.is_empty(), "{lines:#?}");
    for line in &failed {
        let error = line["error"].as_str().unwrap();
        assert!(error.contains("No space left on device"), "{error}");
    }
    // What was written is whole and is what the report says.
    for line in &written {
        let name = Path::new(line["path"].as_str().unwrap()).file_name().unwrap().to_owned();
        let output = files.join(&name);
        assert_eq!(sha(&output), line["report"]["output"]["hashes"]["sha256"].as_str().unwrap());
        image::open(&output).unwrap_or_else(|e| panic!("{}: {e}", output.display()));
    }
    let landed: Vec<String> =
        fs::read_dir(&files).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(landed.len(), written.len(), "only whole outputs, no temporary files: {landed:?}");
    for (path, hash) in &originals {
        assert_eq!(&sha(path), hash, "{} untouched", path.display());
    }
}

#[test]
fn a_read_only_disk_fails_every_file_with_the_reason() {
    let work = tempfile::tempdir().unwrap();
    let (input, originals) = photos(work.path(), 3);
    let (status, lines, files) = run_on_small_disk(&input, "10m", true, work.path());
    assert_eq!(status, 1);
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(line["status"], "failed", "{line}");
        assert!(line["error"].as_str().unwrap().contains("Read-only file system"), "{line}");
    }
    assert_eq!(fs::read_dir(&files).unwrap().count(), 0);
    for (path, hash) in &originals {
        assert_eq!(&sha(path), hash);
    }
}
