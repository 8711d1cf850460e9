//! One pass over the input: demux every packet, feed the chosen video and audio streams to
//! their tracks, mux what comes out. Other streams (subtitles, data, cover art) are dropped.

use std::path::Path;

use ffmpeg_next::format::{self, context::Input, stream::Disposition};
use ffmpeg_next::media::Type;
use ffmpeg_next::Dictionary;

use super::audio::AudioTrack;
use super::progress::Progress;
use super::settings::{self, Settings};
use super::video::VideoTrack;
use super::{ffmpeg_failed, probe};
use compressor_engine::options::ResizeMode;
use compressor_engine::EngineError;
use compressor_engine::{Control, Format, Limits};

/// What the pass did, for the report.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub actions: Vec<String>,
    pub warnings: Vec<String>,
    /// The size changed because a resize, channel count or sample rate was asked for.
    pub reshaped: bool,
    /// Output picture size, when there is video.
    pub dimensions: Option<(u32, u32)>,
    pub had_audio: bool,
    /// What reading the input showed to be damaged: less sound or picture than the container
    /// declares, or more undecodable packets than a sound file ever has.
    pub damage: Option<String>,
}

/// How much of its declared duration a stream may lack before the file counts as cut short:
/// containers round, and audio priming or a last frame's length differ by a fraction of a
/// second between muxers.
const DURATION_SLACK_SECONDS: f64 = 0.5;
const DURATION_SLACK_SHARE: f64 = 0.03;
/// Undecodable packets tolerated (Megamind.avi, a real sample, ends with one truncated
/// audio packet; players skip such a packet too), absolute and as a share of the packets.
const SKIPPED_PACKETS_TOLERATED: usize = 2;
const SKIPPED_SHARE_TOLERATED: f64 = 0.01;

/// Where the packets of the streams being transcoded reach, in seconds from the start.
#[derive(Default)]
struct Coverage {
    reached: f64,
    packets: usize,
}

impl Coverage {
    fn add(&mut self, stream: &ffmpeg_next::Stream, packet: &ffmpeg_next::Packet, start: f64) {
        self.packets += 1;
        let Some(at) = packet.pts().or(packet.dts()) else { return };
        let end = (at + packet.duration().max(0)) as f64 * f64::from(stream.time_base()) - start;
        if end.is_finite() {
            self.reached = self.reached.max(end);
        }
    }

    /// The damage, when the packets stop short of `declared` seconds or too many were undecodable.
    fn damage(&self, declared: Option<f64>, skipped: usize) -> Option<String> {
        if let Some(declared) = declared.filter(|d| *d > 0.0) {
            let missing = declared - self.reached;
            if self.reached > 0.0 && missing > DURATION_SLACK_SECONDS.max(declared * DURATION_SLACK_SHARE) {
                return Some(format!(
                    "the data ends early: the file declares {} but holds {} ({} missing)",
                    clock(declared),
                    clock(self.reached),
                    compressor_engine::damage::percent((missing * 1000.0) as u64, (declared * 1000.0) as u64)
                ));
            }
        }
        if skipped > SKIPPED_PACKETS_TOLERATED && skipped as f64 > self.packets as f64 * SKIPPED_SHARE_TOLERATED {
            return Some(format!("{skipped} of its {} packets cannot be decoded", self.packets));
        }
        None
    }
}

/// How long the streams being transcoded say they are: their own durations where the
/// container keeps them (a longer subtitle or second soundtrack is not what is read here),
/// else the container's. `None` when FFmpeg only guessed it from the bitrate.
fn declared_duration(input: &Input, streams: [Option<usize>; 2]) -> Option<f64> {
    // SAFETY: reads one plain field of the open format context.
    let method = unsafe { (*input.as_ptr()).duration_estimation_method };
    if method == ffmpeg_next::ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE {
        return None;
    }
    streams
        .into_iter()
        .flatten()
        .filter_map(|index| input.stream(index))
        .filter_map(|stream| probe::stream_duration(&stream))
        .reduce(f64::max)
        .or_else(|| probe::duration(input))
}

