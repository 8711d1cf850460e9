//! `max_size` for video and audio: the bitrates a duration allows for a size, and how much
//! to squeeze them again when an encoder's average lands above its target.

use super::settings::{Settings, VideoRate};
use compressor_engine::EngineError;

/// Encodes at most, after the level's: encoders hit an average bitrate within a few percent
/// over a whole file, so a second correction is rare and a third is a last resort.
const MAX_FIT_ATTEMPTS: usize = 3;

/// Container bytes besides the streams: headers and the index, plus per-packet framing as a
/// share. MP4 and Matroska took under 2 % on the test clips; 3 % leaves the encoder a margin.
const CONTAINER_BYTES: f64 = 4096.0;
const CONTAINER_SHARE: f64 = 0.03;
/// A soundtrack keeps at most this share of a video's budget, and never less than
/// [`SOUNDTRACK_FLOOR_KBPS`] (speech stays intelligible there in AAC and Opus).
const SOUNDTRACK_SHARE: f64 = 0.25;
const SOUNDTRACK_FLOOR_KBPS: f64 = 24.0;
/// The lowest bitrates asked of an encoder; what they make is reported if it still does not fit.
const VIDEO_FLOOR_KBPS: f64 = 8.0;
const AUDIO_FLOOR_KBPS: f64 = 8.0;

/// What a size is asked of: the level's settings (without sound the input lacks), the size,
/// the input's duration, and what the user could change when even the floors do not fit.
pub(super) struct Request<'a> {
    pub level: &'a Settings,
    pub limit: u64,
    pub duration: Option<f64>,
    pub shrink_hint: &'a str,
}

/// An encode that fits, and the report line saying how it was reached.
#[derive(Debug)]
pub(super) struct Fitted<E> {
    pub encoded: E,
    pub action: String,
}

/// `max_size` once the level's encode (`level_size` bytes) was too big: encodes again at
/// bitrates the duration allows, squeezed by each attempt's overshoot, until one fits. Fails
/// with the closest size when the bitrates reach their floors or the attempts run out.
pub(super) fn to_size<E>(
    request: Request,
    level_size: usize,
    mut encode: impl FnMut(&Settings) -> Result<E, EngineError>,
    size_of: impl Fn(&E) -> usize,
) -> Result<Fitted<E>, EngineError> {
    let Request { level, limit, duration, shrink_hint } = request;
    let over =
        |closest: usize, why: String| EngineError::OverTargetSize { target: limit, closest: closest as u64, why };
    let seconds = duration.filter(|&d| d > 0.0).ok_or_else(|| {
        over(level_size, "the duration is unknown, so no bitrate can be derived from the size".into())
    })?;
    let mut squeeze = 1.0;
    if bitrates_for(level, limit, seconds, squeeze) == *level {
        squeeze = squeeze_below_level(level, limit, seconds, level_size);
    }
    let (mut closest, mut tried) = (level_size, Vec::<Settings>::new());
    loop {
        let fitted = bitrates_for(level, limit, seconds, squeeze);
        let at_the_floors = fitted == *level || tried.contains(&fitted);
        if at_the_floors || tried.len() == MAX_FIT_ATTEMPTS {
            let last = tried.last().map_or_else(|| describe(&fitted), describe);
            let why = if at_the_floors {
                format!("{last} for {seconds:.1} s is as low as the bitrates go")
            } else {
                format!("{last} for {seconds:.1} s; {shrink_hint} would take fewer bits")
            };
            return Err(over(closest, why));
        }
        let encoded = encode(&fitted)?;
        let size = size_of(&encoded);
        tried.push(fitted);
        closest = closest.min(size);
        if size as u64 <= limit {
            let action = format!(
                "bitrate set from the {seconds:.1} s duration to fit {limit} bytes ({} encodes: {})",
                tried.len() + 1,
                tried.iter().map(describe).collect::<Vec<_>>().join(", then ")
            );
            return Ok(Fitted { encoded, action });
        }
        squeeze = next_squeeze(squeeze, limit, size);
    }
}

