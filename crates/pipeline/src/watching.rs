//! Runs the watch rules kept in the settings, as the desktop app's "Watch folders" screen
//! and `compressor watch --rules` need: one [`FolderWatcher`] per unpaused rule, started,
//! stopped and restarted as the rules change, with per-rule counts and an activity log.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use compressor_engine::Engine;
use serde::{Deserialize, Serialize};

use crate::settings::{Settings, WatchRuleSetting};
use crate::watch::{FolderWatcher, WatchEvent, WatchRule};
use crate::Job;

/// How many activity lines are kept (oldest dropped first).
pub const LOG_CAPACITY: usize = 500;

/// One index per watched folder, named after its absolute path, in `$XDG_STATE_HOME`
/// (`~/.local/state/compressor/watch/`): the CLI and the app share it, so a folder is never
/// processed twice whichever of them watched it.
pub fn default_index(folder: &Path) -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    let key = compressor_engine::report::sha256_hex(folder.display().to_string().as_bytes());
    state.join("compressor/watch").join(format!("{}.json", &key[..16]))
}

/// The watcher rule for a rule kept in the settings: its folder (which must exist), its
/// preset (built-in or the user's) and its sink.
pub fn rule_from_setting(settings: &Settings, setting: &WatchRuleSetting) -> Result<WatchRule, String> {
    let folder = std::fs::canonicalize(&setting.folder).map_err(|e| format!("cannot watch {}: {e}", setting.folder))?;
    if !folder.is_dir() {
        return Err(format!("cannot watch {}: not a folder", setting.folder));
    }
    let options =
        settings.preset_options(&setting.preset).ok_or_else(|| format!("no preset named '{}'", setting.preset))?;
    let policy = setting.output.policy()?;
    let store = setting.output.open_store(settings, &compressor_storage::Keychain)?;
    let produced = crate::produced::ProducedIndex::beside_settings().ok().map(std::sync::Arc::new);
    let job = Job {
        options,
        policy,
        keep_dates: settings.keep_dates,
        jobs: settings.jobs as usize,
        store,
        remote: None,
        produced,
    };
    let mut rule = WatchRule::new(folder.clone(), job, default_index(&folder));
    rule.max_depth = setting.depth as usize;
    rule.recursive = setting.depth > 0;
    rule.include = setting.include.clone();
    rule.exclude = setting.exclude.clone();
    Ok(rule)
}

/// No folder is watched by two rules (compared after resolving links and `..`).
pub fn validate_unique(settings: &Settings) -> Result<(), String> {
    let mut seen = HashMap::new();
    for setting in &settings.watch_rules {
        let folder = std::fs::canonicalize(&setting.folder).unwrap_or_else(|_| PathBuf::from(&setting.folder));
        if let Some(other) = seen.insert(folder, setting.folder.clone()) {
            return Err(format!("{} is already watched (as {other})", setting.folder));
        }
    }
    Ok(())
}

/// What happened, for the activity log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityKind {
    Compressed { file: String, output: String, before: u64, after: u64 },
    Skipped { file: String, reason: String },
    Failed { file: String, message: String },
    Notice { message: String },
}

/// One line of the activity log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Activity {
    /// The rule's folder, as written in the settings.
    pub folder: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    #[serde(flatten)]
    pub what: ActivityKind,
}

/// Whether a rule is running.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RuleState {
    Watching,
    Paused,
    /// It could not start (the folder is missing, the preset was deleted…).
    Error {
        message: String,
    },
}

/// Counts since the app started.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RuleCounts {
    pub compressed: u32,
    pub skipped: u32,
    pub failed: u32,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// A rule as the Watch folders screen shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RuleStatus {
    pub rule: WatchRuleSetting,
    #[serde(flatten)]
    pub state: RuleState,
    pub counts: RuleCounts,
}

/// Everything the screen needs at once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WatchOverview {
    pub rules: Vec<RuleStatus>,
    /// Oldest first.
    pub log: Vec<Activity>,
}

#[derive(Default)]
struct Shared {
    counts: HashMap<String, RuleCounts>,
    log: VecDeque<Activity>,
}

struct Running {
    setting: WatchRuleSetting,
    /// The settings the rule was started with: a preset edit restarts it.
    signature: String,
    /// `None` when it could not start; the message is in `errors`.
    watcher: Option<FolderWatcher>,
}

