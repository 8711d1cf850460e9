//! The commands the UI calls. Each one is a few lines over the pipeline crate.

use std::path::{Path, PathBuf};

use compressor_engine::{Options, Report};
use compressor_pipeline::queue::{ItemId, ItemStatus, ItemUpdate, QueuedItem};
use compressor_pipeline::settings::{EngineMode, Settings, WatchRuleSetting};
use compressor_pipeline::watching::{self, Activity, WatchOverview};
use compressor_pipeline::{discover, presets, Job};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::state::AppState;

/// Status changes of queued files, batched (at most ten events a second).
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct FilesUpdated {
    pub updates: Vec<ItemUpdate>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct PresetInfo {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub options: Options,
}

/// Files that were queued, and paths that could not be read.
#[derive(Debug, Clone, Serialize, Type)]
pub struct AddResult {
    pub items: Vec<QueuedItem>,
    pub errors: Vec<String>,
}

/// What the compare view shows: asset-protocol paths for the two images, and the report.
#[derive(Debug, Clone, Serialize, Type)]
pub struct Preview {
    pub original: String,
    pub output: Option<String>,
    pub report: Option<Report>,
}

fn settings_of(state: &AppState) -> Settings {
    state.settings.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Built-in presets, then the user's.
#[tauri::command]
#[specta::specta]
pub fn list_presets(state: State<'_, AppState>) -> Vec<PresetInfo> {
    let builtin = presets::builtin().into_iter().map(|p| PresetInfo {
        name: p.name.into(),
        description: p.description.into(),
        builtin: true,
        options: p.options,
    });
    let user = settings_of(&state).user_presets.into_iter().map(|p| PresetInfo {
        name: p.name,
        description: p.description,
        builtin: false,
        options: p.options,
    });
    builtin.chain(user).collect()
}

#[tauri::command]
#[specta::specta]
pub fn load_settings(state: State<'_, AppState>) -> Settings {
    settings_of(&state)
}

/// The API client when the settings say to compress on a server.
fn remote_engine(
    settings: &Settings,
) -> Result<Option<std::sync::Arc<dyn compressor_pipeline::RemoteCompressor>>, String> {
    if settings.engine != EngineMode::Remote {
        return Ok(None);
    }
    let url = settings.remote_url.as_deref().filter(|u| !u.is_empty()).ok_or("no API server is chosen")?;
    let key = compressor_storage::Keychain.api_key(url).map_err(|e| e.to_string())?;
    let client = compressor_api::client::Client::new(url, &key).map_err(|e| e.to_string())?;
    Ok(Some(std::sync::Arc::new(client)))
}

/// Keeps the API key of a Compressor API server in the system keychain.
#[tauri::command]
#[specta::specta]
pub fn set_remote_key(url: String, key: String) -> Result<(), String> {
    if key.trim().is_empty() {
        return Err("the API key is empty".into());
    }
    compressor_storage::Keychain.store_api_key(url.trim_end_matches('/'), key.trim()).map_err(|e| e.to_string())
}

/// Whether the keychain holds a key for this server (the key itself never leaves it).
#[tauri::command]
#[specta::specta]
pub fn has_remote_key(url: String) -> bool {
    compressor_storage::Keychain.api_key(url.trim_end_matches('/')).is_ok()
}

/// Validates and persists settings; they apply to files added afterwards. Watch rules are
/// changed only by the watch commands (a settings screen opened earlier must not undo them).
#[tauri::command]
#[specta::specta]
pub fn save_settings(state: State<'_, AppState>, settings: Settings) -> Result<(), String> {
    settings.output.policy()?;
    if settings.engine == EngineMode::Remote {
        let url = settings.remote_url.as_deref().unwrap_or_default();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err("the API server's URL must start with http:// or https://".into());
        }
    }
    for preset in &settings.user_presets {
        preset.options.validate().map_err(|e| format!("preset '{}': {e}", preset.name))?;
    }
    if settings.find_preset(&settings.preset).is_none() {
        return Err(format!("no preset named '{}'", settings.preset));
    }
    let mut settings = settings;
    // Connectors change through their own commands (secrets go to the keychain).
    let current = settings_of(&state);
    settings.watch_rules = current.watch_rules;
    settings.connectors = current.connectors;
    commit(&state, settings)
}

/// Writes settings, makes them current and brings the watchers in line with them.
fn commit(state: &AppState, settings: Settings) -> Result<(), String> {
    settings.save(&state.settings_path).map_err(|e| e.to_string())?;
    if let Ok(mut watchers) = state.watchers.lock() {
        watchers.apply(&settings);
    }
    if let Ok(mut current) = state.settings.lock() {
        *current = settings;
    }
    Ok(())
}

/// A live line of the watch activity log.
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct WatchActivity {
    pub activity: Activity,
}

/// The watch rules with their state and counts, and the activity log.
#[tauri::command]
#[specta::specta]
pub fn watch_overview(state: State<'_, AppState>) -> WatchOverview {
    state.watchers.lock().map(|w| w.overview()).unwrap_or_else(|_| WatchOverview { rules: vec![], log: vec![] })
}

/// The folder chooser of the Watch folders screen.
#[tauri::command]
#[specta::specta]
pub async fn pick_watch_folder<R: Runtime>(app: AppHandle<R>) -> Option<String> {
    let picked = app.dialog().file().set_title("Choose a folder to watch").blocking_pick_folder()?;
    picked.into_path().ok().map(|p| p.display().to_string())
}

/// Checks a rule as it will be saved (a paused rule may point at a folder that is gone).
fn check_rule(settings: &Settings, rule: &WatchRuleSetting) -> Result<(), String> {
    if !rule.paused {
        watching::rule_from_setting(settings, rule)?;
    } else {
        rule.output.policy()?;
    }
    watching::validate_unique(settings)
}

/// Adds a watch rule and starts it (unless it is paused).
#[tauri::command]
#[specta::specta]
pub fn add_watch_rule(state: State<'_, AppState>, rule: WatchRuleSetting) -> Result<WatchOverview, String> {
    let mut settings = settings_of(&state);
    if rule.folder.trim().is_empty() {
        return Err("choose a folder to watch".into());
    }
    settings.watch_rules.push(rule.clone());
    check_rule(&settings, &rule)?;
    commit(&state, settings)?;
    Ok(watch_overview(state))
}

/// Replaces the rule for `folder` (pause, resume, another preset or sink).
#[tauri::command]
#[specta::specta]
pub fn update_watch_rule(
    state: State<'_, AppState>,
    folder: String,
    rule: WatchRuleSetting,
) -> Result<WatchOverview, String> {
    let mut settings = settings_of(&state);
    let slot = settings
        .watch_rules
        .iter_mut()
        .find(|r| r.folder == folder)
        .ok_or_else(|| format!("{folder} is not watched"))?;
    *slot = rule.clone();
    check_rule(&settings, &rule)?;
    commit(&state, settings)?;
    Ok(watch_overview(state))
}

/// Stops watching `folder` and forgets the rule (files already compressed stay).
#[tauri::command]
#[specta::specta]
pub fn remove_watch_rule(state: State<'_, AppState>, folder: String) -> Result<WatchOverview, String> {
    let mut settings = settings_of(&state);
    let before = settings.watch_rules.len();
    settings.watch_rules.retain(|r| r.folder != folder);
    if settings.watch_rules.len() == before {
        return Err(format!("{folder} is not watched"));
    }
    commit(&state, settings)?;
    Ok(watch_overview(state))
}

/// Queues files and folders (walked recursively) with the current settings.
#[tauri::command]
#[specta::specta]
pub fn add_paths(state: State<'_, AppState>, paths: Vec<String>) -> Result<AddResult, String> {
    let settings = settings_of(&state);
    let job = Job {
        options: settings.options(),
        policy: settings.output.policy()?,
        keep_dates: settings.keep_dates,
        jobs: settings.jobs as usize,
        store: settings.output.open_store(&settings, &compressor_storage::Keychain)?,
        remote: remote_engine(&settings)?,
        produced: Some(state.produced.clone()),
    };
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let (sources, errors) = discover(&paths);
    Ok(AddResult {
        items: state.queue.add(sources, job),
        errors: errors.into_iter().map(|e| format!("{}: {}", e.path.display(), e.message)).collect(),
    })
}

/// "Add files…": the native file dialog, then [`add_paths`].
#[tauri::command]
#[specta::specta]
pub async fn pick_files<R: Runtime>(app: AppHandle<R>) -> Result<AddResult, String> {
    let picked = app.dialog().file().set_title("Add files to compress").blocking_pick_files().unwrap_or_default();
    let paths = picked.into_iter().filter_map(|p| p.into_path().ok()).map(|p| p.display().to_string()).collect();
    add_paths(app.state::<AppState>(), paths)
}

/// "Add folder…": the native folder dialog, then [`add_paths`].
#[tauri::command]
#[specta::specta]
pub async fn pick_folder<R: Runtime>(app: AppHandle<R>) -> Result<AddResult, String> {
    let picked = app.dialog().file().set_title("Add a folder to compress").blocking_pick_folder();
    let paths = picked.and_then(|p| p.into_path().ok()).map(|p| vec![p.display().to_string()]).unwrap_or_default();
    add_paths(app.state::<AppState>(), paths)
}

/// The output folder chooser of the settings screen.
#[tauri::command]
#[specta::specta]
pub async fn pick_output_folder<R: Runtime>(app: AppHandle<R>) -> Option<String> {
    let picked = app.dialog().file().set_title("Choose the output folder").blocking_pick_folder()?;
    picked.into_path().ok().map(|p| p.display().to_string())
}

#[tauri::command]
#[specta::specta]
pub fn cancel(state: State<'_, AppState>, ids: Vec<ItemId>) {
    state.queue.cancel(&ids);
}

#[tauri::command]
#[specta::specta]
pub fn cancel_all(state: State<'_, AppState>) {
    state.queue.cancel_all();
}

#[tauri::command]
#[specta::specta]
pub fn retry(state: State<'_, AppState>, ids: Vec<ItemId>) {
    state.queue.retry(&ids);
}

/// Opens the asset protocol for one file's original and output (and nothing else), and
/// returns their paths with the report. A picture the web view cannot show (HEIC, AVIF,
/// JPEG XL, TIFF) is shown through a PNG rendered by the engine.
#[tauri::command]
#[specta::specta]
pub fn preview<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>, id: ItemId) -> Result<Preview, String> {
    let (original, output) = state.queue.paths(id).ok_or_else(|| format!("no file with id {id}"))?;
    let original = shown(&original, id, "original")?;
    let output = output.map(|output| shown(&output, id, "output")).transpose()?;
    let scope = app.asset_protocol_scope();
    scope.allow_file(&original).map_err(|e| e.to_string())?;
    if let Some(output) = &output {
        scope.allow_file(output).map_err(|e| e.to_string())?;
    }
    let report = match state.queue.status(id) {
        Some(ItemStatus::Done { report, .. } | ItemStatus::Skipped { report, .. }) => Some(report),
        _ => None,
    };
    Ok(Preview { original: original.display().to_string(), output: output.map(|p| p.display().to_string()), report })
}

/// What the web view is given for `path`: the file itself, or a PNG rendering of it in this
/// process's preview folder (removed with the system's temporary files).
fn shown(path: &Path, id: ItemId, side: &str) -> Result<PathBuf, String> {
    let engine = compressor_engine::Engine::default();
    let name = path.display();
    let Some(png) = engine.preview_png(path).map_err(|e| format!("{name}: no preview: {e}"))? else {
        return Ok(path.to_path_buf());
    };
    let folder = std::env::temp_dir().join(format!("compressor-previews-{}", std::process::id()));
    std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let preview = folder.join(format!("{id}-{side}.png"));
    std::fs::write(&preview, png).map_err(|e| format!("{}: {e}", preview.display()))?;
    Ok(preview)
}

/// Called by the UI once it can be used. Reports the start-up time on stderr; with
/// `COMPRESSOR_EXIT_WHEN_READY` set the app then quits (scripts/bench-app.sh measures this).
#[tauri::command]
#[specta::specta]
pub fn ui_ready<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) {
    eprintln!("compressor: interactive after {} ms", state.started.elapsed().as_millis());
    if std::env::var_os("COMPRESSOR_EXIT_WHEN_READY").is_some() {
        app.exit(0);
    }
}
