//! Watched folders: every finished file that lands in a folder is compressed once.
//!
//! A file is taken when it is finished: closed after writing (where the platform says so),
//! or with size and modification time unchanged for `stable_for`. Temporary names (`.part`,
//! `.crdownload`, `.tmp`, swap files, hidden files) are left alone, so temp-then-rename writers
//! are processed once, under the final name. A small persistent index remembers what was
//! done (input size and mtime, output hashes), so the watcher never recompresses its own
//! outputs and, after a restart, catches up on new files without doing anything twice.
//! inotify is used where it works; otherwise (or when asked) the folder is polled.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use compressor_engine::Engine;
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode, Watcher as _};
use serde::{Deserialize, Serialize};

use crate::{process, FileError, FileOutcome, Job, Reservations, Source};

/// What to watch and what to do with what arrives.
#[derive(Debug, Clone)]
pub struct WatchRule {
    pub folder: PathBuf,
    pub job: Job,
    /// Watch sub-folders too, down to `max_depth` levels.
    pub recursive: bool,
    pub max_depth: usize,
    /// How long size and mtime must stay unchanged before a file counts as finished.
    pub stable_for: Duration,
    /// Poll instead of using inotify (also the automatic fallback when inotify fails).
    pub poll: bool,
    /// Where the index of processed files is kept.
    pub index_path: PathBuf,
    /// Globs over the path below the folder (`*.jpg`, `raw/**`): when any are given, only
    /// matching files are taken; files matching `exclude` never are.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl WatchRule {
    pub fn new(folder: PathBuf, job: Job, index_path: PathBuf) -> Self {
        WatchRule {
            folder,
            job,
            recursive: true,
            max_depth: 8,
            stable_for: Duration::from_millis(500),
            poll: false,
            index_path,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// Compiled include/exclude globs.
struct Filter {
    include: Option<globset::GlobSet>,
    exclude: globset::GlobSet,
}

impl Filter {
    fn new(rule: &WatchRule) -> Result<Filter, String> {
        let build = |patterns: &[String]| {
            let mut set = globset::GlobSetBuilder::new();
            for pattern in patterns {
                set.add(globset::Glob::new(pattern).map_err(|e| format!("bad pattern '{pattern}': {e}"))?);
            }
            set.build().map_err(|e| e.to_string())
        };
        let include = if rule.include.is_empty() { None } else { Some(build(&rule.include)?) };
        Ok(Filter { include, exclude: build(&rule.exclude)? })
    }

    fn allows(&self, relative: &Path) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(relative)) && !self.exclude.is_match(relative)
    }
}

/// One line of the activity log.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    Compressed { outcome: Box<FileOutcome> },
    Failed { error: FileError },
    Notice { message: String },
}

/// A running watcher; `stop` (or dropping it) ends it cleanly.
pub struct FolderWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FolderWatcher {
    pub fn start(
        engine: Engine,
        rule: WatchRule,
        on_event: impl Fn(WatchEvent) + Send + 'static,
    ) -> Result<FolderWatcher, String> {
        let index = Index::load(&rule.index_path)?;
        let filter = Filter::new(&rule)?;
        // Files that finish together (a burst) are compressed in parallel, `job.jobs` at once.
        let pool = match rule.job.jobs {
            1 => None,
            jobs => Some(rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(|e| e.to_string())?),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut state = WatchLoop {
                engine,
                rule,
                index,
                pending: HashMap::new(),
                on_event: Box::new(on_event),
                reports_closes: false,
                reservations: Reservations::default(),
                filter,
                pool,
            };
            state.run(&flag);
        });
        Ok(FolderWatcher { stop, thread: Some(thread) })
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FolderWatcher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// What the watcher has done, kept across restarts.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// Input path → (size, mtime in ns) when it was last handled.
    inputs: HashMap<PathBuf, (u64, u128)>,
    /// SHA-256 of every output written: never an input.
    outputs: HashSet<String>,
    #[serde(skip)]
    path: PathBuf,
}

impl Index {
    fn load(path: &Path) -> Result<Index, String> {
        let mut index: Index = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("watch index {}: {e}", path.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Index::default(),
            Err(err) => return Err(format!("watch index {}: {err}", path.display())),
        };
        index.path = path.to_path_buf();
        Ok(index)
    }

    fn save(&self) -> Result<(), String> {
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        crate::sink::write_atomically(&self.path, &json, &self.path, false, |_| Ok(())).map_err(|e| e.to_string())
    }
}

/// A file seen changing, not yet known to be finished.
struct Pending {
    stamp: Option<(u64, u128)>,
    changed_at: Instant,
    /// Closed after writing (inotify's IN_CLOSE_WRITE).
    closed: bool,
    /// Being written, as far as inotify told: created or modified, not closed yet.
    writing: bool,
}

