//! The engine on real video and audio fetched by `tests/media/fetch.sh`, every output checked
//! with ffprobe/ffmpeg (independent of the engine). Missing media is a failure, not a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use compressor_engine::{Compressed, Control, Engine, EngineError, Format, Options, Status};
use serde_json::Value;

fn media(path: &str) -> Vec<u8> {
    let dir = std::env::var_os("COMPRESSOR_MEDIA")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/compressor-media")))
        .expect("COMPRESSOR_MEDIA or HOME");
    assert!(dir.join(".complete").exists(), "no test media in {}: run tests/media/fetch.sh first", dir.display());
    std::fs::read(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The engine with this crate's FFmpeg installed, as the desktop app has it.
fn engine() -> Engine {
    compressor_media::install();
    Engine::default()
}

fn compress(bytes: &[u8], name: &str, json: &str) -> Result<Compressed, EngineError> {
    engine().compress(bytes, name, &Options::from_json(json).unwrap())
}

fn output(result: &Compressed) -> &[u8] {
    result.output.as_deref().unwrap_or_else(|| panic!("expected an output: {:?}", result.report.reason))
}

/// What ffprobe says about a file: `streams[]` and `format`.
fn ffprobe(bytes: &[u8]) -> Value {
    let file = temp_with(bytes);
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(file.path())
        .output()
        .expect("ffprobe is installed");
    assert!(out.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn temp_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    file
}

fn stream<'a>(probe: &'a Value, kind: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream in {probe}"))
}

fn codecs(probe: &Value) -> Vec<String> {
    probe["streams"].as_array().unwrap().iter().map(|s| s["codec_name"].as_str().unwrap().to_string()).collect()
}

fn duration(probe: &Value) -> f64 {
    probe["format"]["duration"].as_str().unwrap().parse().unwrap()
}

#[test]
fn megamind_becomes_a_smaller_h264_aac_mp4() {
    let input = media("video/Megamind.avi");
    let started = std::time::Instant::now();
    let result = compress(&input, "Megamind.avi", "{}").unwrap();
    let elapsed = started.elapsed();
    let report = &result.report;
    assert_eq!(report.status, Status::Compressed, "{:?}", report.reason);
    let bytes = output(&result);
    eprintln!("Megamind.avi {} -> {} bytes in {elapsed:.1?}; {:?}", input.len(), bytes.len(), report.actions);
    assert!(bytes.len() < input.len());
    assert_eq!(report.output.format, Format::Mp4);
    assert_eq!(report.output.name, "Megamind.mp4");
    assert_eq!(compressor_engine::detect(bytes), Some(Format::Mp4));

    let (before, after) = (ffprobe(&input), ffprobe(bytes));
    assert_eq!(codecs(&after), ["h264", "aac"]);
    assert!((duration(&before) - duration(&after)).abs() < 0.5, "{} vs {}", duration(&before), duration(&after));
    assert_eq!(stream(&after, "video")["width"], 720);
    assert_eq!(stream(&after, "video")["height"], 528);

    // The report tells both sides, and the damaged last audio packet was skipped, not fatal.
    assert_eq!(report.input.video_codec.as_deref(), Some("mpeg4"));
    assert_eq!(report.input.audio_codec.as_deref(), Some("ac3"));
    assert_eq!(report.output.video_codec.as_deref(), Some("h264"));
    assert_eq!(report.output.audio_codec.as_deref(), Some("aac"));
    assert_eq!((report.output.width, report.output.height), (Some(720), Some(528)));
    assert!(report.output.duration.unwrap() > 10.0);
    assert!(report.output.bitrate.unwrap() < report.input.bitrate.unwrap());
    assert!(report.warnings.iter().any(|w| w.contains("undecodable packet")), "{:?}", report.warnings);
    assert!(
        !report.warnings.iter().any(|w| w.contains("silence")),
        "AVI timestamps are not gaps: {:?}",
        report.warnings
    );
    assert!(report.actions.iter().any(|a| a.starts_with("H.264 CRF 28")), "{:?}", report.actions);
    engine().verify(bytes).unwrap();
}

#[test]
fn resize_auto_gives_the_width_and_an_even_height() {
    let input = media("video/Megamind.avi");
    let json = r#"{"video": {"compression": "ultra", "resize": {"width": 320, "mode": "auto"}}}"#;
    let result = compress(&input, "Megamind.avi", json).unwrap();
    let probe = ffprobe(output(&result));
    let video = stream(&probe, "video");
    assert_eq!(video["width"], 320);
    let height = video["height"].as_u64().unwrap();
    assert_eq!(height % 2, 0);
    assert!((233..=236).contains(&height), "{height}");
    assert_eq!(result.report.output.width, Some(320));
}

#[test]
fn webm_is_vp9_and_opus() {
    let input = media("video/Megamind.avi");
    let json = r#"{"video": {"format": "webm", "compression": "ultra", "resize": {"width": 320, "mode": "auto"}}}"#;
    let has_vp9 = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("libvpx-vp9"))
        .unwrap_or(false);
    match compress(&input, "Megamind.avi", json) {
        Ok(result) => {
            assert!(has_vp9);
            let bytes = output(&result);
            assert_eq!(result.report.output.format, Format::Webm);
            assert_eq!(compressor_engine::detect(bytes), Some(Format::Webm));
            assert_eq!(result.report.output.name, "Megamind.webm");
            assert_eq!(codecs(&ffprobe(bytes)), ["vp9", "opus"]);
        }
        Err(EngineError::Unavailable(what)) => {
            assert!(!has_vp9);
            assert!(what.contains("libvpx-vp9"), "{what}");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn wav_becomes_a_smaller_aac_m4a() {
    for name in ["Front_Center.wav", "Noise.wav"] {
        let input = media(&format!("audio/{name}"));
        let result = compress(&input, name, "{}").unwrap();
        let bytes = output(&result);
        assert!(bytes.len() < input.len(), "{name}");
        assert_eq!(result.report.output.format, Format::M4a, "{name}");
        assert_eq!(compressor_engine::detect(bytes), Some(Format::M4a), "{name}");
        let (before, after) = (ffprobe(&input), ffprobe(bytes));
        assert_eq!(codecs(&after), ["aac"], "{name}");
        assert!((duration(&before) - duration(&after)).abs() < 0.1, "{name}");
        assert_eq!(stream(&after, "audio")["channels"], stream(&before, "audio")["channels"], "{name}");
        assert_eq!(result.report.input.audio_codec.as_deref(), Some("pcm_s16le"));
        assert_eq!(result.report.output.width, None);
        engine().verify(bytes).unwrap();
    }
}

#[test]
fn channels_and_sample_rate_are_honoured() {
    let input = media("audio/complete.oga");
    assert_eq!(stream(&ffprobe(&input), "audio")["channels"], 2);
    let json = r#"{"audio": {"codec": "aac", "channels": 1, "sample_rate": 22050}}"#;
    let result = compress(&input, "complete.oga", json).unwrap();
    let audio = ffprobe(output(&result));
    assert_eq!(stream(&audio, "audio")["channels"], 1);
    assert_eq!(stream(&audio, "audio")["sample_rate"], "22050");
    assert_eq!(result.report.output.name, "complete.m4a");
}

#[test]
fn ogg_vorbis_becomes_opus() {
    let input = media("audio/complete.oga");
    let result = compress(&input, "complete.oga", "{}").unwrap();
    let bytes = output(&result);
    assert!(bytes.len() < input.len());
    assert_eq!(compressor_engine::detect(bytes), Some(Format::Ogg));
    let (before, after) = (ffprobe(&input), ffprobe(bytes));
    assert_eq!(codecs(&after), ["opus"]);
    assert!((duration(&before) - duration(&after)).abs() < 0.1);
    assert_eq!(result.report.input.audio_codec.as_deref(), Some("vorbis"));
    assert_eq!(result.report.output.audio_codec.as_deref(), Some("opus"));
}

#[test]
fn progress_rises_to_the_end_and_cancel_stops() {
    let input = media("video/Megamind.avi");
    let options =
        Options::from_json(r#"{"video": {"compression": "ultra", "resize": {"width": 160, "mode": "auto"}}}"#).unwrap();
    let seen = Mutex::new(Vec::new());
    let never = AtomicBool::new(false);
    let record = |f: f64| seen.lock().unwrap().push(f);
    let control = Control { cancel: &never, progress: &record };
    engine().compress_with(&input, "Megamind.avi", &options, &control).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 10, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(*seen.last().unwrap() >= 0.95, "{seen:?}");

    let cancel = AtomicBool::new(false);
    let calls = Mutex::new(0);
    let stop_early = |f: f64| {
        *calls.lock().unwrap() += 1;
        if f > 0.2 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let control = Control { cancel: &cancel, progress: &stop_early };
    let err = engine().compress_with(&input, "Megamind.avi", &options, &control).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled), "{err}");
    assert!(*calls.lock().unwrap() < 40, "stopped soon after the flag was set");
}

#[test]
fn a_truncated_mp4_is_reported_as_damaged() {
    let input = media("video/vtest.avi");
    let json = r#"{"video": {"compression": "ultra", "resize": {"width": 160, "mode": "auto"}}}"#;
    let result = compress(&input, "vtest.avi", json).unwrap();
    let whole = output(&result);
    engine().verify(whole).unwrap();
    let half = &whole[..whole.len() / 2];
    for err in [compress(half, "cut.mp4", "{}").unwrap_err(), engine().verify(half).unwrap_err()] {
        match &err {
            EngineError::Damaged { reason, .. } | EngineError::Corrupt { reason, .. } => {
                assert!(reason.contains("the MP4 file ends early"), "{reason}");
            }
            other => panic!("expected Damaged, got {other:?}"),
        }
    }
    // Without its index (a recording that never finished) it cannot be read at all.
    let moov = whole.windows(4).position(|w| w == b"moov").unwrap() - 4;
    let mut no_index = whole[..moov].to_vec();
    no_index.extend_from_slice(&whole[moov + u32::from_be_bytes(whole[moov..moov + 4].try_into().unwrap()) as usize..]);
    let err = compress(&no_index, "cut.mp4", "{}").unwrap_err();
    assert!(err.to_string().contains("'moov'"), "{err}");
}

/// A 96×64 test clip whose MP4 track matrix tells players to turn it 90° clockwise.
fn rotated_clip(dir: &Path) -> Vec<u8> {
    let path = dir.join("rotated.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=1"])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    let mut bytes = std::fs::read(&path).unwrap();
    // tkhd: 8-byte header, then 40 bytes of fields before the 3×3 matrix.
    let matrix_at = bytes.windows(4).position(|w| w == b"tkhd").unwrap() - 4 + 48;
    let matrix: [i32; 9] = [0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30];
    for (i, value) in matrix.iter().enumerate() {
        bytes[matrix_at + i * 4..matrix_at + i * 4 + 4].copy_from_slice(&value.to_be_bytes());
    }
    bytes
}

/// The first frame as 8-bit grey, decoded (and auto-rotated) by the ffmpeg CLI.
fn first_frame_grey(bytes: &[u8]) -> Vec<u8> {
    let file = temp_with(bytes);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file.path())
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn rotation_is_applied_to_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let input = rotated_clip(dir.path());
    let probe = ffprobe(&input);
    assert!(probe.to_string().contains("Display Matrix"), "the fixture must carry a rotation");
    let result = compress(&input, "rotated.mp4", r#"{"video": {"format": "mkv"}}"#).unwrap();
    let bytes = output(&result);
    let after = ffprobe(bytes);
    let video = stream(&after, "video");
    assert_eq!((video["width"].as_u64(), video["height"].as_u64()), (Some(64), Some(96)));
    assert!(!after.to_string().contains("Display Matrix"), "upright pixels need no rotation flag");
    assert!(result.report.actions.iter().any(|a| a.contains("90°")), "{:?}", result.report.actions);
    // Same picture as the CLI shows for the original.
    let (shown, ours) = (first_frame_grey(&input), first_frame_grey(bytes));
    assert_eq!(shown.len(), ours.len());
    let difference: f64 =
        shown.iter().zip(&ours).map(|(a, b)| f64::from(a.abs_diff(*b))).sum::<f64>() / shown.len() as f64;
    assert!(difference < 8.0, "mean difference {difference:.1}");
}

#[test]
fn garbage_in_a_media_wrapper_is_a_clear_error() {
    let mut fake = b"RIFF\x24\0\0\0AVI LIST".to_vec();
    fake.resize(4096, 0x5A);
    let err = compress(&fake, "fake.avi", "{}").unwrap_err();
    assert!(matches!(err, EngineError::Corrupt { format: "AVI", .. }), "{err:?}");
    assert!(engine().verify(&fake).is_err());
}

#[test]
fn absurd_dimensions_are_refused_before_decoding() {
    let input = media("video/Megamind.avi");
    let limits = compressor_engine::Limits { max_pixels: 100_000, ..Default::default() };
    compressor_media::install();
    let engine = Engine::new(limits);
    let err = engine.compress(&input, "Megamind.avi", &Options::default()).unwrap_err();
    assert!(matches!(err, EngineError::TooManyPixels { width: 720, height: 528, .. }), "{err:?}");
}

/// A 3-second 128 kbit/s MP3 tone made by the ffmpeg CLI.
fn mp3_tone(dir: &Path) -> Vec<u8> {
    let path = dir.join("tone.mp3");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=3:sample_rate=44100"])
        .args(["-ac", "2", "-b:a", "128k"])
        .arg(&path)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

#[test]
fn an_mp3_stays_an_mp3_and_is_kept_when_a_re_encode_cannot_shrink_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = mp3_tone(dir.path());
    let result = compress(&input, "tone.mp3", "{}").unwrap();
    assert_eq!(result.report.status, Status::Skipped);
    assert!(result.output.is_none());
    assert_eq!(result.report.output, result.report.input);
    assert!(result.report.reason.as_deref().unwrap().contains("already smaller than a re-encode"));

    let result = compress(&input, "tone.mp3", r#"{"audio": {"compression": "ultra"}}"#).unwrap();
    let bytes = output(&result);
    assert!(bytes.len() < input.len());
    assert_eq!(result.report.output.name, "tone.mp3");
    assert_eq!(compressor_engine::detect(bytes), Some(Format::Mp3));
    assert_eq!(codecs(&ffprobe(bytes)), ["mp3"]);
}

#[test]
fn lost_audio_packets_become_silence_so_the_sound_stays_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gappy.mkv");
    // The noise filter drops about one audio packet in four, as a damaged download would.
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=6"])
        .args(["-f", "lavfi", "-i", "sine=duration=6", "-c:v", "libx264", "-c:a", "aac"])
        .args(["-bsf:a", "noise=dropamount=4"])
        .arg(&path)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    let input = std::fs::read(&path).unwrap();
    let result = compress(&input, "gappy.mkv", r#"{"video": {"compression": "ultra", "format": "mp4"}}"#).unwrap();
    assert!(result.report.warnings.iter().any(|w| w.contains("silence")), "{:?}", result.report.warnings);
    let probe = ffprobe(output(&result));
    let length = |kind: &str| stream(&probe, kind)["duration"].as_str().unwrap().parse::<f64>().unwrap();
    assert!(
        (length("audio") - length("video")).abs() < 0.2,
        "audio {} s, video {} s",
        length("audio"),
        length("video")
    );
}

/// `video.max_size`: when the level's CRF makes a bigger file, the duration sets a bitrate
/// that fills the size without passing it; a size no bitrate reaches is an error that says
/// how close it came.
#[test]
fn max_size_fits_a_video_by_its_bitrate_or_says_how_close_it_came() {
    let input = media("video/Megamind.avi");
    let small = r#""compression": "ultra", "resize": {"width": 320, "mode": "auto"}"#;
    let level = compress(&input, "Megamind.avi", &format!(r#"{{"video": {{{small}}}}}"#)).unwrap();
    let level_size = output(&level).len() as u64;
    let limit = level_size * 6 / 10;
    let json = format!(r#"{{"video": {{{small}, "max_size": {limit}}}}}"#);
    let fitted = compress(&input, "Megamind.avi", &json).unwrap();
    let bytes = output(&fitted);
    eprintln!(
        "Megamind.avi at 320 px: {level_size} bytes at the level, {} under {limit}; {:?}",
        bytes.len(),
        fitted.report.actions
    );
    assert!(bytes.len() as u64 <= limit, "{} > {limit}", bytes.len());
    assert!(bytes.len() as u64 > limit * 8 / 10, "{} wastes the budget of {limit}", bytes.len());
    let probe = ffprobe(bytes);
    assert_eq!(codecs(&probe), ["h264", "aac"]);
    assert_eq!(stream(&probe, "video")["width"], 320);
    assert!((duration(&probe) - duration(&ffprobe(&input))).abs() < 0.5);
    assert!(
        fitted.report.actions.iter().any(|a| a.contains("to fit") && a.contains("kbit/s video")),
        "{:?}",
        fitted.report.actions
    );
    engine().verify(bytes).unwrap();

    let json = format!(r#"{{"video": {{{small}, "max_size": 2000}}}}"#);
    match compress(&input, "Megamind.avi", &json) {
        Err(EngineError::OverTargetSize { target, closest, why }) => {
            assert_eq!(target, 2000);
            assert!(closest > 2000 && closest < limit, "{closest}");
            assert!(why.contains("8 kbit/s video") && why.contains("as low as the bitrates go"), "{why}");
        }
        other => panic!("expected OverTargetSize, got {other:?}"),
    }
}

/// `audio.max_size` lowers the bitrate (never raises it) to what the duration allows.
#[test]
fn max_size_lowers_an_audio_bitrate_to_fit() {
    let input = media("audio/Noise.wav");
    let level = output(&compress(&input, "Noise.wav", "{}").unwrap()).len() as u64;
    let limit = level / 2;
    let result = compress(&input, "Noise.wav", &format!(r#"{{"audio": {{"max_size": {limit}}}}}"#)).unwrap();
    let bytes = output(&result);
    eprintln!("Noise.wav: {level} bytes at the level, {} under {limit}; {:?}", bytes.len(), result.report.actions);
    assert!(bytes.len() as u64 <= limit && bytes.len() as u64 > limit / 2, "{} for {limit}", bytes.len());
    assert_eq!(codecs(&ffprobe(bytes)), ["aac"]);
    let roomy = compress(&input, "Noise.wav", &format!(r#"{{"audio": {{"max_size": {}}}}}"#, level * 4)).unwrap();
    assert_eq!(output(&roomy).len() as u64, level, "a roomy size changes nothing");
}
