//! The job queue the desktop app drives: files are added with ids, worked on by a bounded pool
//! of threads, and every status change (queued, running, done, skipped, failed, cancelled) is
//! reported. Updates are delivered in batches at most every `flush_interval`, so ten thousand
//! files make a few dozen UI events, not ten thousand.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use compressor_engine::{Engine, Report, Status};
use serde::{Deserialize, Serialize};

use crate::{process_with_progress, Job, Reservations, Source};

pub type ItemId = u32;

/// Where a file stands. Serialised as `{"state": "done", ...}` for the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ItemStatus {
    Queued,
    /// `progress`: the fraction done (0 to 1) of a long file (a video), when it is known.
    Running {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        progress: Option<f32>,
    },
    /// `url`: the object's URL when the result went to a storage connector.
    Done {
        report: Report,
        destination: Option<String>,
        url: Option<String>,
    },
    Skipped {
        report: Report,
        reason: String,
        destination: Option<String>,
        url: Option<String>,
    },
    Failed {
        reason: String,
    },
    Cancelled,
}

impl ItemStatus {
    fn is_finished(&self) -> bool {
        !matches!(self, ItemStatus::Queued | ItemStatus::Running { .. })
    }
}

/// One status change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ItemUpdate {
    pub id: ItemId,
    pub status: ItemStatus,
}

/// A file as the queue knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueuedItem {
    pub id: ItemId,
    pub path: String,
    pub name: String,
    pub size: u64,
}

struct Item {
    source: Source,
    job: Arc<Job>,
    status: ItemStatus,
    cancelled: Arc<AtomicBool>,
}

struct Shared {
    engine: Engine,
    items: Mutex<Vec<Item>>,
    pending_updates: Mutex<Vec<ItemUpdate>>,
    /// Signalled when updates are pending; the flusher waits on it.
    wake: Condvar,
    reservations: Reservations,
    shutting_down: AtomicBool,
}

/// A running queue. Dropping it lets the workers finish the file they are on and stop.
pub struct Queue {
    shared: Arc<Shared>,
    work: Mutex<Sender<ItemId>>,
}

impl Queue {
    /// Starts `workers` threads (0: one per core) and a flusher that calls `on_updates` with
    /// the changes since its last call, at most once per `flush_interval`.
    pub fn start(
        engine: Engine,
        workers: usize,
        flush_interval: Duration,
        on_updates: impl Fn(Vec<ItemUpdate>) + Send + 'static,
    ) -> Queue {
        let shared = Arc::new(Shared {
            engine,
            items: Mutex::new(Vec::new()),
            pending_updates: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            reservations: Reservations::default(),
            shutting_down: AtomicBool::new(false),
        });
        let (sender, receiver) = mpsc::channel::<ItemId>();
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = if workers == 0 { thread::available_parallelism().map_or(2, |n| n.get()) } else { workers };
        for _ in 0..workers {
            let shared = Arc::clone(&shared);
            let receiver = Arc::clone(&receiver);
            thread::spawn(move || work(&shared, &receiver));
        }
        let flusher = Arc::clone(&shared);
        thread::spawn(move || flush(&flusher, flush_interval, on_updates));
        Queue { shared, work: Mutex::new(sender) }
    }

    /// Adds files with the job they are to get; returns them with their ids, queued.
    pub fn add(&self, sources: Vec<Source>, job: Job) -> Vec<QueuedItem> {
        self.shared.reservations.reserve_own_names(&sources, &job.policy);
        let job = Arc::new(job);
        let mut added = Vec::with_capacity(sources.len());
        {
            let Ok(mut items) = self.shared.items.lock() else { return added };
            for source in sources {
                let id = items.len() as ItemId;
                added.push(QueuedItem {
                    id,
                    name: source.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    size: std::fs::metadata(&source.path).map_or(0, |m| m.len()),
                    path: source.path.display().to_string(),
                });
                items.push(Item {
                    source,
                    job: Arc::clone(&job),
                    status: ItemStatus::Queued,
                    cancelled: Arc::new(AtomicBool::new(false)),
                });
            }
        }
        for item in &added {
            self.schedule(item.id);
        }
        added
    }

    fn schedule(&self, id: ItemId) {
        if let Ok(sender) = self.work.lock() {
            let _ = sender.send(id);
        }
    }

    /// Cancels files not yet finished. A file being compressed finishes its current step
    /// and is then reported cancelled; its output is not written.
    pub fn cancel(&self, ids: &[ItemId]) {
        let Ok(mut items) = self.shared.items.lock() else { return };
        for &id in ids {
            if let Some(item) = items.get_mut(id as usize) {
                if !item.status.is_finished() {
                    item.cancelled.store(true, Ordering::SeqCst);
                    if item.status == ItemStatus::Queued {
                        item.status = ItemStatus::Cancelled;
                        self.shared.push_update(id, ItemStatus::Cancelled);
                    }
                }
            }
        }
    }

