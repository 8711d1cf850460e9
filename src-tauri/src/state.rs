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

pub use compressor_pipeline::settings::default_path as settings_path;
