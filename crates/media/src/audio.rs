//! The audio track: decode, resample with swresample to what the encoder accepts (sample
//! format, channel layout, rate), regroup into its frame size and encode (AAC, Opus, MP3).

use ffmpeg_next::codec;
use ffmpeg_next::format::{context::Output, sample, stream::Stream, Sample};
use ffmpeg_next::software::resampling;
use ffmpeg_next::{decoder, encoder, frame, ChannelLayout, Packet, Rational, Rescale};

use super::fifo::Fifo;
use super::progress::Progress;
use super::settings::{AudioCodecExt, AudioSettings};
use super::{ffmpeg_failed, is_again};
use compressor_engine::options::AudioCodec;
use compressor_engine::EngineError;

/// What the encoder is fed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shape {
    format: Sample,
    layout: ChannelLayout,
    rate: u32,
}

pub(super) struct AudioTrack {
    pub input_index: usize,
    output_index: usize,
    decoder: decoder::Audio,
    encoder: encoder::Audio,
    shape: Shape,
    resampler: Option<(Shape, resampling::Context)>,
    fifo: Fifo,
    /// Samples per encoded frame; 0 when the encoder takes any count.
    frame_size: usize,
    input_time_base: Rational,
    output_time_base: Rational,
    /// The file's start, in the input time base.
    offset: i64,
    /// Next frame's timestamp in samples: audio is timed by counting what was encoded.
    next_pts: Option<i64>,
    /// Only the main track reports progress (audio when there is no video).
    reports_progress: bool,
    pub skipped_packets: usize,
    pub frames: usize,
    /// Samples of silence put in for lost audio.
    silence: i64,
    /// True when the channel count or rate differs from the input's because it was asked.
    pub reshaped: bool,
    pub action: String,
    pub warnings: Vec<String>,
}

impl AudioTrack {
    pub(super) fn new(
        stream: &Stream,
        decoder: decoder::Audio,
        output: &mut Output,
        settings: &AudioSettings,
        start_time: i64,
        reports_progress: bool,
    ) -> Result<Self, EngineError> {
        let input_channels = u32::from(decoder.channels()).max(1);
        let input_rate = decoder.rate();

        let name = settings.codec.encoder();
        let codec = encoder::find_by_name(name).and_then(|c| c.audio().ok()).ok_or_else(|| {
            EngineError::Unavailable(format!(
                "{} output (this system's FFmpeg has no {name} encoder)",
                settings.codec.label()
            ))
        })?;
        let mut warnings = Vec::new();
        let shape = choose_shape(&codec, settings, input_channels, input_rate, &mut warnings);
        let global_header = output.format().flags().contains(ffmpeg_next::format::Flags::GLOBAL_HEADER);
        let mut ost = output.add_stream(*codec).map_err(|e| ffmpeg_failed("audio", "adding the stream", e))?;
        let output_index = ost.index();
        let mut setup = codec::context::Context::new_with_codec(*codec)
            .encoder()
            .audio()
            .map_err(|e| ffmpeg_failed("audio", "creating the encoder", e))?;
        setup.set_rate(shape.rate as i32);
        setup.set_channel_layout(shape.layout);
        setup.set_channels(shape.layout.channels());
        setup.set_format(shape.format);
        setup.set_bit_rate(settings.kbps as usize * 1000);
        setup.set_time_base(Rational::new(1, shape.rate as i32));
        if global_header {
            setup.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let encoder = setup.open_as(*codec).map_err(|e| EngineError::Encode {
            format: settings.codec.label(),
            reason: format!("{name} refused {} kbit/s at {} Hz: {e}", settings.kbps, shape.rate),
        })?;
        ost.set_parameters(&encoder);
        ost.set_time_base(Rational::new(1, shape.rate as i32));
        let variable = codec.capabilities().contains(codec::capabilities::Capabilities::VARIABLE_FRAME_SIZE);
        let frame_size = if variable { 0 } else { encoder.frame_size() as usize };

        let channels = shape.layout.channels();
        let layout_name = match channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n} channels"),
        };
        let action = format!("{} {} kbit/s, {} Hz {layout_name}", settings.codec.label(), settings.kbps, shape.rate);
        let reshaped = settings.channels.is_some_and(|c| u32::from(c) != input_channels)
            || settings.sample_rate.is_some_and(|r| r != input_rate);
        Ok(Self {
            input_index: stream.index(),
            output_index,
            decoder,
            encoder,
            shape,
            resampler: None,
            fifo: Fifo::new(shape.format, shape.layout, shape.rate),
            frame_size,
            input_time_base: stream.time_base(),
            output_time_base: Rational::new(1, shape.rate as i32),
            offset: start_time.rescale(ffmpeg_next::rescale::TIME_BASE, stream.time_base()),
            next_pts: None,
            reports_progress,
            skipped_packets: 0,
            frames: 0,
            silence: 0,
            reshaped,
            action,
            warnings,
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
            // A truncated or damaged packet: skipped, as the ffmpeg CLI does.
            self.skipped_packets += 1;
        }
        self.drain(output, progress)
    }

