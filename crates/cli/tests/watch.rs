//! `compressor watch` with real writers: cp, rsync (temp file + rename), a browser-style
//! `.part` download, a slow writer, its own outputs beside the originals, a restart with files
//! added while stopped, the folder deleted and re-created, polling, and a burst of files.
//! Each asserts exactly one valid, smaller output per input and no output of an output.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

/// A real photo from the fetched media (see tests/media/fetch.sh).
fn photo(name: &str) -> PathBuf {
    let media = support::media_dir();
    let path = media.join("jpeg").join(name);
    assert!(path.exists(), "{} missing: run tests/media/fetch.sh", path.display());
    path
}

struct Watch {
    child: Child,
    lines: Receiver<Value>,
}

impl Watch {
    fn start(folder: &Path, home: &Path, extra: &[&str]) -> Watch {
        let mut args: Vec<std::ffi::OsString> = vec![folder.into(), "--index".into(), home.join("index.json").into()];
        args.extend(extra.iter().map(Into::into));
        Watch::spawn(&args, home, 1)
    }

    /// Runs `compressor watch --json --settle-ms 300 ARGS...` and waits until it reports
    /// `folders` folders watched.
    fn spawn(args: &[std::ffi::OsString], home: &Path, folders: usize) -> Watch {
        Watch::spawn_with(Command::new(env!("CARGO_BIN_EXE_compressor")), args, home, folders)
    }

    /// Like `spawn`, with `program` (the binary, or a wrapper that runs it) as the command.
    fn spawn_with(mut program: Command, args: &[std::ffi::OsString], home: &Path, folders: usize) -> Watch {
        let mut child = program
            .args(["watch", "--json", "--settle-ms", "300"])
            .args(args)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("COMPRESSOR_CONFIG_DIR", home.join("config"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(serde_json::from_str(&line).expect("JSON line"));
            }
        });
        // Wait until it says it is watching.
        let stderr = child.stderr.take().unwrap();
        let (ready_sender, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("watching") {
                    let _ = ready_sender.send(());
                }
            }
        });
        for _ in 0..folders {
            ready.recv_timeout(Duration::from_secs(10)).expect("watcher started");
        }
        std::thread::sleep(Duration::from_millis(300));
        Watch { child, lines }
    }

    /// Collects reports until `count` arrived, then keeps listening for `quiet` to catch extras.
    fn reports(&self, count: usize, quiet: Duration) -> Vec<Value> {
        let mut reports = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while reports.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => reports.push(line),
                Err(_) => panic!("only {} of {count} files were reported: {reports:#?}", reports.len()),
            }
        }
        while let Ok(line) = self.lines.recv_timeout(quiet) {
            reports.push(line);
        }
        reports
    }

    fn stop(mut self) {
        Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "watch exits cleanly on Ctrl-C: {status:?}");
    }
}

fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Every report is a compressed file whose output decodes and is smaller than its input.
fn assert_valid_outputs(reports: &[Value]) {
    for report in reports {
        assert_eq!(report["status"], "compressed", "{report}");
        let output = Path::new(report["destination"].as_str().unwrap());
        let decoded = image::open(output).unwrap_or_else(|e| panic!("{}: {e}", output.display()));
        assert_eq!(report["report"]["output"]["width"], decoded.width());
        assert!(report["report"]["output"]["size"].as_u64() < report["report"]["input"]["size"].as_u64());
    }
}

