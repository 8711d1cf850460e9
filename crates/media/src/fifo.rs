//! Regroups audio samples into the fixed frame size an encoder demands (AAC 1024, Opus 960,
//! MP3 1152): decoders and the resampler hand over whatever count they produced.

use ffmpeg_next::format::Sample;
use ffmpeg_next::{frame, ChannelLayout};

pub(super) struct Fifo {
    format: Sample,
    layout: ChannelLayout,
    rate: u32,
    /// One byte queue per plane (a single one for interleaved formats).
    planes: Vec<Vec<u8>>,
    /// Bytes one sample takes in one plane.
    sample_bytes: usize,
}

impl Fifo {
    pub(super) fn new(format: Sample, layout: ChannelLayout, rate: u32) -> Self {
        let channels = usize::try_from(layout.channels()).unwrap_or(1).max(1);
        let (plane_count, sample_bytes) =
            if format.is_planar() { (channels, format.bytes()) } else { (1, format.bytes() * channels) };
        Self { format, layout, rate, planes: vec![Vec::new(); plane_count], sample_bytes }
    }

    /// Samples waiting.
    pub(super) fn len(&self) -> usize {
        self.planes[0].len() / self.sample_bytes
    }

    /// Appends a frame already in the FIFO's format and layout.
    pub(super) fn push(&mut self, frame: &frame::Audio) {
        let bytes = frame.samples() * self.sample_bytes;
        if bytes == 0 || frame.planes() < self.planes.len() {
            return;
        }
        for (index, plane) in self.planes.iter_mut().enumerate() {
            let data = frame.data(index);
            plane.extend_from_slice(&data[..bytes.min(data.len())]);
        }
    }

    /// Appends `count` samples of silence (zero in every format the encoders here take).
    pub(super) fn push_silence(&mut self, count: usize) {
        for plane in &mut self.planes {
            plane.resize(plane.len() + count * self.sample_bytes, 0);
        }
    }

    /// Takes up to `count` samples as a new frame; `None` when empty.
    pub(super) fn pop(&mut self, count: usize) -> Option<frame::Audio> {
        let count = count.min(self.len());
        if count == 0 {
            return None;
        }
        let bytes = count * self.sample_bytes;
        let mut frame = frame::Audio::new(self.format, count, self.layout);
        frame.set_rate(self.rate);
        for (index, plane) in self.planes.iter_mut().enumerate() {
            frame.data_mut(index)[..bytes].copy_from_slice(&plane[..bytes]);
            plane.drain(..bytes);
        }
        Some(frame)
    }
}
