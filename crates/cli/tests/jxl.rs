//! JPEG XL: written by libjxl in the media worker (lossy at the level's SSIMULACRA2 target, or
//! a JPEG transcoded without loss), read by jxl-oxide. Checked with libjxl's own `djxl` and
//! `cjxl` (Debian's libjxl-tools) and Pillow, on real photos.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{json_line, mean_difference, photo, run_tool, Cli, SecretService};

const PHOTOS: [&str; 3] = ["Kite.jpg", "FallenLeaf.jpg", "ColorfulCups.jpg"];

/// `compressor compress FILES --out DIR --json --options OPTIONS`: one JSON line per file.
fn compress(cli: &Cli, files: &[PathBuf], out: &Path, options: &str) -> Vec<Value> {
    let mut command = cli.command(&["compress", "--json", "--options", options, "--out"]);
    command.arg(out).args(files);
    let output = command.output().unwrap();
    let lines: Vec<Value> =
        String::from_utf8_lossy(&output.stdout).lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert!(output.status.success(), "{lines:?}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(lines.len(), files.len(), "{lines:?}");
    lines
}

fn size(line: &Value) -> u64 {
    line["report"]["output"]["size"].as_u64().unwrap()
}

#[test]
fn lossy_jpeg_xl_is_smaller_than_our_jpeg_at_the_same_target_and_djxl_reads_it() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    let photos: Vec<PathBuf> = PHOTOS.iter().map(|name| photo(name)).collect();
    let as_jxl = compress(&cli, &photos, &dir.path().join("jxl"), r#"{"image": {"format": "jxl"}}"#);
    let as_jpeg = compress(&cli, &photos, &dir.path().join("jpeg"), "{}");
    for name in PHOTOS {
        let jxl = json_line(&as_jxl, name);
        assert_eq!(jxl["report"]["output"]["format"], "jxl", "{jxl}");
        let actions = jxl["report"]["actions"].to_string();
        assert!(actions.contains("chosen for SSIMULACRA2"), "the auto search ran: {actions}");
        // At the same SSIMULACRA2 target, fewer bytes than the JPEG the same level writes.
        assert!(
            size(jxl) < size(json_line(&as_jpeg, name)),
            "{name}: {} vs {}",
            size(jxl),
            size(json_line(&as_jpeg, name))
        );
        // libjxl's own decoder reads it, and it is the photo.
        let written = PathBuf::from(jxl["destination"].as_str().unwrap());
        let decoded = dir.path().join(format!("{name}.png"));
        run_tool("djxl", &[&written.display().to_string(), &decoded.display().to_string()]);
        let difference = mean_difference(&decoded, &photo(name));
        assert!(difference < 4.0, "{name}: mean difference {difference}");
    }
}

#[test]
fn a_jpeg_transcoded_losslessly_rebuilds_byte_for_byte_with_djxl() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    let photos: Vec<PathBuf> = PHOTOS.iter().map(|name| photo(name)).collect();
    let lines = compress(&cli, &photos, &dir.path().join("out"), r#"{"image": {"format": "jxl", "lossless": true}}"#);
    for name in PHOTOS {
        let done = json_line(&lines, name);
        assert_eq!(done["report"]["status"], "compressed", "{done}");
        let original = fs::read(photo(name)).unwrap();
        assert!(size(done) < original.len() as u64, "{done}");
        let written = done["destination"].as_str().unwrap();
        let rebuilt = dir.path().join(format!("rebuilt-{name}"));
        run_tool("djxl", &[written, &rebuilt.display().to_string()]);
        assert!(fs::read(&rebuilt).unwrap() == original, "{name}: djxl rebuilds a different JPEG");
    }
}

#[test]
fn a_jpeg_xl_made_by_cjxl_is_read_and_converted() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    // A lossy JPEG XL of the pixels (not a transcode), at high quality: room to compress.
    let input = dir.path().join("kite.jxl");
    run_tool(
        "cjxl",
        &[&photo("Kite.jpg").display().to_string(), &input.display().to_string(), "-d", "0.5", "--lossless_jpeg=0"],
    );
    let reference = dir.path().join("reference.png");
    run_tool("djxl", &[&input.display().to_string(), &reference.display().to_string()]);
    let lines =
        compress(&cli, std::slice::from_ref(&input), &dir.path().join("out"), r#"{"image": {"format": "jpeg"}}"#);
    let done = json_line(&lines, "kite.jxl");
    assert_eq!(done["report"]["input"]["format"], "jxl", "{done}");
    assert_eq!(
        (done["report"]["input"]["width"].as_u64(), done["report"]["input"]["height"].as_u64()),
        (Some(2560), Some(1600))
    );
    let written = PathBuf::from(done["destination"].as_str().unwrap());
    assert_eq!(written.extension().unwrap(), "jpg");
    let difference = mean_difference(&written, &reference);
    assert!(difference < 4.0, "mean difference {difference}");

    // Kept as JPEG XL (the default): re-encoded at the level's target, smaller.
    let lines = compress(&cli, std::slice::from_ref(&input), &dir.path().join("again"), "{}");
    let done = json_line(&lines, "kite.jxl");
    assert_eq!(done["report"]["status"], "compressed", "{done}");
    assert_eq!(done["report"]["output"]["format"], "jxl");
    assert!(size(done) < fs::metadata(&input).unwrap().len());
}
