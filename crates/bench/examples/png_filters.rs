//! The experiment behind the lossless PNG settings: bytes and time of oxipng option sets
//! against `-o2` and `-o max` (oxipng's own presets, `--strip safe`) and against the engine's
//! lossless PNG path, in this process, so without any process start-up.
//!
//! On the 4 fetched PNGs (best of 3, 2 cores): `-o2` 1,212,801 bytes in 443 ms; `-o max`
//! 1,207,353 bytes (the goal) in 5.8 × the time. `-o2`'s filters with libdeflate level 12:
//! 1.0023 × max's bytes at 1.38 × the time. Fast evaluation over more filters picks worse
//! filters: all nine cheap ones 1.0065 × at 1.75 ×; with Brute added 1.0035 × at 3.8 ×. The
//! engine (oxipng `-o2` plus decoding the input and reporting) is 1.05 × `-o2`'s time, so
//! the CLI's per-file gap to oxipng is its process start-up (the FFmpeg libraries).
//!
//! `cargo run --release --example png_filters -p compressor-bench -- ROUNDS PNG...`
use std::time::{Duration, Instant};

use oxipng::{Deflater, FilterStrategy, Options, StripChunks};

fn preset(level: u8) -> Options {
    let mut options = Options::from_preset(level);
    options.strip = StripChunks::Safe;
    options
}

fn with(level: u8, filters: &[FilterStrategy], fast: bool, deflate: u8) -> Options {
    let mut options = preset(level);
    options.filters = filters.iter().cloned().collect();
    options.fast_evaluation = fast;
    options.deflater = Deflater::Libdeflater { compression: deflate };
    options
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let files: Vec<(String, Vec<u8>)> =
        args.map(|path| (path.clone(), std::fs::read(&path).expect("readable PNG"))).collect();
    use FilterStrategy as F;
    let o2 = [F::NONE, F::SUB, F::Entropy, F::Bigrams];
    let all = [
        F::NONE,
        F::SUB,
        F::UP,
        F::AVERAGE,
        F::PAETH,
        F::MinSum,
        F::Entropy,
        F::Bigrams,
        F::BigEnt,
        F::Brute { num_lines: 8, level: 5 },
    ];
    let cheap = [F::NONE, F::SUB, F::UP, F::AVERAGE, F::PAETH, F::MinSum, F::Entropy, F::Bigrams, F::BigEnt];
    let configs: Vec<(&str, Options)> = vec![
        ("-o2", preset(2)),
        ("-o max", preset(6)),
        ("o2 filters, zc12", with(2, &o2, true, 12)),
        ("all filters fast, zc12", with(2, &all, true, 12)),
        ("cheap filters fast, zc12", with(2, &cheap, true, 12)),
        ("cheap filters fast, zc11", with(2, &cheap, true, 11)),
        (
            "o2+brute fast, zc12",
            with(2, &[F::NONE, F::SUB, F::Entropy, F::Bigrams, F::Brute { num_lines: 8, level: 5 }], true, 12),
        ),
    ];
    let mut results: Vec<(&str, usize, Duration)> = configs
        .iter()
        .map(|(name, options)| {
            let (bytes, time) =
                measure(&files, rounds, |png| oxipng::optimize_from_memory(png, options).map(|o| o.len()));
            (*name, bytes, time)
        })
        .collect();
    let engine = compressor_engine::Engine::new(compressor_engine::Limits::default());
    let lossless = compressor_engine::options::Options::from_json(r#"{"image": {"lossless": true}}"#).expect("valid");
    let (bytes, time) =
        measure(&files, rounds, |png| engine.compress(png, "in.png", &lossless).map(|c| c.report.output.size as usize));
    results.push(("the engine's lossless PNG", bytes, time));
    let (max_bytes, o2_time) = (results[1].1 as f64, results[0].2.as_secs_f64());
    println!("| options | total bytes | vs -o max | time (ms) | vs -o2 |");
    println!("|---|---:|---:|---:|---:|");
    for (name, bytes, time) in results {
        let time = time.as_secs_f64();
        println!("| {name} | {bytes} | {:.4} | {:.0} | {:.2} |", bytes as f64 / max_bytes, time * 1e3, time / o2_time);
    }
}

/// Total output bytes and the sum of each file's best time over `rounds` runs of `optimize`.
fn measure<E: std::fmt::Display>(
    files: &[(String, Vec<u8>)],
    rounds: usize,
    optimize: impl Fn(&[u8]) -> Result<usize, E>,
) -> (usize, Duration) {
    let (mut bytes, mut time) = (0, Duration::ZERO);
    for (path, png) in files {
        let mut best = Duration::MAX;
        let mut size = 0;
        for _ in 0..rounds.max(1) {
            let start = Instant::now();
            size = optimize(png).unwrap_or_else(|e| panic!("{path}: {e}"));
            best = best.min(start.elapsed());
        }
        bytes += size;
        time += best;
    }
    (bytes, time)
}
