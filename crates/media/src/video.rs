//! The video track: decode the chosen stream, give every frame a timestamp, convert it
//! (scale, crop, turn upright) and encode it with libx264, libx265 or libvpx-vp9.

use ffmpeg_next::codec;
use ffmpeg_next::format::{context::Output, stream::Stream, Pixel};
use ffmpeg_next::{decoder, encoder, frame, picture, Dictionary, Packet, Rational, Rescale};

use super::geometry::{self, Geometry};
use super::picture::Converter;
use super::progress::Progress;
use super::settings::{VideoCodecExt, VideoRate, VideoSettings};
use super::{ffmpeg_failed, is_again, probe};
use compressor_engine::options::VideoCodec;
use compressor_engine::EngineError;
use compressor_engine::{Format, Limits};

pub(super) struct VideoTrack {
    pub input_index: usize,
    output_index: usize,
    decoder: decoder::Video,
    encoder: encoder::Video,
    converter: Converter,
    pub geometry: Geometry,
    /// The input stream's time base, which the encoder uses too (no rounding of timestamps).
    time_base: Rational,
    output_time_base: Rational,
    /// The file's start, in `time_base`: subtracted so the output starts at zero.
    offset: i64,
    frame_duration: i64,
    last_timestamp: Option<i64>,
    max_pixels: u64,
    pub skipped_packets: usize,
    pub dropped_frames: usize,
    pub frames: usize,
    pub action: String,
}

impl VideoTrack {
    pub(super) fn new(
        stream: &Stream,
        source: Format,
        output: &mut Output,
        container: Format,
        settings: &VideoSettings,
        limits: &Limits,
        start_time: i64,
    ) -> Result<Self, EngineError> {
        if let Some((width, height)) = probe::dimensions(stream) {
            limits.check(width, height)?;
        }
        let decoder = super::decoder_for(stream)?.video().map_err(|e| super::cannot_decode(stream, e))?;
        let (width, height) = (decoder.width(), decoder.height());
        if width == 0 || height == 0 {
            return Err(EngineError::Corrupt {
                format: source.name(),
                reason: "the video stream has no picture size".into(),
            });
        }
        limits.check(width, height)?;

        let rotation = probe::rotation(stream);
        let geometry = geometry::plan(width, height, probe::sample_aspect(stream), rotation, settings.resize.as_ref());
        let time_base = stream.time_base();
        let frame_rate = [stream.avg_frame_rate(), stream.rate()]
            .into_iter()
            .find(|r| r.numerator() > 0 && r.denominator() > 0 && f64::from(*r) <= 1000.0);
        let frame_duration = frame_rate.map(|r| 1i64.rescale(r.invert(), time_base)).unwrap_or(1).max(1);

        let (encoder, output_index, action) =
            open_encoder(output, container, settings, &geometry, time_base, frame_rate, &decoder)?;

        Ok(Self {
            input_index: stream.index(),
            output_index,
            decoder,
            encoder,
            converter: Converter::new(geometry),
            geometry,
            time_base,
            output_time_base: time_base,
            offset: start_time.rescale(ffmpeg_next::rescale::TIME_BASE, time_base),
            frame_duration,
            last_timestamp: None,
            max_pixels: limits.max_pixels,
            skipped_packets: 0,
            dropped_frames: 0,
            frames: 0,
            action,
        })
    }

    /// The muxer picks its time base when it writes the header.
    pub(super) fn set_output_time_base(&mut self, output: &Output) {
        if let Some(stream) = output.stream(self.output_index) {
            self.output_time_base = stream.time_base();
        }
    }

    pub(super) fn send(
        &mut self,
        packet: &Packet,
        output: &mut Output,
        progress: &mut Progress,
    ) -> Result<(), EngineError> {
        let mut sent = self.decoder.send_packet(packet);
        if sent.as_ref().is_err_and(is_again) {
            self.drain(output, progress)?;
            sent = self.decoder.send_packet(packet);
        }
        if sent.is_err() {
            // What the ffmpeg CLI does with a damaged packet: skip it and carry on.
            self.skipped_packets += 1;
        }
        self.drain(output, progress)
    }

    pub(super) fn finish(&mut self, output: &mut Output, progress: &mut Progress) -> Result<(), EngineError> {
        // An error here means the decoder was already flushed: nothing is lost.
        let _ = self.decoder.send_eof();
        self.drain(output, progress)?;
        self.encoder.send_eof().map_err(|e| ffmpeg_failed("video", "finishing the encoder", e))?;
        self.write_packets(output)
    }

