//! What to write for one input and its options: the container, the codecs, their quality
//! (by compression level) and the encoders that provide them.

use ffmpeg_next::codec::Id;

use compressor_engine::options::{
    AudioCodec, AudioOptions, Compression, Resize, VideoCodec, VideoContainer, VideoOptions,
};
use compressor_engine::Format;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Settings {
    pub container: Format,
    pub video: Option<VideoSettings>,
    /// `None` drops the soundtrack.
    pub audio: Option<AudioSettings>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct VideoSettings {
    pub codec: VideoCodec,
    pub rate: VideoRate,
    pub resize: Option<Resize>,
}

/// How the video encoder spends bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum VideoRate {
    /// Constant quality: the level's choice, whatever size it makes.
    Crf(u8),
    /// An average bitrate, to fit a size (`max_size`).
    Kbps(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct AudioSettings {
    pub codec: AudioCodec,
    pub kbps: u32,
    pub channels: Option<u8>,
    pub sample_rate: Option<u32>,
}

/// The FFmpeg side of the codecs the options name: encoder, label, codec id and the levels'
/// qualities. (Traits, because the codec types belong to the engine.)
pub(crate) trait VideoCodecExt {
    fn encoder(self) -> &'static str;
    fn label(self) -> &'static str;
    fn id(self) -> Id;
    fn crf(self, level: Compression) -> u8;
}

pub(crate) trait AudioCodecExt {
    fn encoder(self) -> &'static str;
    fn label(self) -> &'static str;
    fn id(self) -> Id;
    /// kbit/s for a soundtrack beside video.
    fn soundtrack_kbps(self, level: Compression) -> u32;
    /// kbit/s for an audio file, where the sound is the whole point.
    fn music_kbps(self, level: Compression) -> u32;
}

impl VideoCodecExt for VideoCodec {
    fn encoder(self) -> &'static str {
        match self {
            VideoCodec::H264 => "libx264",
            VideoCodec::H265 => "libx265",
            VideoCodec::Vp9 => "libvpx-vp9",
        }
    }

    fn label(self) -> &'static str {
        match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::H265 => "H.265",
            VideoCodec::Vp9 => "VP9",
        }
    }

    fn id(self) -> Id {
        match self {
            VideoCodec::H264 => Id::H264,
            VideoCodec::H265 => Id::HEVC,
            VideoCodec::Vp9 => Id::VP9,
        }
    }

    fn crf(self, level: Compression) -> u8 {
        let table = match self {
            VideoCodec::H264 => [23, 28, 32],
            VideoCodec::H265 => [26, 30, 34],
            VideoCodec::Vp9 => [31, 36, 41],
        };
        table[level_index(level)]
    }
}

impl AudioCodecExt for AudioCodec {
    fn encoder(self) -> &'static str {
        match self {
            AudioCodec::Aac => "aac",
            AudioCodec::Opus => "libopus",
            AudioCodec::Mp3 => "libmp3lame",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AudioCodec::Aac => "AAC",
            AudioCodec::Opus => "Opus",
            AudioCodec::Mp3 => "MP3",
        }
    }

    fn id(self) -> Id {
        match self {
            AudioCodec::Aac => Id::AAC,
            AudioCodec::Opus => Id::OPUS,
            AudioCodec::Mp3 => Id::MP3,
        }
    }

    fn soundtrack_kbps(self, level: Compression) -> u32 {
        let table = match self {
            AudioCodec::Aac | AudioCodec::Mp3 => [128, 96, 64],
            AudioCodec::Opus => [96, 64, 48],
        };
        table[level_index(level)]
    }

    fn music_kbps(self, level: Compression) -> u32 {
        let table = match self {
            AudioCodec::Aac | AudioCodec::Mp3 => [192, 128, 96],
            AudioCodec::Opus => [128, 96, 64],
        };
        table[level_index(level)]
    }
}

fn level_index(level: Compression) -> usize {
    match level {
        Compression::Medium => 0,
        Compression::High => 1,
        Compression::Ultra => 2,
    }
}

/// The muxer FFmpeg should use for an output container.
pub(super) fn muxer(container: Format) -> &'static str {
    match container {
        Format::Mkv => "matroska",
        Format::Webm => "webm",
        Format::M4a => "ipod",
        Format::Ogg => "ogg",
        Format::Mp3 => "mp3",
        _ => "mp4",
    }
}