fn stamp(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    let mtime = meta.modified().ok()?.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_nanos();
    Some((meta.len(), mtime))
}

/// Names writers use while a file is incomplete, and our own temporary files.
fn is_temporary(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return true };
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || [".part", ".crdownload", ".download", ".tmp", ".temp", ".swp", ".partial"].iter().any(|s| lower.ends_with(s))
}

type Events = Receiver<notify::Result<notify::Event>>;

/// What an event says about a file.
#[derive(Debug, Clone, Copy)]
enum FileSignal {
    /// Present (a scan, or an event that says nothing about writing).
    Seen,
    /// Created or modified.
    Written,
    /// Closed after writing.
    Closed,
}

/// The live watcher (held only to keep it running) and its events.
type Backend = (Box<dyn notify::Watcher + Send>, Events);

struct WatchLoop {
    engine: Engine,
    rule: WatchRule,
    index: Index,
    pending: HashMap<PathBuf, Pending>,
    on_event: Box<dyn Fn(WatchEvent) + Send>,
    /// inotify reports closes; polling does not, and relies on stability alone.
    reports_closes: bool,
    /// Output names given out so far: two inputs never write one output.
    reservations: Reservations,
    filter: Filter,
    /// `None` for one file at a time.
    pool: Option<rayon::ThreadPool>,
}

impl WatchLoop {
    fn notice(&self, message: String) {
        (self.on_event)(WatchEvent::Notice { message });
    }

    fn start_backend(&mut self) -> Option<Backend> {
        self.reports_closes = false;
        let (sender, receiver) = mpsc::channel();
        let mode = if self.rule.recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        if !self.rule.poll {
            let inotify = RecommendedWatcher::new(sender.clone(), notify::Config::default())
                .and_then(|mut w| w.watch(&self.rule.folder, mode).map(|()| w));
            match inotify {
                Ok(watcher) => {
                    self.reports_closes = true;
                    return Some((Box::new(watcher), receiver));
                }
                Err(err) => {
                    self.notice(format!("inotify unavailable ({err}); polling {} instead", self.rule.folder.display()))
                }
            }
        }
        let config = notify::Config::default().with_poll_interval(Duration::from_millis(500));
        match PollWatcher::new(sender, config).and_then(|mut w| w.watch(&self.rule.folder, mode).map(|()| w)) {
            Ok(watcher) => Some((Box::new(watcher), receiver)),
            Err(err) => {
                self.notice(format!("cannot watch {}: {err}", self.rule.folder.display()));
                None
            }
        }
    }

    /// Inside the folder, within the depth limit, and allowed by the globs.
    fn wanted(&self, path: &Path) -> bool {
        match path.strip_prefix(&self.rule.folder) {
            Ok(relative) => {
                let depth = relative.components().count();
                let deep_enough =
                    depth >= 1 && (depth <= 1 || (self.rule.recursive && depth <= self.rule.max_depth + 1));
                deep_enough && self.filter.allows(relative)
            }
            Err(_) => false,
        }
    }

    /// Marks every file under `dir` as pending: at start (catch-up), when the folder comes
    /// back, and when a sub-folder appears (its files may predate its watch).
    fn scan(&mut self, dir: &Path) {
        let depth = if self.rule.recursive { self.rule.max_depth + 1 } else { 1 };
        for entry in walkdir::WalkDir::new(dir).max_depth(depth).into_iter().filter_map(Result::ok) {
            if entry.file_type().is_file() {
                self.touch(entry.into_path(), FileSignal::Seen);
            }
        }
    }

    fn touch(&mut self, path: PathBuf, signal: FileSignal) {
        if !self.wanted(&path) || is_temporary(&path) {
            return;
        }
        let entry = self.pending.entry(path).or_insert(Pending {
            stamp: None,
            changed_at: Instant::now(),
            closed: false,
            writing: false,
        });
        match signal {
            FileSignal::Seen => {}
            FileSignal::Written => entry.writing = self.reports_closes,
            FileSignal::Closed => {
                entry.closed = true;
                entry.writing = false;
            }
        }
    }

