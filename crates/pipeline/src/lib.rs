//! Pipelines: sources → engine → sinks. The CLI and the desktop app drive these; neither
//! holds compression or file-safety logic of its own.

pub mod discover;
pub mod memory;
pub mod presets;
pub mod produced;
pub mod queue;
pub mod settings;
pub mod sink;
pub mod store;
pub mod sync;
pub mod watch;
pub mod watching;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use compressor_engine::{Compressed, Engine, Options, Report};
use serde::Serialize;

pub use discover::{discover, DiscoveryError, Source};
pub use sink::{OutputPolicy, WriteError};

/// Compression somewhere else: a Compressor API server (`compressor_api::client`). The
/// result comes back as the local engine's would, and is checked and written the same way.
pub trait RemoteCompressor: Send + Sync + std::fmt::Debug {
    fn compress(
        &self,
        input: &[u8],
        name: &str,
        options: &Options,
        cancel: &AtomicBool,
    ) -> Result<Compressed, compressor_engine::EngineError>;
}

/// How a batch is run.
#[derive(Debug, Clone, Default)]
pub struct Job {
    pub options: Options,
    pub policy: OutputPolicy,
    /// Give outputs the original's modification time.
    pub keep_dates: bool,
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// With [`OutputPolicy::Store`]: the bucket results are uploaded to.
    pub store: Option<std::sync::Arc<store::StoreSink>>,
    /// Compress through a remote API instead of the local engine.
    pub remote: Option<std::sync::Arc<dyn RemoteCompressor>>,
    /// Results written before: a file found here is not compressed again (generation loss).
    pub produced: Option<std::sync::Arc<produced::ProducedIndex>>,
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub path: PathBuf,
    /// Where the result was written; `None` when nothing needed writing (skipped beside the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<PathBuf>,
    /// The object's URL, when the result was uploaded to a storage connector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub report: Report,
}

/// A file that failed; the message names the reason and the original is untouched.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub message: String,
}