/// `settings` with bitrates that should make `seconds` of media fit in `max_size` bytes.
/// `squeeze` (1 at first) scales the budget down after an attempt came out too big. Bitrates
/// are only ever lowered: audio keeps the level's (or asked) bitrate when the budget allows more.
fn bitrates_for(settings: &Settings, max_size: u64, seconds: f64, squeeze: f64) -> Settings {
    let total_kbps = budget_kbps(max_size, seconds) * squeeze;
    let mut fitted = settings.clone();
    match fitted.video.as_mut() {
        Some(video) => {
            let audio_kbps = match fitted.audio.as_mut() {
                Some(audio) => {
                    let share = (total_kbps * SOUNDTRACK_SHARE).max(SOUNDTRACK_FLOOR_KBPS);
                    audio.kbps = audio.kbps.min(share.round() as u32);
                    f64::from(audio.kbps)
                }
                None => 0.0,
            };
            video.rate = VideoRate::Kbps((total_kbps - audio_kbps).max(VIDEO_FLOOR_KBPS).round() as u32);
        }
        None => {
            if let Some(audio) = fitted.audio.as_mut() {
                audio.kbps = audio.kbps.min(total_kbps.max(AUDIO_FLOOR_KBPS).round() as u32);
            }
        }
    }
    fitted
}

/// All the kbit/s that `seconds` of media may take to fit `max_size` bytes.
fn budget_kbps(max_size: u64, seconds: f64) -> f64 {
    let payload = (max_size as f64 - CONTAINER_BYTES).max(0.0) * (1.0 - CONTAINER_SHARE);
    payload * 8.0 / seconds / 1000.0
}

/// The first squeeze when the budget alone would not lower the level's bitrate (sound alone,
/// whose bitrate is only ever lowered, overshooting by its container): the level's own
/// bitrate scaled down by its overshoot.
fn squeeze_below_level(level: &Settings, max_size: u64, seconds: f64, actual: usize) -> f64 {
    let level_kbps = level.audio.as_ref().map_or(0.0, |audio| f64::from(audio.kbps));
    next_squeeze(level_kbps / budget_kbps(max_size, seconds).max(f64::MIN_POSITIVE), max_size, actual)
}

/// The squeeze for the next attempt after one made `actual` bytes against `max_size`: the
/// overshoot's ratio, with 3 % to spare.
fn next_squeeze(squeeze: f64, max_size: u64, actual: usize) -> f64 {
    squeeze * max_size as f64 / actual.max(1) as f64 * 0.97
}

