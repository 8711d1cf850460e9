//! Opening a media file and reading its facts (duration, codecs, size) the way ffprobe does,
//! with damaged containers turned into errors a person understands.

use std::path::Path;

use ffmpeg_next::codec;
use ffmpeg_next::format::{self, context::Input, stream::Disposition};
use ffmpeg_next::media::Type;

use super::geometry::Rotation;
use compressor_engine::EngineError;
use compressor_engine::Format;

/// What the report says about one side.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Facts {
    pub duration: Option<f64>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// FFmpeg's own URL syntax would read a colon in a path as a protocol: say it is a file.
pub(super) fn url(path: &Path) -> Result<String, EngineError> {
    path.to_str()
        .map(|p| format!("file:{p}"))
        .ok_or_else(|| EngineError::Refused(format!("the temporary folder's path is not UTF-8: {}", path.display())))
}

pub(super) fn open(path: &Path, format: Format) -> Result<Input, EngineError> {
    format::input(&url(path)?).map_err(|e| EngineError::Corrupt {
        format: format.name(),
        reason: format!("FFmpeg cannot read the container ({e})"),
    })
}

/// The stream a player would show: the best video stream that is not cover art.
pub(super) fn video_stream(input: &Input) -> Option<usize> {
    let is_picture = |s: &format::stream::Stream| {
        s.parameters().medium() == Type::Video && !s.disposition().contains(Disposition::ATTACHED_PIC)
    };
    match input.streams().best(Type::Video) {
        Some(best) if is_picture(&best) => Some(best.index()),
        _ => input.streams().find(|s| is_picture(s)).map(|s| s.index()),
    }
}

pub(super) fn audio_stream(input: &Input) -> Option<usize> {
    input.streams().best(Type::Audio).map(|s| s.index())
}

/// The clockwise turn a player applies: the display matrix, else the older `rotate` tag.
pub(super) fn rotation(stream: &format::stream::Stream) -> Rotation {
    for side_data in stream.side_data() {
        if side_data.kind() == codec::packet::side_data::Type::DisplayMatrix {
            return Rotation::from_display_matrix(side_data.data());
        }
    }
    let degrees = stream.metadata().get("rotate").and_then(|r| r.trim().parse::<f64>().ok());
    degrees.map(Rotation::from_degrees).unwrap_or(Rotation::None)
}

/// Stored (not displayed) size of a video stream, read from its header before any decoding.
pub(super) fn dimensions(stream: &format::stream::Stream) -> Option<(u32, u32)> {
    let parameters = stream.parameters();
    // SAFETY: `parameters` points at the stream's live AVCodecParameters; only plain ints are read.
    let (width, height) = unsafe { ((*parameters.as_ptr()).width, (*parameters.as_ptr()).height) };
    Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?)).filter(|(w, h)| *w > 0 && *h > 0)
}

/// Pixel aspect ratio (num, den): the container's if it sets one, else the codec's; (0, 1) unknown.
pub(super) fn sample_aspect(stream: &format::stream::Stream) -> (i32, i32) {
    let parameters = stream.parameters();
    // SAFETY: both pointers are the stream's own, alive while `stream` is; plain values are read.
    let (container, codec) =
        unsafe { ((*stream.as_ptr()).sample_aspect_ratio, (*parameters.as_ptr()).sample_aspect_ratio) };
    [container, codec].into_iter().find(|r| r.num > 0 && r.den > 0).map(|r| (r.num, r.den)).unwrap_or((0, 1))
}

/// When the first packet plays, in `AV_TIME_BASE` units: the CLI shifts every stream by it so
/// the output starts at zero.
pub(super) fn start_time(input: &Input) -> i64 {
    // SAFETY: reads one plain field of the open format context.
    let start = unsafe { (*input.as_ptr()).start_time };
    if start == ffmpeg_next::ffi::AV_NOPTS_VALUE {
        0
    } else {
        start
    }
}

/// Seconds, from the container or else the longest stream.
pub(super) fn duration(input: &Input) -> Option<f64> {
    let container = input.duration();
    if container > 0 {
        return Some(container as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE));
    }
    input.streams().filter_map(|s| stream_duration(&s)).reduce(f64::max)
}

/// Seconds, as one stream's own header says; `None` when it does not say.
pub(super) fn stream_duration(stream: &format::stream::Stream) -> Option<f64> {
    (stream.duration() > 0).then(|| stream.duration() as f64 * f64::from(stream.time_base()))
}

pub(super) fn facts(input: &Input) -> Facts {
    let codec_name = |index: Option<usize>| {
        let stream = input.stream(index?)?;
        Some(stream.parameters().id().name().to_string())
    };
    let video = video_stream(input);
    let size = video.and_then(|i| input.stream(i)).and_then(|s| dimensions(&s));
    Facts {
        duration: duration(input),
        video_codec: codec_name(video),
        audio_codec: codec_name(audio_stream(input)),
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
    }
}
