//! `compressor watch`: compresses each finished file that lands in a folder, until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use compressor_engine::Engine;
use compressor_pipeline::settings::{default_path, Settings};
use compressor_pipeline::watch::{FolderWatcher, WatchEvent, WatchRule};
use compressor_pipeline::watching::{default_index, rule_from_setting};

use crate::compress::{report_error, report_outcome, JobArgs};

#[derive(Args)]
pub struct WatchArgs {
    /// The folder to watch (or --rules).
    #[arg(required_unless_present = "rules")]
    folder: Option<PathBuf>,
    /// Watch every (unpaused) rule kept in the settings file shared with the desktop app.
    #[arg(long, conflicts_with_all = ["folder", "preset", "options", "out", "suffix", "in_place"])]
    rules: bool,
    #[command(flatten)]
    job: JobArgs,
    #[command(flatten)]
    limits: crate::limits::LimitArgs,
    /// Files compressed at once when several finish together [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
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

/// The rules to watch: the one on the command line, or those in the settings.
fn rules_from(args: WatchArgs) -> anyhow::Result<Vec<WatchRule>> {
    let settle = Duration::from_millis(args.settle_ms);
    let finish = |mut rule: WatchRule, index: Option<PathBuf>| {
        rule.recursive &= !args.no_recursive;
        rule.poll = args.poll;
        rule.stable_for = settle;
        if let Some(index) = index {
            rule.index_path = index;
        }
        rule
    };
    if !args.rules {
        let folder = args.folder.clone().unwrap_or_default();
        let folder = std::fs::canonicalize(&folder).with_context(|| format!("cannot watch {}", folder.display()))?;
        let mut rule =
            WatchRule::new(folder.clone(), args.job.job(args.jobs.unwrap_or(0), false)?, default_index(&folder));
        rule.max_depth = args.depth;
        rule.include = args.include.clone();
        rule.exclude = args.exclude.clone();
        return Ok(vec![finish(rule, args.index.clone())]);
    }
    let path = default_path().map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&path)?;
    let mut rules = Vec::new();
    for setting in settings.watch_rules.iter().filter(|r| !r.paused) {
        let mut rule = rule_from_setting(&settings, setting).map_err(|e| anyhow::anyhow!("{}: {e}", setting.folder))?;
        if let Some(jobs) = args.jobs {
            rule.job.jobs = jobs;
        }
        rules.push(finish(rule, None));
    }
    if rules.is_empty() {
        anyhow::bail!("no watch rules in {} (add `watch_rules` there, or from the app)", path.display());
    }
    Ok(rules)
}

pub fn run(args: WatchArgs) -> ExitCode {
    let json = args.job.json;
    let limits = args.limits.limits();
    let rules = match rules_from(args) {
        Ok(rules) => rules,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            return ExitCode::from(2);
        }
    };
    let (stop_sender, stop) = mpsc::channel();
    if let Err(err) = ctrlc::set_handler(move || {
        let _ = stop_sender.send(());
    }) {
        eprintln!("compressor: cannot handle Ctrl-C: {err}");
        return ExitCode::from(2);
    }
    let mut watchers = Vec::new();
    for rule in rules {
        let folder = rule.folder.clone();
        let watcher = FolderWatcher::start(Engine::new(limits.clone()), rule, move |event| match event {
            WatchEvent::Compressed { outcome } => report_outcome(&outcome, json, None),
            WatchEvent::Failed { error } => report_error(&error, json, None),
            WatchEvent::Notice { message } => eprintln!("compressor: {message}"),
        });
        match watcher {
            Ok(watcher) => watchers.push(watcher),
            Err(err) => {
                eprintln!("compressor: {err}");
                return ExitCode::from(2);
            }
        }
        eprintln!("compressor: watching {} (Ctrl-C to stop)", folder.display());
    }
    let _ = stop.recv();
    for watcher in watchers {
        watcher.stop();
    }
    eprintln!("compressor: stopped");
    ExitCode::SUCCESS
}
