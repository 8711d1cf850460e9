//! What the app keeps while it runs: the job queue, the running watch rules and the settings.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use compressor_pipeline::produced::ProducedIndex;
use compressor_pipeline::queue::Queue;
use compressor_pipeline::settings::Settings;
use compressor_pipeline::watching::WatchService;

pub struct AppState {
    pub queue: Queue,
    pub settings_path: PathBuf,
    pub settings: Mutex<Settings>,
    /// The watch rules of the settings, running.
    pub watchers: Mutex<WatchService>,
    /// When `run` began, for the start-up time reported by `ui_ready`.
    pub started: Instant,
    /// What the app (and the CLI) wrote: not compressed again when dropped again.
    pub produced: std::sync::Arc<ProducedIndex>,
}

impl AppState {
    pub fn new(
        queue: Queue,
        watchers: WatchService,
        settings_path: PathBuf,
        settings: Settings,
        started: Instant,
    ) -> Self {
        let index = settings_path.with_file_name("produced.sha256");
        Self {
            queue,
            settings_path,
            settings: Mutex::new(settings),
            watchers: Mutex::new(watchers),
            started,
            produced: std::sync::Arc::new(ProducedIndex::open(&index)),
        }
    }
}

pub use compressor_pipeline::settings::default_path as settings_path;
