//! `compressor compress`: argument parsing and output formatting only.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use anyhow::Context;
use clap::{ArgGroup, Args};
use compressor_engine::{Engine, Options, Status};
use compressor_pipeline::sink::Recovery;
use compressor_pipeline::{discover, recover_destinations, run_batch, FileError, FileOutcome, Job, OutputPolicy};
use indicatif::{ProgressBar, ProgressStyle};

/// What to do with each file and where results go: shared by `compress` and `watch`.
#[derive(Args)]
#[command(group(ArgGroup::new("settings").args(["preset", "options"])))]
#[command(group(ArgGroup::new("sink").args(["out", "suffix", "in_place", "store"])))]
pub struct JobArgs {
    /// A built-in preset (see `compressor presets`).
    #[arg(long)]
    preset: Option<String>,
    /// Options as API-shaped JSON, or @FILE to read them from a file.
    #[arg(long, value_name = "JSON|@FILE")]
    options: Option<String>,
    /// Write results under this folder, mirroring the input folders.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write results beside the originals with this suffix before the extension [default: -min].
    #[arg(long, value_name = "SUFFIX", allow_hyphen_values = true)]
    suffix: Option<String>,
    /// Replace the originals (each moved to the system trash once its output is written and checked).
    #[arg(long)]
    in_place: bool,
    /// Upload results to this storage connector (id or name; see `compressor connectors`)
    /// instead of writing local files. The originals are not touched.
    #[arg(long, value_name = "CONNECTOR")]
    store: Option<String>,
    /// The API's `store` options as JSON (bucket, region, path, acl, class, metadata,
    /// headers, tags), or @FILE.
    #[arg(long, value_name = "JSON|@FILE", requires = "store")]
    store_options: Option<String>,
    /// Compress on a Compressor API server (`compressor serve`, or the hosted API) instead of
    /// here; its key comes from the keychain (`compressor remote add URL --key-stdin`).
    #[arg(long, value_name = "URL")]
    remote: Option<String>,
    /// Give outputs the original's modification time.
    #[arg(long)]
    keep_dates: bool,
    /// Compress again files Compressor itself wrote (recognised by their SHA-256), which
    /// are otherwise kept as they are: a second lossy pass only loses quality.
    #[arg(long)]
    recompress: bool,
    /// Print one JSON report per file (JSON Lines) instead of text.
    #[arg(long)]
    pub json: bool,
}

impl JobArgs {
    /// The job these arguments describe; invalid options are reported field by field. With
    /// `--store`, the connector is opened (its secret read from the keychain) here.
    pub fn job(&self, jobs: usize, single_file: bool) -> anyhow::Result<Job> {
        let store = match &self.store {
            Some(connector) => Some(std::sync::Arc::new(crate::connectors::open_sink(
                connector,
                self.store_options.as_deref(),
                single_file,
            )?)),
            None => None,
        };
        let remote = match &self.remote {
            Some(server) => {
                let key = compressor_storage::Keychain.api_key(server)?;
                let client: std::sync::Arc<dyn compressor_pipeline::RemoteCompressor> =
                    std::sync::Arc::new(compressor_api::client::Client::new(server, &key)?);
                Some(client)
            }
            None => None,
        };
        Ok(Job {
            options: options_from(self)?,
            policy: policy_from(self),
            keep_dates: self.keep_dates,
            jobs,
            store,
            remote,
            produced: if self.recompress {
                None
            } else {
                compressor_pipeline::produced::ProducedIndex::beside_settings().ok().map(std::sync::Arc::new)
            },
        })
    }
}

#[derive(Args)]
pub struct CompressArgs {
    /// Files and folders to compress.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    job: JobArgs,
    #[command(flatten)]
    limits: crate::limits::LimitArgs,
    /// Files compressed at once [default: one per core].
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
}

fn options_from(args: &JobArgs) -> anyhow::Result<Options> {
    options_of(args.preset.as_deref(), args.options.as_deref())
}

/// The options `--preset NAME` or `--options JSON|@FILE` give (`compress`, `watch`, `sync`).
pub fn options_of(preset: Option<&str>, options: Option<&str>) -> anyhow::Result<Options> {
    if let Some(name) = preset {
        return crate::presets::options_of(name);
    }
    let Some(text) = options else {
        return Ok(Options::default());
    };
    let json = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read options file {path}"))?,
        None => text.to_string(),
    };
    Options::from_json(&json).map_err(|invalid| {
        anyhow::anyhow!("invalid options:\n{}", compressor_pipeline::store::describe_fields(&invalid.errors))
    })
}

fn policy_from(args: &JobArgs) -> OutputPolicy {
    if args.store.is_some() {
        return OutputPolicy::Store;
    }
    match (&args.out, &args.suffix, args.in_place) {
        (Some(dir), _, _) => OutputPolicy::Folder(dir.clone()),
        (_, _, true) => OutputPolicy::InPlace,
        (_, Some(suffix), _) => OutputPolicy::Suffix(suffix.clone()),
        _ => OutputPolicy::default(),
    }
}