/// 0:05.2, 1:02:03.0
fn clock(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round() as u64;
    let (hours, minutes, rest) = (tenths / 36_000, tenths / 600 % 60, tenths % 600);
    let shown = format!("{}.{}", rest / 10, rest % 10);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{shown:0>4}")
    } else {
        format!("{minutes}:{shown:0>4}")
    }
}

pub(super) fn run(
    input: &mut Input,
    source: Format,
    output_path: &Path,
    settings: &Settings,
    limits: &Limits,
    control: &Control,
) -> Result<Outcome, EngineError> {
    let mut output = format::output_as(&probe::url(output_path)?, settings::muxer(settings.container))
        .map_err(|e| ffmpeg_failed(settings.container.name(), "creating the output", e))?;
    let start_time = probe::start_time(input);
    let mut outcome = Outcome::default();

    let video_index = settings.video.as_ref().and(probe::video_stream(input));
    let mut video = match (&settings.video, video_index.and_then(|i| input.stream(i))) {
        (Some(wanted), Some(stream)) => {
            Some(VideoTrack::new(&stream, source, &mut output, settings.container, wanted, limits, start_time)?)
        }
        _ => None,
    };
    let audio_index = probe::audio_stream(input);
    outcome.had_audio = audio_index.is_some();
    let mut audio = match (&settings.audio, audio_index.and_then(|i| input.stream(i))) {
        (Some(wanted), Some(stream)) => match super::decoder_for(&stream)?.audio() {
            Ok(decoder) => Some(AudioTrack::new(&stream, decoder, &mut output, wanted, start_time, video.is_none())?),
            // A soundtrack FFmpeg cannot decode should not cost the user the video.
            Err(e) if video.is_some() => {
                outcome.warnings.push(format!("dropped the soundtrack: {}", super::cannot_decode(&stream, e)));
                None
            }
            Err(e) => return Err(super::cannot_decode(&stream, e)),
        },
        _ => None,
    };
    if video.is_none() && audio.is_none() {
        return Err(EngineError::Corrupt { format: source.name(), reason: "it holds no video or audio stream".into() });
    }
    // The main soundtrack is accounted for: encoded, removed by `mute`, or dropped with a warning.
    describe_dropped_streams(input, video.as_ref().map(|v| v.input_index), audio_index, &mut outcome.warnings);

    let mut header = Dictionary::new();
    if matches!(settings.container, Format::Mp4 | Format::M4a) {
        // Index first, so playback can start before the whole file has arrived.
        header.set("movflags", "+faststart");
    }
    output.write_header_with(header).map_err(|e| ffmpeg_failed(settings.container.name(), "writing the header", e))?;
    if let Some(track) = video.as_mut() {
        track.set_output_time_base(&output);
    }
    if let Some(track) = audio.as_mut() {
        track.set_output_time_base(&output);
    }

    let declared =
        declared_duration(input, [video.as_ref().map(|t| t.input_index), audio.as_ref().map(|t| t.input_index)]);
    let mut progress = Progress::new(control, probe::duration(input));
    let start = start_time as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE);
    let mut coverage = Coverage::default();
    for (stream, packet) in input.packets() {
        progress.check_cancel()?;
        let index = stream.index();
        if let Some(track) = video.as_mut().filter(|t| t.input_index == index) {
            coverage.add(&stream, &packet, start);
            track.send(&packet, &mut output, &mut progress)?;
        } else if let Some(track) = audio.as_mut().filter(|t| t.input_index == index) {
            coverage.add(&stream, &packet, start);
            track.send(&packet, &mut output, &mut progress)?;
        }
    }
    if let Some(track) = video.as_mut() {
        track.finish(&mut output, &mut progress)?;
    }
    if let Some(track) = audio.as_mut() {
        track.finish(&mut output, &mut progress)?;
    }
    output.write_trailer().map_err(|e| ffmpeg_failed(settings.container.name(), "finishing the file", e))?;
    progress.finished();

    let mut skipped = 0;
    if let Some(track) = &video {
        if track.frames == 0 {
            return Err(EngineError::Corrupt {
                format: source.name(),
                reason: "no video frame could be decoded".into(),
            });
        }
        let g = track.geometry;
        if g.rotation.degrees() != 0 {
            outcome.actions.push(format!("turned the picture {}° clockwise, as players show it", g.rotation.degrees()));
        }
        if g.resized {
            let (from, to) = (format!("{}×{}", g.shown.0, g.shown.1), format!("{}×{}", g.output.0, g.output.1));
            let mode = settings.video.as_ref().and_then(|v| v.resize).map(|r| r.mode);
            outcome.actions.push(match mode {
                Some(ResizeMode::Crop) => format!("cut the centre {to} out of {from}"),
                Some(ResizeMode::Fill) => format!("resized {from} to fill {to} (edges cropped)"),
                _ => format!("resized {from} → {to}"),
            });
        }
        outcome.actions.push(track.action.clone());
        outcome.reshaped |= g.resized;
        outcome.dimensions = Some(g.output);
        skipped += track.skipped_packets;
        if track.dropped_frames > 0 {
            outcome.warnings.push(format!("dropped {} frames that repeated a timestamp", track.dropped_frames));
        }
    }
    if let Some(track) = &mut audio {
        if track.frames == 0 && video.is_none() {
            return Err(EngineError::Corrupt { format: source.name(), reason: "no audio could be decoded".into() });
        }
        outcome.actions.push(track.action.clone());
        outcome.reshaped |= track.reshaped;
        outcome.warnings.append(&mut track.warnings);
        skipped += track.skipped_packets;
    } else if outcome.had_audio && video.is_some() && settings.audio.is_none() {
        outcome.actions.push("removed the soundtrack".into());
    }
    outcome.damage = coverage.damage(declared, skipped);
    if skipped > 0 {
        let plural = if skipped == 1 { "" } else { "s" };
        outcome.warnings.push(format!("skipped {skipped} undecodable packet{plural}"));
    }
    Ok(outcome)
}