/// The rules of the settings, running. `apply` is called with every saved settings.
pub struct WatchService {
    engine: Engine,
    running: Vec<Running>,
    errors: HashMap<String, String>,
    shared: Arc<Mutex<Shared>>,
    on_activity: Arc<dyn Fn(&Activity) + Send + Sync>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl WatchService {
    /// `on_activity` is called (from watcher threads) for each new log line.
    pub fn new(engine: Engine, on_activity: impl Fn(&Activity) + Send + Sync + 'static) -> Self {
        WatchService {
            engine,
            running: Vec::new(),
            errors: HashMap::new(),
            shared: Arc::default(),
            on_activity: Arc::new(on_activity),
        }
    }

    /// Starts, stops and restarts watchers so that exactly the unpaused rules run, each with
    /// its current preset and sink. Rules that cannot start are reported in the overview.
    pub fn apply(&mut self, settings: &Settings) {
        let mut previous: HashMap<String, Running> =
            self.running.drain(..).map(|running| (running.setting.folder.clone(), running)).collect();
        self.errors.clear();
        for setting in &settings.watch_rules {
            let signature = signature(settings, setting);
            match previous.remove(&setting.folder) {
                Some(running) if running.signature == signature && running.watcher.is_some() => {
                    self.running.push(Running { setting: setting.clone(), ..running });
                    continue;
                }
                Some(running) => drop(running), // stops it before the new one starts
                None => {}
            }
            let watcher = if setting.paused { None } else { self.start(settings, setting) };
            self.running.push(Running { setting: setting.clone(), signature, watcher });
        }
        // Whatever is left was removed from the settings; dropping stops it.
        drop(previous);
    }

    fn start(&mut self, settings: &Settings, setting: &WatchRuleSetting) -> Option<FolderWatcher> {
        let started = rule_from_setting(settings, setting).and_then(|rule| {
            let shared = Arc::clone(&self.shared);
            let notify = Arc::clone(&self.on_activity);
            let folder = setting.folder.clone();
            FolderWatcher::start(self.engine.clone(), rule, move |event| {
                record(&shared, &*notify, &folder, event);
            })
        });
        match started {
            Ok(watcher) => Some(watcher),
            Err(message) => {
                self.errors.insert(setting.folder.clone(), message);
                None
            }
        }
    }

    pub fn overview(&self) -> WatchOverview {
        let shared = self.shared.lock().map(|s| (s.counts.clone(), s.log.iter().cloned().collect()));
        let (counts, log) = shared.unwrap_or_default();
        let rules = self
            .running
            .iter()
            .map(|running| {
                let folder = &running.setting.folder;
                let state = match (&running.watcher, self.errors.get(folder)) {
                    (Some(_), _) => RuleState::Watching,
                    (None, Some(message)) => RuleState::Error { message: message.clone() },
                    (None, None) => RuleState::Paused,
                };
                RuleStatus {
                    rule: running.setting.clone(),
                    state,
                    counts: counts.get(folder).copied().unwrap_or_default(),
                }
            })
            .collect();
        WatchOverview { rules, log }
    }

    /// Stops every watcher.
    pub fn stop_all(&mut self) {
        self.running.clear();
    }
}

/// What a rule's watcher depends on: restarting is needed when any of it changes.
fn signature(settings: &Settings, setting: &WatchRuleSetting) -> String {
    let options = settings.preset_options(&setting.preset);
    serde_json::to_string(&(setting, options, settings.keep_dates)).unwrap_or_default()
}

fn record(shared: &Mutex<Shared>, notify: &(dyn Fn(&Activity) + Send + Sync), folder: &str, event: WatchEvent) {
    let name = |path: &Path| path.display().to_string();
    // A damaged input salvaged on request gets its own line, so the log never shows it as fine.
    if let WatchEvent::Compressed { outcome } = &event {
        if let Some(damage) = &outcome.report.damage {
            let message =
                format!("{}: the input is damaged; kept what could be read of it: {damage}", name(&outcome.path));
            record(shared, notify, folder, WatchEvent::Notice { message });
        }
    }
    let what = match event {
        WatchEvent::Compressed { outcome } => match (&outcome.url, &outcome.destination) {
            (Some(_), _) | (None, Some(_))
                if outcome.report.status == compressor_engine::report::Status::Compressed =>
            {
                ActivityKind::Compressed {
                    file: name(&outcome.path),
                    // An uploaded result is named by its object URL.
                    output: outcome
                        .url
                        .clone()
                        .unwrap_or_else(|| outcome.destination.as_deref().map(name).unwrap_or_default()),
                    before: outcome.report.input.size,
                    after: outcome.report.output.size,
                }
            }
            _ => ActivityKind::Skipped {
                file: name(&outcome.path),
                reason: outcome.report.reason.clone().unwrap_or_else(|| "already small".into()),
            },
        },
        WatchEvent::Failed { error } => ActivityKind::Failed { file: name(&error.path), message: error.message },
        WatchEvent::Notice { message } => ActivityKind::Notice { message },
    };
    let activity = Activity { folder: folder.to_string(), at: now_ms(), what };
    if let Ok(mut shared) = shared.lock() {
        let counts = shared.counts.entry(folder.to_string()).or_default();
        match &activity.what {
            ActivityKind::Compressed { before, after, .. } => {
                counts.compressed += 1;
                counts.bytes_before += before;
                counts.bytes_after += after;
            }
            ActivityKind::Skipped { .. } => counts.skipped += 1,
            ActivityKind::Failed { .. } => counts.failed += 1,
            ActivityKind::Notice { .. } => {}
        }
        if shared.log.len() == LOG_CAPACITY {
            shared.log.pop_front();
        }
        shared.log.push_back(activity.clone());
    }
    notify(&activity);
}
