//! `compressor sync`: compress the objects of a bucket prefix and upload the results, once
//! or on a schedule. Only new or changed objects (by ETag) are touched.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use clap::{ArgGroup, Args};
use compressor_engine::Engine;
use compressor_pipeline::settings::{default_path, Settings};
use compressor_pipeline::sync::{run_sync, SyncDestination, SyncOutcome, SyncSpec, SyncStatus};
use compressor_storage::{Keychain, StoreOptions};

use crate::compress::{human_size, percent_saved};

#[derive(Args)]
#[command(group(ArgGroup::new("settings").args(["preset", "options"])))]
#[command(group(ArgGroup::new("destination").args(["suffix", "to_prefix", "to"])))]
pub struct SyncArgs {
    #[command(flatten)]
    limits: crate::limits::LimitArgs,
    /// The source connector (id or name).
    #[arg(long)]
    from: String,
    /// The source bucket [default: the connector's].
    #[arg(long)]
    bucket: Option<String>,
    #[arg(long)]
    region: Option<String>,
    /// Only objects under this prefix.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Only these objects (repeat to select several); resyncs them even when unchanged.
    #[arg(long = "key", value_name = "KEY")]
    keys: Vec<String>,
    /// Results beside each object, with this suffix before the extension [default: -min].
    #[arg(long, allow_hyphen_values = true)]
    suffix: Option<String>,
    /// Results under this prefix, in the same bucket.
    #[arg(long, value_name = "PREFIX")]
    to_prefix: Option<String>,
    /// Results to another connector (id or name); `--to-options` gives its bucket and path (prefix).
    #[arg(long, value_name = "CONNECTOR")]
    to: Option<String>,
    /// The destination's `store` options as JSON (bucket, region, path, acl, class, metadata,
    /// headers, tags). Results get the bucket's default access unless `acl` is given.
    #[arg(long, value_name = "JSON|@FILE")]
    to_options: Option<String>,
    /// A preset (see `compressor presets`).
    #[arg(long)]
    preset: Option<String>,
    /// Options as API-shaped JSON, or @FILE to read them from a file.
    #[arg(long)]
    options: Option<String>,
    /// Compress objects again even when they have not changed.
    #[arg(long)]
    force: bool,
    /// Run again after this long, until Ctrl-C (`24h`, `30m`, `90s`; `--every` alone: 24h).
    #[arg(long, value_parser = parse_interval, value_name = "INTERVAL", num_args = 0..=1, default_missing_value = "24h")]
    every: Option<Duration>,
    /// Skip objects bigger than this many megabytes.
    #[arg(long, default_value_t = 512)]
    max_size_mb: u64,
    /// Print one JSON line per object.
    #[arg(long)]
    json: bool,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not an interval like 24h, 30m or 90s"))?;
    let unit_seconds = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    let seconds = number.saturating_mul(unit_seconds);
    if seconds == 0 || seconds > 366 * 86_400 {
        return Err("the interval is more than zero and at most a year".into());
    }
    Ok(Duration::from_secs(seconds))
}

fn spec(args: &SyncArgs) -> anyhow::Result<SyncSpec> {
    let options = crate::compress::options_of(args.preset.as_deref(), args.options.as_deref())?;
    let destination = match (&args.suffix, &args.to_prefix, &args.to) {
        (_, Some(prefix), _) => {
            SyncDestination::Store(StoreOptions { path: Some(prefix.clone()), ..Default::default() })
        }
        (_, _, Some(connector)) => {
            let options = crate::connectors::store_options(args.to_options.as_deref())?;
            SyncDestination::Store(StoreOptions { id: Some(connector.clone()), ..options })
        }
        (Some(suffix), _, _) => SyncDestination::Suffix(suffix.clone()),
        (None, None, None) => SyncDestination::Suffix("-min".into()),
    };
    Ok(SyncSpec {
        source: args.from.clone(),
        source_options: StoreOptions { bucket: args.bucket.clone(), region: args.region.clone(), ..Default::default() },
        prefix: args.prefix.clone(),
        force: args.force || !args.keys.is_empty(),
        keys: args.keys.clone(),
        destination,
        options,
        max_object_size: args.max_size_mb.saturating_mul(1024 * 1024),
    })
}

fn print(outcome: &SyncOutcome, json: bool) {
    if json {
        println!("{}", serde_json::to_string(outcome).unwrap_or_default());
        return;
    }
    let line = match outcome.status {
        SyncStatus::Compressed => format!(
            "{}  {} → {}  ({})  → {}",
            outcome.key,
            human_size(outcome.size_before),
            human_size(outcome.size_after.unwrap_or(0)),
            percent_saved(outcome.size_before, outcome.size_after.unwrap_or(0)),
            outcome.url.as_deref().unwrap_or_default()
        ),
        SyncStatus::Skipped => format!(
            "{}  skipped: {}{}",
            outcome.key,
            outcome.message.as_deref().unwrap_or("nothing to gain"),
            outcome.url.as_deref().map(|u| format!("; copied as is → {u}")).unwrap_or_default()
        ),
        SyncStatus::Unchanged => format!("{}  unchanged since the last sync", outcome.key),
        SyncStatus::Failed => {
            eprintln!("compressor: {}: {}", outcome.key, outcome.message.as_deref().unwrap_or("failed"));
            return;
        }
    };
    println!("{line}");
}

pub fn run(args: SyncArgs) -> ExitCode {
    let spec = match spec(&args) {
        Ok(spec) => spec,
        Err(err) => {
            eprintln!("compressor: {err:#}");
            return ExitCode::from(2);
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = cancel.clone();
    let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    let engine = Engine::new(args.limits.limits());
    loop {
        let result = default_path().map_err(|e| anyhow!(e)).and_then(|path| {
            let settings = Settings::load(&path)?;
            let state_dir = path.parent().map(|p| p.join("sync")).unwrap_or_default();
            Ok(run_sync(&engine, &settings, &spec, &Keychain, &state_dir, &cancel, |o| print(o, args.json))?)
        });
        let failed = match result {
            Ok(outcomes) => {
                let count = |status| outcomes.iter().filter(|o| o.status == status).count();
                let (compressed, skipped, unchanged, failed) = (
                    count(SyncStatus::Compressed),
                    count(SyncStatus::Skipped),
                    count(SyncStatus::Unchanged),
                    count(SyncStatus::Failed),
                );
                if !args.json {
                    eprintln!(
                        "{} objects: {compressed} compressed, {skipped} skipped, {unchanged} unchanged, {failed} failed",
                        outcomes.len()
                    );
                }
                failed > 0
            }
            Err(err) => {
                eprintln!("compressor: {err:#}");
                if args.every.is_none() {
                    return ExitCode::FAILURE;
                }
                true
            }
        };
        let Some(interval) = args.every else {
            return if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        };
        // Sleep in small steps so that Ctrl-C ends the wait at once.
        let deadline = std::time::Instant::now() + interval;
        while std::time::Instant::now() < deadline {
            if cancel.load(Ordering::SeqCst) {
                return ExitCode::SUCCESS;
            }
            std::thread::sleep(Duration::from_millis(200).min(deadline - std::time::Instant::now()));
        }
    }
}