    /// Cancels every file not yet finished.
    pub fn cancel_all(&self) {
        let ids: Vec<ItemId> = match self.shared.items.lock() {
            Ok(items) => (0..items.len() as ItemId).collect(),
            Err(_) => return,
        };
        self.cancel(&ids);
    }

    /// Queues failed or cancelled files again.
    pub fn retry(&self, ids: &[ItemId]) {
        let mut again = Vec::new();
        if let Ok(mut items) = self.shared.items.lock() {
            for &id in ids {
                if let Some(item) = items.get_mut(id as usize) {
                    if matches!(item.status, ItemStatus::Failed { .. } | ItemStatus::Cancelled) {
                        item.status = ItemStatus::Queued;
                        item.cancelled = Arc::new(AtomicBool::new(false));
                        self.shared.push_update(id, ItemStatus::Queued);
                        again.push(id);
                    }
                }
            }
        }
        for id in again {
            self.schedule(id);
        }
    }

    /// The current status of a file.
    pub fn status(&self, id: ItemId) -> Option<ItemStatus> {
        self.shared.items.lock().ok()?.get(id as usize).map(|item| item.status.clone())
    }

    /// The original path and, once written, the output path of a file.
    pub fn paths(&self, id: ItemId) -> Option<(PathBuf, Option<PathBuf>)> {
        let items = self.shared.items.lock().ok()?;
        let item = items.get(id as usize)?;
        let output = match &item.status {
            ItemStatus::Done { destination, .. } | ItemStatus::Skipped { destination, .. } => {
                destination.as_ref().map(PathBuf::from)
            }
            _ => None,
        };
        Some((item.source.path.clone(), output))
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
    }
}

impl Shared {
    fn push_update(&self, id: ItemId, status: ItemStatus) {
        if let Ok(mut pending) = self.pending_updates.lock() {
            pending.push(ItemUpdate { id, status });
        }
        self.wake.notify_all();
    }

    /// Records how far a running item is; an item that finished or was cancelled meanwhile
    /// keeps its status.
    fn set_progress(&self, id: ItemId, fraction: f32) {
        let Ok(mut items) = self.items.lock() else { return };
        let Some(item) = items.get_mut(id as usize) else { return };
        if !matches!(item.status, ItemStatus::Running { .. }) {
            return;
        }
        item.status = ItemStatus::Running { progress: Some(fraction) };
        drop(items);
        self.push_update(id, ItemStatus::Running { progress: Some(fraction) });
    }

    /// Moves an item to `status` unless it was cancelled meanwhile; returns whether it did.
    fn set_status(&self, id: ItemId, status: ItemStatus) -> bool {
        let Ok(mut items) = self.items.lock() else { return false };
        let Some(item) = items.get_mut(id as usize) else { return false };
        if item.status == ItemStatus::Cancelled {
            return false;
        }
        item.status = status.clone();
        drop(items);
        self.push_update(id, status);
        true
    }
}

fn work(shared: &Shared, receiver: &Mutex<Receiver<ItemId>>) {
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(id) = next else { return };
        if shared.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        let claimed = {
            let Ok(mut items) = shared.items.lock() else { return };
            match items.get_mut(id as usize) {
                Some(item) if item.status == ItemStatus::Queued && !item.cancelled.load(Ordering::SeqCst) => {
                    item.status = ItemStatus::Running { progress: None };
                    Some((item.source.clone(), Arc::clone(&item.job), Arc::clone(&item.cancelled)))
                }
                _ => None,
            }
        };
        let Some((source, job, cancelled)) = claimed else { continue };
        shared.push_update(id, ItemStatus::Running { progress: None });
        // A whole percent more done is worth a row update; finer steps would only flood the UI.
        let percent_shown = AtomicU32::new(0);
        let progress = |done: f64| {
            let percent = (done.clamp(0.0, 1.0) * 100.0) as u32;
            if percent > percent_shown.fetch_max(percent, Ordering::SeqCst) {
                shared.set_progress(id, percent as f32 / 100.0);
            }
        };
        // `None`: cancelled once the output was ready, before anything was written.
        let status =
            match process_with_progress(&shared.engine, &source, &job, &shared.reservations, &cancelled, &progress)
                .transpose()
            {
                None => ItemStatus::Cancelled,
                Some(Ok(outcome)) => {
                    let destination = outcome.destination.map(|d| d.display().to_string());
                    let url = outcome.url;
                    match outcome.report.status {
                        Status::Compressed => ItemStatus::Done { report: outcome.report, destination, url },
                        Status::Skipped => ItemStatus::Skipped {
                            reason: outcome.report.reason.clone().unwrap_or_default(),
                            report: outcome.report,
                            destination,
                            url,
                        },
                    }
                }
                Some(Err(err)) => ItemStatus::Failed { reason: err.message },
            };
        shared.set_status(id, status);
    }
}

