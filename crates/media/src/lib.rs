//! Video and audio through the system's FFmpeg (ffmpeg-next): video re-encoded to H.264,
//! H.265 or VP9 (scaled, upright), soundtracks and audio files to AAC, Opus or MP3.
//!
//! The engine reaches this crate through its `MediaCodec` trait: the desktop app links it and
//! calls [`install`]; the CLI opens it as `libcompressor_media.so` on its first video or
//! audio file, so that FFmpeg's libraries load only when needed (see the engine's
//! `media` module).
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
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use compressor_engine::media::MediaCodec;
use compressor_engine::options::{DamagedInput, Options};
use compressor_engine::{output_name, Compressed, Control, EngineError, FileFacts, Format, Kind, Limits};
use tempfile::NamedTempFile;

use settings::{AudioCodecExt, VideoCodecExt};

/// Video and audio compression with FFmpeg.
pub struct Ffmpeg;

static FFMPEG: Ffmpeg = Ffmpeg;

/// Makes FFmpeg this process's video and audio support (the desktop app, tests).
pub fn install() {
    compressor_engine::media::install(&FFMPEG);
}

impl MediaCodec for Ffmpeg {
    fn compress(
        &self,
        input: &[u8],
        name: &str,
        format: Format,
        options: &Options,
        limits: &Limits,
        control: &Control,
    ) -> Result<Compressed, EngineError> {
        contained(|| compress(input, name, format, options, limits, control))
    }

    fn verify(&self, bytes: &[u8], format: Format, limits: &Limits) -> Result<(), EngineError> {
        contained(|| verify(bytes, format, limits))
    }
}

/// A panic must not unwind out of the loaded module into the program (each has its own
/// copy of the standard library): it becomes an error here. (The program's progress
/// callback must not panic for the same reason: see `Control::progress`.)
fn contained<T>(work: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message =
            compressor_engine::contain::panic_message(payload.as_ref()).unwrap_or_else(|| "unknown panic".into());
        Err(EngineError::Encode {
            format: "media",
            reason: format!("video and audio processing failed unexpectedly: {message}"),
        })
    })
}

/// The module's entry points, looked up by name when the engine opens it. First the engine
/// build it was compiled against: a C function, so that the engine can check it whatever
/// compiler built this library.
#[no_mangle]
pub extern "C" fn compressor_media_build() -> *const std::ffi::c_char {
    compressor_engine::media::BUILD.as_ptr()
}

/// Then, once the builds match, the codec.
#[no_mangle]
pub fn compressor_media_codec() -> &'static dyn MediaCodec {
    &FFMPEG
}

fn compress(
    input: &[u8],
    name: &str,
    format: Format,
    options: &Options,
    limits: &Limits,
    control: &Control,
) -> Result<Compressed, EngineError> {
    start_ffmpeg()?;
    let source = temp_file(format.extension(), Some(input))?;
    let context = probe::open(source.path(), format)?;
    let input_media = probe::facts(&context);
    let is_video = format.kind() == Kind::Video && probe::video_stream(&context).is_some();
    let (settings, max_size) = if is_video {
        (settings::for_video(format, &options.video), options.video.max_size)
    } else {
        (settings::for_audio(format, &options.audio), options.audio.max_size)
    };
    // The first encode reads the context the facts came from; later ones open the file again.
    let mut opened = Some(context);
    let mut encode_with = |settings: &settings::Settings| {
        let context = match opened.take() {
            Some(context) => context,
            None => probe::open(source.path(), format)?,
        };
        encode(context, format, settings, limits, control)
    };
    let mut kept = encode_with(&settings)?;
    // What the first pass showed (packets that stop short of the declared duration): the
    // input, not an encode, is damaged, so later encodes for `max_size` are not asked again.
    let damage = kept.outcome.damage.take();
    if let Some(reason) = &damage {
        if options.damaged == DamagedInput::Refuse {
            return Err(EngineError::Damaged { reason: reason.clone(), salvageable: true });
        }
    }
    let explicit =
        kept.outcome.reshaped || asks_for_a_change(format, options, &settings, &input_media, kept.outcome.had_audio);
    // An input that already fits is kept by the size check below unless a change was asked for.
    if let Some(limit) =
        max_size.filter(|&limit| kept.bytes.len() as u64 > limit && (explicit || input.len() as u64 > limit))
    {
        // No budget for a soundtrack the input does not have.
        let mut level = settings.clone();
        if !kept.outcome.had_audio {
            level.audio = None;
        }
        let shrink_hint = if is_video { "a smaller resize" } else { "mono or a lower sample rate" };
        let request = fit::Request { level: &level, limit, duration: input_media.duration, shrink_hint };
        let fitted = fit::to_size(request, kept.bytes.len(), &mut encode_with, |encoded| encoded.bytes.len())?;
        kept = fitted.encoded;
        kept.outcome.actions.push(fitted.action);
    }
    let target = settings.container;
    // Only the kept output is probed: its facts go into the report.
    let output_media = probe::facts(&probe::open(kept.file.path(), target)?);
    let Encoded { bytes: output, outcome, .. } = kept;

    let mut input_facts = describe(name, format, input, &input_media);
    if format.kind() == Kind::Audio {
        // Cover art is not what the file is about.
        (input_facts.width, input_facts.height) = (None, None);
    }
    let transcode::Outcome { actions, warnings, .. } = outcome;
    let mut result = if output.len() >= input.len() && !explicit {
        let reason = format!("already smaller than a re-encode ({} bytes)", output.len());
        Compressed::skipped(input_facts, reason, actions, warnings)
    } else {
        let mut output_facts = describe(&output_name(name, format, target), target, &output, &output_media);
        if outcome.dimensions.is_none() {
            (output_facts.width, output_facts.height) = (None, None);
        }
        Compressed::written(input_facts, output_facts, output, actions, warnings)
    };
    if let Some(reason) = damage {
        result.report.mark_damaged(reason);
    }
    Ok(result)
}

