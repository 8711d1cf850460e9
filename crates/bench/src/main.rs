//! `compressor-bench`: runs our CLI and peer tools on the same real images and prints, per
//! file and tool, the output bytes, wall time, peak memory and SSIMULACRA2 against the original;
//! then per tool the totals and the median bytes ratio against ours; Caesium's bytes at *our*
//! score (equal quality); the batch throughput; and a bytes-vs-score plot (PNG).
//! A benchmark, not a test: it asserts nothing. `scripts/bench.sh` installs the peers and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

mod plot;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Jpeg,
    Png,
}

/// A tool invocation: the program and its arguments, with `{in}` and `{out}` (a fresh
/// folder) substituted. The output is the one file the tool leaves in `{out}`.
struct Tool<'a> {
    name: &'a str,
    kind: Kind,
    program: String,
    args: &'a [&'a str],
}

fn tools(compressor: &str, tool_dir: &Path) -> Vec<Tool<'static>> {
    let peer = |name: &str| {
        let local = tool_dir.join("bin").join(name);
        if local.exists() {
            local.display().to_string()
        } else {
            name.to_string()
        }
    };
    let ours = compressor.to_string();
    vec![
        Tool {
            name: "compressor",
            kind: Kind::Jpeg,
            program: ours.clone(),
            args: &["compress", "{in}", "--out", "{out}"],
        },
        Tool {
            name: "compressor q75",
            kind: Kind::Jpeg,
            program: ours.clone(),
            args: &["compress", "{in}", "--out", "{out}", "--options", r#"{"image": {"quality": 75}}"#],
        },
        Tool {
            name: "compressor lossless",
            kind: Kind::Jpeg,
            program: ours.clone(),
            args: &["compress", "{in}", "--out", "{out}", "--preset", "lossless"],
        },
        Tool {
            name: "caesiumclt q75",
            kind: Kind::Jpeg,
            program: peer("caesiumclt"),
            args: &["-q", "75", "-o", "{out}", "{in}"],
        },
        Tool {
            name: "jpegoptim m75",
            kind: Kind::Jpeg,
            program: "jpegoptim".into(),
            args: &["-m75", "--strip-all", "--all-progressive", "-d", "{out}", "{in}"],
        },
        // Photos to WebP, as Squoosh and sharp users do: ours against libwebp's own CLI.
        Tool {
            name: "compressor webp",
            kind: Kind::Jpeg,
            program: ours.clone(),
            args: &["compress", "{in}", "--out", "{out}", "--options", r#"{"image": {"format": "webp"}}"#],
        },
        Tool {
            name: "cwebp q75",
            kind: Kind::Jpeg,
            program: "cwebp".into(),
            args: &["-q", "75", "-m", "6", "-metadata", "none", "-quiet", "-o", "{out}/out.webp", "{in}"],
        },
        // libvips (what sharp is built on), with Debian's libjpeg-turbo.
        Tool {
            name: "vips Q75",
            kind: Kind::Jpeg,
            program: "vips".into(),
            args: &["jpegsave", "{in}", "{out}/out.jpg", "--Q", "75", "--strip", "--optimize-coding", "--interlace"],
        },
        Tool {
            name: "jpegoptim lossless",
            kind: Kind::Jpeg,
            program: "jpegoptim".into(),
            args: &["--strip-all", "--all-progressive", "-d", "{out}", "{in}"],
        },
        Tool {
            name: "compressor",
            kind: Kind::Png,
            program: ours.clone(),
            args: &["compress", "{in}", "--out", "{out}"],
        },
        Tool {
            name: "compressor lossless",
            kind: Kind::Png,
            program: ours,
            args: &["compress", "{in}", "--out", "{out}", "--preset", "lossless"],
        },
        Tool {
            name: "caesiumclt q75",
            kind: Kind::Png,
            program: peer("caesiumclt"),
            args: &["-q", "75", "-o", "{out}", "{in}"],
        },
        Tool {
            name: "caesiumclt lossless",
            kind: Kind::Png,
            program: peer("caesiumclt"),
            args: &["--lossless", "-o", "{out}", "{in}"],
        },
        Tool {
            name: "pngquant 60-85",
            kind: Kind::Png,
            program: "pngquant".into(),
            args: &["--quality", "60-85", "--strip", "--output", "{out}/out.png", "{in}"],
        },
        Tool {
            name: "oxipng -o2",
            kind: Kind::Png,
            program: peer("oxipng"),
            args: &["-o", "2", "--strip", "safe", "--out", "{out}/out.png", "{in}"],
        },
        Tool {
            name: "oxipng -o max",
            kind: Kind::Png,
            program: peer("oxipng"),
            args: &["-o", "max", "--strip", "safe", "--out", "{out}/out.png", "{in}"],
        },
    ]
}

struct Measurement {
    bytes: u64,
    seconds: f64,
    peak_mb: f64,
    score: f64,
}

/// Runs one tool under GNU time (for peak memory) and scores its output.
fn measure(tool: &Tool, input: &Path, original: &image::DynamicImage, scratch: &Path) -> Result<Measurement> {
    let out = scratch.join(tool.name.replace(' ', "_"));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    let time_file = scratch.join("time.txt");
    let args: Vec<String> = tool
        .args
        .iter()
        .map(|a| a.replace("{in}", &input.display().to_string()).replace("{out}", &out.display().to_string()))
        .collect();
    let (status, seconds, peak_mb) = timed(&tool.program, &args, &time_file)?;
    let produced: Vec<PathBuf> = std::fs::read_dir(&out)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let [output] = produced.as_slice() else {
        bail!(
            "{} left {} files (exit {:?}): {}",
            tool.name,
            produced.len(),
            status.status.code(),
            String::from_utf8_lossy(&status.stderr).trim()
        );
    };
    let decoded = image::open(output).with_context(|| format!("decoding {}", output.display()))?;
    Ok(Measurement {
        bytes: std::fs::metadata(output)?.len(),
        seconds,
        peak_mb,
        score: ssimulacra2(original, &decoded)?,
    })
}

/// Runs `program` under GNU time: its output, wall seconds and peak memory (MB).
fn timed(program: &str, args: &[String], time_file: &Path) -> Result<(std::process::Output, f64, f64)> {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(time_file)
        .arg(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_kb: f64 = std::fs::read_to_string(time_file)?.lines().last().unwrap_or("0").trim().parse().unwrap_or(0.0);
    Ok((output, seconds, peak_kb / 1024.0))
}

fn ssimulacra2(original: &image::DynamicImage, candidate: &image::DynamicImage) -> Result<f64> {
    compressor_engine::ssimulacra2(&original.to_rgb8(), &candidate.to_rgb8())
        .context("SSIMULACRA2: the output's size differs from the original's")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One tool's result on one file.
struct Row {
    tool: String,
    kind: Kind,
    file: String,
    original_bytes: u64,
    measurement: Measurement,
}

/// The photos: the test media's five wallpapers plus the bench set (`scripts/bench.sh` fetches
/// it), and the PNGs.
fn inputs(media: &Path) -> Result<Vec<(Kind, PathBuf)>> {
    let mut inputs: Vec<(Kind, PathBuf)> = Vec::new();
    for (folder, kind, required) in
        [("jpeg", Kind::Jpeg, true), ("bench-photos", Kind::Jpeg, false), ("png", Kind::Png, true)]
    {
        let files = match std::fs::read_dir(media.join(folder)) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())),
            Err(_) if !required => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("{}/{folder}: run tests/media/fetch.sh", media.display()))
            }
        };
        let is_image = |p: &PathBuf| p.extension().is_some_and(|e| e == "jpg" || e == "png");
        let mut files: Vec<PathBuf> = files.filter(is_image).collect();
        files.sort();
        for file in files {
            // The bench set repeats none of the test media's photos.
            if !inputs.iter().any(|(_, known)| known.file_name() == file.file_name()) {
                inputs.push((kind, file));
            }
        }
    }
    Ok(inputs)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: compressor-bench MEDIA_DIR COMPRESSOR_BIN [TOOL_DIR [RESULTS_DIR]]";
    let media = PathBuf::from(args.next().context(usage)?);
    let compressor = args.next().context(usage)?;
    let tool_dir = PathBuf::from(args.next().unwrap_or_default());
    let results = PathBuf::from(args.next().unwrap_or_else(|| "bench-results".into()));
    std::fs::create_dir_all(&results)?;
    let scratch = tempfile_dir()?;
    let inputs = inputs(&media)?;
    let tools = tools(&compressor, &tool_dir);
    let mut rows: Vec<Row> = Vec::new();
    let mut caesium_at_our_score: Vec<(String, u64, f64, Option<Matched>)> = Vec::new();

    println!("| file | tool | bytes | % of original | time (s) | peak MB | SSIMULACRA2 |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (kind, input) in &inputs {
        let original = image::open(input)?;
        let original_bytes = std::fs::metadata(input)?.len();
        let name = input.file_name().unwrap_or_default().to_string_lossy().to_string();
        for tool in tools.iter().filter(|t| t.kind == *kind) {
            match measure(tool, input, &original, &scratch) {
                Ok(m) => {
                    println!(
                        "| {name} | {} | {} | {:.1} | {:.2} | {:.0} | {:.2} |",
                        tool.name,
                        m.bytes,
                        m.bytes as f64 * 100.0 / original_bytes as f64,
                        m.seconds,
                        m.peak_mb,
                        m.score
                    );
                    rows.push(Row {
                        tool: tool.name.to_string(),
                        kind: *kind,
                        file: name.clone(),
                        original_bytes,
                        measurement: m,
                    });
                }
                Err(err) => println!("| {name} | {} | failed: {err:#} | | | | |", tool.name),
            }
        }
        if *kind == Kind::Jpeg {
            let ours = rows.iter().find(|r| r.file == name && r.tool == "compressor");
            let caesium = rows.iter().find(|r| r.file == name && r.tool == "caesiumclt q75");
            if let (Some(ours), Some(caesium)) = (ours, caesium) {
                let (bytes, score) = (ours.measurement.bytes, ours.measurement.score);
                let start = (75, caesium.measurement.bytes, caesium.measurement.score);
                let matched = caesium_at_score(&tools, input, &original, &scratch, score, start).ok();
                caesium_at_our_score.push((name.clone(), bytes, score, matched));
            }
        }
    }

    summary(&rows);
    equal_quality(&caesium_at_our_score);
    let of_kind = |kind: Kind| -> Vec<&PathBuf> { inputs.iter().filter(|(k, _)| *k == kind).map(|(_, p)| p).collect() };
    let batches: [(Kind, &[&str]); 2] = [
        (Kind::Jpeg, &["compressor", "compressor q75", "caesiumclt q75"]),
        (Kind::Png, &["compressor lossless", "oxipng -o2", "oxipng -o max"]),
    ];
    for (kind, names) in batches {
        throughput(&tools, kind, names, &of_kind(kind), &scratch)?;
    }
    let plot = results.join("bytes-vs-score.png");
    match plot::bytes_vs_score(&rows, &caesium_at_our_score, &plot) {
        Ok(()) => println!("\nPlot: {}", plot.display()),
        Err(err) => println!("\nPlot not drawn: {err:#}"),
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Per tool: totals, median score, and the median of (tool's bytes / our bytes) per file.
fn summary(rows: &[Row]) {
    println!();
    println!(
        "| kind | tool | total bytes | median bytes vs ours | median SSIMULACRA2 | total time (s) | max peak MB |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut seen: Vec<(String, Kind)> = Vec::new();
    for row in rows {
        if seen.contains(&(row.tool.clone(), row.kind)) {
            continue;
        }
        seen.push((row.tool.clone(), row.kind));
        let mine: Vec<&Row> = rows.iter().filter(|r| r.tool == row.tool && r.kind == row.kind).collect();
        let mut ratios: Vec<f64> = mine
            .iter()
            .filter_map(|r| {
                let ours = rows.iter().find(|o| o.tool == "compressor" && o.kind == r.kind && o.file == r.file)?;
                Some(r.measurement.bytes as f64 / ours.measurement.bytes as f64)
            })
            .collect();
        let mut scores: Vec<f64> = mine.iter().map(|r| r.measurement.score).collect();
        println!(
            "| {:?} | {} | {} | {:.3} | {:.2} | {:.2} | {:.0} |",
            row.kind,
            row.tool,
            mine.iter().map(|r| r.measurement.bytes).sum::<u64>(),
            median(&mut ratios),
            median(&mut scores),
            mine.iter().map(|r| r.measurement.seconds).sum::<f64>(),
            mine.iter().map(|r| r.measurement.peak_mb).fold(0.0, f64::max),
        );
    }
}

/// Caesium's output at our score, per photo: our bytes over Caesium's at equal quality.
fn equal_quality(matched: &[(String, u64, f64, Option<Matched>)]) {
    println!();
    println!("Equal quality: Caesium's bytes at our SSIMULACRA2 (interpolated between two real Caesium runs that bracket it)");
    println!();
    println!(
        "| photo | our bytes | our SSIMULACRA2 | Caesium bytes at that score | Caesium qualities | ours / Caesium |"
    );
    println!("|---|---:|---:|---:|---|---:|");
    let mut ratios = Vec::new();
    for (file, bytes, score, found) in matched {
        match found {
            Some(m) => {
                let ratio = *bytes as f64 / m.bytes;
                ratios.push(ratio);
                println!(
                    "| {file} | {bytes} | {score:.2} | {:.0} | q{}–q{} | {ratio:.3} |",
                    m.bytes, m.qualities.0, m.qualities.1
                );
            }
            None => println!("| {file} | {bytes} | {score:.2} | not bracketed | | |"),
        }
    }
    println!("\nMedian ours / Caesium at equal SSIMULACRA2: {:.3} over {} photos", median(&mut ratios), ratios.len());
}

/// Caesium's bytes at one score.
struct Matched {
    bytes: f64,
    qualities: (u8, u8),
    runs: Vec<Run>,
}

/// One Caesium run: (quality, bytes, SSIMULACRA2).
type Run = (u8, u64, f64);

/// Runs caesiumclt at a few qualities around `score` (secant steps from its q75 run) until
/// two runs bracket it, then interpolates log-bytes linearly in score between them.
fn caesium_at_score(
    tools: &[Tool],
    input: &Path,
    original: &image::DynamicImage,
    scratch: &Path,
    score: f64,
    start: Run,
) -> Result<Matched> {
    let caesium = tools.iter().find(|t| t.name == "caesiumclt q75").context("no caesiumclt")?;
    let mut runs = vec![start];
    for _ in 0..4 {
        let next = match bracket(&runs, score) {
            Some((low, high)) if high.0.abs_diff(low.0) <= 3 => break,
            Some((low, high)) => {
                let q = f64::from(low.0) + (score - low.2) * (f64::from(high.0) - f64::from(low.0)) / (high.2 - low.2);
                (q.round() as u8).clamp(low.0.min(high.0) + 1, low.0.max(high.0) - 1)
            }
            None => {
                let last = runs[runs.len() - 1];
                (f64::from(last.0) + (score - last.2) / 0.45).round().clamp(1.0, 100.0) as u8
            }
        };
        if runs.iter().any(|r| r.0 == next) {
            break;
        }
        let quality = next.to_string();
        let args = ["-q", quality.as_str(), "-o", "{out}", "{in}"];
        let tool = Tool { name: "caesiumclt match", kind: Kind::Jpeg, program: caesium.program.clone(), args: &args };
        let m = measure(&tool, input, original, scratch)?;
        runs.push((next, m.bytes, m.score));
    }
    let Some((low, high)) = bracket(&runs, score) else { bail!("Caesium's runs did not bracket {score:.2}") };
    let t = (score - low.2) / (high.2 - low.2);
    let bytes = ((low.1 as f64).ln() + t * ((high.1 as f64).ln() - (low.1 as f64).ln())).exp();
    Ok(Matched { bytes, qualities: (low.0.min(high.0), low.0.max(high.0)), runs })
}

/// The runs closest below and at-or-above `score`, when both exist.
fn bracket(runs: &[Run], score: f64) -> Option<(Run, Run)> {
    let below = runs.iter().filter(|r| r.2 < score).max_by(|a, b| a.2.total_cmp(&b.2))?;
    let above = runs.iter().filter(|r| r.2 >= score).min_by(|a, b| a.2.total_cmp(&b.2))?;
    Some((*below, *above))
}

/// All files of a kind in one invocation per tool: what a user dropping a folder waits for
/// (the per-file table above also counts each process's start).
fn throughput(tools: &[Tool], kind: Kind, names: &[&str], files: &[&PathBuf], scratch: &Path) -> Result<()> {
    println!();
    println!(
        "Batch: all {} {kind:?} files in one run per tool, on {} cores",
        files.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| tool | total bytes | wall time (s) | files/s | peak MB |");
    println!("|---|---:|---:|---:|---:|");
    for &name in names {
        let Some(tool) = tools.iter().find(|t| t.name == name && t.kind == kind) else { continue };
        let out = scratch.join("batch");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out)?;
        let time_file = scratch.join("batch-time.txt");
        let (status, seconds, peak_mb) = timed(&tool.program, &batch_args(tool.args, files, &out), &time_file)?;
        let written: Vec<u64> =
            std::fs::read_dir(&out)?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).collect();
        if !status.status.success() || written.len() != files.len() {
            println!("| {name} | failed: {} outputs, exit {:?} | | | |", written.len(), status.status.code());
            continue;
        }
        let bytes: u64 = written.iter().sum();
        println!("| {name} | {bytes} | {seconds:.2} | {:.2} | {peak_mb:.0} |", files.len() as f64 / seconds);
    }
    Ok(())
}

/// One invocation's arguments for many inputs: `{in}` becomes all of them, and a tool's
/// single output file (oxipng's `--out {out}/out.png`) becomes its output folder (`--dir`).
fn batch_args(args: &[&str], files: &[&PathBuf], out: &Path) -> Vec<String> {
    let mut batch: Vec<String> = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        match *arg {
            "{in}" => batch.extend(files.iter().map(|p| p.display().to_string())),
            "--out" if args.get(i + 1) == Some(&"{out}/out.png") => batch.push("--dir".into()),
            other => batch.push(other.replace("{out}/out.png", "{out}").replace("{out}", &out.display().to_string())),
        }
    }
    batch
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("compressor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
