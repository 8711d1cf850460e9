//! Proof that a written file plays, at a cost that does not grow with its length: every
//! audio and video stream's decoder opens from its headers, the first packets decode, and
//! after a seek to the last seconds the packets there decode too and the rest is read to the
//! end. With the engine's walk of the container's structure (every box or element inside the
//! file) before it, this catches what
//! goes wrong when writing: a file cut short (the walk, and the seek finds no end), an index
//! that points nowhere (the seek), and an encoder that wrote garbage (the first frames).
//! Decoding every frame of a two-hour output would take a third as long as making it.

use std::collections::HashMap;

use ffmpeg_next::format::stream::Disposition;
use ffmpeg_next::media::Type;
use ffmpeg_next::{decoder, frame};

use super::probe;
use compressor_engine::EngineError;
use compressor_engine::{Format, Limits};

/// Packets decoded from the start of each end of the file.
const SAMPLE_PACKETS: usize = 48;
/// How far before the end the second sample starts.
const TAIL_SECONDS: i64 = 3;

pub(super) fn sample(
    input: &mut ffmpeg_next::format::context::Input,
    format: Format,
    limits: &Limits,
) -> Result<(), EngineError> {
    let mut decoders: HashMap<usize, decoder::Opened> = HashMap::new();
    for stream in input.streams() {
        let medium = stream.parameters().medium();
        let cover_art = stream.disposition().contains(Disposition::ATTACHED_PIC);
        if !matches!(medium, Type::Video | Type::Audio) || cover_art {
            continue;
        }
        if medium == Type::Video {
            if let Some((width, height)) = probe::dimensions(&stream) {
                limits.check(width, height)?;
            }
        }
        let Ok(decoder) = super::decoder_for(&stream) else { continue };
        if let Ok(opened) = decoder.open_as(stream.parameters().id()) {
            decoders.insert(stream.index(), opened);
        }
    }
    if decoders.is_empty() {
        return Err(EngineError::Corrupt {
            format: format.name(),
            reason: "it holds no audio or video stream FFmpeg can decode".into(),
        });
    }
    let corrupt = |reason: &str| EngineError::Corrupt { format: format.name(), reason: reason.into() };
    if decode_some(input, &mut decoders, SAMPLE_PACKETS) == 0 {
        return Err(corrupt("not a single frame decodes"));
    }
    let Some(duration) = probe::duration(input).filter(|d| *d > f64::from(TAIL_SECONDS as i32) * 2.0) else {
        // A short file: the first sample read most of it; read the rest.
        decode_some(input, &mut decoders, usize::MAX);
        return Ok(());
    };
    let end = (duration * f64::from(ffmpeg_next::ffi::AV_TIME_BASE)) as i64 + probe::start_time(input);
    let tail = end - TAIL_SECONDS * i64::from(ffmpeg_next::ffi::AV_TIME_BASE);
    input.seek(tail, ..tail).map_err(|e| corrupt(&format!("seeking to its last seconds failed ({e})")))?;
    for decoder in decoders.values_mut() {
        decoder.flush();
    }
    if decode_some(input, &mut decoders, SAMPLE_PACKETS) == 0 {
        return Err(corrupt("its last seconds do not decode"));
    }
    // The rest is read but not decoded: the demuxer reaches the end of every stream.
    // Decoding it would mean the whole last group of pictures (up to ten seconds of video).
    input.packets().for_each(drop);
    Ok(())
}

/// Feeds up to `packets` packets from where `input` stands to their decoders, then drains
/// them; the frames that came out.
fn decode_some(
    input: &mut ffmpeg_next::format::context::Input,
    decoders: &mut HashMap<usize, decoder::Opened>,
    packets: usize,
) -> u64 {
    let mut frames = 0u64;
    // Any frame type will do: only the count matters.
    let mut frame = frame::Video::empty();
    for (stream, packet) in input.packets().take(packets) {
        if let Some(decoder) = decoders.get_mut(&stream.index()) {
            // A damaged packet is what `skipped N undecodable packets` reports on compress.
            let _ = decoder.send_packet(&packet);
            while decoder.receive_frame(&mut frame).is_ok() {
                frames += 1;
            }
        }
    }
    for decoder in decoders.values_mut() {
        let _ = decoder.send_eof();
        while decoder.receive_frame(&mut frame).is_ok() {
            frames += 1;
        }
        decoder.flush();
    }
    frames
}
