//! `format-bench`: the newer picture formats against their peers, on real photos.
//!
//! - HEIC in (made by `heif-enc` from each photo, its ICC profile stripped): our default (a JPEG at the level's target)
//!   against `heif-convert` writing a JPEG at libheif's default quality, both scored against
//!   libheif's own decode of the HEIC.
//! - JPEG XL out: ours (`"format": "jxl"`, the `auto` search) against our own JPEG and `cjxl`
//!   at its default distance (1.0), all scored against the original photo.
//! - A JPEG transcoded losslessly to JPEG XL: ours against `cjxl` (its default for JPEG input),
//!   with `djxl` rebuilding the original for both.
//!
//! A benchmark, not a test: it asserts nothing. `scripts/bench-formats.sh` runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Runs a program, failing with its stderr; returns the wall time in seconds.
fn run(program: &str, args: &[&str]) -> Result<f64> {
    let started = Instant::now();
    let output = Command::new(program).args(args).output().with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        bail!("{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Decodes any output to pixels: JPEG and PNG directly, JPEG XL through `djxl`, HEIC through
/// `heif-convert`.
fn decode(path: &Path, scratch: &Path) -> Result<image::DynamicImage> {
    let png = scratch.join("decoded.png");
    match path.extension().and_then(|e| e.to_str()) {
        Some("jxl") => {
            run("djxl", &[&path.display().to_string(), &png.display().to_string()])?;
        }
        Some("heic") => {
            run("heif-convert", &[&path.display().to_string(), &png.display().to_string()])?;
        }
        _ => return image::open(path).with_context(|| format!("decoding {}", path.display())),
    }
    image::open(&png).with_context(|| format!("decoding {}", png.display()))
}

fn score(reference: &image::DynamicImage, candidate: &image::DynamicImage) -> Result<f64> {
    compressor_engine::ssimulacra2(&reference.to_rgb8(), &candidate.to_rgb8()).context("SSIMULACRA2: sizes differ")
}

/// Our CLI on one file into a fresh folder: the one output, and the wall time.
fn ours(compressor: &str, input: &Path, out: &Path, options: &str) -> Result<(PathBuf, f64)> {
    let _ = std::fs::remove_dir_all(out);
    let seconds = run(
        compressor,
        &["compress", &input.display().to_string(), "--out", &out.display().to_string(), "--options", options],
    )?;
    let produced: Vec<PathBuf> = std::fs::read_dir(out)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let [output] = produced.as_slice() else { bail!("{} outputs for {}", produced.len(), input.display()) };
    Ok((output.clone(), seconds))
}

fn size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)?.len())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn photos(media: &Path) -> Result<Vec<PathBuf>> {
    let mut photos = Vec::new();
    for folder in ["jpeg", "bench-photos"] {
        let Ok(entries) = std::fs::read_dir(media.join(folder)) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        files.sort();
        for file in files {
            if !photos.iter().any(|known: &PathBuf| known.file_name() == file.file_name()) {
                photos.push(file);
            }
        }
    }
    if photos.is_empty() {
        bail!("no photos in {}/jpeg: run tests/media/fetch.sh", media.display());
    }
    Ok(photos)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: format-bench MEDIA_DIR COMPRESSOR_BIN";
    let media = PathBuf::from(args.next().context(usage)?);
    let compressor = args.next().context(usage)?;
    let scratch = std::env::temp_dir().join(format!("format-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let photos = photos(&media)?;

    println!("## HEIC in (heif-enc -q 80 from each photo), scored against libheif's decode of the HEIC\n");
    println!("| photo | HEIC bytes | ours: JPEG bytes, s, SSIMULACRA2 | heif-convert: JPEG bytes, s, SSIMULACRA2 |");
    println!("|---|---:|---:|---:|");
    let (mut heic_ratio, mut heic_time) = (Vec::new(), Vec::new());
    for photo in &photos {
        let name = photo.file_stem().unwrap_or_default().to_string_lossy().to_string();
        let heic = scratch.join(format!("{name}.heic"));
        // Without its ICC profile: heif-convert's PNG writer (libpng) refuses some cameras'
        // sRGB profiles, and would leave the reference empty.
        let plain = scratch.join("plain.png");
        run("convert", &[&photo.display().to_string(), "-strip", &plain.display().to_string()])?;
        run("heif-enc", &["-q", "80", &plain.display().to_string(), "-o", &heic.display().to_string()])?;
        let reference = decode(&heic, &scratch)?;
        let (output, seconds) = ours(&compressor, &heic, &scratch.join("heic-ours"), "{}")?;
        let our_score = score(&reference, &decode(&output, &scratch)?)?;
        let peer = scratch.join("peer.jpg");
        let peer_seconds = run("heif-convert", &[&heic.display().to_string(), &peer.display().to_string()])?;
        let peer_score = score(&reference, &decode(&peer, &scratch)?)?;
        println!(
            "| {name} | {} | {}, {seconds:.2}, {our_score:.1} | {}, {peer_seconds:.2}, {peer_score:.1} |",
            size(&heic)?,
            size(&output)?,
            size(&peer)?
        );
        heic_ratio.push(size(&output)? as f64 / size(&peer)? as f64);
        heic_time.push(seconds / peer_seconds);
    }
    println!(
        "\nHEIC → JPEG, median ours ÷ heif-convert: bytes {:.3}, time {:.2} (heif-convert writes quality 90, no target)\n",
        median(heic_ratio),
        median(heic_time)
    );

    println!("## JPEG XL out, scored against the original photo\n");
    println!("| photo | our JPEG: bytes, score | ours JPEG XL: bytes, s, score | cjxl -d 1: bytes, s, score | JXL ÷ our JPEG |");
    println!("|---|---:|---:|---:|---:|");
    let mut jxl_vs_jpeg = Vec::new();
    for photo in &photos {
        let name = photo.file_stem().unwrap_or_default().to_string_lossy().to_string();
        let original = image::open(photo)?;
        let (jpeg, _) = ours(&compressor, photo, &scratch.join("jpeg-ours"), "{}")?;
        let jpeg_score = score(&original, &decode(&jpeg, &scratch)?)?;
        let jpeg_bytes = size(&jpeg)?;
        let (jxl, seconds) = ours(&compressor, photo, &scratch.join("jxl-ours"), r#"{"image": {"format": "jxl"}}"#)?;
        let jxl_score = score(&original, &decode(&jxl, &scratch)?)?;
        let peer = scratch.join("peer.jxl");
        let peer_seconds = run(
            "cjxl",
            &[&photo.display().to_string(), &peer.display().to_string(), "-d", "1", "--lossless_jpeg=0", "--quiet"],
        )?;
        let peer_score = score(&original, &decode(&peer, &scratch)?)?;
        let ratio = size(&jxl)? as f64 / jpeg_bytes as f64;
        println!(
            "| {name} | {jpeg_bytes}, {jpeg_score:.1} | {}, {seconds:.2}, {jxl_score:.1} | {}, {peer_seconds:.2}, {peer_score:.1} | {ratio:.3} |",
            size(&jxl)?,
            size(&peer)?
        );
        jxl_vs_jpeg.push(ratio);
    }
    println!("\nJPEG XL ÷ our JPEG at the same level's target, median: {:.3} (goal ≤ 0.80)\n", median(jxl_vs_jpeg));

    println!("## A JPEG transcoded losslessly to JPEG XL (djxl rebuilds the original)\n");
    println!("| photo | JPEG bytes | ours: bytes, s, rebuilds | cjxl: bytes, s, rebuilds |");
    println!("|---|---:|---:|---:|");
    let mut lossless = Vec::new();
    for photo in &photos {
        let name = photo.file_stem().unwrap_or_default().to_string_lossy().to_string();
        let original = std::fs::read(photo)?;
        let rebuilds = |jxl: &Path| -> Result<bool> {
            let rebuilt = scratch.join("rebuilt.jpg");
            run("djxl", &[&jxl.display().to_string(), &rebuilt.display().to_string()])?;
            Ok(std::fs::read(&rebuilt)? == original)
        };
        let options = r#"{"image": {"format": "jxl", "lossless": true}}"#;
        let (jxl, seconds) = ours(&compressor, photo, &scratch.join("lossless-ours"), options)?;
        let peer = scratch.join("peer.jxl");
        let peer_seconds = run("cjxl", &[&photo.display().to_string(), &peer.display().to_string(), "--quiet"])?;
        println!(
            "| {name} | {} | {}, {seconds:.2}, {} | {}, {peer_seconds:.2}, {} |",
            original.len(),
            size(&jxl)?,
            rebuilds(&jxl)?,
            size(&peer)?,
            rebuilds(&peer)?
        );
        lossless.push(size(&jxl)? as f64 / original.len() as f64);
    }
    println!("\nLossless JPEG → JPEG XL, median bytes ÷ the JPEG's: {:.3} (goal ≤ 0.85)", median(lossless));
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
