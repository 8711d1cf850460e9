//! `max_size` for video and audio: the bitrates a duration allows for a size, and how much
//! to squeeze them again when an encoder's average lands above its target.

use super::settings::{Settings, VideoRate};

/// Encodes at most, after the level's: encoders hit an average bitrate within a few percent
/// over a whole file, so a second correction is rare and a third is a last resort.
pub(super) const MAX_FIT_ATTEMPTS: usize = 3;

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

/// `settings` with bitrates that should make `seconds` of media fit in `max_size` bytes.
/// `squeeze` (1 at first) scales the budget down after an attempt came out too big. Bitrates
/// are only ever lowered: audio keeps the level's (or asked) bitrate when the budget allows more.
pub(super) fn bitrates_for(settings: &Settings, max_size: u64, seconds: f64, squeeze: f64) -> Settings {
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
pub(super) fn squeeze_below_level(level: &Settings, max_size: u64, seconds: f64, actual: usize) -> f64 {
    let level_kbps = level.audio.as_ref().map_or(0.0, |audio| f64::from(audio.kbps));
    next_squeeze(level_kbps / budget_kbps(max_size, seconds).max(f64::MIN_POSITIVE), max_size, actual)
}

/// The squeeze for the next attempt after one made `actual` bytes against `max_size`: the
/// overshoot's ratio, with 3 % to spare.
pub(super) fn next_squeeze(squeeze: f64, max_size: u64, actual: usize) -> f64 {
    squeeze * max_size as f64 / actual.max(1) as f64 * 0.97
}

/// The bitrates an attempt used, for the report: "812 kbit/s video + 64 kbit/s audio".
pub(super) fn describe(settings: &Settings) -> String {
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
    use crate::detect::Format;
    use crate::media::settings::{AudioSettings, VideoSettings};
    use crate::options::{AudioCodec, VideoCodec};

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

    #[test]
    fn an_overshoot_squeezes_by_its_ratio_with_a_margin() {
        assert!((next_squeeze(1.0, 1000, 1100) - 0.97 * 1000.0 / 1100.0).abs() < 1e-12);
    }
}
