//! When no inotify instance can be had (the per-user limit is spent), a watcher falls back
//! to polling, says so, and still compresses what arrives. Alone in its own test binary:
//! it uses up the user's inotify instances while it runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use compressor_engine::Engine;
use compressor_pipeline::watch::{FolderWatcher, WatchEvent, WatchRule};
use compressor_pipeline::{Job, OutputPolicy};
use notify::Watcher;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

#[test]
fn a_spent_inotify_limit_falls_back_to_polling() {
    let limit: usize = fs::read_to_string("/proc/sys/fs/inotify/max_user_instances")
        .expect("Linux inotify limits")
        .trim()
        .parse()
        .unwrap();
    // Each instance is a file descriptor: beyond this the process's descriptor limit, not the
    // inotify limit, would be what runs out.
    assert!(limit < 1000, "max_user_instances is {limit}; this test needs it below 1000");

    // Take every instance left.
    let mut hogs = Vec::new();
    loop {
        match notify::INotifyWatcher::new(|_| {}, notify::Config::default()) {
            Ok(watcher) => hogs.push(watcher),
            Err(_) => break,
        }
        assert!(hogs.len() <= limit, "inotify instances are not limited");
    }
    let probe = tempfile::tempdir().unwrap();
    assert!(
        notify::INotifyWatcher::new(|_| {}, notify::Config::default())
            .and_then(|mut w| w.watch(probe.path(), notify::RecursiveMode::NonRecursive))
            .is_err(),
        "inotify is spent"
    );

    let home = tempfile::tempdir().unwrap();
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let job = Job { policy: OutputPolicy::Folder(out.clone()), jobs: 1, ..Job::default() };
    let rule = WatchRule::new(inbox.clone(), job, home.path().join("index.json"));
    let (sender, events) = mpsc::channel();
    let watcher = FolderWatcher::start(Engine::default(), rule, move |event| {
        let _ = sender.send(event);
    })
    .unwrap();

    let first = events.recv_timeout(Duration::from_secs(10)).expect("a notice");
    assert!(
        matches!(&first, WatchEvent::Notice { message } if message.contains("polling")),
        "the fallback is announced: {first:?}"
    );
    fs::copy(fixture("photo.jpg"), inbox.join("polled.jpg")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcome = loop {
        match events.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("the file is compressed") {
            WatchEvent::Compressed { outcome } => break outcome,
            WatchEvent::Failed { error } => panic!("{error}"),
            WatchEvent::Notice { .. } => {}
        }
    };
    assert_eq!(outcome.path, inbox.join("polled.jpg"));
    image::open(out.join("polled.jpg")).expect("the output decodes");
    watcher.stop();
    drop(hogs);
}