impl FileError {
    fn new(path: &Path, message: impl ToString) -> Self {
        Self { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// Destinations given out in a batch (destination → the input that owns it), so that two
/// inputs never write one output (`photo.bmp` and `photo.png` both becoming `photo.png`).
#[derive(Debug, Default)]
pub struct Reservations(Mutex<HashMap<PathBuf, PathBuf>>);

impl Reservations {
    /// Each input first owns the destination its own name maps to, whatever order the
    /// workers finish in: a converted file never takes the name of an unconverted one.
    pub fn for_sources(sources: &[Source], policy: &OutputPolicy) -> Self {
        let reservations = Self::default();
        reservations.reserve_own_names(sources, policy);
        reservations
    }

    /// Gives each source the destination of its own name, where nobody has it yet.
    pub fn reserve_own_names(&self, sources: &[Source], policy: &OutputPolicy) {
        let Ok(mut owners) = self.0.lock() else { return };
        for source in sources {
            let name = source.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Ok(destination) = policy.destination(source, &name) {
                owners.entry(destination).or_insert_with(|| source.path.clone());
            }
        }
    }

    /// True when `destination` is free or already `owner`'s, and is now `owner`'s.
    fn claim(&self, destination: &Path, owner: &Path) -> bool {
        let Ok(mut owners) = self.0.lock() else { return false };
        owners.entry(destination.to_path_buf()).or_insert_with(|| owner.to_path_buf()) == owner
    }
}

/// Picks where the output of `source` goes. When the output's name is taken (by another
/// input of this batch, or in place by an existing file other than the original), a
/// converted file keeps its old extension too: `photo.bmp` → `photo.bmp.png`.
fn choose_destination(
    source: &Source,
    report: &Report,
    job: &Job,
    reservations: &Reservations,
) -> Result<PathBuf, String> {
    let original = &source.path;
    let is_free = |candidate: &Path| {
        let foreign_file = job.policy == OutputPolicy::InPlace && candidate != original && candidate.exists();
        reservations.claim(candidate, original) && !foreign_file
    };
    let destination = job.policy.destination(source, &report.output.name)?;
    if is_free(&destination) {
        return Ok(destination);
    }
    if report.output.format != report.input.format {
        let longer_name = format!("{}.{}", report.input.name, report.output.format.extension());
        let destination = job.policy.destination(source, &longer_name)?;
        if is_free(&destination) {
            return Ok(destination);
        }
    }
    Err(format!("the output {} would overwrite another file; nothing was written", destination.display()))
}

/// Compresses one file and writes its result according to the job's policy.
pub fn process(
    engine: &Engine,
    source: &Source,
    job: &Job,
    reservations: &Reservations,
) -> Result<FileOutcome, FileError> {
    process_unless_cancelled(engine, source, job, reservations, &AtomicBool::new(false))?
        .ok_or_else(|| FileError::new(&source.path, "cancelled"))
}

/// Like [`process`], but checks `cancel` once the output is ready and, if it is set,
/// writes nothing and returns `Ok(None)`.
pub fn process_unless_cancelled(
    engine: &Engine,
    source: &Source,
    job: &Job,
    reservations: &Reservations,
    cancel: &AtomicBool,
) -> Result<Option<FileOutcome>, FileError> {
    process_with_progress(engine, source, job, reservations, cancel, &|_| {})
}

/// What the engine (or a remote API) made of one file.
enum Produced {
    /// Nothing new: the original is the result.
    Original,
    Bytes(Vec<u8>),
    /// A temporary file in the destination's folder (or the system's, for a bucket).
    File(tempfile::NamedTempFile),
}

/// [`process_unless_cancelled`] with the fraction done of a long file (a video) passed to
/// `progress` as it goes.
pub fn process_with_progress(
    engine: &Engine,
    source: &Source,
    job: &Job,
    reservations: &Reservations,
    cancel: &AtomicBool,
    progress: &(dyn Fn(f64) + Sync),
) -> Result<Option<FileOutcome>, FileError> {
    let path = &source.path;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let compressed = match own_result(job, path, &name) {
        Some(skipped) => Ok((skipped.report, Produced::Original)),
        None => match &job.remote {
            Some(remote) => {
                let input = std::fs::read(path).map_err(|e| FileError::new(path, format!("cannot read: {e}")))?;
                remote
                    .compress(&input, &name, &job.options, cancel)
                    .map(|Compressed { report, output }| (report, output.map_or(Produced::Original, Produced::Bytes)))
            }
            None => {
                let scratch = scratch_folder(source, job).map_err(|e| FileError::new(path, e))?;
                // A long job (a video) checks `cancel` as it goes, not only at the end.
                let control = compressor_engine::Control { cancel, progress };
                engine.compress_file(path, &name, &job.options, &control, &scratch).map(
                    |compressor_engine::CompressedFile { report, output }| {
                        (report, output.map_or(Produced::Original, Produced::File))
                    },
                )
            }
        },
    };
    let (report, output) = match compressed {
        Ok(compressed) => compressed,
        Err(compressor_engine::EngineError::Cancelled) => return Ok(None),
        Err(err) => return Err(FileError::new(path, err)),
    };
    // A big file's hash came with its compression (see `own_result`): one of ours is kept as it is.
    let (report, output) = match own_result_by_hash(job, &report) {
        Some(skipped) => (skipped.report, Produced::Original),
        None => (report, output),
    };
    if cancel.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let produced = (!matches!(output, Produced::Original)).then(|| report.output.hashes.sha256.clone());
    let remember = |outcome: &Option<FileOutcome>| {
        if let (Some(index), Some(hash), Some(_)) = (&job.produced, &produced, outcome) {
            index.add(hash);
        }
    };
    if job.policy == OutputPolicy::Store {
        let outcome = upload(engine, source, job, reservations, output, report, cancel)?;
        remember(&outcome);
        return Ok(outcome);
    }
    let needs_writing = !matches!(output, Produced::Original) || matches!(job.policy, OutputPolicy::Folder(_));
    let destination = if needs_writing {
        choose_destination(source, &report, job, reservations).map_err(|e| FileError::new(path, e))?
    } else {
        PathBuf::new()
    };

    let expected_sha256 = report.output.hashes.sha256.clone();
    // A copy of the original (an output folder gets every file) is proven by its hash alone:
    // the engine has read it already, and a damaged one salvaged on request would not verify.
    let copies_original = matches!(output, Produced::Original);
    let check = |written: &Path| check_written(engine, written, &expected_sha256, !copies_original);
    let payload = match output {
        Produced::Original => sink::Payload::CopyOf(path),
        Produced::Bytes(ref bytes) => sink::Payload::Bytes(bytes),
        Produced::File(file) => sink::Payload::Staged(file),
    };
    let written_to = match (&job.policy, copies_original) {
        (OutputPolicy::InPlace, false) => {
            sink::replace_in_place(path, &destination, payload, job.keep_dates, check)
                .map_err(|e| FileError::new(path, e))?;
            Some(destination)
        }
        (OutputPolicy::Suffix(_) | OutputPolicy::InPlace, true) => None,
        (OutputPolicy::Store, _) => None, // uploaded above
        // An output folder gets every file, the original when it could not be made smaller.
        (OutputPolicy::Folder(_) | OutputPolicy::Suffix(_), _) => {
            sink::write_file(&destination, payload, path, job.keep_dates, check)
                .map_err(|e| FileError::new(path, e))?;
            Some(destination)
        }
    };
    let outcome = Some(FileOutcome { path: path.clone(), destination: written_to, url: None, report });
    remember(&outcome);
    Ok(outcome)
}

/// Where the engine writes its output: the destination's folder, so that placing it is a
/// rename (the system's temporary folder for a bucket, whose upload reads it from there).
fn scratch_folder(source: &Source, job: &Job) -> Result<PathBuf, String> {
    let name = source.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let folder = match job.policy.destination(source, &name) {
        Ok(destination) => destination.parent().filter(|p| !p.as_os_str().is_empty()).map(PathBuf::from),
        Err(_) => None,
    };
    let folder = folder.unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    Ok(folder)
}

/// A written output read back: its SHA-256 is the engine's, and (unless it is a copy of the
/// original) it decodes.
fn check_written(engine: &Engine, written: &Path, expected_sha256: &str, decode: bool) -> Result<(), String> {
    let (_, sha256) = compressor_engine::report::sha256_file(written)
        .map_err(|e| format!("cannot read {} back: {e}", written.display()))?;
    if sha256 != expected_sha256 {
        return Err("the written output's SHA-256 differs from the engine's".into());
    }
    if decode {
        engine.verify_file(written).map_err(|e| format!("the written output does not decode: {e}"))?;
    }
    Ok(())
}

/// Files up to this size are hashed before compressing, to skip Compressor's own results
/// early; a bigger one is checked by the hash its compression reads anyway, rather than
/// read twice (a second pass over a 2 GB video costs a second or more).
const HASH_FIRST_UP_TO: u64 = 64 << 20;

/// A file Compressor wrote itself (its SHA-256 is in the job's index) is kept as it is.
fn own_result(job: &Job, path: &Path, name: &str) -> Option<Compressed> {
    let index = job.produced.as_ref()?;
    if std::fs::metadata(path).ok()?.len() > HASH_FIRST_UP_TO {
        return None;
    }
    let format = compressor_engine::detect_file(path).ok()??;
    let facts = compressor_engine::FileFacts::describe_file(name, format, path, None).ok()?;
    index.contains(&facts.hashes.sha256).then(|| made_by_compressor(facts))
}

/// [`own_result`] for a file too big to hash first, once its report (and hash) is in.
fn own_result_by_hash(job: &Job, report: &Report) -> Option<Compressed> {
    let index = job.produced.as_ref()?;
    let is_ours = report.input.size > HASH_FIRST_UP_TO && index.contains(&report.input.hashes.sha256);
    is_ours.then(|| made_by_compressor(report.input.clone()))
}

fn made_by_compressor(facts: compressor_engine::FileFacts) -> Compressed {
    let reason = "Compressor made this file: compressing it again would lose quality for little gain".to_string();
    Compressed::skipped(facts, reason, Vec::new(), Vec::new())
}

/// Uploads a result to the job's bucket: the output, or the original when it could not be
/// made smaller (like an output folder, the bucket gets every file). The output is checked
/// as a written file is; the original is never touched. Files are uploaded in parts, never
/// read whole.
fn upload(
    engine: &Engine,
    source: &Source,
    job: &Job,
    reservations: &Reservations,
    output: Produced,
    report: Report,
    cancel: &AtomicBool,
) -> Result<Option<FileOutcome>, FileError> {
    let path = &source.path;
    let store = job.store.as_ref().ok_or_else(|| FileError::new(path, "no storage connector was opened"))?;
    let checked = |written: &Path| {
        check_written(engine, written, &report.output.hashes.sha256, true).map_err(|e| FileError::new(path, e))
    };
    match &output {
        Produced::File(file) => checked(file.path())?,
        Produced::Bytes(bytes) => {
            if compressor_engine::report::sha256_hex(bytes) != report.output.hashes.sha256 {
                return Err(FileError::new(path, "the output's SHA-256 differs from the engine's"));
            }
            engine.verify(bytes).map_err(|e| FileError::new(path, format!("the output does not decode: {e}")))?;
        }
        Produced::Original => {}
    }
    // Keys are claimed like local destinations: `a/x.jpg` and `b/x.jpg`, or `photo.bmp` and
    // `photo.png` both becoming `photo.png`, never share an object.
    let key_of = |name: &str| {
        let relative = source.relative_path().with_file_name(name);
        store.key_for(&relative.to_string_lossy().replace('\\', "/"))
    };
    let claim = |key: &str| reservations.claim(Path::new(&format!("\0store/{key}")), path);
    let mut key = key_of(&report.output.name);
    if !claim(&key) && report.output.format != report.input.format {
        key = key_of(&format!("{}.{}", report.input.name, report.output.format.extension()));
    }
    if !claim(&key) {
        return Err(FileError::new(
            path,
            format!("the object {key} would overwrite another file's result; nothing was uploaded"),
        ));
    }
    let uploaded = match output {
        Produced::File(file) => store.upload_file(&key, file.path(), &report.output.mime, cancel),
        Produced::Bytes(bytes) => store.upload(&key, bytes, &report.output.mime, cancel),
        Produced::Original => store.upload_file(&key, path, &report.input.mime, cancel),
    };
    match uploaded {
        Ok(url) => Ok(Some(FileOutcome { path: path.clone(), destination: None, url: Some(url), report })),
        Err(compressor_storage::StorageError::Cancelled) => Ok(None),
        Err(err) => Err(FileError::new(path, format!("upload to {} failed: {err}", store.connector().name))),
    }
}

/// Finishes or cleans up what killed runs left where a batch over `paths` (files and
/// folders, as the user gave them) will write: beside the files, and in the output folder.
pub fn recover_destinations(paths: &[PathBuf], policy: &OutputPolicy) -> Vec<sink::Recovery> {
    let mut done = Vec::new();
    if let OutputPolicy::Folder(out) = policy {
        done.extend(sink::recover(out, 64));
    }
    for path in paths {
        if path.is_dir() {
            done.extend(sink::recover(path, 64));
        } else if let Some(folder) = path.parent().filter(|p| p.is_dir()) {
            done.extend(sink::recover(folder, 1));
        }
    }
    done
}

/// Runs `job` over `sources` on a bounded pool of workers. `on_result` is called from the
/// workers as each file finishes, `on_progress` with the fraction done of a long file (a
/// video) as it goes. Setting `cancel` stops the files being worked on (a video within a
/// second: its worker is stopped and its temporary file removed) and those not yet started;
/// files stopped so are not reported.
///
/// The workers take the files largest first, each the next one as it comes free: otherwise
/// a big file drawn last keeps one core busy while the others idle at the end of the batch.
pub fn run_batch(
    engine: &Engine,
    sources: &[Source],
    job: &Job,
    cancel: &AtomicBool,
    on_progress: impl Fn(&Source, f64) + Sync,
    on_result: impl Fn(Result<FileOutcome, FileError>) + Sync,
) -> Result<(), String> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(job.jobs).build().map_err(|e| e.to_string())?;
    let workers = pool.current_num_threads().min(sources.len()).max(1);
    let reservations = Reservations::for_sources(sources, &job.policy);
    let mut order: Vec<(u64, usize)> =
        sources.iter().enumerate().map(|(i, s)| (std::fs::metadata(&s.path).map_or(0, |m| m.len()), i)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let next = std::sync::atomic::AtomicUsize::new(0);
    pool.scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                while let Some(&(_, index)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let source = &sources[index];
                    let progress = |done: f64| on_progress(source, done);
                    match process_with_progress(engine, source, job, &reservations, cancel, &progress) {
                        Ok(Some(outcome)) => on_result(Ok(outcome)),
                        Ok(None) => {} // cancelled
                        Err(err) => on_result(Err(err)),
                    }
                }
            });
        }
    });
    Ok(())
}