/// Totals for the closing summary line.
#[derive(Default)]
struct Tally {
    compressed: usize,
    skipped: usize,
    failed: usize,
    bytes_in: u64,
    bytes_out: u64,
}

pub fn run(args: CompressArgs) -> ExitCode {
    let single_file = args.paths.len() == 1 && args.paths[0].is_file();
    let job = match args.job.job(args.jobs, single_file) {
        Ok(job) => job,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            return ExitCode::from(2);
        }
    };
    let json = args.job.json;
    for recovery in recover_destinations(&args.paths, &job.policy) {
        match recovery {
            Recovery::FinishedReplacement(path) => {
                eprintln!("compressor: finished an interrupted replacement: {}", path.display())
            }
            Recovery::RemovedTemporary(path) => {
                eprintln!("compressor: removed an interrupted run's temporary file {}", path.display())
            }
        }
    }
    let (sources, discovery_errors) = discover(&args.paths);
    let tally = Mutex::new(Tally::default());
    for err in &discovery_errors {
        report_error(&FileError { path: err.path.clone(), message: err.message.clone() }, json, None);
        tally.lock().map(|mut t| t.failed += 1).ok();
    }

    let progress = (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(sources.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} files  {elapsed_precise}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let engine = Engine::new(args.limits.limits());
    // Ctrl-C stops the batch: a video being made stops within a second and leaves no
    // temporary file; a second Ctrl-C ends the program at once.
    static CANCEL: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if CANCEL.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let cancel = &CANCEL;
    let show_progress = |source: &compressor_pipeline::Source, done: f64| {
        if let Some(bar) = &progress {
            let name = source.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            bar.set_message(format!("{name} {:.0} %", done * 100.0));
        }
    };
    let result = run_batch(&engine, &sources, &job, cancel, show_progress, |result| {
        let Ok(mut tally) = tally.lock() else { return };
        match &result {
            Ok(outcome) => {
                tally.bytes_in += outcome.report.input.size;
                tally.bytes_out += outcome.report.output.size;
                match outcome.report.status {
                    Status::Compressed => tally.compressed += 1,
                    Status::Skipped => tally.skipped += 1,
                }
                report_outcome(outcome, json, progress.as_ref());
            }
            Err(err) => {
                tally.failed += 1;
                report_error(err, json, progress.as_ref());
            }
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Err(err) = result {
        eprintln!("compressor: {err}");
        return ExitCode::from(2);
    }
    let tally = tally.into_inner().unwrap_or_default();
    if cancel.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!("compressor: cancelled; files not finished were left as they were");
        return ExitCode::from(130);
    }
    if !json {
        eprintln!(
            "{} files: {} compressed, {} skipped, {} failed; {} → {} ({})",
            tally.compressed + tally.skipped + tally.failed,
            tally.compressed,
            tally.skipped,
            tally.failed,
            human_size(tally.bytes_in),
            human_size(tally.bytes_out),
            percent_saved(tally.bytes_in, tally.bytes_out),
        );
    }
    if tally.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_line(line: &str, progress: Option<&ProgressBar>) {
    match progress {
        Some(bar) => bar.println(line),
        None => println!("{line}"),
    }
}

pub fn report_outcome(outcome: &FileOutcome, json: bool, progress: Option<&ProgressBar>) {
    if json {
        let line = serde_json::json!({
            "path": outcome.path,
            "status": outcome.report.status,
            "destination": outcome.destination,
            "url": outcome.url,
            "report": outcome.report,
        });
        print_line(&line.to_string(), progress);
        return;
    }
    let report = &outcome.report;
    let place = match (&outcome.url, &outcome.destination) {
        (Some(url), _) => url.clone(),
        (None, Some(destination)) => destination.display().to_string(),
        (None, None) => String::new(),
    };
    let line = match report.status {
        Status::Compressed => format!(
            "{}  {} → {}  ({})  → {}",
            outcome.path.display(),
            human_size(report.input.size),
            human_size(report.output.size),
            percent_saved(report.input.size, report.output.size),
            place,
        ),
        Status::Skipped if outcome.url.is_some() => format!(
            "{}  skipped: {}; uploaded as is → {place}",
            outcome.path.display(),
            report.reason.as_deref().unwrap_or("nothing to gain")
        ),
        Status::Skipped => {
            format!("{}  skipped: {}", outcome.path.display(), report.reason.as_deref().unwrap_or("nothing to gain"))
        }
    };
    print_line(&line, progress);
    if let Some(damage) = &report.damage {
        print_line(&format!("    warning: the input is damaged, this is what could be read of it: {damage}"), progress);
    }
}

pub fn report_error(err: &FileError, json: bool, progress: Option<&ProgressBar>) {
    if json {
        let line = serde_json::json!({ "path": err.path, "status": "failed", "error": err.message });
        print_line(&line.to_string(), progress);
    } else {
        let line = format!("compressor: {err}");
        match progress {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn percent_saved(before: u64, after: u64) -> String {
    if before == 0 {
        return "0%".into();
    }
    let saved = (before as f64 - after as f64) * 100.0 / before as f64;
    format!("{:+.1}%", -saved)
}
