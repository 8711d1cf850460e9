//! The desktop commands on Tauri's mock runtime (no display needed): presets, settings,
//! queueing real files and the events that report them, and the generated bindings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use compressor_desktop::{setup, specta_builder, FilesUpdated};
use compressor_pipeline::queue::ItemStatus;
use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Listener, WebviewWindow, WebviewWindowBuilder};

struct TestApp {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    updates: Arc<Mutex<Vec<(u32, ItemStatus)>>>,
}

fn start(settings_path: PathBuf) -> TestApp {
    let builder = specta_builder!(MockRuntime);
    let handler = builder.invoke_handler();
    let app = mock_builder().invoke_handler(handler).build(mock_context(noop_assets())).expect("mock app");
    // The mock runtime never runs setup hooks; install the state the way the app's hook does.
    setup(&app, &builder, settings_path, std::time::Instant::now()).expect("app state");
    let updates = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&updates);
    app.listen_any("files-updated", move |event| {
        let payload: FilesUpdated = serde_json::from_str(event.payload()).expect("typed payload");
        sink.lock().unwrap().extend(payload.updates.into_iter().map(|u| (u.id, u.status)));
    });
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("window");
    TestApp { _app: app, window, updates }
}

fn invoke(app: &TestApp, command: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: command.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: tauri::ipc::InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(&app.window, request).map(|body| body.deserialize::<Value>().unwrap())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn wait_for_finished(app: &TestApp, count: usize) -> Vec<(u32, ItemStatus)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let updates = app.updates.lock().unwrap().clone();
        let finished =
            updates.iter().filter(|(_, s)| !matches!(s, ItemStatus::Queued | ItemStatus::Running { .. })).count();
        if finished >= count {
            return updates;
        }
        assert!(Instant::now() < deadline, "not finished: {updates:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn lists_the_builtin_presets() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path().join("settings.json"));
    let presets = invoke(&app, "list_presets", json!({})).unwrap();
    let names: Vec<&str> = presets.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["balanced", "maximum", "lossless", "web", "email"]);
    assert_eq!(presets[3]["options"]["image"]["format"], "webp");
}

#[test]
fn settings_are_validated_persisted_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config/settings.json");
    let app = start(path.clone());
    let mut settings = invoke(&app, "load_settings", json!({})).unwrap();
    assert_eq!(settings["preset"], "balanced");
    assert_eq!(settings["output"]["suffix"], "-min");

    settings["preset"] = json!("nope");
    let err = invoke(&app, "save_settings", json!({ "settings": settings })).unwrap_err();
    assert!(err.as_str().unwrap().contains("no preset named 'nope'"), "{err}");
    settings["preset"] = json!("web");
    settings["output"] = json!({"mode": "folder", "suffix": "-min", "folder": null});
    let err = invoke(&app, "save_settings", json!({ "settings": settings })).unwrap_err();
    assert!(err.as_str().unwrap().contains("output folder"), "{err}");

    settings["output"]["folder"] = json!(dir.path().join("out"));
    settings["keep_dates"] = json!(true);
    invoke(&app, "save_settings", json!({ "settings": settings })).unwrap();
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(on_disk["preset"], "web");
    assert_eq!(on_disk["version"], 1);
    drop(app);

    // A new start reads them back.
    let app = start(path);
    assert_eq!(invoke(&app, "load_settings", json!({})).unwrap()["output"]["mode"], "folder");
}

