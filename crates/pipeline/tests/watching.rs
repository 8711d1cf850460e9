//! The watch service the desktop app runs: rules from the settings start, pause, resume,
//! change preset and stop as the settings change, with counts and an activity log.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use compressor_engine::Engine;
use compressor_pipeline::settings::{OutputMode, OutputSetting, Settings, WatchRuleSetting};
use compressor_pipeline::watching::{Activity, ActivityKind, RuleState, WatchService};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn rule(folder: &Path, out: &Path) -> WatchRuleSetting {
    WatchRuleSetting {
        folder: folder.display().to_string(),
        output: OutputSetting {
            mode: OutputMode::Folder,
            suffix: "-min".into(),
            folder: Some(out.display().to_string()),
            store: None,
        },
        ..WatchRuleSetting::default()
    }
}

/// Waits for the next line that is not a notice.
fn next_file(activity: &mpsc::Receiver<Activity>) -> Activity {
    loop {
        let line = activity.recv_timeout(Duration::from_secs(30)).expect("an activity line");
        if !matches!(line.what, ActivityKind::Notice { .. }) {
            return line;
        }
    }
}

fn settle() {
    std::thread::sleep(Duration::from_millis(1500));
}

#[test]
fn rules_follow_the_settings_with_counts_and_a_log() {
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("XDG_STATE_HOME", home.path().join("state"));
    let (inbox, out) = (home.path().join("in"), home.path().join("out"));
    fs::create_dir_all(&inbox).unwrap();
    let (sender, activity) = mpsc::channel();
    let mut service = WatchService::new(Engine::default(), move |line: &Activity| {
        let _ = sender.send(line.clone());
    });

    // Started: a photo copied in is compressed, counted and logged.
    let mut settings = Settings { watch_rules: vec![rule(&inbox, &out)], ..Settings::default() };
    service.apply(&settings);
    fs::copy(fixture("photo.jpg"), inbox.join("first.jpg")).unwrap();
    let line = next_file(&activity);
    let ActivityKind::Compressed { file, output, before, after } = &line.what else { panic!("{line:?}") };
    assert!(file.ends_with("first.jpg") && after < before, "{line:?}");
    image::open(output).expect("the output decodes");
    assert_eq!(line.folder, inbox.display().to_string());
    let overview = service.overview();
    assert_eq!(overview.rules.len(), 1);
    assert_eq!(overview.rules[0].state, RuleState::Watching);
    assert_eq!(overview.rules[0].counts.compressed, 1);
    assert_eq!(overview.rules[0].counts.bytes_after, *after);
    assert!(overview.log.iter().any(|l| l == &line));

    // Paused: nothing happens to new files…
    settings.watch_rules[0].paused = true;
    service.apply(&settings);
    assert_eq!(service.overview().rules[0].state, RuleState::Paused);
    fs::copy(fixture("photo.jpg"), inbox.join("while-paused.jpg")).unwrap();
    settle();
    assert!(!out.join("while-paused.jpg").exists());
    // …until it resumes, and catches up.
    settings.watch_rules[0].paused = false;
    service.apply(&settings);
    let line = next_file(&activity);
    assert!(
        matches!(&line.what, ActivityKind::Compressed { file, .. } if file.ends_with("while-paused.jpg")),
        "{line:?}"
    );

    // Another preset restarts the rule with it: `lossless` keeps every pixel.
    settings.watch_rules[0].preset = "lossless".into();
    service.apply(&settings);
    fs::copy(fixture("photo.png"), inbox.join("exact.png")).unwrap();
    let line = next_file(&activity);
    let ActivityKind::Compressed { output, .. } = &line.what else { panic!("{line:?}") };
    let (a, b) = (image::open(fixture("photo.png")).unwrap().to_rgba8(), image::open(output).unwrap().to_rgba8());
    assert!(a == b, "lossless preset applied");

    // A rule that cannot start says why; removing rules stops them.
    settings
        .watch_rules
        .push(WatchRuleSetting { folder: home.path().join("missing").display().to_string(), ..rule(&inbox, &out) });
    service.apply(&settings);
    let overview = service.overview();
    assert!(
        matches!(&overview.rules[1].state, RuleState::Error { message } if message.contains("missing")),
        "{overview:?}"
    );
    settings.watch_rules.clear();
    service.apply(&settings);
    assert!(service.overview().rules.is_empty());
    fs::copy(fixture("photo.jpg"), inbox.join("after-removal.jpg")).unwrap();
    settle();
    assert!(!out.join("after-removal.jpg").exists());
}