#[test]
fn each_kind_of_writer_gives_exactly_one_output() {
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let watch = Watch::start(&inbox, home.path(), &["--out", out.to_str().unwrap()]);

    // cp
    fs::copy(photo("Kite.jpg"), inbox.join("cp.jpg")).unwrap();
    // rsync: writes a hidden temporary file, then renames it.
    let status = Command::new("rsync").arg(photo("FallenLeaf.jpg")).arg(inbox.join("rsync.jpg")).status().unwrap();
    assert!(status.success());
    // A browser download: .part while writing, then renamed.
    fs::copy(photo("ColorfulCups.jpg"), inbox.join("download.jpg.part")).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    fs::rename(inbox.join("download.jpg.part"), inbox.join("download.jpg")).unwrap();
    // A slow writer: a real photo in 10 chunks over 2 s, file open throughout.
    let bytes = fs::read(photo("EveningGlow.jpg")).unwrap();
    let mut slow = fs::File::create(inbox.join("slow.jpg")).unwrap();
    for chunk in bytes.chunks(bytes.len() / 10 + 1) {
        slow.write_all(chunk).unwrap();
        slow.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(slow);

    let reports = watch.reports(4, Duration::from_secs(2));
    assert_eq!(reports.len(), 4, "one report per file: {reports:#?}");
    assert_valid_outputs(&reports);
    assert_eq!(names(&out), ["cp.jpg", "download.jpg", "rsync.jpg", "slow.jpg"]);
    watch.stop();
}

#[test]
fn outputs_beside_the_originals_are_never_compressed_again() {
    let home = tempfile::tempdir().unwrap();
    let inbox = home.path().join("in");
    fs::create_dir_all(&inbox).unwrap();
    let watch = Watch::start(&inbox, home.path(), &["--suffix", "-min"]);
    fs::copy(photo("Kite.jpg"), inbox.join("kite.jpg")).unwrap();
    let reports = watch.reports(1, Duration::from_secs(2));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_valid_outputs(&reports);
    assert_eq!(names(&inbox), ["kite-min.jpg", "kite.jpg"]);
    watch.stop();
}

#[test]
fn in_place_replaces_once_and_never_again() {
    let home = tempfile::tempdir().unwrap();
    let inbox = home.path().join("in");
    fs::create_dir_all(&inbox).unwrap();
    let watch = Watch::start(&inbox, home.path(), &["--in-place"]);
    fs::copy(photo("Kite.jpg"), inbox.join("kite.jpg")).unwrap();
    let reports = watch.reports(1, Duration::from_secs(2));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_valid_outputs(&reports);
    assert_eq!(names(&inbox), ["kite.jpg"]);
    assert_eq!(names(&home.path().join("data/Trash/files")), ["kite.jpg"], "the original is in the trash");
    watch.stop();
}

#[test]
fn a_restart_catches_up_without_doing_anything_twice() {
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let args = ["--out", out.to_str().unwrap()];
    let watch = Watch::start(&inbox, home.path(), &args);
    fs::copy(photo("Kite.jpg"), inbox.join("before.jpg")).unwrap();
    assert_eq!(watch.reports(1, Duration::from_millis(500)).len(), 1);
    watch.stop();

    // Arrives while nobody watches.
    fs::copy(photo("FallenLeaf.jpg"), inbox.join("while-stopped.jpg")).unwrap();
    let watch = Watch::start(&inbox, home.path(), &args);
    let reports = watch.reports(1, Duration::from_secs(2));
    assert_eq!(reports.len(), 1, "only the new file: {reports:#?}");
    assert!(reports[0]["path"].as_str().unwrap().ends_with("while-stopped.jpg"));
    assert_eq!(names(&out), ["before.jpg", "while-stopped.jpg"]);
    watch.stop();
}

#[test]
fn the_folder_can_be_deleted_and_created_again() {
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let watch = Watch::start(&inbox, home.path(), &["--out", out.to_str().unwrap()]);
    fs::remove_dir_all(&inbox).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    fs::create_dir_all(&inbox).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    fs::copy(photo("Kite.jpg"), inbox.join("after.jpg")).unwrap();
    let reports = watch.reports(1, Duration::from_secs(1));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_valid_outputs(&reports);
    watch.stop();
}

#[test]
fn polling_works_where_inotify_does_not() {
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let watch = Watch::start(&inbox, home.path(), &["--out", out.to_str().unwrap(), "--poll"]);
    fs::copy(photo("Kite.jpg"), inbox.join("polled.jpg")).unwrap();
    let reports = watch.reports(1, Duration::from_secs(2));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_valid_outputs(&reports);
    watch.stop();
}

#[test]
fn a_burst_of_files_gives_one_output_each() {
    const BURST: usize = 1000;
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    // A fixed quality: this is about the watcher losing no file, not about each file's search.
    let fixed = r#"{"image": {"quality": 75}}"#;
    let watch = Watch::start(&inbox, home.path(), &["--out", out.to_str().unwrap(), "--options", fixed]);
    let source = fs::read(fixture("photo.jpg")).unwrap();
    for i in 0..BURST {
        fs::write(inbox.join(format!("burst-{i:04}.jpg")), &source).unwrap();
    }
    let reports = watch.reports(BURST, Duration::from_secs(2));
    assert_eq!(reports.len(), BURST);
    assert!(reports.iter().all(|r| r["status"] == "compressed"));
    assert_eq!(names(&out).len(), BURST);
    watch.stop();
}

#[test]
fn a_converted_file_never_replaces_another_files_output() {
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let watch = Watch::start(&inbox, home.path(), &["--out", out.to_str().unwrap()]);
    fs::copy(fixture("photo.png"), inbox.join("photo.png")).unwrap();
    let first = watch.reports(1, Duration::from_millis(200));
    assert_eq!(first.len(), 1, "{first:#?}");
    let png_output = sha256_file(&out.join("photo.png"));
    // A BMP of the same name becomes a PNG too: it must not take photo.png's output.
    fs::copy(fixture("photo.bmp"), inbox.join("photo.bmp")).unwrap();
    let reports = watch.reports(1, Duration::from_secs(1));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(sha256_file(&out.join("photo.png")), png_output, "photo.png's output changed: {first:#?} {reports:#?}");
    assert!(out.join("photo.bmp.png").exists(), "{:?}", names(&out));
    watch.stop();
}

#[test]
fn include_and_exclude_globs_and_depth_choose_the_files() {
    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    for dir in ["raw", "a/b/c"] {
        fs::create_dir_all(inbox.join(dir)).unwrap();
    }
    let args = ["--out", out.to_str().unwrap(), "--include", "*.jpg", "--exclude", "raw/**", "--depth", "2"];
    let watch = Watch::start(&inbox, home.path(), &args);
    fs::copy(fixture("photo.jpg"), inbox.join("taken.jpg")).unwrap();
    fs::copy(fixture("photo.png"), inbox.join("not-a-jpg.png")).unwrap();
    fs::copy(fixture("photo.jpg"), inbox.join("raw/excluded.jpg")).unwrap();
    fs::copy(fixture("photo.jpg"), inbox.join("a/b/deep-enough.jpg")).unwrap();
    fs::copy(fixture("photo.jpg"), inbox.join("a/b/c/too-deep.jpg")).unwrap();
    let reports = watch.reports(2, Duration::from_secs(2));
    let mut taken: Vec<&str> =
        reports.iter().map(|r| r["path"].as_str().unwrap().rsplit('/').next().unwrap()).collect();
    taken.sort();
    assert_eq!(taken, ["deep-enough.jpg", "taken.jpg"], "{reports:#?}");
    watch.stop();
}

#[test]
fn rules_from_the_shared_settings_are_all_watched() {
    let home = tempfile::tempdir().unwrap();
    let (photos, scans, out) = (home.path().join("photos"), home.path().join("scans"), home.path().join("out"));
    fs::create_dir_all(&photos).unwrap();
    fs::create_dir_all(&scans).unwrap();
    fs::create_dir_all(home.path().join("config")).unwrap();
    let settings = serde_json::json!({
        "version": 1,
        "watch_rules": [
            {"folder": photos, "preset": "balanced", "output": {"mode": "folder", "suffix": "-min", "folder": out}},
            {"folder": scans, "preset": "web", "output": {"mode": "suffix", "suffix": ".web", "folder": null}},
            {"folder": home.path().join("paused"), "preset": "balanced", "paused": true}
        ]
    });
    fs::write(home.path().join("config/settings.json"), settings.to_string()).unwrap();
    let watch = Watch::spawn(&["--rules".into()], home.path(), 2);
    fs::copy(fixture("photo.jpg"), photos.join("a.jpg")).unwrap();
    fs::copy(fixture("photo.jpg"), scans.join("b.jpg")).unwrap();
    let reports = watch.reports(2, Duration::from_secs(2));
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert_valid_outputs(&reports);
    assert_eq!(names(&out), ["a.jpg"]);
    assert_eq!(names(&scans), ["b.jpg", "b.web.webp"], "the web preset converts to WebP beside the scan");
    watch.stop();
}

/// As an unprivileged user: root reads and writes whatever the permissions say, so as root
/// the watcher runs (from a copy outside root's home) in a user namespace as `nobody`.
fn unprivileged_watch(args: &[std::ffi::OsString], home: &Path) -> (Watch, Option<tempfile::TempDir>) {
    use std::os::unix::fs::PermissionsExt;
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false);
    if !is_root {
        return (Watch::spawn(args, home, 1), None);
    }
    let copy = tempfile::tempdir().unwrap();
    fs::set_permissions(copy.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let binary = copy.path().join("compressor");
    fs::copy(env!("CARGO_BIN_EXE_compressor"), &binary).unwrap();
    let mut unshare = Command::new("unshare");
    unshare.arg("--user").arg(&binary);
    (Watch::spawn_with(unshare, args, home, 1), Some(copy))
}

#[test]
fn unreadable_files_and_unwritable_folders_are_reported_and_the_rest_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path, mode: u32| fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    let home = tempfile::tempdir().unwrap();
    mode(home.path(), 0o777);
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    for dir in [&inbox, &out] {
        fs::create_dir_all(dir).unwrap();
        mode(dir, 0o777);
    }
    let args: Vec<std::ffi::OsString> = vec![
        inbox.clone().into(),
        "--index".into(),
        home.path().join("index.json").into(),
        "--out".into(),
        out.clone().into(),
    ];
    let (watch, _copy) = unprivileged_watch(&args, home.path());

    // An unreadable file fails with the reason; a readable one beside it is compressed.
    let locked = inbox.join("locked.jpg");
    fs::copy(photo("Kite.jpg"), &locked).unwrap();
    mode(&locked, 0o000);
    fs::copy(photo("Kite.jpg"), inbox.join("open.jpg")).unwrap();
    mode(&inbox.join("open.jpg"), 0o644);
    let reports = watch.reports(2, Duration::from_secs(1));
    let failed: Vec<_> = reports.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{reports:#?}");
    assert_eq!(failed[0]["path"], locked.display().to_string());
    assert!(failed[0]["error"].as_str().unwrap().contains("Permission denied"), "{reports:#?}");
    assert!(out.join("open.jpg").exists() && !out.join("locked.jpg").exists());

    // Once readable, it is taken.
    mode(&locked, 0o644);
    let reports = watch.reports(1, Duration::from_secs(1));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_valid_outputs(&reports);

    // An output folder that cannot be written: a clear error, and the original untouched.
    mode(&out, 0o555);
    let third = inbox.join("third.jpg");
    fs::copy(photo("Kite.jpg"), &third).unwrap();
    mode(&third, 0o644);
    let before = sha256_file(&third);
    let reports = watch.reports(1, Duration::from_secs(1));
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0]["status"], "failed", "{reports:#?}");
    assert!(reports[0]["error"].as_str().unwrap().contains("Permission denied"), "{reports:#?}");
    assert_eq!(sha256_file(&third), before);
    assert!(!out.join("third.jpg").exists());
    assert!(names(&out).iter().all(|n| !n.starts_with('.')), "no temporary file left: {:?}", names(&out));
    mode(&out, 0o777);
    watch.stop();
}