/// Says which streams the output leaves out (subtitles, extra tracks, cover art).
fn describe_dropped_streams(input: &Input, video: Option<usize>, audio: Option<usize>, warnings: &mut Vec<String>) {
    let mut counts =
        [("cover picture", 0), ("video stream", 0), ("audio stream", 0), ("subtitle stream", 0), ("data stream", 0)];
    for stream in input.streams() {
        if Some(stream.index()) == video || Some(stream.index()) == audio {
            continue;
        }
        let slot = match stream.parameters().medium() {
            _ if stream.disposition().contains(Disposition::ATTACHED_PIC) => 0,
            Type::Video => 1,
            Type::Audio => 2,
            Type::Subtitle => 3,
            _ => 4,
        };
        counts[slot].1 += 1;
    }
    for (noun, count) in counts {
        if count > 0 {
            let plural = if count == 1 { "" } else { "s" };
            warnings.push(format!("left out {count} {noun}{plural}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_tells_a_cut_from_rounding() {
        let cut = Coverage { reached: 5.0, packets: 300 };
        let message = cut.damage(Some(10.0), 0).unwrap();
        assert_eq!(message, "the data ends early: the file declares 0:10.0 but holds 0:05.0 (50 % missing)");
        assert_eq!(Coverage { reached: 9.8, packets: 300 }.damage(Some(10.0), 0), None);
        assert_eq!(Coverage { reached: 9.8, packets: 300 }.damage(Some(10.0), 2), None);
        assert!(Coverage { reached: 10.0, packets: 300 }.damage(Some(10.0), 30).unwrap().contains("30 of its 300"));
        assert_eq!(clock(3723.04), "1:02:03.0");
    }
}
