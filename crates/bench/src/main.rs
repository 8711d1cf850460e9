//! `compressor-bench`: runs our CLI and peer tools on the same real images and prints, per
//! file and tool, the output bytes, wall time, peak memory and SSIMULACRA2 against the original.
//! A benchmark, not a test: it asserts nothing. `scripts/bench.sh` installs the peers and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Jpeg,
    Png,
}

/// A tool invocation: the program and its arguments, with `{in}` and `{out}` (a fresh
/// folder) substituted. The output is the one file the tool leaves in `{out}`.
struct Tool {
    name: &'static str,
    kind: Kind,
    program: String,
    args: &'static [&'static str],
}

fn tools(compressor: &str, tool_dir: &Path) -> Vec<Tool> {
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
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&time_file)
        .arg(&tool.program)
        .args(&args)
        .output()
        .with_context(|| format!("running {}", tool.program))?;
    let seconds = started.elapsed().as_secs_f64();
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
    let peak_kb: f64 = std::fs::read_to_string(&time_file)?.lines().last().unwrap_or("0").trim().parse().unwrap_or(0.0);
    let decoded = image::open(output).with_context(|| format!("decoding {}", output.display()))?;
    Ok(Measurement {
        bytes: std::fs::metadata(output)?.len(),
        seconds,
        peak_mb: peak_kb / 1024.0,
        score: ssimulacra2(original, &decoded)?,
    })
}

fn to_ssim_rgb(image: &image::DynamicImage) -> Result<ssimulacra2::Rgb> {
    let rgb = image.to_rgb8();
    let data: Vec<[f32; 3]> =
        rgb.pixels().map(|p| [f32::from(p[0]) / 255.0, f32::from(p[1]) / 255.0, f32::from(p[2]) / 255.0]).collect();
    ssimulacra2::Rgb::new(
        data,
        rgb.width() as usize,
        rgb.height() as usize,
        ssimulacra2::TransferCharacteristic::SRGB,
        ssimulacra2::ColorPrimaries::BT709,
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))
}

fn ssimulacra2(original: &image::DynamicImage, candidate: &image::DynamicImage) -> Result<f64> {
    ssimulacra2::compute_frame_ssimulacra2(to_ssim_rgb(original)?, to_ssim_rgb(candidate)?)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: compressor-bench MEDIA_DIR COMPRESSOR_BIN [TOOL_DIR]";
    let media = PathBuf::from(args.next().context(usage)?);
    let compressor = args.next().context(usage)?;
    let tool_dir = PathBuf::from(args.next().unwrap_or_default());
    let scratch = tempfile_dir()?;

    let mut inputs: Vec<(Kind, PathBuf)> = Vec::new();
    for (folder, kind) in [("jpeg", Kind::Jpeg), ("png", Kind::Png)] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(media.join(folder))
            .with_context(|| format!("{}/{folder}: run tests/media/fetch.sh", media.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        inputs.extend(files.into_iter().map(|f| (kind, f)));
    }
    let tools = tools(&compressor, &tool_dir);
    // Per tool name and kind: (bytes, seconds, peak MB, scores, size ratios against ours).
    let mut totals: Vec<(String, Kind, u64, f64, f64, Vec<f64>)> = Vec::new();

    println!("| file | tool | bytes | % of original | time (s) | peak MB | SSIMULACRA2 |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (kind, input) in &inputs {
        let original = image::open(input)?;
        let original_bytes = std::fs::metadata(input)?.len();
        let name = input.file_name().unwrap_or_default().to_string_lossy();
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
                    match totals.iter_mut().find(|t| t.0 == tool.name && t.1 == *kind) {
                        Some(t) => {
                            t.2 += m.bytes;
                            t.3 += m.seconds;
                            t.4 = t.4.max(m.peak_mb);
                            t.5.push(m.score);
                        }
                        None => {
                            totals.push((tool.name.to_string(), *kind, m.bytes, m.seconds, m.peak_mb, vec![m.score]))
                        }
                    }
                }
                Err(err) => println!("| {name} | {} | failed: {err:#} | | | | |", tool.name),
            }
        }
    }
    println!();
    println!("| kind | tool | total bytes | total time (s) | max peak MB | median SSIMULACRA2 |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, kind, bytes, seconds, peak, mut scores) in totals {
        println!("| {kind:?} | {name} | {bytes} | {seconds:.2} | {peak:.0} | {:.2} |", median(&mut scores));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("compressor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
