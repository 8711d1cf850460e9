//! Video and audio, the pictures only a C library reads (HEIC, AVIF) and JPEG XL encoding:
//! the door to FFmpeg, libheif and libjxl, which never run in this process.
//!
//! FFmpeg's C code (and the C/C++ decoders that come after it) is fed untrusted files; a crash
//! there must fail one file, not the desktop app with its queue or the server with every job
//! in flight. So the media crate's code runs in `compressor-media-worker`, a child process
//! started on the first video or audio file and reused, spoken to in the serde [`protocol`]
//! (see [`worker`] for timeouts, the memory limit, cancel and the sandbox). A process that
//! only compresses images never starts it, so FFmpeg's ~140 libraries are not loaded for a PNG.
//!
//! The worker itself, and the media crate's own tests, [`install`] the in-process codec.

pub mod protocol;
pub mod worker;

use std::path::Path;
use std::sync::OnceLock;

use crate::{Control, EngineError, Format, Limits, Report};
pub use protocol::{CompressJob, DecodedImage, JxlJob};

/// Video and audio compression, as the media crate provides it.
pub trait MediaCodec: Send + Sync {
    /// Compresses `job.input` into `job.output`. A `skipped` report leaves the output unused.
    fn compress(&self, job: &CompressJob, control: &Control) -> Result<Report, EngineError>;

    /// Reads the written file at `path` back, proving it plays (at a bounded cost: see the
    /// media crate's `verify`).
    fn verify(&self, path: &Path, format: Format, limits: &Limits) -> Result<(), EngineError>;

    /// Decodes the still picture at `input` (HEIC/HEIF, AVIF) into `pixels` (see
    /// [`DecodedImage`]); `name` is the file's own, for messages.
    fn decode_image(
        &self,
        input: &Path,
        name: &str,
        format: Format,
        pixels: &Path,
        limits: &Limits,
    ) -> Result<DecodedImage, EngineError>;

    /// Encodes a JPEG XL file (libjxl is C++: it runs in the worker too).
    fn encode_jxl(&self, job: &JxlJob, limits: &Limits) -> Result<(), EngineError>;

    /// Rebuilds into `jpeg` the JPEG that the JPEG XL at `jxl` was losslessly transcoded from.
    fn rebuild_jpeg(&self, jxl: &Path, jpeg: &Path, limits: &Limits) -> Result<(), EngineError>;
}

static INSTALLED: OnceLock<&'static dyn MediaCodec> = OnceLock::new();

/// Makes `codec` this process's video and audio support instead of the worker; the first
/// call wins. Only the worker and tests of the media crate do this.
pub fn install(codec: &'static dyn MediaCodec) {
    let _ = INSTALLED.set(codec);
}

/// The codec for video and audio: the installed one, else the worker pool.
pub(crate) fn codec() -> &'static dyn MediaCodec {
    match INSTALLED.get() {
        Some(codec) => *codec,
        None => &worker::POOL,
    }
}
