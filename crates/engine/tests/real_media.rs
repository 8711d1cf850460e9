//! The engine on real photos and PNGs fetched by `tests/media/fetch.sh` (run by the README's
//! test command). Missing media is a failure, not a skip: a test that cannot fail is a defect.

use std::io::Cursor;
use std::path::PathBuf;

use compressor_engine::{Engine, Options, Status};

fn media_dir() -> PathBuf {
    let dir = std::env::var_os("COMPRESSOR_MEDIA")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/compressor-media")))
        .expect("COMPRESSOR_MEDIA or HOME");
    assert!(dir.join(".complete").exists(), "no test media in {}: run tests/media/fetch.sh first", dir.display());
    dir
}

fn files(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(media_dir().join(kind)).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no {kind} media");
    files
}

fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().unwrap().decode().unwrap()
}

/// PSNR over RGB, a coarse but independent check that the picture is still the picture.
fn psnr(a: &image::DynamicImage, b: &image::DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    let mse: f64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum::<f64>()
        / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn real_photos_get_smaller_and_stay_the_same_picture() {
    let engine = Engine::default();
    let mut total_in = 0;
    let mut total_out = 0;
    for path in files("jpeg").into_iter().chain(files("png")) {
        let input = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = engine.compress(&input, &name, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(result.report.status, Status::Compressed, "{name}: {:?}", result.report.reason);
        let output = result.output.unwrap();
        assert!(output.len() < input.len(), "{name}");
        let (before, after) = (decode(&input), decode(&output));
        assert_eq!((before.width(), before.height()), (after.width(), after.height()), "{name}");
        let quality = psnr(&before, &after);
        assert!(quality > 30.0, "{name}: PSNR {quality:.1} dB");
        total_in += input.len();
        total_out += output.len();
    }
    // Across the set, the default level saves at least a third.
    assert!(total_out * 3 < total_in * 2, "{total_in} -> {total_out}");
}

#[test]
fn lossless_modes_keep_real_pixels() {
    let engine = Engine::default();
    let options = Options::from_json(r#"{"image": {"lossless": true}}"#).unwrap();
    for path in [files("jpeg")[0].clone(), files("png")[0].clone()] {
        let input = std::fs::read(&path).unwrap();
        let result = engine.compress(&input, "x", &options).unwrap();
        let output = result.output.expect("real files shrink losslessly");
        assert!(output.len() < input.len());
        assert_eq!(decode(&input).to_rgba8(), decode(&output).to_rgba8(), "{}", path.display());
    }
}

#[test]
fn a_16_megabyte_photo_resizes_within_memory() {
    let path = media_dir().join("large/big-photo.jpg");
    let input = std::fs::read(&path).unwrap();
    let options =
        Options::from_json(r#"{"image": {"resize": {"width": 1920, "height": 1080, "mode": "fit"}}}"#).unwrap();
    let result = Engine::default().compress(&input, "big-photo.jpg", &options).unwrap();
    assert_eq!(result.report.input.width, Some(5640));
    let output = decode(&result.output.unwrap());
    assert_eq!((output.width(), output.height()), (1920, 1080));
}

/// SSIMULACRA2 of the whole output against the whole input.
fn ssimulacra2_of(before: &image::DynamicImage, after: &image::DynamicImage) -> f64 {
    compressor_engine::ssimulacra2(&before.to_rgb8(), &after.to_rgb8()).expect("same size")
}

#[test]
fn auto_quality_lands_different_photos_near_the_levels_target() {
    // Kite needs a higher JPEG quality than EveningGlow for the same look (at q75 they score
    // about 74 and 82): the search must tell them apart and land both near `high`'s 76.
    let engine = Engine::default();
    let mut qualities = Vec::new();
    for name in ["Kite.jpg", "EveningGlow.jpg"] {
        let input = std::fs::read(media_dir().join("jpeg").join(name)).unwrap();
        let result = engine.compress(&input, name, &Options::default()).unwrap();
        let chosen = result.report.actions.iter().find(|a| a.contains("chosen for SSIMULACRA2")).cloned();
        let chosen = chosen.unwrap_or_else(|| panic!("{name}: no quality search in {:?}", result.report.actions));
        let quality: u8 = chosen.trim_start_matches("quality ").split(' ').next().unwrap().parse().unwrap();
        let score = ssimulacra2_of(&decode(&input), &decode(&result.output.unwrap()));
        assert!((72.0..=80.0).contains(&score), "{name}: {chosen}, but the whole image scores {score:.1}");
        qualities.push(quality);
    }
    assert!(qualities[0] > qualities[1] + 5, "Kite should need more quality than EveningGlow: {qualities:?}");

    let fixed = Options::from_json(r#"{"image": {"quality": 75}}"#).unwrap();
    let input = std::fs::read(media_dir().join("jpeg/Kite.jpg")).unwrap();
    let result = engine.compress(&input, "Kite.jpg", &fixed).unwrap();
    assert!(result.report.actions.iter().all(|a| !a.contains("chosen")), "{:?}", result.report.actions);
    assert!(result.report.actions.iter().any(|a| a.contains("q75")), "{:?}", result.report.actions);
}

#[test]
fn medium_searches_both_chroma_resolutions_and_keeps_the_smaller() {
    let input = std::fs::read(media_dir().join("jpeg/FallenLeaf.jpg")).unwrap();
    let medium = Options::from_json(r#"{"image": {"compression": "medium"}}"#).unwrap();
    let result = Engine::default().compress(&input, "FallenLeaf.jpg", &medium).unwrap();
    let actions = &result.report.actions;
    let chosen = actions.iter().find(|a| a.contains("chroma the smaller")).unwrap_or_else(|| panic!("{actions:?}"));
    let chroma = if chosen.contains("4:4:4 chroma") { "4:4:4" } else { "4:2:0" };
    assert!(actions.iter().any(|a| a.starts_with("mozjpeg") && a.contains(chroma)), "{actions:?}");
    let score = ssimulacra2_of(&decode(&input), &decode(&result.output.unwrap()));
    assert!((83.0..=91.0).contains(&score), "{chosen}, but the whole image scores {score:.1}");
}
