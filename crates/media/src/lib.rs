//! Video and audio through the system's FFmpeg (ffmpeg-next): video re-encoded to H.264,
//! H.265 or VP9 (scaled, upright), soundtracks and audio files to AAC, Opus or MP3.
//!
//! This crate runs in `compressor-media-worker` (src/bin), a child process the engine starts
//! and speaks to in its serde protocol (the engine's `media::protocol`): FFmpeg's C code never
//! runs inside the app, the CLI or the server. Files cross, not bytes: FFmpeg reads the
//! original in place and writes into the temporary file the engine names, so a 20 GB video
//! needs no more memory than a 20 MB one.
//!
//! It also decodes the still pictures only a C library reads, HEIC/HEIF and AVIF, through
//! the system's libheif ([`heif`]): their pixels go to a file for the engine to encode; and
//! it encodes JPEG XL with the system's libjxl ([`jxl`]).

mod audio;
mod fifo;
mod fit;
mod geometry;
mod heif;
mod jxl;
mod picture;
mod probe;
mod progress;
mod settings;
mod transcode;
mod verify;
mod video;

use std::path::Path;
use std::sync::OnceLock;

use compressor_engine::media::protocol::trial_path;
use compressor_engine::media::{CompressJob, DecodedImage, MediaCodec};
use compressor_engine::options::{DamagedInput, Options};
use compressor_engine::{output_name, Compressed, Control, EngineError, FileFacts, Format, Kind, Limits, Report};

use settings::{AudioCodecExt, VideoCodecExt};

/// Video and audio compression with FFmpeg, in this process.
pub struct Ffmpeg;

static FFMPEG: Ffmpeg = Ffmpeg;

/// Makes FFmpeg in this process the engine's video and audio support, instead of the worker
/// (the worker itself, and this crate's tests).
pub fn install() {
    compressor_engine::media::install(&FFMPEG);
}

impl MediaCodec for Ffmpeg {
    fn compress(&self, job: &CompressJob, control: &Control) -> Result<Report, EngineError> {
        let result = compress(job, control);
        compressor_engine::media::protocol::remove_trials(&job.output);
        result
    }

    fn verify(&self, path: &Path, format: Format, limits: &Limits) -> Result<(), EngineError> {
        start_ffmpeg()?;
        let mut context = probe::open(path, format)?;
        verify::sample(&mut context, format, limits)
    }

    fn decode_image(
        &self,
        input: &Path,
        _name: &str,
        format: Format,
        pixels: &Path,
        limits: &Limits,
    ) -> Result<DecodedImage, EngineError> {
        heif::decode(input, format, pixels, limits)
    }

    fn encode_jxl(&self, job: &compressor_engine::media::JxlJob, _limits: &Limits) -> Result<(), EngineError> {
        jxl::encode(job)
    }

    fn rebuild_jpeg(&self, jxl: &Path, jpeg: &Path, _limits: &Limits) -> Result<(), EngineError> {
        jxl::rebuild_jpeg(jxl, jpeg)
    }
}

fn compress(job: &CompressJob, control: &Control) -> Result<Report, EngineError> {
    let CompressJob { input, output, name, format, .. } = job;
    let (format, name) = (*format, name.as_str());
    start_ffmpeg()?;
    // The input's hash is read beside the transcode: a second pass over a long file would
    // cost nearly as much as FFmpeg's own reading of it.
    let input_hash = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| compressor_engine::report::sha256_file(input));
        let encoded = encode_to_fit(job, control);
        let hash = hashing.join().unwrap_or_else(|_| Err(std::io::Error::other("hashing panicked")));
        encoded.map(|encoded| (encoded, hash))
    });
    let ((kept, input_media, explicit, damage), (input_size, input_sha256)) = match input_hash {
        Ok((encoded, Ok(hash))) => (encoded, hash),
        Ok((_, Err(e))) => return Err(EngineError::Refused(format!("cannot read {}: {e}", input.display()))),
        Err(err) => return Err(err),
    };
    let target = kept.settings_container;
    // Only the kept output is probed: its facts go into the report.
    let output_media = probe::facts(&probe::open(&kept.path, target)?);
    let output_size = file_size(&kept.path)?;

    let mut input_facts = describe(name, format, input_size, input_sha256, &input_media);
    if format.kind() == Kind::Audio {
        // Cover art is not what the file is about.
        (input_facts.width, input_facts.height) = (None, None);
    }
    let transcode::Outcome { actions, warnings, dimensions, .. } = kept.outcome;
    let mut report = if output_size >= input_size && !explicit {
        let reason = format!("already smaller than a re-encode ({output_size} bytes)");
        Compressed::skipped(input_facts, reason, actions, warnings).report
    } else {
        std::fs::rename(&kept.path, output)
            .map_err(|e| EngineError::Refused(format!("cannot write {}: {e}", output.display())))?;
        let (_, output_sha256) = compressor_engine::report::sha256_file(output)
            .map_err(|e| EngineError::Refused(format!("cannot read {}: {e}", output.display())))?;
        let mut output_facts =
            describe(&output_name(name, format, target), target, output_size, output_sha256, &output_media);
        if dimensions.is_none() {
            (output_facts.width, output_facts.height) = (None, None);
        }
        Compressed::written(input_facts, output_facts, Vec::new(), actions, warnings).report
    };
    if let Some(reason) = damage {
        report.mark_damaged(reason);
    }
    Ok(report)
}

