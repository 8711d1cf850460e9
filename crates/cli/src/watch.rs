//! `compressor watch`: compresses each finished file that lands in a folder, until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;
use compressor_engine::Engine;
use compressor_pipeline::watch::{FolderWatcher, WatchEvent, WatchRule};

use crate::compress::{report_error, report_outcome, JobArgs};

#[derive(Args)]
pub struct WatchArgs {
    /// The folder to watch.
    folder: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    /// Only the folder itself, not its sub-folders.
    #[arg(long)]
    no_recursive: bool,
    /// Sub-folder levels to watch below DIR.
    #[arg(long, default_value_t = 8)]
    depth: usize,
    /// Only files whose path below DIR matches this glob (repeatable), e.g. '*.jpg'.
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Never files whose path below DIR matches this glob (repeatable), e.g. 'raw/**'.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Poll the folder instead of using inotify (for network and FUSE file systems).
    #[arg(long)]
    poll: bool,
    /// Milliseconds a file's size and time must stay unchanged before it counts as finished.
    #[arg(long, default_value_t = 500)]
    settle_ms: u64,
    /// Where the record of processed files is kept [default: in the user's state folder].
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
}

/// One index per watched folder, named after its absolute path, in `$XDG_STATE_HOME`.
fn default_index(folder: &std::path::Path) -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    let key = compressor_engine::report::sha256_hex(folder.display().to_string().as_bytes());
    state.join("compressor/watch").join(format!("{}.json", &key[..16]))
}

pub fn run(args: WatchArgs) -> ExitCode {
    let job = match args.job.job(1) {
        Ok(job) => job,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            return ExitCode::from(2);
        }
    };
    let folder = match std::fs::canonicalize(&args.folder) {
        Ok(folder) => folder,
        Err(err) => {
            eprintln!("compressor: cannot watch {}: {err}", args.folder.display());
            return ExitCode::from(2);
        }
    };
    let mut rule = WatchRule::new(folder.clone(), job, args.index.unwrap_or_else(|| default_index(&folder)));
    rule.recursive = !args.no_recursive;
    rule.max_depth = args.depth;
    rule.include = args.include;
    rule.exclude = args.exclude;
    rule.poll = args.poll;
    rule.stable_for = Duration::from_millis(args.settle_ms);

    let (stop_sender, stop) = mpsc::channel();
    if let Err(err) = ctrlc::set_handler(move || {
        let _ = stop_sender.send(());
    }) {
        eprintln!("compressor: cannot handle Ctrl-C: {err}");
        return ExitCode::from(2);
    }
    let json = args.job.json;
    let watcher = FolderWatcher::start(Engine::default(), rule, move |event| match event {
        WatchEvent::Compressed { outcome } => report_outcome(&outcome, json, None),
        WatchEvent::Failed { error } => report_error(&error, json, None),
        WatchEvent::Notice { message } => eprintln!("compressor: {message}"),
    });
    let watcher = match watcher {
        Ok(watcher) => watcher,
        Err(err) => {
            eprintln!("compressor: {err}");
            return ExitCode::from(2);
        }
    };
    eprintln!("compressor: watching {} (Ctrl-C to stop)", folder.display());
    let _ = stop.recv();
    watcher.stop();
    eprintln!("compressor: stopped");
    ExitCode::SUCCESS
}