#[test]
fn queued_files_report_sizes_and_hashes_through_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path().join("settings.json"));
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for name in ["photo.jpg", "photo.png", "text.jpg"] {
        std::fs::copy(fixture(name), photos.join(name)).unwrap();
    }
    let added = invoke(&app, "add_paths", json!({ "paths": [photos] })).unwrap();
    let items = added["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["size"], std::fs::metadata(photos.join("photo.jpg")).unwrap().len());

    let updates = wait_for_finished(&app, 3);
    let final_status = |id: u32| updates.iter().rev().find(|(i, _)| *i == id).map(|(_, s)| s.clone()).unwrap();
    for (index, item) in items.iter().enumerate() {
        let name = item["name"].as_str().unwrap();
        match final_status(index as u32) {
            ItemStatus::Done { report, destination: Some(destination), .. } => {
                let bytes = std::fs::read(&destination).unwrap();
                assert_eq!(report.output.size, bytes.len() as u64, "{name}");
                assert_eq!(report.output.hashes.sha256, compressor_engine::report::sha256_hex(&bytes), "{name}");
                assert!(report.output.size < report.input.size);
            }
            ItemStatus::Failed { reason } => {
                assert_eq!(name, "text.jpg");
                assert!(reason.contains("not a supported file type"), "{reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // The compare view gets both paths and the report.
    let preview = invoke(&app, "preview", json!({ "id": 0 })).unwrap();
    assert_eq!(preview["original"], photos.join("photo.jpg").display().to_string());
    assert_eq!(preview["output"], photos.join("photo-min.jpg").display().to_string());
    assert!(preview["report"]["output"]["hashes"]["sha256"].is_string());
    assert!(invoke(&app, "preview", json!({ "id": 99 })).is_err());
}

#[test]
fn bindings_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    compressor_desktop::export_bindings(&fresh).unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join(compressor_desktop::BINDINGS_PATH);
    assert!(
        std::fs::read_to_string(&committed).ok() == std::fs::read_to_string(&fresh).ok(),
        "ui/src/bindings.ts is stale: run `cargo run --bin export-bindings`"
    );
}

#[test]
fn user_presets_are_validated_and_listed_after_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path().join("settings.json"));
    let mut settings = invoke(&app, "load_settings", json!({})).unwrap();
    settings["user_presets"] = json!([{
        "name": "Blog",
        "description": "WebP, high, ≤ 1600 px wide",
        "options": {"image": {"compression": "high", "format": "webp", "resize": {"width": 1600, "mode": "auto"}}}
    }]);
    settings["preset"] = json!("Blog");
    invoke(&app, "save_settings", json!({ "settings": settings })).unwrap();
    let presets = invoke(&app, "list_presets", json!({})).unwrap();
    let last = presets.as_array().unwrap().last().unwrap();
    assert_eq!((last["name"].as_str(), last["builtin"].as_bool()), (Some("Blog"), Some(false)));

    // Options are validated like the API's: a bad field is refused with its name.
    settings["user_presets"][0]["options"]["image"]["quality"] = json!(0);
    let err = invoke(&app, "save_settings", json!({ "settings": settings })).unwrap_err();
    assert!(err.as_str().unwrap().contains("image.quality"), "{err}");
    settings["user_presets"][0]["options"]["image"]["qualty"] = json!(80);
    assert!(invoke(&app, "save_settings", json!({ "settings": settings })).is_err(), "unknown fields refused");
}

#[test]
fn watch_rules_are_added_paused_and_removed_with_live_activity() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("XDG_STATE_HOME", dir.path().join("state"));
    let settings_path = dir.path().join("config/settings.json");
    let app = start(settings_path.clone());
    let activity = Arc::new(Mutex::new(Vec::<Value>::new()));
    let sink = Arc::clone(&activity);
    app._app.listen_any("watch-activity", move |event| {
        let payload: Value = serde_json::from_str(event.payload()).unwrap();
        sink.lock().unwrap().push(payload["activity"].clone());
    });
    let (inbox, out) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::create_dir_all(&inbox).unwrap();
    let rule = json!({ "folder": inbox, "preset": "balanced",
        "output": { "mode": "folder", "suffix": "-min", "folder": out }, "depth": 8,
        "include": [], "exclude": [], "paused": false });

    // Bad rules are refused with the reason.
    let missing = json!({ "folder": dir.path().join("nowhere"), "preset": "balanced" });
    let err = invoke(&app, "add_watch_rule", json!({ "rule": missing })).unwrap_err();
    assert!(err.as_str().unwrap().contains("nowhere"), "{err}");
    let unknown = json!({ "folder": inbox, "preset": "no-such-preset" });
    let err = invoke(&app, "add_watch_rule", json!({ "rule": unknown })).unwrap_err();
    assert!(err.as_str().unwrap().contains("no-such-preset"), "{err}");

    let overview = invoke(&app, "add_watch_rule", json!({ "rule": rule })).unwrap();
    assert_eq!(overview["rules"][0]["state"], "watching", "{overview}");
    let err = invoke(&app, "add_watch_rule", json!({ "rule": rule })).unwrap_err();
    assert!(err.as_str().unwrap().contains("already watched"), "{err}");
    // Kept in the settings file the CLI reads.
    let saved: Value = serde_json::from_slice(&std::fs::read(&settings_path).unwrap()).unwrap();
    assert_eq!(saved["watch_rules"][0]["folder"], inbox.display().to_string());

    std::fs::copy(fixture("photo.jpg"), inbox.join("dropped.jpg")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !activity.lock().unwrap().iter().any(|a| a["kind"] == "compressed") {
        assert!(Instant::now() < deadline, "no activity: {:?}", activity.lock().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
    let line = activity.lock().unwrap().iter().find(|a| a["kind"] == "compressed").cloned().unwrap();
    assert!(line["file"].as_str().unwrap().ends_with("dropped.jpg"), "{line}");
    assert!(line["after"].as_u64() < line["before"].as_u64());
    image::open(out.join("dropped.jpg")).expect("the output decodes");
    let overview = invoke(&app, "watch_overview", json!({})).unwrap();
    assert_eq!(overview["rules"][0]["counts"]["compressed"], 1, "{overview}");

    // Saving other settings keeps the rules.
    let mut settings = invoke(&app, "load_settings", json!({})).unwrap();
    settings["watch_rules"] = json!([]);
    invoke(&app, "save_settings", json!({ "settings": settings })).unwrap();
    assert_eq!(invoke(&app, "watch_overview", json!({})).unwrap()["rules"].as_array().unwrap().len(), 1);

    let mut paused = rule.clone();
    paused["paused"] = json!(true);
    let overview = invoke(&app, "update_watch_rule", json!({ "folder": inbox, "rule": paused })).unwrap();
    assert_eq!(overview["rules"][0]["state"], "paused");
    let overview = invoke(&app, "remove_watch_rule", json!({ "folder": inbox })).unwrap();
    assert!(overview["rules"].as_array().unwrap().is_empty());
    let saved: Value = serde_json::from_slice(&std::fs::read(&settings_path).unwrap()).unwrap();
    assert!(saved["watch_rules"].as_array().unwrap().is_empty());
}

#[test]
fn pictures_a_web_view_cannot_show_are_previewed_as_png() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path().join("settings.json"));
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    std::fs::copy(fixture("photo.tiff"), photos.join("photo.tiff")).unwrap();
    // A HEIC made by libheif's own encoder (scripts/setup.sh installs it).
    let heic = photos.join("photo.heic");
    let made = std::process::Command::new("heif-enc")
        .args(["-q", "60", &fixture("photo.jpg").display().to_string(), "-o", &heic.display().to_string()])
        .output()
        .expect("heif-enc is installed");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let added = invoke(&app, "add_paths", json!({ "paths": [photos.join("photo.tiff"), heic] })).unwrap();
    assert_eq!(added["items"].as_array().unwrap().len(), 2);
    let updates = wait_for_finished(&app, 2);
    let sources = ["photo.tiff", "photo.jpg"];
    for id in 0..2u32 {
        let expected = image::image_dimensions(fixture(sources[id as usize])).unwrap();
        let status = updates.iter().rev().find(|(i, _)| *i == id).map(|(_, s)| s.clone()).unwrap();
        assert!(matches!(status, ItemStatus::Done { .. }), "{id}: {status:?}");
        let preview = invoke(&app, "preview", json!({ "id": id })).unwrap();
        // The original is shown through a PNG of its pixels, not the file the web view cannot read.
        let original = PathBuf::from(preview["original"].as_str().unwrap());
        assert_eq!(original.extension().unwrap(), "png", "{preview}");
        let shown = image::open(&original).unwrap();
        assert_eq!((shown.width(), shown.height()), expected);
        // The outputs (a PNG for the TIFF, a JPEG for the HEIC) are shown as they are.
        let output = PathBuf::from(preview["output"].as_str().unwrap());
        assert!(output.starts_with(&photos), "{preview}");
    }
}