    pub(super) fn finish(&mut self, output: &mut Output, progress: &mut Progress) -> Result<(), EngineError> {
        // An error here means the decoder was already flushed: nothing is lost.
        let _ = self.decoder.send_eof();
        self.drain(output, progress)?;
        if let Some((_, resampler)) = self.resampler.as_mut() {
            loop {
                let mut rest = frame::Audio::new(self.shape.format, 4096, self.shape.layout);
                resampler.flush(&mut rest).map_err(|e| ffmpeg_failed("audio", "resampling", e))?;
                if rest.samples() == 0 {
                    break;
                }
                self.fifo.push(&rest);
            }
        }
        // The last frame may be short: every encoder used here pads it.
        while let Some(frame) = self.fifo.pop(if self.frame_size == 0 { usize::MAX } else { self.frame_size }) {
            self.encode(frame, output)?;
        }
        if self.silence > 0 {
            let seconds = self.silence as f64 / f64::from(self.shape.rate);
            self.warnings.push(format!("filled {seconds:.2} s of lost audio with silence to keep it in sync"));
        }
        self.encoder.send_eof().map_err(|e| ffmpeg_failed("audio", "finishing the encoder", e))?;
        self.write_packets(output)
    }

    fn drain(&mut self, output: &mut Output, progress: &mut Progress) -> Result<(), EngineError> {
        loop {
            let mut decoded = frame::Audio::empty();
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => self.take(decoded, output, progress)?,
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(e) if is_again(&e) => return Ok(()),
                Err(_) => {
                    self.skipped_packets += 1;
                    return Ok(());
                }
            }
        }
    }

    fn take(
        &mut self,
        mut decoded: frame::Audio,
        output: &mut Output,
        progress: &mut Progress,
    ) -> Result<(), EngineError> {
        progress.check_cancel()?;
        if decoded.samples() == 0 {
            return Ok(());
        }
        let timestamp = decoded.timestamp().or(decoded.pts());
        if self.next_pts.is_none() {
            let start = timestamp.map(|t| (t - self.offset).rescale(self.input_time_base, (1, self.shape.rate as i32)));
            self.next_pts = Some(start.unwrap_or(0).max(0));
        }
        if let (Some(t), Some(next)) = (timestamp, self.next_pts) {
            self.fill_gap(t, next);
        }
        if self.reports_progress {
            if let Some(t) = timestamp {
                progress.reached((t - self.offset) as f64 * f64::from(self.input_time_base));
            }
        }
        // Decoders may leave the layout unset (plain WAV): name the usual one for the count.
        if decoded.channel_layout().is_empty() {
            decoded.set_channel_layout(ChannelLayout::default(i32::from(decoded.channels().max(1))));
        }
        let shape = Shape { format: decoded.format(), layout: decoded.channel_layout(), rate: decoded.rate() };
        if shape == self.shape {
            self.fifo.push(&decoded);
        } else {
            let converted = self.resample(&decoded, shape)?;
            self.fifo.push(&converted);
        }
        if self.frame_size == 0 {
            while let Some(frame) = self.fifo.pop(usize::MAX) {
                self.encode(frame, output)?;
            }
        } else {
            while self.fifo.len() >= self.frame_size {
                let Some(frame) = self.fifo.pop(self.frame_size) else { break };
                self.encode(frame, output)?;
            }
        }
        Ok(())
    }

    /// Audio is timed by counting samples, so packets lost to damage would pull everything
    /// after them earlier, out of sync with the picture: put silence where they were.
    fn fill_gap(&mut self, timestamp: i64, next_pts: i64) {
        let rate = i64::from(self.shape.rate);
        let arrives = (timestamp - self.offset).rescale(self.input_time_base, (1, rate as i32));
        let pending = self.resampler.as_ref().and_then(|(_, r)| r.delay()).map(|d| d.output).unwrap_or(0);
        let gap = arrives - (next_pts + self.fifo.len() as i64 + pending);
        // Under 0.1 s is timestamp jitter; over 10 s is a broken timestamp, not lost sound.
        if gap > rate / 10 && gap < rate * 10 {
            self.fifo.push_silence(gap as usize);
            self.silence += gap;
        }
    }

    fn resample(&mut self, decoded: &frame::Audio, from: Shape) -> Result<frame::Audio, EngineError> {
        let to = self.shape;
        let resampler = match &mut self.resampler {
            Some((shape, resampler)) if *shape == from => resampler,
            slot => {
                let resampler =
                    resampling::Context::get(from.format, from.layout, from.rate, to.format, to.layout, to.rate)
                        .map_err(|e| ffmpeg_failed("audio", "setting up the resampler", e))?;
                &mut slot.insert((from, resampler)).1
            }
        };
        // Room for everything this call can produce, so nothing piles up inside swresample.
        let pending = resampler.delay().map(|d| d.output.max(0) as usize).unwrap_or(0);
        let expected = decoded.samples() as u64 * u64::from(to.rate) / u64::from(from.rate.max(1));
        let mut converted = frame::Audio::new(to.format, expected as usize + pending + 64, to.layout);
        resampler.run(decoded, &mut converted).map_err(|e| ffmpeg_failed("audio", "resampling", e))?;
        Ok(converted)
    }

    fn encode(&mut self, mut frame: frame::Audio, output: &mut Output) -> Result<(), EngineError> {
        let pts = self.next_pts.unwrap_or(0);
        self.next_pts = Some(pts + frame.samples() as i64);
        frame.set_pts(Some(pts));
        self.encoder.send_frame(&frame).map_err(|e| ffmpeg_failed("audio", "encoding", e))?;
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
                Err(e) => return Err(ffmpeg_failed("audio", "encoding", e)),
            }
            if packet.pts().is_none() && packet.dts().is_none() {
                continue;
            }
            packet.set_stream(self.output_index);
            packet.rescale_ts(Rational::new(1, self.shape.rate as i32), self.output_time_base);
            packet.set_position(-1);
            packet.write_interleaved(output).map_err(|e| ffmpeg_failed("audio", "writing the file", e))?;
        }
    }
}