/// One transcode's result: the output's bytes, the temporary file they were read from (kept
/// for probing), and what was done.
struct Encoded {
    bytes: Vec<u8>,
    file: NamedTempFile,
    outcome: transcode::Outcome,
}

/// One transcode of the opened input with `settings`.
fn encode(
    mut context: ffmpeg_next::format::context::Input,
    format: Format,
    settings: &settings::Settings,
    limits: &Limits,
    control: &Control,
) -> Result<Encoded, EngineError> {
    let target = settings.container;
    let file = temp_file(target.extension(), None)?;
    let outcome = transcode::run(&mut context, format, file.path(), settings, limits, control)?;
    drop(context);
    let bytes = std::fs::read(file.path())
        .map_err(|e| EngineError::Encode { format: target.name(), reason: format!("reading the result back: {e}") })?;
    Ok(Encoded { bytes, file, outcome })
}

fn verify(bytes: &[u8], format: Format, limits: &Limits) -> Result<(), EngineError> {
    start_ffmpeg()?;
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
pub(crate) fn decoder_for(stream: &ffmpeg_next::Stream) -> Result<ffmpeg_next::decoder::Decoder, EngineError> {
    let mut context = ffmpeg_next::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| ffmpeg_failed("media", "reading the stream parameters", e))?;
    // Frame threads, as the ffmpeg CLI uses: most of the decoding speed on small machines.
    context.set_threading(ffmpeg_next::threading::Config::kind(ffmpeg_next::threading::Type::Frame));
    let mut decoder = context.decoder();
    // Frames then carry timestamps in the stream's own time base.
    decoder.set_packet_time_base(stream.time_base());
    Ok(decoder)
}

pub(crate) fn cannot_decode(stream: &ffmpeg_next::Stream, error: ffmpeg_next::Error) -> EngineError {
    let codec = stream.parameters().id();
    let kind = match codec.medium() {
        ffmpeg_next::media::Type::Video => "video",
        ffmpeg_next::media::Type::Audio => "audio",
        _ => "stream",
    };
    EngineError::Unsupported(format!("{} {kind} (this system's FFmpeg cannot decode it: {error})", codec.name()))
}

/// An FFmpeg call that failed while producing `what` ("video", "audio", a container name).
pub(crate) fn ffmpeg_failed(what: &'static str, doing: &str, error: ffmpeg_next::Error) -> EngineError {
    EngineError::Encode { format: what, reason: format!("{doing}: {error}") }
}

/// "Try again after the other side has been drained" from send/receive calls.
pub(crate) fn is_again(error: &ffmpeg_next::Error) -> bool {
    matches!(error, ffmpeg_next::Error::Other { errno } if *errno == ffmpeg_next::error::EAGAIN)
}
