//! The engine on small committed fixtures (real photo crops and deliberately damaged files).
//! Every check decodes the output independently of the engine's own report.

use std::io::Cursor;
use std::path::Path;

use compressor_engine::report::sha256_hex;
use compressor_engine::{Compressed, Engine, EngineError, Format, Options, Status};
use image::{DynamicImage, ImageDecoder, ImageReader};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn options(json: &str) -> Options {
    Options::from_json(json).unwrap()
}

fn compress(name: &str, json: &str) -> Compressed {
    Engine::default().compress(&fixture(name), name, &options(json)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn output(result: &Compressed) -> &[u8] {
    result.output.as_deref().expect("a compressed output")
}

fn decode(bytes: &[u8]) -> DynamicImage {
    ImageReader::new(Cursor::new(bytes)).with_guessed_format().unwrap().decode().unwrap()
}

fn icc_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut decoder = ImageReader::new(Cursor::new(bytes)).with_guessed_format().unwrap().into_decoder().unwrap();
    decoder.icc_profile().unwrap()
}

fn exif_fields(bytes: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new().read_from_container(&mut Cursor::new(bytes)).ok()
}

fn mean_abs_difference(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn report_matches_the_bytes() {
    for name in ["photo.jpg", "photo.png", "alpha.png", "photo.webp", "anim.gif", "photo.bmp", "photo.tiff"] {
        let input = fixture(name);
        let result = compress(name, "{}");
        let report = &result.report;
        assert_eq!(report.input.hashes.sha256, sha256_hex(&input), "{name}");
        assert_eq!(report.input.size, input.len() as u64, "{name}");
        match report.status {
            Status::Compressed => {
                let bytes = output(&result);
                assert_eq!(report.output.hashes.sha256, sha256_hex(bytes), "{name}");
                assert_eq!(report.output.size, bytes.len() as u64, "{name}");
                assert!(report.output.size < report.input.size, "{name}");
                let decoded = decode(bytes);
                assert_eq!(
                    (report.output.width, report.output.height),
                    (Some(decoded.width()), Some(decoded.height()))
                );
                assert_eq!(compressor_engine::detect(bytes), Some(report.output.format), "{name}");
            }
            Status::Skipped => {
                assert!(result.output.is_none());
                assert_eq!(report.output, report.input, "{name}: skipped means the original is the result");
                assert!(report.reason.as_deref().unwrap().contains("not be smaller"));
            }
        }
    }
}

#[test]
fn jpeg_is_recompressed_progressively_and_keeps_its_size() {
    let result = compress("photo.jpg", "{}");
    let original = decode(&fixture("photo.jpg"));
    let decoded = decode(output(&result));
    assert_eq!(decoded.dimensions_tuple(), original.dimensions_tuple());
    // Same picture: small average error at the default level.
    assert!(mean_abs_difference(&original, &decoded) < 4.0);
    // Progressive: an SOF2 marker.
    assert!(output(&result).windows(2).any(|w| w == [0xFF, 0xC2]));
}

#[test]
fn an_icon_sized_image_keeps_the_levels_quality_without_a_search() {
    // Too small for SSIMULACRA2's scales: no search, and no warning that one failed.
    let icon = fixture("photo.png");
    let icon = decode(&icon).thumbnail_exact(24, 16);
    let mut png = Vec::new();
    icon.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let result = Engine::default().compress(&png, "icon.png", &options(r#"{"image": {"format": "jpeg"}}"#)).unwrap();
    assert!(result.report.warnings.is_empty(), "{:?}", result.report.warnings);
    assert!(result.report.actions.iter().any(|a| a.starts_with("mozjpeg q75")), "{:?}", result.report.actions);
    assert_eq!(decode(output(&result)).dimensions_tuple(), (24, 16));
}

trait Dimensions {
    fn dimensions_tuple(&self) -> (u32, u32);
}
impl Dimensions for DynamicImage {
    fn dimensions_tuple(&self) -> (u32, u32) {
        (self.width(), self.height())
    }
}

#[test]
fn lossless_jpeg_keeps_every_pixel() {
    let input = fixture("photo.jpg");
    let result = compress("photo.jpg", r#"{"image": {"lossless": true}}"#);
    assert_eq!(result.report.status, Status::Compressed);
    assert_eq!(decode(&input).to_rgb8(), decode(output(&result)).to_rgb8(), "pixels identical");
}

#[test]
fn exif_orientation_is_honoured() {
    // Stored sideways with Orientation=6; it displays 480 wide and 300 high.
    let result = compress("photo-rotated.jpg", "{}");
    let decoded = decode(output(&result));
    assert_eq!(decoded.dimensions_tuple(), (480, 300), "pixels turned upright");
    assert!(exif_fields(output(&result)).is_none(), "EXIF stripped by default");

    // Keeping EXIF keeps the camera fields but not a stale orientation.
    let result = compress("photo-rotated.jpg", r#"{"image": {"keep_exif": true}}"#);
    let exif = exif_fields(output(&result)).expect("EXIF kept");
    assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_some());
    let orientation = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0));
    assert!(matches!(orientation, None | Some(1)), "orientation reset, got {orientation:?}");

    // Lossless cannot rotate pixels: the orientation tag alone survives stripping.
    let result = compress("photo-rotated.jpg", r#"{"image": {"lossless": true}}"#);
    let exif = exif_fields(output(&result)).expect("orientation-only EXIF");
    assert_eq!(exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0)), Some(6));
    assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_none(), "the rest stripped");

    // Resizing works on the upright picture.
    let result = compress("photo-rotated.jpg", r#"{"image": {"resize": {"width": 240, "mode": "auto"}}}"#);
    assert_eq!(decode(output(&result)).dimensions_tuple(), (240, 150));
}

#[test]
fn wide_gamut_is_converted_to_srgb_unless_the_profile_is_kept() {
    let name = "photo-p3.jpg";
    let input = fixture(name);
    assert!(icc_of(&input).is_some(), "fixture carries a profile");
    let raw = decode(&input); // pixels as stored, without colour management

    let converted = compress(name, r#"{"image": {"compression": "medium"}}"#);
    assert!(icc_of(output(&converted)).is_none(), "profile stripped");
    let converted_pixels = decode(output(&converted));

    let kept = compress(name, r#"{"image": {"compression": "medium", "keep_icc": true}}"#);
    assert!(icc_of(output(&kept)) == icc_of(&input), "profile kept byte for byte");
    let kept_pixels = decode(output(&kept));

    // Kept profile: same numbers, only compression noise. Stripped: numbers moved into sRGB.
    let noise = mean_abs_difference(&raw, &kept_pixels);
    let shift = mean_abs_difference(&raw, &converted_pixels);
    assert!(noise < 3.0, "noise {noise}");
    assert!(shift > noise + 1.0, "colours converted: shift {shift} vs noise {noise}");
    assert!(converted.report.actions.iter().any(|a| a.contains("sRGB")));
}

#[test]
fn png_lossy_palette_and_lossless_paths() {
    let input = fixture("photo.png");
    let lossy = compress("photo.png", "{}");
    assert!(lossy.report.actions.iter().any(|a| a.contains("palette")), "{:?}", lossy.report.actions);
    let lossless = compress("photo.png", r#"{"image": {"lossless": true}}"#);
    assert_eq!(decode(&input).to_rgba8(), decode(output(&lossless)).to_rgba8(), "lossless keeps pixels");
    assert!(output(&lossy).len() < output(&lossless).len());

    // 16-bit stays 16-bit when lossless.
    let deep = compress("photo16.png", r#"{"image": {"lossless": true}}"#);
    if deep.report.status == Status::Compressed {
        assert_eq!(decode(output(&deep)).color(), image::ColorType::Rgb16);
    }
}

#[test]
fn alpha_survives_where_the_format_has_it() {
    let original = decode(&fixture("alpha.png"));
    for format in ["png", "webp", "avif"] {
        let result = compress("alpha.png", &format!(r#"{{"image": {{"format": "{format}"}}}}"#));
        assert_eq!(result.report.output.format.extension(), format);
        if format != "avif" {
            let decoded = decode(output(&result));
            assert!(decoded.color().has_alpha(), "{format}");
            let alpha_error: u64 = original
                .to_rgba8()
                .pixels()
                .zip(decoded.to_rgba8().pixels())
                .map(|(a, b)| u64::from(a[3].abs_diff(b[3])))
                .sum();
            assert!(alpha_error / u64::from(original.width() * original.height()) < 8, "{format}");
        }
    }
    // JPEG has no alpha: transparent areas become white, not black.
    let result = compress("alpha.png", r#"{"image": {"format": "jpeg"}}"#);
    let decoded = decode(output(&result)).to_rgb8();
    let source = original.to_rgba8();
    let (x, y) =
        source.enumerate_pixels().find(|(_, _, p)| p[3] == 0).map(|(x, y, _)| (x, y)).expect("a transparent pixel");
    assert!(decoded.get_pixel(x, y).0.iter().all(|&c| c > 240), "transparent → white");
}

#[test]
fn conversions_write_the_asked_format() {
    for (format, expected) in [
        ("webp", Format::Webp),
        ("avif", Format::Avif),
        ("png", Format::Png),
        ("gif", Format::Gif),
        ("jpeg", Format::Jpeg),
    ] {
        let result = compress("photo.png", &format!(r#"{{"image": {{"format": "{format}"}}}}"#));
        let bytes = output(&result);
        assert_eq!(compressor_engine::detect(bytes), Some(expected));
        assert_eq!(result.report.output.format, expected);
        assert!(result.report.output.name.ends_with(expected.extension()));
    }
    // WebP lossless is pixel-exact.
    let result = compress("photo.png", r#"{"image": {"format": "webp", "lossless": true}}"#);
    assert_eq!(decode(&fixture("photo.png")).to_rgb8(), decode(output(&result)).to_rgb8());
}

#[test]
fn bmp_and_tiff_become_lossless_png() {
    for name in ["photo.bmp", "photo.tiff"] {
        let result = compress(name, "{}");
        assert_eq!(result.report.output.format, Format::Png, "{name}");
        let _ = result.output.as_deref().expect("converted");
    }
    let result = compress("photo.bmp", r#"{"image": {"lossless": true}}"#);
    assert_eq!(decode(&fixture("photo.bmp")).to_rgb8(), decode(output(&result)).to_rgb8());
}

#[test]
fn animated_gif_keeps_every_frame() {
    let count_frames = |bytes: &[u8]| {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options.read_info(Cursor::new(bytes)).unwrap();
        let mut frames = 0;
        while decoder.read_next_frame().unwrap().is_some() {
            frames += 1;
        }
        frames
    };
    let input = fixture("anim.gif");
    let result = compress("anim.gif", "{}");
    let produced = result.output.as_deref().unwrap_or(&input);
    assert_eq!(count_frames(produced), count_frames(&input));
    assert!(count_frames(&input) >= 3);
}

#[test]
fn resize_modes_give_the_promised_geometry() {
    let cases = [
        (r#"{"width": 100, "height": 100, "mode": "fit"}"#, (100, 63)),
        (r#"{"width": 100, "height": 100, "mode": "fill"}"#, (100, 100)),
        (r#"{"width": 100, "height": 50, "mode": "crop"}"#, (100, 50)),
        (r#"{"height": 150, "mode": "auto"}"#, (240, 150)),
        (r#"{"width": 4000, "mode": "auto"}"#, (480, 300)),
        (r#"{"width": 960, "mode": "auto", "upscale": true}"#, (960, 600)),
    ];
    for (resize, expected) in cases {
        let json = format!(r#"{{"image": {{"resize": {resize}}}}}"#);
        let result = compress("photo.jpg", &json);
        let bytes = result.output.clone().unwrap_or_else(|| fixture("photo.jpg"));
        assert_eq!(decode(&bytes).dimensions_tuple(), expected, "{resize}");
    }
}

#[test]
fn bad_inputs_give_clear_errors() {
    let engine = Engine::default();
    type IsExpected = fn(&EngineError) -> bool;
    let cases: [(&str, IsExpected, &str); 6] = [
        ("truncated.jpg", |e| matches!(e, EngineError::Damaged { .. }), "the JPEG data ends early"),
        ("bad-crc.png", |e| matches!(e, EngineError::Damaged { .. }), "CRC"),
        ("empty.jpg", |e| matches!(e, EngineError::Empty), "empty"),
        ("text.jpg", |e| matches!(e, EngineError::Unsupported(_)), "plain text"),
        ("huge-header.png", |e| matches!(e, EngineError::TooManyPixels { .. }), "100000×100000"),
        ("truncated.png", |e| matches!(e, EngineError::Damaged { .. }), "PNG"),
    ];
    for (name, is_expected, words) in cases {
        let err = engine.compress(&fixture(name), name, &Options::default()).expect_err(name);
        assert!(is_expected(&err), "{name}: {err:?}");
        assert!(err.to_string().contains(words), "{name}: {err}");
    }
    // Lossless JPEG goes through libjpeg directly: the damage check covers it too.
    let err = engine.compress(&fixture("truncated.jpg"), "t.jpg", &options(r#"{"image": {"lossless": true}}"#));
    assert!(matches!(err, Err(EngineError::Damaged { .. })), "{err:?}");
}

#[test]
fn invalid_options_are_rejected_before_any_work() {
    let mut options = Options::default();
    options.image.quality = Some(compressor_engine::options::Quality::Fixed(0));
    let err = Engine::default().compress(&fixture("photo.jpg"), "p.jpg", &options).unwrap_err();
    let EngineError::Invalid(invalid) = err else { panic!("{err:?}") };
    assert_eq!(invalid.errors[0].field, "image.quality");
}

#[test]
fn verify_rejects_damaged_outputs() {
    let engine = Engine::default();
    assert!(engine.verify(&fixture("photo.png")).is_ok());
    assert!(engine.verify(&fixture("truncated.png")).is_err());
}

/// `max_size`: the highest quality (at most the level's) whose output fits; a clear error
/// with the closest size when none does; lossless outputs have nothing to lower.
#[test]
fn max_size_lowers_quality_until_the_output_fits_or_says_why_not() {
    let free = compress("photo.jpg", "{}").output.unwrap();
    for format in ["jpeg", "webp"] {
        let target = free.len() as u64 / 2;
        let json = format!(r#"{{"image": {{"format": "{format}", "max_size": {target}}}}}"#);
        let result = compress("photo.jpg", &json);
        let output = result.output.expect("written");
        assert!(output.len() as u64 <= target, "{format}: {} > {target}", output.len());
        // Not needlessly small: the fit is the highest quality, within a few percent.
        assert!(output.len() as u64 > target * 3 / 4, "{format}: {} for {target}", output.len());
        decode(&output);
        assert!(result.report.actions.iter().any(|a| a.contains("to fit")), "{:?}", result.report.actions);
    }

    let engine = Engine::default();
    let err = engine.compress(&fixture("photo.jpg"), "photo.jpg", &options(r#"{"image": {"max_size": 300}}"#));
    let Err(EngineError::OverTargetSize { target: 300, closest, .. }) = &err else { panic!("{err:?}") };
    assert!(*closest > 300);
    assert!(err.unwrap_err().to_string().contains("quality 1"));

    let err = engine
        .compress(&fixture("photo.png"), "photo.png", &options(r#"{"image": {"lossless": true, "max_size": 1000}}"#))
        .unwrap_err();
    assert!(matches!(err, EngineError::OverTargetSize { target: 1000, .. }), "{err:?}");
    assert!(err.to_string().contains("no quality to lower"), "{err}");

    assert_eq!(Options::from_json(r#"{"image": {"max_size": 0}}"#).unwrap_err().errors[0].field, "image.max_size");
}

#[test]
fn webp_carries_the_icc_profile_and_exif_when_they_are_kept() {
    // A Display P3 photo, and a camera photo with EXIF.
    let kept = compress("photo-p3.jpg", r#"{"image": {"format": "webp", "keep_icc": true}}"#);
    assert!(icc_of(output(&kept)) == icc_of(&fixture("photo-p3.jpg")), "profile kept byte for byte");
    let options = r#"{"image": {"format": "webp", "keep_exif": true, "lossless": true}}"#;
    let camera = compress("photo-rotated.jpg", options);
    let exif = exif_fields(output(&camera)).expect("EXIF kept");
    assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_some());
    let orientation = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0));
    assert!(matches!(orientation, None | Some(1)), "orientation reset, got {orientation:?}");
    assert_eq!(decode(output(&camera)).dimensions_tuple(), (480, 300), "upright");
    assert!(camera.report.actions.iter().any(|a| a == "kept the EXIF in the WebP"), "{:?}", camera.report.actions);
    assert!(camera.report.warnings.is_empty(), "{:?}", camera.report.warnings);

    // exiftool, an independent reader, finds them.
    for (name, result, tag) in [("p3", &kept, "-ICC_Profile:ProfileDescription"), ("camera", &camera, "-EXIF:Make")] {
        let file = tempfile::Builder::new().suffix(".webp").tempfile().unwrap();
        std::fs::write(file.path(), output(result)).unwrap();
        let shown = std::process::Command::new("exiftool").args(["-s3", tag]).arg(file.path()).output().unwrap();
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(!text.trim().is_empty(), "{name}: exiftool finds no {tag}");
    }

    // Not asked: nothing is carried, and the WebP stays in its simple form.
    let plain = compress("photo-rotated.jpg", r#"{"image": {"format": "webp"}}"#);
    assert!(exif_fields(output(&plain)).is_none());
    assert_ne!(&output(&plain)[12..16], b"VP8X");
}

#[test]
fn jpeg_xl_carries_the_icc_profile_and_exif_when_they_are_kept() {
    let options = r#"{"image": {"format": "jxl", "keep_icc": true, "keep_exif": true}}"#;
    let dir = tempfile::tempdir().unwrap();
    for name in ["photo-p3.jpg", "photo-rotated.jpg"] {
        let result = compress(name, options);
        let jxl = dir.path().join(format!("{name}.jxl"));
        std::fs::write(&jxl, output(&result)).unwrap();
        // libjxl's own decoder writes the kept profile into its PNG.
        let png = dir.path().join(format!("{name}.png"));
        let decoded = std::process::Command::new("djxl").arg(&jxl).arg(&png).output().expect("djxl is installed");
        assert!(decoded.status.success(), "{}", String::from_utf8_lossy(&decoded.stderr));
        let shown = std::process::Command::new("exiftool")
            .args(["-s3", "-ICC_Profile:ProfileDescription"])
            .arg(&png)
            .output()
            .unwrap();
        let description = String::from_utf8_lossy(&shown.stdout).trim().to_string();
        let exif = std::process::Command::new("exiftool").args(["-s3", "-EXIF:Make"]).arg(&jxl).output().unwrap();
        let make = String::from_utf8_lossy(&exif.stdout).trim().to_string();
        match name {
            // libjxl recognises Display P3 and stores it as an enumerated colour space (D65
            // white, DCI-P3 primaries, sRGB transfer): djxl writes its own profile for it.
            "photo-p3.jpg" => assert!(
                description.contains("D65_DCI") && description.ends_with("SRG"),
                "{description}: {:?}",
                result.report.actions
            ),
            _ => assert_eq!(make, "OLYMPUS IMAGING CORP.", "{:?}", result.report.actions),
        }
    }
}

#[test]
fn a_gif_without_a_colour_table_and_a_jpeg_with_a_short_app14_compress() {
    // A 4×4 GIF with no colour table anywhere (the format allows it): index 1 everywhere,
    // which readers show as near-black grey.
    let mut gif = b"GIF89a\x04\x00\x04\x00\x00\x00\x00".to_vec();
    gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\x04\x00\x04\x00\x00");
    // LZW, minimum code size 2: clear, sixteen 1s (a clear after every two), end.
    let mut bits: Vec<bool> = Vec::new();
    let mut emit = |code: u32| bits.extend((0..3).map(|i| code >> i & 1 == 1));
    emit(4);
    for i in 0..16 {
        emit(1);
        if i % 2 == 1 {
            emit(4);
        }
    }
    emit(5);
    let data: Vec<u8> =
        bits.chunks(8).map(|byte| byte.iter().enumerate().fold(0u8, |b, (i, &bit)| b | (u8::from(bit) << i))).collect();
    gif.extend_from_slice(&[2, data.len() as u8]);
    gif.extend_from_slice(&data);
    gif.extend_from_slice(b"\x00;");
    let engine = Engine::default();
    // Kept a GIF, it is only re-encoded (here not smaller: the original stays); as a PNG, its
    // pixels show what readers show.
    let kept = engine.compress(&gif, "no-table.gif", &options("{}")).unwrap();
    assert_eq!(kept.report.input.hashes.sha256, sha256_hex(&gif), "the report is of the original");
    let result = engine.compress(&gif, "no-table.gif", &options(r#"{"image": {"format": "png"}}"#)).unwrap();
    let shown = decode(output(&result)).to_rgb8();
    assert_eq!(shown.dimensions(), (4, 4));
    assert!(shown.pixels().all(|p| p.0 == [1, 1, 1]), "{:?}", shown.get_pixel(0, 0));

    // An Adobe APP14 segment two bytes short, put in front of a real photo: libjpeg reads it.
    let photo = fixture("photo.jpg");
    let mut jpeg = photo[..2].to_vec();
    jpeg.extend_from_slice(b"\xff\xee\x00\x0cAdobe\x00\x64\x00\x00\x00");
    jpeg.extend_from_slice(&photo[2..]);
    let result = engine.compress(&jpeg, "short-app14.jpg", &options("{}")).unwrap();
    assert_eq!(result.report.status, Status::Compressed, "{:?}", result.report);
    assert_eq!(decode(output(&result)).dimensions_tuple(), (480, 300));
}

#[test]
fn a_multipage_tiff_is_refused_rather_than_cut_to_its_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let multi = dir.path().join("multi.tiff");
    // Two pages, written by ImageMagick (scripts/setup.sh installs it).
    let made = std::process::Command::new("convert")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photo.jpg"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photo.png"))
        .arg(&multi)
        .output()
        .expect("ImageMagick's convert");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let err = Engine::default().compress(&std::fs::read(&multi).unwrap(), "multi.tiff", &options("{}")).unwrap_err();
    assert!(err.to_string().contains("a multipage TIFF (2 pages)"), "{err}");
    // A single page (with no thumbnail directory) is compressed as before.
    let single = compress("photo.tiff", "{}");
    assert_eq!(single.report.output.format, Format::Png);
}

#[test]
fn an_icon_keeps_every_picture_pixel_for_pixel_and_gets_smaller() {
    let dir = tempfile::tempdir().unwrap();
    let icon = dir.path().join("favicon.ico");
    // ImageMagick's favicon: a PNG for 256 px, 32-bit bitmaps for the small sizes.
    let made = std::process::Command::new("convert")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photo.png"))
        .args(["-define", "icon:auto-resize=256,64,48,32,16"])
        .arg(&icon)
        .output()
        .expect("ImageMagick's convert");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let input = std::fs::read(&icon).unwrap();
    assert_eq!(compressor_engine::detect(&input), Some(Format::Ico));
    let result = Engine::default().compress(&input, "favicon.ico", &options("{}")).unwrap();
    assert_eq!(result.report.status, Status::Compressed, "{:?}", result.report);
    assert!(result.report.actions[0].contains("5 pictures"), "{:?}", result.report.actions);
    let written = dir.path().join("out.ico");
    std::fs::write(&written, output(&result)).unwrap();
    assert!(output(&result).len() < input.len());
    // Pillow reads every size of both, and each picture is the same, pixel for pixel.
    let script = "import sys
from PIL import Image
a, b = Image.open(sys.argv[1]), Image.open(sys.argv[2])
assert sorted(a.info['sizes']) == sorted(b.info['sizes']), (a.info['sizes'], b.info['sizes'])
for size in sorted(a.info['sizes']):
    assert a.ico.getimage(size).convert('RGBA').tobytes() == b.ico.getimage(size).convert('RGBA').tobytes(), size
print(len(a.info['sizes']))";
    let checked =
        std::process::Command::new("python3").arg("-c").arg(script).arg(&icon).arg(&written).output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    assert_eq!(String::from_utf8_lossy(&checked.stdout).trim(), "5");
    // A cut icon is damage, told by the picture that lies past the end.
    let err = Engine::default().compress(&input[..input.len() - 100], "cut.ico", &options("{}")).unwrap_err();
    assert!(err.to_string().contains("picture 5 of 5 lies past the end"), "{err}");
}