/// The sample format, layout and rate to encode: as asked, else as the input (at most
/// stereo), moved to the nearest the encoder supports.
fn choose_shape(
    codec: &codec::Audio,
    settings: &AudioSettings,
    input_channels: u32,
    input_rate: u32,
    warnings: &mut Vec<String>,
) -> Shape {
    let channels = settings.channels.map(u32::from).unwrap_or(input_channels.min(2)).max(1);
    let mut layout = ChannelLayout::default(channels as i32);
    if let Some(supported) = codec.channel_layouts() {
        let supported: Vec<ChannelLayout> = supported.collect();
        if !supported.is_empty() && !supported.contains(&layout) {
            layout = supported.into_iter().fold(ChannelLayout::MONO, |best, l| {
                if l.channels() > best.channels() && l.channels() <= channels as i32 {
                    l
                } else {
                    best
                }
            });
        }
    }
    let wanted = match (settings.sample_rate, settings.codec) {
        (Some(rate), _) => rate,
        // Opus works at 48 kHz internally; other rates are resampled inside libopus anyway.
        (None, AudioCodec::Opus) => 48_000,
        (None, _) if input_rate > 0 => input_rate,
        (None, _) => 48_000,
    };
    let mut rate = wanted;
    if let Some(supported) = codec.rates() {
        let mut supported: Vec<u32> = supported.filter_map(|r| u32::try_from(r).ok()).collect();
        supported.sort_unstable();
        if !supported.is_empty() && !supported.contains(&wanted) {
            rate = supported.iter().copied().find(|r| *r >= wanted).or(supported.last().copied()).unwrap_or(wanted);
            if settings.sample_rate.is_some() {
                warnings.push(format!("{} cannot use {wanted} Hz: used {rate} Hz", settings.codec.label()));
            }
        }
    }
    let formats: Vec<Sample> = codec.formats().map(|f| f.collect()).unwrap_or_default();
    let preferred = [Sample::F32(sample::Type::Planar), Sample::F32(sample::Type::Packed)];
    let format = preferred
        .into_iter()
        .find(|f| formats.contains(f))
        .or(formats.first().copied())
        .unwrap_or(Sample::F32(sample::Type::Planar));
    Shape { format, layout, rate }
}
