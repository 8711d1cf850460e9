//! Decompression bombs against the CLI, one per kind: an image whose header claims 10
//! gigapixels, a PNG whose zlib data really inflates to 400 megapixels, a zip whose member
//! declares 400 MB, one that lies about it, a gzip stream and a PDF stream inflating to
//! 400 MB, a video over the pixel limit. Each is refused with the file's name and the
//! limit (the PDF is kept as it is: a stream over the limit is left unread), nothing is
//! written, the original is untouched, and the process's peak memory (GNU time's maximum
//! resident set) stays within the limit it was given.

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

/// 400 MB of zeros, deflated in 4 MB writes (about 400 KB).
fn zeros_into(writer: &mut impl Write) {
    let block = vec![0u8; 4 << 20];
    for _ in 0..100 {
        writer.write_all(&block).unwrap();
    }
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A valid 20000×20000 grey PNG whose rows (all zeros) really are in its zlib stream.
fn png_zlib_bomb() -> Vec<u8> {
    let side = 20_000u32;
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let row = vec![0u8; side as usize + 1];
    for _ in 0..side {
        zlib.write_all(&row).unwrap();
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(&mut png, b"IDAT", &zlib.finish().unwrap());
    png_chunk(&mut png, b"IEND", &[]);
    png
}

fn zip_bomb() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(false);
    zip.start_file("zeros.bin", options).unwrap();
    zeros_into(&mut zip);
    zip.finish().unwrap().into_inner()
}

/// The zip bomb with its declared size (400 MB, in the local and central headers) changed
/// to 1 KB: only inflating reveals it.
fn lying_zip_bomb(bomb: &[u8]) -> Vec<u8> {
    let mut liar = bomb.to_vec();
    let declared = (400u32 << 20).to_le_bytes();
    let mut patched = 0;
    for i in 0..liar.len() - 4 {
        if liar[i..i + 4] == declared {
            liar[i..i + 4].copy_from_slice(&1024u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "the local and the central header");
    liar
}

fn gzip_bomb() -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    zeros_into(&mut gz);
    gz.finish().unwrap()
}

/// A one-page PDF whose content stream inflates to 400 MB.
fn pdf_bomb() -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    zeros_into(&mut zlib);
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let content = document.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, zlib.finish().unwrap()));
    let page = document.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).unwrap();
    bytes
}

/// One 4000×3000 MJPEG frame in an AVI (12 megapixels), made by the ffmpeg CLI.
fn large_video(dir: &Path) -> Vec<u8> {
    let path = dir.join("large.avi");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=4000x3000:d=0.04:r=25"])
        .args(["-frames:v", "1", "-c:v", "mjpeg"])
        .arg(&path)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    fs::read(path).unwrap()
}

#[test]
fn every_kind_of_bomb_is_refused_within_its_limit() {
    let secrets = SecretService::start();
    let cli = Cli::new(&secrets);
    let work = tempfile::tempdir().unwrap();
    let zip = zip_bomb();
    // (file, bytes, limit flags, words of the refusal, peak-memory bound in MB)
    type Bomb = (&'static str, Vec<u8>, &'static [&'static str], &'static str, u64);
    let bombs: Vec<Bomb> = vec![
        ("claims-10-gigapixels.png", fs::read(fixture("huge-header.png")).unwrap(), &[], "100000×100000", 150),
        ("zlib-bomb.png", png_zlib_bomb(), &[], "20000×20000", 150),
        ("declares-400mb.zip", zip.clone(), &["--max-expanded-mb", "256"], "over the limit", 150),
        ("lies-about-its-size.zip", lying_zip_bomb(&zip), &["--max-expanded-mb", "256"], "declared", 150),
        ("expands-400mb.gz", gzip_bomb(), &["--max-expanded-mb", "256"], "over the limit", 256 + 150),
        ("expands-400mb.pdf", pdf_bomb(), &["--max-expanded-mb", "256"], "skipped", 256 + 150),
        ("12-megapixels.avi", large_video(work.path()), &["--max-megapixels", "10"], "4000×3000", 150),
    ];
    let mut table = String::from("| bomb | file size | refusal | peak memory |\n|---|---|---|---|\n");
    for (name, bytes, flags, words, bound_mb) in bombs {
        let input = work.path().join(name);
        fs::write(&input, &bytes).unwrap();
        let out = work.path().join(format!("out-{name}"));
        let peak_file = work.path().join("peak");
        let mut command = Command::new("/usr/bin/time");
        command.arg("-f").arg("%M").arg("-o").arg(&peak_file).arg(env!("CARGO_BIN_EXE_compressor"));
        command.args(["compress"]).arg(&input).arg("--out").arg(&out).args(flags);
        command.env("COMPRESSOR_CONFIG_DIR", cli.config_dir()).env("HOME", cli.home.path());
        let output = command.output().expect("GNU time is installed (scripts/setup.sh)");
        let message = text(&output);
        let peak_kb: u64 = fs::read_to_string(&peak_file).unwrap().trim().lines().last().unwrap().parse().unwrap();
        let kept_as_is = words == "skipped";
        assert_eq!(output.status.success(), kept_as_is, "{name}: {message}");
        assert!(message.contains(name) && message.contains(words), "{name}: {message}");
        let written = if out.exists() { files_under(&out) } else { Vec::new() };
        let copies_of_the_original = written.iter().all(|file| fs::read(file).unwrap() == bytes);
        assert!(written.is_empty() || (kept_as_is && copies_of_the_original), "{name}: {written:?} was written");
        assert_eq!(fs::read(&input).unwrap(), bytes, "{name}: the original changed");
        assert!(peak_kb < bound_mb * 1024, "{name}: peak memory {} MB, over {bound_mb} MB", peak_kb / 1024);
        let folder = format!("{}/", work.path().display());
        let line = message.lines().find(|l| l.contains(name)).unwrap_or("");
        let reason = line.replace(&folder, "").trim_start_matches("compressor: ").trim().to_string();
        table.push_str(&format!("| {name} | {} kB | {reason} | {} MB |\n", bytes.len() / 1024, peak_kb / 1024));
    }
    eprintln!("{table}");
}