/// The kept encode, the input's facts, whether the user asked for a change (so a larger
/// output is still the result), and the damage the first pass saw.
type Encoding = (Kept, probe::Facts, bool, Option<String>);

/// The encode that is kept: in a trial file beside the output.
struct Kept {
    path: std::path::PathBuf,
    settings_container: Format,
    outcome: transcode::Outcome,
}

/// Encodes at the level's settings, then, with `max_size`, again at bitrates that fit.
fn encode_to_fit(job: &CompressJob, control: &Control) -> Result<Encoding, EngineError> {
    let CompressJob { input, output, format, options, limits, .. } = job;
    let format = *format;
    let input_size = file_size(input)?;
    let context = probe::open(input, format)?;
    let input_media = probe::facts(&context);
    let is_video = format.kind() == Kind::Video && probe::video_stream(&context).is_some();
    let (settings, max_size) = if is_video {
        (settings::for_video(format, &options.video), options.video.max_size)
    } else {
        (settings::for_audio(format, &options.audio), options.audio.max_size)
    };
    // The first encode reads the context the facts came from; later ones open the file again.
    let mut opened = Some(context);
    let mut trials = 0u32;
    let mut encode_with = |settings: &settings::Settings| {
        let mut context = match opened.take() {
            Some(context) => context,
            None => probe::open(input, format)?,
        };
        trials += 1;
        let path = trial_path(output, trials);
        let outcome = transcode::run(&mut context, format, &path, settings, limits, control)?;
        drop(context);
        let size = file_size(&path)?;
        Ok::<_, EngineError>(Trial { path, size, outcome })
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
    if let Some(limit) = max_size.filter(|&limit| kept.size > limit && (explicit || input_size > limit)) {
        // No budget for a soundtrack the input does not have.
        let mut level = settings.clone();
        if !kept.outcome.had_audio {
            level.audio = None;
        }
        let shrink_hint = if is_video { "a smaller resize" } else { "mono or a lower sample rate" };
        let request = fit::Request { level: &level, limit, duration: input_media.duration, shrink_hint };
        let first = kept.path.clone();
        let fitted = fit::to_size(request, kept.size as usize, &mut encode_with, |trial| trial.size as usize)?;
        if fitted.encoded.path != first {
            let _ = std::fs::remove_file(&first);
        }
        kept = fitted.encoded;
        kept.outcome.actions.push(fitted.action);
    }
    let kept = Kept { path: kept.path, settings_container: settings.container, outcome: kept.outcome };
    Ok((kept, input_media, explicit, damage))
}

/// One transcode's result: its file (a trial beside the output) and what was done.
struct Trial {
    path: std::path::PathBuf,
    size: u64,
    outcome: transcode::Outcome,
}

fn file_size(path: &Path) -> Result<u64, EngineError> {
    std::fs::metadata(path)
        .map(|meta| meta.len())
        .map_err(|e| EngineError::Refused(format!("cannot read {}: {e}", path.display())))
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

fn describe(name: &str, format: Format, size: u64, sha256: String, media: &probe::Facts) -> FileFacts {
    let dimensions = media.width.zip(media.height);
    let mut facts = FileFacts::describe(name, format, &[], dimensions);
    facts.size = size;
    facts.hashes.sha256 = sha256;
    facts.duration = media.duration;
    facts.video_codec = media.video_codec.clone();
    facts.audio_codec = media.audio_codec.clone();
    facts.bitrate = media.duration.filter(|d| *d > 0.0).map(|d| (size as f64 * 8.0 / d).round() as u64);
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
