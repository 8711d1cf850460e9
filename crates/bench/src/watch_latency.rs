//! `watch-latency`: how long a watched folder takes to turn a finished file into an output.
//! Writes a real photo into a watched folder one at a time (each closed, then timed until the
//! watcher reports it), subtracts the time the engine alone needs for that photo, and prints
//! p50/p95; then drops a burst of files at once and reports the throughput. A benchmark: it
//! asserts nothing. Usage: watch-latency PHOTO [COUNT] [BURST]

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use compressor_engine::{Engine, Options};
use compressor_pipeline::watch::{FolderWatcher, WatchEvent, WatchRule};
use compressor_pipeline::{Job, OutputPolicy};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let photo = PathBuf::from(args.next().context("usage: watch-latency PHOTO [COUNT] [BURST]")?);
    let count: usize = args.next().map_or(Ok(40), |a| a.parse())?;
    let burst: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let bytes = std::fs::read(&photo)?;

    // The engine alone, for the same photo (median of 5).
    let mut alone: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let _ = Engine::default().compress(&bytes, "x.jpg", &Options::default());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    alone.sort_by(f64::total_cmp);
    let compress_ms = alone[2];

    let work = std::env::temp_dir().join(format!("watch-latency-{}", std::process::id()));
    let (inbox, out) = (work.join("in"), work.join("out"));
    std::fs::create_dir_all(&inbox)?;
    let job = Job { policy: OutputPolicy::Folder(out), ..Job::default() };
    let (sender, done) = mpsc::channel();
    let watcher = FolderWatcher::start(
        Engine::default(),
        WatchRule::new(inbox.clone(), job, work.join("index.json")),
        move |event| {
            if let WatchEvent::Compressed { .. } | WatchEvent::Failed { .. } = event {
                let _ = sender.send(Instant::now());
            }
        },
    )
    .map_err(anyhow::Error::msg)?;
    std::thread::sleep(Duration::from_millis(500));

    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        std::fs::write(inbox.join(format!("one-{i:03}.jpg")), &bytes)?; // written and closed
        let closed = Instant::now();
        let reported = done.recv_timeout(Duration::from_secs(30))?;
        latencies.push(reported.duration_since(closed).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let overhead: Vec<f64> = latencies.iter().map(|l| l - compress_ms).collect();

    let start = Instant::now();
    for i in 0..burst {
        std::fs::write(inbox.join(format!("burst-{i:04}.jpg")), &bytes)?;
    }
    for _ in 0..burst {
        done.recv_timeout(Duration::from_secs(120))?;
    }
    let burst_seconds = start.elapsed().as_secs_f64();
    watcher.stop();
    let _ = std::fs::remove_dir_all(&work);

    println!("photo: {} ({} bytes); engine alone: {compress_ms:.1} ms", photo.display(), bytes.len());
    println!("| measure | p50 (ms) | p95 (ms) |");
    println!("|---|---:|---:|");
    println!(
        "| close → output reported ({count} files, one at a time) | {:.1} | {:.1} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95)
    );
    println!(
        "| of which watcher overhead (minus engine time) | {:.1} | {:.1} |",
        percentile(&overhead, 0.5),
        percentile(&overhead, 0.95)
    );
    println!();
    println!("burst: {burst} files in {burst_seconds:.1} s = {:.0} files/s", burst as f64 / burst_seconds);
    Ok(())
}