/// The bitrates an attempt used, for the report: "812 kbit/s video + 64 kbit/s audio".
fn describe(settings: &Settings) -> String {
    let video = settings.video.as_ref().map(|v| match v.rate {
        VideoRate::Kbps(kbps) => format!("{kbps} kbit/s video"),
        VideoRate::Crf(crf) => format!("CRF {crf} video"),
    });
    let audio = settings.audio.as_ref().map(|a| format!("{} kbit/s audio", a.kbps));
    [video, audio].into_iter().flatten().collect::<Vec<_>>().join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{AudioSettings, VideoSettings};
    use compressor_engine::options::{AudioCodec, VideoCodec};
    use compressor_engine::Format;

    fn video_with_sound(audio_kbps: u32) -> Settings {
        Settings {
            container: Format::Mp4,
            video: Some(VideoSettings { codec: VideoCodec::H264, rate: VideoRate::Crf(28), resize: None }),
            audio: Some(AudioSettings { codec: AudioCodec::Aac, kbps: audio_kbps, channels: None, sample_rate: None }),
        }
    }

    fn kbps(settings: &Settings) -> (u32, u32) {
        let video = match settings.video.as_ref().map(|v| v.rate) {
            Some(VideoRate::Kbps(kbps)) => kbps,
            other => panic!("no video bitrate: {other:?}"),
        };
        (video, settings.audio.as_ref().map_or(0, |a| a.kbps))
    }

    #[test]
    fn the_budget_covers_both_streams_and_the_container() {
        // 10 s in 1,000,000 bytes: 4 KB of headers, 3 % framing, 772.6 kbit/s in all.
        let (video, audio) = kbps(&bitrates_for(&video_with_sound(96), 1_000_000, 10.0, 1.0));
        assert_eq!(audio, 96, "the level's soundtrack fits in a quarter");
        assert_eq!(video, 677);
        let bytes = f64::from(video + audio) * 1000.0 / 8.0 * 10.0;
        assert!(bytes < 1_000_000.0 * 0.97, "{bytes}");
    }

    #[test]
    fn a_tight_budget_takes_sound_down_to_its_floor_and_video_to_the_rest() {
        let (video, audio) = kbps(&bitrates_for(&video_with_sound(128), 100_000, 10.0, 1.0));
        assert_eq!(audio, 24);
        assert_eq!(video, 50);
        let squeezed = kbps(&bitrates_for(&video_with_sound(128), 100_000, 10.0, 0.5));
        assert!(squeezed.0 < video && squeezed.1 == 24, "{squeezed:?}");
    }

    #[test]
    fn audio_alone_is_only_ever_lowered() {
        let music = Settings {
            container: Format::M4a,
            video: None,
            audio: Some(AudioSettings { codec: AudioCodec::Aac, kbps: 128, channels: None, sample_rate: None }),
        };
        let audio_kbps = |size: u64| bitrates_for(&music, size, 60.0, 1.0).audio.map(|a| a.kbps);
        assert_eq!(audio_kbps(10_000_000), Some(128));
        assert_eq!(audio_kbps(500_000), Some(64));
        assert_eq!(audio_kbps(1_000), Some(8));
    }

    /// An encoder that lands `overshoot` times over its bitrates for 10 s, with 2 KB of container.
    fn encoder(
        overshoot: f64,
        calls: &mut Vec<(u32, u32)>,
    ) -> impl FnMut(&Settings) -> Result<usize, EngineError> + '_ {
        move |settings| {
            let (video, audio) = kbps(settings);
            calls.push((video, audio));
            Ok((f64::from(video + audio) * 1000.0 / 8.0 * 10.0 * overshoot) as usize + 2048)
        }
    }

    fn request(level: &Settings, limit: u64) -> Request<'_> {
        Request { level, limit, duration: Some(10.0), shrink_hint: "a smaller resize" }
    }

    #[test]
    fn an_encoder_that_overshoots_is_squeezed_until_it_fits() {
        let level = video_with_sound(128);
        let mut calls = Vec::new();
        let fitted = to_size(request(&level, 300_000), 900_000, encoder(1.08, &mut calls), |&size| size)
            .expect("fits on a retry");
        assert!(fitted.encoded <= 300_000 && fitted.encoded > 250_000, "{}", fitted.encoded);
        assert_eq!(calls.len(), 2, "one overshoot, one squeeze: {calls:?}");
        assert!(calls[1].0 < calls[0].0, "the video bitrate came down: {calls:?}");
        assert!(fitted.action.contains("(3 encodes: "), "{}", fitted.action);
    }

    #[test]
    fn a_size_under_the_floors_fails_with_the_closest_size() {
        let level = video_with_sound(128);
        let mut calls = Vec::new();
        let error = to_size(request(&level, 5_000), 900_000, encoder(1.0, &mut calls), |&size| size)
            .expect_err("8 + 24 kbit/s take 40 KB in 10 s");
        match error {
            EngineError::OverTargetSize { target, closest, why } => {
                assert_eq!(target, 5_000);
                assert_eq!(closest, 42_048, "the floors' encode");
                assert!(why.contains("as low as the bitrates go"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(calls, [(8, 24)], "the floors are encoded once");
    }

    #[test]
    fn without_a_duration_there_is_no_bitrate_to_derive() {
        let level = video_with_sound(128);
        let unknown = Request { duration: None, ..request(&level, 300_000) };
        let error = to_size(unknown, 900_000, |_: &Settings| -> Result<usize, EngineError> { unreachable!() }, |&s| s)
            .expect_err("no duration");
        assert!(error.to_string().contains("duration is unknown"), "{error}");
    }

    #[test]
    fn an_overshoot_squeezes_by_its_ratio_with_a_margin() {
        assert!((next_squeeze(1.0, 1000, 1100) - 0.97 * 1000.0 / 1100.0).abs() < 1e-12);
    }
}
