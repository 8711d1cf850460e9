//! Kills `compressor` (SIGKILL) at spread-out moments while it compresses a folder beside
//! the originals, into an output folder and in place, then checks that nothing was lost:
//! every original is intact (or, in place, in the trash with its replacement finished by
//! the next run), every file under a final name decodes, and after the next run no
//! temporary file is left.

mod support;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn media_photo(name: &str) -> PathBuf {
    let media = support::media_dir();
    media.join("jpeg").join(name)
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    walk(dir).into_iter().filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')).collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    walk(dir).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".compressor-")).collect()
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Suffix,
    Folder,
    InPlace,
}

fn command(mode: Mode, home: &Path, paths: &[PathBuf]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_compressor"));
    command.args(["compress", "--json", "-j", "2"]).args(paths);
    match mode {
        Mode::Suffix => {}
        Mode::Folder => {
            command.arg("--out").arg(home.join("out"));
        }
        Mode::InPlace => {
            command.arg("--in-place");
        }
    }
    command.env("XDG_DATA_HOME", home.join("data")).env("HOME", home).stdout(Stdio::null()).stderr(Stdio::null());
    command
}

/// One round: fill a folder, start, kill after `delay`, check, run again, check.
fn round(mode: Mode, delay: Duration) {
    let home = tempfile::tempdir().unwrap();
    let inbox = home.path().join("in");
    fs::create_dir_all(inbox.join("sub")).unwrap();
    for name in ["Kite.jpg", "FallenLeaf.jpg"] {
        fs::copy(media_photo(name), inbox.join(name)).unwrap();
    }
    for i in 0..8 {
        fs::copy(fixture("photo.jpg"), inbox.join("sub").join(format!("small-{i}.jpg"))).unwrap();
    }
    fs::copy(fixture("photo.png"), inbox.join("sub/picture.png")).unwrap();
    let originals: Vec<(PathBuf, String)> = files(&inbox).into_iter().map(|p| (p.clone(), sha(&p))).collect();
    let trash = home.path().join("data/Trash/files");
    let trashed = || -> HashSet<String> { files(&trash).iter().map(|p| sha(p)).collect() };

    let mut child = command(mode, home.path(), std::slice::from_ref(&inbox)).spawn().unwrap();
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Right after the kill.
    eprintln!("{mode:?} killed after {delay:?}: {} temporary files left", leftovers(home.path()).len());
    let in_trash = trashed();
    for (path, hash) in &originals {
        match mode {
            Mode::Suffix | Mode::Folder => {
                assert_eq!(&sha(path), hash, "{mode:?} {delay:?}: {} changed", path.display())
            }
            Mode::InPlace => {
                // Either still the original, or the original is in the trash.
                let intact = path.exists() && &sha(path) == hash;
                assert!(intact || in_trash.contains(hash), "{mode:?} {delay:?}: {} lost", path.display());
            }
        }
    }
    for dir in [inbox.clone(), home.path().join("out")] {
        for path in files(&dir) {
            image::open(&path).unwrap_or_else(|e| panic!("{mode:?} {delay:?}: {} is not whole: {e}", path.display()));
        }
    }

    // The next run, over the same files (a folder walk would also take the first run's
    // outputs), finishes the job and leaves no temporary file.
    let paths: Vec<PathBuf> = match mode {
        // Outputs go elsewhere, and named files would not mirror the tree.
        Mode::Folder => vec![inbox.clone()],
        Mode::Suffix | Mode::InPlace => originals.iter().map(|(p, _)| p.clone()).collect(),
    };
    let status = command(mode, home.path(), &paths).status().unwrap();
    assert!(status.success(), "{mode:?} {delay:?}: the second run failed");
    assert_eq!(leftovers(home.path()), Vec::<PathBuf>::new(), "{mode:?} {delay:?}");
    let in_trash = trashed();
    for (path, hash) in &originals {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        match mode {
            Mode::Suffix => {
                assert_eq!(&sha(path), hash);
                let ext = path.extension().unwrap().to_string_lossy();
                let output = path.with_file_name(format!("{name}-min.{ext}"));
                image::open(&output).unwrap_or_else(|e| panic!("{}: {e}", output.display()));
            }
            Mode::Folder => {
                assert_eq!(&sha(path), hash);
                let output = home.path().join("out").join(path.strip_prefix(&inbox).unwrap());
                image::open(&output).unwrap_or_else(|e| panic!("{}: {e}", output.display()));
            }
            Mode::InPlace => {
                image::open(path).unwrap_or_else(|e| panic!("{mode:?} {delay:?}: {}: {e}", path.display()));
                assert!(
                    in_trash.contains(hash),
                    "{mode:?} {delay:?}: the original of {} is in the trash",
                    path.display()
                );
            }
        }
    }
    // Nothing but the originals and one output each.
    let expected = match mode {
        Mode::Suffix => originals.len() * 2,
        Mode::Folder | Mode::InPlace => originals.len(),
    };
    assert_eq!(files(&inbox).len(), expected, "{mode:?} {delay:?}: {:#?}", files(&inbox));
}

/// Kill moments spread over a run (a full run here takes about a second).
const DELAYS_MS: [u64; 8] = [15, 60, 120, 200, 300, 450, 650, 900];

#[test]
fn killed_beside_the_originals() {
    for delay in DELAYS_MS {
        round(Mode::Suffix, Duration::from_millis(delay));
    }
}

#[test]
fn killed_writing_into_an_output_folder() {
    for delay in DELAYS_MS {
        round(Mode::Folder, Duration::from_millis(delay));
    }
}

#[test]
fn killed_replacing_in_place() {
    for delay in DELAYS_MS {
        round(Mode::InPlace, Duration::from_millis(delay));
    }
}