fn flush(shared: &Shared, interval: Duration, on_updates: impl Fn(Vec<ItemUpdate>)) {
    loop {
        let batch = {
            let Ok(mut pending) = shared.pending_updates.lock() else { return };
            while pending.is_empty() && !shared.shutting_down.load(Ordering::SeqCst) {
                pending = match shared.wake.wait(pending) {
                    Ok(guard) => guard,
                    Err(_) => return,
                };
            }
            std::mem::take(&mut *pending)
        };
        if !batch.is_empty() {
            on_updates(batch);
        }
        if shared.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Instant;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
    }

    /// Collects every update and waits until `count` files have finished.
    fn finished_statuses(
        queue_updates: &Mutex<HashMap<ItemId, ItemStatus>>,
        count: usize,
    ) -> HashMap<ItemId, ItemStatus> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let statuses = queue_updates.lock().unwrap().clone();
            if statuses.values().filter(|s| s.is_finished()).count() >= count {
                return statuses;
            }
            assert!(Instant::now() < deadline, "queue did not finish: {statuses:?}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn copy_fixtures(dir: &std::path::Path, names: &[&str]) -> Vec<Source> {
        names
            .iter()
            .map(|name| {
                let path = dir.join(name);
                std::fs::copy(fixture(name), &path).unwrap();
                Source { path, root: None }
            })
            .collect()
    }

    #[test]
    fn files_flow_from_queued_to_a_result_in_batched_updates() {
        let dir = tempfile::tempdir().unwrap();
        let statuses = Arc::new(Mutex::new(HashMap::new()));
        let batches = Arc::new(Mutex::new(0usize));
        let (s, b) = (Arc::clone(&statuses), Arc::clone(&batches));
        let queue = Queue::start(Engine::default(), 2, Duration::from_millis(50), move |updates| {
            *b.lock().unwrap() += 1;
            let mut statuses = s.lock().unwrap();
            for update in updates {
                statuses.insert(update.id, update.status);
            }
        });
        let sources = copy_fixtures(dir.path(), &["photo.jpg", "text.jpg", "photo.png"]);
        let added = queue.add(sources, Job::default());
        assert_eq!(added.iter().map(|i| i.id).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(added[0].name, "photo.jpg");

        let done = finished_statuses(&statuses, 3);
        assert!(matches!(&done[&0], ItemStatus::Done { report, destination: Some(d), .. }
            if report.output.size < report.input.size && d.ends_with("photo-min.jpg")));
        assert!(matches!(&done[&1], ItemStatus::Failed { reason } if reason.contains("not a supported file type")));
        assert!(matches!(&done[&2], ItemStatus::Done { .. }));
        assert!(*batches.lock().unwrap() < 10, "updates are batched");
        let (original, output) = queue.paths(0).unwrap();
        assert_eq!(original, dir.path().join("photo.jpg"));
        assert_eq!(output, Some(dir.path().join("photo-min.jpg")));

        // A failed file can be retried (and fails again, for the same reason).
        queue.retry(&[1]);
        thread::sleep(Duration::from_millis(300));
        assert!(matches!(queue.status(1), Some(ItemStatus::Failed { .. })));
    }

    #[test]
    fn cancelled_files_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let statuses = Arc::new(Mutex::new(HashMap::new()));
        let s = Arc::clone(&statuses);
        // One worker, so the later files are still queued when cancelled.
        let queue = Queue::start(Engine::default(), 1, Duration::from_millis(20), move |updates| {
            let mut statuses = s.lock().unwrap();
            for update in updates {
                statuses.insert(update.id, update.status);
            }
        });
        let names = ["photo.jpg", "photo.png", "alpha.png", "gray.png", "photo-rotated.jpg"];
        let added = queue.add(copy_fixtures(dir.path(), &names), Job::default());
        queue.cancel_all();
        let done = finished_statuses(&statuses, added.len());
        let cancelled: Vec<ItemId> =
            done.iter().filter(|(_, s)| **s == ItemStatus::Cancelled).map(|(id, _)| *id).collect();
        assert!(cancelled.len() >= names.len() - 1, "{done:?}");
        for id in cancelled {
            let stem = std::path::Path::new(names[id as usize]).file_stem().unwrap().to_string_lossy().into_owned();
            assert!(!dir.path().join(format!("{stem}-min.jpg")).exists());
            assert!(!dir.path().join(format!("{stem}-min.png")).exists());
        }
        // Cancelled files can be retried.
        queue.retry(&[4]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(queue.status(4), Some(ItemStatus::Done { .. })) {
            assert!(Instant::now() < deadline, "{:?}", queue.status(4));
            thread::sleep(Duration::from_millis(20));
        }
    }
}