/// A video file. WebM (VP9 + Opus) when asked for, or for a WebM input that asked for
/// nothing WebM cannot hold; otherwise MP4 with H.264 + AAC.
pub(super) fn for_video(input: Format, options: &VideoOptions) -> Settings {
    let webm_compatible = matches!(options.codec, None | Some(VideoCodec::Vp9))
        && matches!(options.audio_codec, None | Some(AudioCodec::Opus));
    let wants_webm = options.codec == Some(VideoCodec::Vp9) || input == Format::Webm;
    let container = match options.format {
        Some(VideoContainer::Mp4) => Format::Mp4,
        Some(VideoContainer::Mkv) => Format::Mkv,
        Some(VideoContainer::Webm) => Format::Webm,
        None if wants_webm && webm_compatible => Format::Webm,
        None => Format::Mp4,
    };
    let webm = container == Format::Webm;
    let codec = options.codec.unwrap_or(if webm { VideoCodec::Vp9 } else { VideoCodec::H264 });
    let audio_codec = options.audio_codec.unwrap_or(if webm { AudioCodec::Opus } else { AudioCodec::Aac });
    Settings {
        container,
        video: Some(VideoSettings {
            codec,
            rate: VideoRate::Crf(codec.crf(options.compression)),
            resize: options.resize,
        }),
        audio: (!options.mute).then(|| AudioSettings {
            codec: audio_codec,
            kbps: audio_codec.soundtrack_kbps(options.compression),
            channels: None,
            sample_rate: None,
        }),
    }
}

/// An audio file (or a video container holding only sound). A user with an MP3 expects an
/// MP3 and Vorbis becomes Opus; the rest becomes AAC in M4A.
pub(super) fn for_audio(input: Format, options: &AudioOptions) -> Settings {
    let codec = options.codec.unwrap_or(match input {
        Format::Mp3 => AudioCodec::Mp3,
        Format::Ogg | Format::Webm => AudioCodec::Opus,
        _ => AudioCodec::Aac,
    });
    let container = match codec {
        AudioCodec::Aac => Format::M4a,
        AudioCodec::Opus => Format::Ogg,
        AudioCodec::Mp3 => Format::Mp3,
    };
    Settings {
        container,
        video: None,
        audio: Some(AudioSettings {
            codec,
            kbps: options.bitrate.unwrap_or_else(|| codec.music_kbps(options.compression)),
            channels: options.channels,
            sample_rate: options.sample_rate,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(json: &str) -> VideoOptions {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn video_defaults_follow_the_input() {
        let s = for_video(Format::Avi, &VideoOptions::default());
        assert_eq!((s.container, s.video.unwrap().rate), (Format::Mp4, VideoRate::Crf(28)));
        assert_eq!(s.audio.unwrap().codec, AudioCodec::Aac);
        let s = for_video(Format::Webm, &VideoOptions::default());
        assert_eq!((s.container, s.video.unwrap().codec), (Format::Webm, VideoCodec::Vp9));
        assert_eq!(s.audio.unwrap().codec, AudioCodec::Opus);
        // A WebM input asked for H.264 cannot stay WebM.
        let s = for_video(Format::Webm, &video(r#"{"codec": "h264"}"#));
        assert_eq!(s.container, Format::Mp4);
        let s = for_video(Format::Mp4, &video(r#"{"compression": "ultra", "codec": "h265", "mute": true}"#));
        assert_eq!((s.container, s.video.unwrap().rate, s.audio), (Format::Mp4, VideoRate::Crf(34), None));
    }

    #[test]
    fn audio_defaults_follow_the_input() {
        let default = AudioOptions::default();
        assert_eq!(for_audio(Format::Mp3, &default).container, Format::Mp3);
        assert_eq!(for_audio(Format::Ogg, &default).container, Format::Ogg);
        let s = for_audio(Format::Wav, &default);
        assert_eq!((s.container, s.audio.unwrap().kbps), (Format::M4a, 128));
        let options: AudioOptions = serde_json::from_str(r#"{"codec": "opus", "bitrate": 40}"#).unwrap();
        assert_eq!(for_audio(Format::Flac, &options).audio.unwrap().kbps, 40);
    }
}
