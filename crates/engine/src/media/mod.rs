//! Video and audio through the system's FFmpeg (ffmpeg-next): video re-encoded to H.264,
//! H.265 or VP9 (scaled, upright), soundtracks and audio files to AAC, Opus or MP3.
//!
//! FFmpeg works on files here: ffmpeg-next has no safe in-memory I/O (its custom AVIO
//! callbacks need `unsafe` glue and seeking, which MP4 muxing with `faststart` relies on),
//! so the input goes to a temporary file and the output is read back from another one.

mod audio;
mod fifo;
mod fit;
mod geometry;
mod picture;
mod probe;
mod progress;
mod settings;
mod transcode;
mod verify;
mod video;

use std::io::Write;
use std::sync::OnceLock;

use tempfile::NamedTempFile;

use crate::detect::{Format, Kind};
use crate::error::EngineError;
use crate::options::Options;
use crate::report::FileFacts;
use crate::{output_name, Compressed, Control, Limits};

pub(crate) fn compress(
    input: &[u8],
    name: &str,
    format: Format,
    options: &Options,
    limits: &Limits,
    control: &Control,
) -> Result<Compressed, EngineError> {
    start_ffmpeg()?;
    probe::check_complete(input, format)?;
    let source = temp_file(format.extension(), Some(input))?;
    let context = probe::open(source.path(), format)?;
    let input_media = probe::facts(&context);
    let is_video = format.kind() == Kind::Video && probe::video_stream(&context).is_some();
    drop(context);
    let (settings, max_size) = if is_video {
        (settings::for_video(format, &options.video), options.video.max_size)
    } else {
        (settings::for_audio(format, &options.audio), options.audio.max_size)
    };
    let encode_with = |settings: &settings::Settings| encode(source.path(), format, settings, limits, control);
    let (mut output, mut outcome, mut output_media) = encode_with(&settings)?;
    let explicit = outcome.reshaped || asks_for_a_change(format, options, &settings, &input_media, outcome.had_audio);
    // An input that already fits is kept by the size check below unless a change was asked for.
    if let Some(limit) =
        max_size.filter(|&limit| output.len() as u64 > limit && (explicit || input.len() as u64 > limit))
    {
        let seconds = input_media.duration.filter(|&d| d > 0.0).ok_or_else(|| EngineError::OverTargetSize {
            target: limit,
            closest: output.len() as u64,
            why: "the duration is unknown, so no bitrate can be derived from the size".into(),
        })?;
        // No budget for a soundtrack the input does not have.
        let mut level = settings.clone();
        if !outcome.had_audio {
            level.audio = None;
        }
        let mut squeeze = 1.0;
        if fit::bitrates_for(&level, limit, seconds, squeeze) == level {
            squeeze = fit::squeeze_below_level(&level, limit, seconds, output.len());
        }
        let (mut closest, mut tried) = (output.len(), Vec::<settings::Settings>::new());
        let fitted = loop {
            let fitted = fit::bitrates_for(&level, limit, seconds, squeeze);
            let at_the_floors = fitted == level || tried.contains(&fitted);
            if at_the_floors || tried.len() == fit::MAX_FIT_ATTEMPTS {
                let last = tried.last().map_or_else(|| fit::describe(&fitted), fit::describe);
                let why = if at_the_floors {
                    format!("{last} for {seconds:.1} s is as low as the bitrates go")
                } else {
                    let hint = if is_video { "a smaller resize" } else { "mono or a lower sample rate" };
                    format!("{last} for {seconds:.1} s; {hint} would take fewer bits")
                };
                return Err(EngineError::OverTargetSize { target: limit, closest: closest as u64, why });
            }
            let attempt = encode_with(&fitted)?;
            tried.push(fitted.clone());
            closest = closest.min(attempt.0.len());
            if attempt.0.len() as u64 <= limit {
                break attempt;
            }
            squeeze = fit::next_squeeze(squeeze, limit, attempt.0.len());
        };
        (output, outcome, output_media) = fitted;
        outcome.actions.push(format!(
            "bitrate set from the {seconds:.1} s duration to fit {limit} bytes ({} encodes: {})",
            tried.len() + 1,
            tried.iter().map(fit::describe).collect::<Vec<_>>().join(", then ")
        ));
    }
    let target = settings.container;

    let mut input_facts = describe(name, format, input, &input_media);
    if format.kind() == Kind::Audio {
        // Cover art is not what the file is about.
        (input_facts.width, input_facts.height) = (None, None);
    }
    let transcode::Outcome { actions, warnings, .. } = outcome;
    if output.len() >= input.len() && !explicit {
        let reason = format!("already smaller than a re-encode ({} bytes)", output.len());
        return Ok(Compressed::skipped(input_facts, reason, actions, warnings));
    }
    let mut output_facts = describe(&output_name(name, format, target), target, &output, &output_media);
    if outcome.dimensions.is_none() {
        (output_facts.width, output_facts.height) = (None, None);
    }
    Ok(Compressed::written(input_facts, output_facts, output, actions, warnings))
}

