//! Proof that a written file plays: every packet of every audio and video stream goes
//! through its decoder. Damaged packets are tolerated (players skip them too); a file
//! where nothing decodes is not.

use std::collections::HashMap;

use ffmpeg_next::format::stream::Disposition;
use ffmpeg_next::media::Type;
use ffmpeg_next::{decoder, frame};

use super::probe;
use compressor_engine::EngineError;
use compressor_engine::{Format, Limits};

pub(super) fn decode_all(
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
    let mut frames = 0u64;
    // Any frame type will do: only the count matters.
    let mut frame = frame::Video::empty();
    for (stream, packet) in input.packets() {
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
    }
    if frames == 0 {
        return Err(EngineError::Corrupt { format: format.name(), reason: "not a single frame decodes".into() });
    }
    Ok(())
}