    fn drain(&mut self, output: &mut Output, progress: &mut Progress) -> Result<(), EngineError> {
        loop {
            let mut decoded = frame::Video::empty();
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => self.encode(decoded, output, progress)?,
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(e) if is_again(&e) => return Ok(()),
                Err(_) => {
                    self.skipped_packets += 1;
                    return Ok(());
                }
            }
        }
    }

    fn encode(
        &mut self,
        decoded: frame::Video,
        output: &mut Output,
        progress: &mut Progress,
    ) -> Result<(), EngineError> {
        progress.check_cancel()?;
        if u64::from(decoded.width()) * u64::from(decoded.height()) > self.max_pixels {
            return Err(EngineError::TooManyPixels {
                width: decoded.width(),
                height: decoded.height(),
                limit: self.max_pixels,
            });
        }
        // Damaged or odd files leave frames without a timestamp (often the last one):
        // the muxer refuses those, so continue from the previous frame.
        let timestamp = decoded
            .timestamp()
            .or(decoded.pts())
            .or_else(|| self.last_timestamp.map(|t| t + self.frame_duration))
            .unwrap_or(self.offset);
        if self.last_timestamp.is_some_and(|last| timestamp <= last) {
            // Two frames for one instant: keep the first, as the CLI's frame-rate sync does.
            self.dropped_frames += 1;
            return Ok(());
        }
        self.last_timestamp = Some(timestamp);
        progress.reached((timestamp - self.offset) as f64 * f64::from(self.time_base));
        let mut frame = self.converter.convert(decoded)?;
        frame.set_pts(Some(timestamp - self.offset));
        frame.set_kind(picture::Type::None);
        self.encoder.send_frame(&frame).map_err(|e| ffmpeg_failed("video", "encoding a frame", e))?;
        self.frames += 1;
        self.write_packets(output)
    }

    fn write_packets(&mut self, output: &mut Output) -> Result<(), EngineError> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {}
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(e) if is_again(&e) => return Ok(()),
                Err(e) => return Err(ffmpeg_failed("video", "encoding", e)),
            }
            if packet.pts().is_none() && packet.dts().is_none() {
                continue;
            }
            packet.set_stream(self.output_index);
            packet.rescale_ts(self.time_base, self.output_time_base);
            packet.set_position(-1);
            packet.write_interleaved(output).map_err(|e| ffmpeg_failed("video", "writing the file", e))?;
        }
    }
}

/// Opens the encoder and adds its stream to `output`; returns them with a line for the report.
fn open_encoder(
    output: &mut Output,
    container: Format,
    settings: &VideoSettings,
    geometry: &Geometry,
    time_base: Rational,
    frame_rate: Option<Rational>,
    decoder: &decoder::Video,
) -> Result<(encoder::Video, usize, String), EngineError> {
    let encoder_codec = encoder::find_by_name(settings.codec.encoder()).ok_or_else(|| {
        EngineError::Unavailable(format!(
            "{} output (this system's FFmpeg has no {} encoder)",
            settings.codec.label(),
            settings.codec.encoder()
        ))
    })?;
    let global_header = output.format().flags().contains(ffmpeg_next::format::Flags::GLOBAL_HEADER);
    let mut ost = output.add_stream(encoder_codec).map_err(|e| ffmpeg_failed("video", "adding the stream", e))?;
    let output_index = ost.index();
    let mut setup = codec::context::Context::new_with_codec(encoder_codec)
        .encoder()
        .video()
        .map_err(|e| ffmpeg_failed("video", "creating the encoder", e))?;
    let (out_w, out_h) = geometry.output;
    setup.set_width(out_w);
    setup.set_height(out_h);
    setup.set_format(Pixel::YUV420P);
    setup.set_time_base(time_base);
    setup.set_frame_rate(frame_rate);
    setup.set_aspect_ratio(Rational::new(geometry.sample_aspect.0, geometry.sample_aspect.1));
    setup.set_colorspace(decoder.color_space());
    setup.set_color_primaries(decoder.color_primaries());
    setup.set_color_transfer_characteristic(decoder.color_transfer_characteristic());
    if decoder.format() == Pixel::YUV420P && geometry.is_identity() {
        setup.set_color_range(decoder.color_range());
    } else {
        // swscale writes limited-range 4:2:0 whatever it reads.
        setup.set_color_range(ffmpeg_next::color::Range::MPEG);
    }
    if global_header {
        setup.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut options = Dictionary::new();
    let rate = match settings.rate {
        VideoRate::Crf(crf) => {
            // Quality comes from the CRF alone: a bitrate would turn it into a capped mode.
            setup.set_bit_rate(0);
            options.set("crf", &crf.to_string());
            format!("CRF {crf}")
        }
        VideoRate::Kbps(kbps) => {
            setup.set_bit_rate(kbps as usize * 1000);
            format!("{kbps} kbit/s")
        }
    };
    let encoder_name = settings.codec.encoder();
    let action = match settings.codec {
        VideoCodec::H264 | VideoCodec::H265 => {
            options.set("preset", "medium");
            if settings.codec == VideoCodec::H265 {
                // x265 prints its banner to stderr itself, past FFmpeg's log level.
                options.set("x265-params", "log-level=error");
            }
            format!("{} {rate} ({encoder_name} medium), {out_w}×{out_h}", settings.codec.label())
        }
        VideoCodec::Vp9 => {
            // libvpx's defaults trade a great deal of time for a little size; cpu-used 4 with row
            // threads is the usual compromise (a 720p clip encodes near real time on two cores).
            options.set("deadline", "good");
            options.set("cpu-used", "4");
            options.set("row-mt", "1");
            format!("VP9 {rate} ({encoder_name}, cpu-used 4), {out_w}×{out_h}")
        }
    };
    let encoder = setup.open_with(options).map_err(|e| EngineError::Encode {
        format: settings.codec.label(),
        reason: format!("{} refused the settings: {e}", settings.codec.encoder()),
    })?;
    ost.set_parameters(&encoder);
    ost.set_time_base(time_base);
    if let Some(rate) = frame_rate {
        ost.set_avg_frame_rate(rate);
    }
    if settings.codec == VideoCodec::H265 && container == Format::Mp4 {
        // Apple players only accept HEVC in MP4 under the `hvc1` tag.
        // SAFETY: the stream's codecpar is valid while `ost` borrows the output context.
        unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = u32::from_le_bytes(*b"hvc1") };
    }
    Ok((encoder, output_index, action))
}