/// One transcode of the file at `source` with `settings`: the output's bytes, what was done,
/// and the output's facts as a probe reads them.
fn encode(
    source: &std::path::Path,
    format: Format,
    settings: &settings::Settings,
    limits: &Limits,
    control: &Control,
) -> Result<(Vec<u8>, transcode::Outcome, probe::Facts), EngineError> {
    let mut context = probe::open(source, format)?;
    let target = settings.container;
    let destination = temp_file(target.extension(), None)?;
    let outcome = transcode::run(&mut context, format, destination.path(), settings, limits, control)?;
    drop(context);
    let output = std::fs::read(destination.path())
        .map_err(|e| EngineError::Encode { format: target.name(), reason: format!("reading the result back: {e}") })?;
    let facts = probe::facts(&probe::open(destination.path(), target)?);
    Ok((output, outcome, facts))
}

pub(crate) fn verify(bytes: &[u8], format: Format, limits: &Limits) -> Result<(), EngineError> {
    start_ffmpeg()?;
    probe::check_complete(bytes, format)?;
    let file = temp_file(format.extension(), Some(bytes))?;
    let mut context = probe::open(file.path(), format)?;
    verify::decode_all(&mut context, format, limits)
}

/// A user who named a container or codec other than the input's, or asked to drop the
/// sound, wants that file even if it is larger.
fn asks_for_a_change(
    format: Format,
    options: &Options,
    settings: &settings::Settings,
    input: &probe::Facts,
    had_audio: bool,
) -> bool {
    let differs = |asked: ffmpeg_next::codec::Id, current: &Option<String>| current.as_deref() != Some(asked.name());
    if let Some(video) = &settings.video {
        let v = &options.video;
        v.format.is_some() && settings.container != format
            || v.codec.is_some() && differs(video.codec.id(), &input.video_codec)
            || v.audio_codec.is_some_and(|c| differs(c.id(), &input.audio_codec))
            || v.mute && had_audio
    } else {
        options.audio.codec.is_some_and(|c| differs(c.id(), &input.audio_codec))
    }
}

fn describe(name: &str, format: Format, bytes: &[u8], media: &probe::Facts) -> FileFacts {
    let dimensions = media.width.zip(media.height);
    let mut facts = FileFacts::describe(name, format, bytes, dimensions);
    facts.duration = media.duration;
    facts.video_codec = media.video_codec.clone();
    facts.audio_codec = media.audio_codec.clone();
    facts.bitrate = media.duration.filter(|d| *d > 0.0).map(|d| (bytes.len() as f64 * 8.0 / d).round() as u64);
    facts
}

/// FFmpeg's one-time setup; its own log lines are silenced because every failure reaches
/// the user as an `EngineError` instead.
fn start_ffmpeg() -> Result<(), EngineError> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            ffmpeg_next::init().map_err(|e| e.to_string())?;
            ffmpeg_next::log::set_level(ffmpeg_next::log::Level::Quiet);
            Ok(())
        })
        .clone()
        .map_err(|e| EngineError::Unavailable(format!("video and audio (FFmpeg failed to start: {e})")))
}

fn temp_file(extension: &str, contents: Option<&[u8]>) -> Result<NamedTempFile, EngineError> {
    let failed = |e: std::io::Error| EngineError::Refused(format!("cannot write a temporary file for FFmpeg: {e}"));
    let mut file =
        tempfile::Builder::new().prefix("compressor-").suffix(&format!(".{extension}")).tempfile().map_err(failed)?;
    if let Some(bytes) = contents {
        file.write_all(bytes).and_then(|()| file.flush()).map_err(failed)?;
    }
    Ok(file)
}

/// A decoder for `stream`, still to be opened as video or audio.
pub(super) fn decoder_for(stream: &ffmpeg_next::Stream) -> Result<ffmpeg_next::decoder::Decoder, EngineError> {
    let mut context = ffmpeg_next::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| ffmpeg_failed("media", "reading the stream parameters", e))?;
    // Frame threads, as the ffmpeg CLI uses: most of the decoding speed on small machines.
    context.set_threading(ffmpeg_next::threading::Config::kind(ffmpeg_next::threading::Type::Frame));
    let mut decoder = context.decoder();
    // Frames then carry timestamps in the stream's own time base.
    decoder.set_packet_time_base(stream.time_base());
    Ok(decoder)
}

pub(super) fn cannot_decode(stream: &ffmpeg_next::Stream, error: ffmpeg_next::Error) -> EngineError {
    let codec = stream.parameters().id();
    let kind = match codec.medium() {
        ffmpeg_next::media::Type::Video => "video",
        ffmpeg_next::media::Type::Audio => "audio",
        _ => "stream",
    };
    EngineError::Unsupported(format!("{} {kind} (this system's FFmpeg cannot decode it: {error})", codec.name()))
}

/// An FFmpeg call that failed while producing `what` ("video", "audio", a container name).
pub(super) fn ffmpeg_failed(what: &'static str, doing: &str, error: ffmpeg_next::Error) -> EngineError {
    EngineError::Encode { format: what, reason: format!("{doing}: {error}") }
}

/// "Try again after the other side has been drained" from send/receive calls.
pub(super) fn is_again(error: &ffmpeg_next::Error) -> bool {
    matches!(error, ffmpeg_next::Error::Other { errno } if *errno == ffmpeg_next::error::EAGAIN)
}
