//! What the app keeps while it runs: the job queue and the user's settings.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use compressor_pipeline::queue::Queue;
use compressor_pipeline::settings::Settings;

pub struct AppState {
    pub queue: Queue,
    pub settings_path: PathBuf,
    pub settings: Mutex<Settings>,
    /// When `run` began, for the start-up time reported by `ui_ready`.
    pub started: Instant,
}

impl AppState {
    pub fn new(queue: Queue, settings_path: PathBuf, settings: Settings, started: Instant) -> Self {
        Self { queue, settings_path, settings: Mutex::new(settings), started }
    }
}

/// `$COMPRESSOR_CONFIG_DIR/settings.json` when set (tests, portable use), else the
/// platform's config folder (`~/.config/compressor/` on Linux).
pub fn settings_path() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("COMPRESSOR_CONFIG_DIR") {
        return Ok(PathBuf::from(dir).join("settings.json"));
    }
    directories::ProjectDirs::from("app", "Compressor", "compressor")
        .map(|dirs| dirs.config_dir().join("settings.json"))
        .ok_or_else(|| "no home folder to keep settings in".to_string())
}