    fn run(&mut self, stop: &AtomicBool) {
        let mut backend: Option<Backend> = None;
        while !stop.load(Ordering::SeqCst) {
            // The folder may be deleted and created again: rewatch and catch up when it returns.
            if !self.rule.folder.is_dir() {
                if backend.take().is_some() {
                    self.notice(format!("{} is gone; waiting for it to come back", self.rule.folder.display()));
                }
                self.pending.clear();
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            if backend.is_none() {
                backend = self.start_backend();
                let folder = self.rule.folder.clone();
                self.scan(&folder);
            }
            if let Some((_, events)) = &backend {
                match events.recv_timeout(Duration::from_millis(100)) {
                    Ok(Ok(event)) => {
                        let signal = match event.kind {
                            EventKind::Access(AccessKind::Close(AccessMode::Write)) => FileSignal::Closed,
                            EventKind::Create(_) | EventKind::Modify(_) => FileSignal::Written,
                            _ => FileSignal::Seen,
                        };
                        for path in event.paths {
                            if path.is_dir() {
                                self.scan(&path);
                            } else {
                                self.touch(path, signal);
                            }
                        }
                    }
                    Ok(Err(err)) => self.notice(format!("watch error: {err}")),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => backend = None,
                }
            }
            self.process_finished_files();
        }
    }

    fn process_finished_files(&mut self) {
        let now = Instant::now();
        let stable_for = self.rule.stable_for;
        let mut ready = Vec::new();
        self.pending.retain(|path, pending| {
            let Some(current) = stamp(path) else {
                return false; // gone: renamed away or deleted
            };
            if pending.stamp != Some(current) {
                // Still changing (or first look): wait for it to settle.
                pending.stamp = Some(current);
                pending.changed_at = now;
                return true;
            }
            // A writer that pauses longer than `stable_for` must not have its half-written
            // file taken: while inotify says it is open for writing, wait for the close (or,
            // should none ever come, ten times as long).
            let quiet = now.duration_since(pending.changed_at);
            let finished = pending.closed || (quiet >= stable_for && !pending.writing) || quiet >= stable_for * 10;
            if finished {
                ready.push((path.clone(), current));
            }
            !finished
        });
        ready.sort();
        if !ready.is_empty() {
            self.handle(ready);
        }
    }

    /// What to do with a finished file: `Some` when it should be compressed.
    fn triage(&mut self, path: PathBuf, stamp: (u64, u128)) -> Option<(PathBuf, (u64, u128))> {
        if self.index.inputs.get(&path) == Some(&stamp) {
            return None; // handled before, unchanged since
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                // Not remembered: once the permissions are fixed (an attribute change, which
                // is an event), the file is taken again.
                let error = FileError::new(&path, format!("cannot read: {err}"));
                (self.on_event)(WatchEvent::Failed { error });
                return None;
            }
        };
        let is_image = compressor_engine::detect(&bytes).is_some() || crate::discover::has_known_extension(&path);
        let ours = self.index.outputs.contains(&compressor_engine::report::sha256_hex(&bytes));
        if !is_image || ours {
            self.index.inputs.insert(path, stamp);
            return None;
        }
        Some((path, stamp))
    }

    /// Compresses finished files on the rule's worker pool, recording and reporting them a few
    /// at a time: a burst of a thousand files shows progress as it goes rather than all at the
    /// end.
    fn handle(&mut self, ready: Vec<(PathBuf, (u64, u128))>) {
        use rayon::prelude::*;
        let work: Vec<_> = ready.into_iter().filter_map(|(path, stamp)| self.triage(path, stamp)).collect();
        if work.is_empty() {
            return;
        }
        let sources: Vec<Source> =
            work.iter().map(|(path, _)| Source { path: path.clone(), root: Some(self.rule.folder.clone()) }).collect();
        self.reservations.reserve_own_names(&sources, &self.rule.job.policy);
        let chunk = 4 * self.pool.as_ref().map_or(1, |pool| pool.current_num_threads());
        let mut work = work.into_iter();
        for some in sources.chunks(chunk) {
            let (engine, job, reservations) = (&self.engine, &self.rule.job, &self.reservations);
            let compress = || -> Vec<_> {
                some.par_iter().with_max_len(1).map(|source| process(engine, source, job, reservations)).collect()
            };
            let results = match &self.pool {
                Some(pool) => pool.install(compress),
                None => some.iter().map(|source| process(engine, source, job, reservations)).collect(),
            };
            for ((path, stamp), result) in work.by_ref().zip(results) {
                self.record(path, stamp, result);
            }
        }
        if let Err(err) = self.index.save() {
            self.notice(format!("cannot save the watch index: {err}"));
        }
    }

    /// Remembers a processed file in the index (so it is not processed again) and reports it.
    fn record(&mut self, path: PathBuf, stamp: (u64, u128), result: Result<FileOutcome, FileError>) {
        match &result {
            Ok(outcome) => {
                if outcome.destination.is_some() {
                    self.index.outputs.insert(outcome.report.output.hashes.sha256.clone());
                }
                // In place, the file now at `path` is the output: remember its stamp, not the old one.
                let stamp_after = self::stamp(&path).unwrap_or(stamp);
                self.index.inputs.insert(path, stamp_after);
            }
            Err(_) => {
                // A damaged file is not retried until it changes.
                self.index.inputs.insert(path, stamp);
            }
        }
        (self.on_event)(match result {
            Ok(outcome) => WatchEvent::Compressed { outcome: Box::new(outcome) },
            Err(error) => WatchEvent::Failed { error },
        });
    }
}
