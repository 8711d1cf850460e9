//! HEIC/HEIF and AVIF in: decoded by the system's libheif in the media worker (never in the
//! CLI), a HEIC written as a JPEG for compatibility, an AVIF re-encoded or converted. Inputs
//! are made by libheif's own `heif-enc` and libavif's `avifenc` from real photos; outputs are
//! compared by Pillow with what `heif-convert` and `avifdec` decode.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{json_line, mean_difference, photo, python, run_tool, Cli, SecretService};

/// `compressor compress FILES --out DIR --json [extra]`: its exit code and one JSON line per file.
fn compress(cli: &Cli, files: &[&Path], out: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args: Vec<String> = vec!["compress".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--out".into(), out.display().to_string(), "--json".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = cli.run(&args);
    let lines =
        String::from_utf8_lossy(&output.stdout).lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    (output.status.code().unwrap_or(-1), lines)
}

fn actions(line: &Value) -> Vec<&str> {
    line["report"]["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

#[test]
fn a_heic_photo_becomes_a_jpeg_that_looks_as_libheif_decodes_it_even_when_larger() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    let glow = dir.path().join("glow.heic");
    run_tool(
        "heif-enc",
        &["-q", "60", &photo("EveningGlow.jpg").display().to_string(), "-o", &glow.display().to_string()],
    );
    // At quality 5 the HEIC is far smaller than any fair JPEG of it: converted all the same.
    let tiny = dir.path().join("tiny.heic");
    run_tool(
        "heif-enc",
        &["-q", "5", &photo("FallenLeaf.jpg").display().to_string(), "-o", &tiny.display().to_string()],
    );
    // 10 bits a channel, from a 16-bit PNG of the photo.
    let deep_png = dir.path().join("deep.png");
    run_tool(
        "convert",
        &[&photo("Kite.jpg").display().to_string(), "-depth", "16", &format!("PNG48:{}", deep_png.display())],
    );
    let deep = dir.path().join("deep.heic");
    run_tool("heif-enc", &["-b", "10", "-q", "60", &deep_png.display().to_string(), "-o", &deep.display().to_string()]);

    let out = dir.path().join("out");
    let (code, lines) = compress(&cli, &[&glow, &tiny, &deep], &out, &[]);
    assert_eq!(code, 0, "{lines:?}");
    for (name, jpeg) in [("glow.heic", "glow.jpg"), ("tiny.heic", "tiny.jpg"), ("deep.heic", "deep.jpg")] {
        let done = json_line(&lines, name);
        assert_eq!(done["report"]["status"], "compressed", "{done}");
        assert_eq!(done["report"]["input"]["format"], "heic");
        assert_eq!(done["report"]["output"]["format"], "jpeg");
        assert!(actions(done).contains(&"converted from HEIC to JPEG for compatibility"), "{done}");
        let written = out.join(jpeg);
        assert_eq!(done["destination"].as_str().map(PathBuf::from), Some(written.clone()));
        // The same picture as libheif's own tool decodes, within what a JPEG at the level's
        // target costs.
        let reference = dir.path().join(format!("{name}.png"));
        run_tool("heif-convert", &[&dir.path().join(name).display().to_string(), &reference.display().to_string()]);
        let difference = mean_difference(&written, &reference);
        assert!(difference < 4.0, "{name}: mean difference {difference}");
    }
    let tiny_report = &json_line(&lines, "tiny.heic")["report"];
    assert!(tiny_report["output"]["size"].as_u64() > tiny_report["input"]["size"].as_u64(), "{tiny_report}");
    assert!(actions(json_line(&lines, "deep.heic")).contains(&"10-bit content dithered to 8 bits"));
    assert!(!actions(json_line(&lines, "glow.heic")).iter().any(|a| a.contains("dithered")));
}

#[test]
fn heic_exif_is_kept_only_when_asked_with_its_orientation_made_neutral() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    let tagged = dir.path().join("tagged.jpg");
    fs::copy(photo("Kite.jpg"), &tagged).unwrap();
    run_tool(
        "exiftool",
        &["-q", "-overwrite_original", "-Make=CompressorTest", "-Orientation=6", "-n", &tagged.display().to_string()],
    );
    let heic = dir.path().join("tagged.heic");
    run_tool("heif-enc", &["-q", "50", &tagged.display().to_string(), "-o", &heic.display().to_string()]);
    let exif_of = "import sys
from PIL import Image
exif = Image.open(sys.argv[1]).getexif()
print(exif.get(271), exif.get(274))";
    for (options, expected) in [(r#"{"image": {"keep_exif": true}}"#, "CompressorTest 1"), ("{}", "None None")] {
        let out = dir.path().join(if expected == "None None" { "stripped" } else { "kept" });
        let (code, lines) = compress(&cli, &[&heic], &out, &["--options", options]);
        assert_eq!(code, 0, "{lines:?}");
        let shown = python(exif_of, &[&out.join("tagged.jpg").display().to_string()]);
        // Kept: the camera's tags, but not a rotation libheif's upright pixels would get twice.
        assert_eq!(shown.trim(), expected, "{options}");
    }
}

#[test]
fn an_avif_is_re_encoded_or_converted_and_its_output_proven_by_avifdec() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    let cups = dir.path().join("cups.avif");
    run_tool("avifenc", &[&photo("ColorfulCups.jpg").display().to_string(), &cups.display().to_string()]);
    let reference = dir.path().join("reference.png");
    run_tool("avifdec", &[&cups.display().to_string(), &reference.display().to_string()]);
    let out = dir.path().join("as-jpeg");
    let (code, lines) = compress(&cli, &[&cups], &out, &["--options", r#"{"image": {"format": "jpeg"}}"#]);
    assert_eq!(code, 0, "{lines:?}");
    let done = json_line(&lines, "cups.avif");
    assert_eq!(done["report"]["status"], "compressed", "{done}");
    assert_eq!(done["report"]["input"]["format"], "avif");
    let difference = mean_difference(&out.join("cups.jpg"), &reference);
    assert!(difference < 4.0, "mean difference {difference}");

    // Kept as AVIF (the default): a re-encode, when smaller, that avifdec reads.
    let out = dir.path().join("as-avif");
    let (code, lines) = compress(&cli, &[&cups], &out, &[]);
    assert_eq!(code, 0, "{lines:?}");
    let done = json_line(&lines, "cups.avif");
    if done["report"]["status"] == "compressed" {
        let written = out.join("cups.avif");
        let decoded = dir.path().join("again.png");
        run_tool("avifdec", &[&written.display().to_string(), &decoded.display().to_string()]);
        let difference = mean_difference(&decoded, &reference);
        assert!(difference < 6.0, "mean difference {difference}");
    } else {
        assert!(done["report"]["reason"].as_str().unwrap().contains("would not be smaller"), "{done}");
    }
}

#[test]
fn a_cut_or_crashing_heic_fails_by_name_and_the_rest_of_the_batch_is_compressed() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.heic");
    run_tool("heif-enc", &["-q", "50", &photo("Path.jpg").display().to_string(), "-o", &good.display().to_string()]);
    let bytes = fs::read(&good).unwrap();
    let cut = dir.path().join("cut.heic");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let crashing = dir.path().join("crash-me.heic");
    fs::copy(&good, &crashing).unwrap();

    let out = dir.path().join("out");
    let mut command = cli.command(&["compress", "--json", "-j", "1", "--out"]);
    command.arg(&out).args([&cut, &crashing, &good]).env("COMPRESSOR_WORKER_FAULT", "crash:crash-me");
    let output = command.output().unwrap();
    let lines: Vec<Value> =
        String::from_utf8_lossy(&output.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(output.status.code(), Some(1), "{lines:?}");
    let failed = json_line(&lines, "cut.heic");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("HEIC"), "{failed}");
    let crashed = json_line(&lines, "crash-me.heic");
    assert!(crashed["error"].as_str().unwrap().contains("the HEIC decoder crashed on this file"), "{crashed}");
    assert_eq!(json_line(&lines, "good.heic")["report"]["status"], "compressed");
    let written: Vec<String> =
        fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(written, ["good.jpg"]);
}
