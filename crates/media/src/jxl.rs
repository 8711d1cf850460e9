//! JPEG XL encoding through the system's libjxl, in the worker: pixels at a butteraugli
//! distance (lossy, in libjxl's XYB) or losslessly, and a JPEG's own bytes transcoded
//! without loss (its DCT coefficients kept, with what it takes to rebuild the original file).
//!
//! Written against jpegxl-sys directly rather than jpegxl-rs: jpegxl-rs 0.7 (the release that
//! binds Debian 12's libjxl 0.7) marks every picture as keeping its original colour profile,
//! which turns XYB off and costs lossy pictures a good share of their bytes.

use std::ptr::null;

use compressor_engine::media::protocol::{JxlJob, JxlSource};
use compressor_engine::EngineError;
use jpegxl_sys::thread_parallel_runner::{
    JxlThreadParallelRunner, JxlThreadParallelRunnerCreate, JxlThreadParallelRunnerDefaultNumWorkerThreads,
    JxlThreadParallelRunnerDestroy,
};
use jpegxl_sys::{
    FrameSetting, JxlBasicInfo, JxlBool, JxlColorEncoding, JxlColorEncodingSetToSRGB, JxlDataType, JxlEncoder,
    JxlEncoderAddImageFrame, JxlEncoderAddJPEGFrame, JxlEncoderCloseInput, JxlEncoderCreate, JxlEncoderDestroy,
    JxlEncoderFrameSettingsCreate, JxlEncoderFrameSettingsSetOption, JxlEncoderInitBasicInfo, JxlEncoderProcessOutput,
    JxlEncoderSetBasicInfo, JxlEncoderSetColorEncoding, JxlEncoderSetFrameDistance, JxlEncoderSetFrameLossless,
    JxlEncoderSetICCProfile, JxlEncoderSetParallelRunner, JxlEncoderStatus, JxlEncoderStoreJPEGMetadata,
    JxlEncoderUseBoxes, JxlEncoderUseContainer, JxlEndianness, JxlPixelFormat,
};

extern "C" {
    /// libjxl's `JxlEncoderAddBox`, declared here as C sees it: its `JxlBoxType` is a
    /// `char[4]`, so the type arrives as a pointer to four bytes. (jpegxl-sys 0.7 declares it as
    /// a struct passed by value, with a private field besides.)
    #[link_name = "JxlEncoderAddBox"]
    fn add_box(
        enc: *mut JxlEncoder,
        box_type: *const u8,
        contents: *const u8,
        size: usize,
        compress_box: JxlBool,
    ) -> JxlEncoderStatus;
}

fn failed(reason: impl Into<String>) -> EngineError {
    EngineError::Encode { format: "JPEG XL", reason: reason.into() }
}

/// An encoder and its threads, destroyed together.
struct Encoder {
    encoder: *mut JxlEncoder,
    runner: *mut std::ffi::c_void,
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: both were created by `Encoder::new` and are destroyed once, here.
        unsafe {
            JxlEncoderDestroy(self.encoder);
            JxlThreadParallelRunnerDestroy(self.runner);
        }
    }
}

fn check(status: JxlEncoderStatus, what: &str) -> Result<(), EngineError> {
    match status {
        JxlEncoderStatus::Success => Ok(()),
        other => Err(failed(format!("libjxl refused {what} ({other:?})"))),
    }
}

/// Encodes `job`, writing the JPEG XL file to `job.output`.
pub(crate) fn encode(job: &JxlJob) -> Result<(), EngineError> {
    let input = match &job.source {
        JxlSource::Pixels { path, .. } | JxlSource::Jpeg { path } => {
            std::fs::read(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?
        }
    };
    // SAFETY: the calls follow libjxl's encoder API in order (create, configure, add one
    // frame, close input, drain output); every pointer handed over outlives the call that
    // uses it (`input` and `info` live to the end of this function), and `Encoder` destroys
    // what was created.
    let output = unsafe {
        let runner = JxlThreadParallelRunnerCreate(null(), JxlThreadParallelRunnerDefaultNumWorkerThreads());
        let encoder = Encoder { encoder: JxlEncoderCreate(null()), runner };
        if encoder.encoder.is_null() || encoder.runner.is_null() {
            return Err(failed("libjxl could not start"));
        }
        let enc = encoder.encoder;
        check(JxlEncoderSetParallelRunner(enc, JxlThreadParallelRunner, runner), "its threads")?;
        let settings = JxlEncoderFrameSettingsCreate(enc, null());
        check(
            JxlEncoderFrameSettingsSetOption(settings, FrameSetting::Effort, i64::from(job.effort.clamp(1, 9))),
            "the effort",
        )?;
        match &job.source {
            JxlSource::Jpeg { .. } => {
                // The container carries what rebuilds the original JPEG byte for byte.
                check(JxlEncoderUseContainer(enc, true), "the container")?;
                check(JxlEncoderStoreJPEGMetadata(enc, true), "keeping the JPEG's reconstruction data")?;
                check(JxlEncoderAddJPEGFrame(settings, input.as_ptr().cast(), input.len()), "this JPEG")?;
            }
            JxlSource::Pixels { width, height, alpha, .. } => {
                let channels: u32 = if *alpha { 4 } else { 3 };
                let expected = u64::from(*width) * u64::from(*height) * u64::from(channels);
                if input.len() as u64 != expected {
                    return Err(failed(format!("{} bytes of pixels for {width}×{height}", input.len())));
                }
                let mut info = std::mem::MaybeUninit::<JxlBasicInfo>::uninit();
                JxlEncoderInitBasicInfo(info.as_mut_ptr());
                let mut info = info.assume_init();
                info.xsize = *width;
                info.ysize = *height;
                info.bits_per_sample = 8;
                info.exponent_bits_per_sample = 0;
                info.num_color_channels = 3;
                info.num_extra_channels = u32::from(*alpha);
                info.alpha_bits = if *alpha { 8 } else { 0 };
                // Lossy pictures are coded in XYB; only lossless keeps the RGB values as they are.
                info.uses_original_profile = if job.lossless { JxlBool::True } else { JxlBool::False };
                check(JxlEncoderSetBasicInfo(enc, &info), "the picture's size")?;
                match &job.icc {
                    Some(icc) => check(JxlEncoderSetICCProfile(enc, icc.as_ptr(), icc.len()), "the ICC profile")?,
                    None => {
                        let mut colour = std::mem::MaybeUninit::<JxlColorEncoding>::uninit();
                        JxlColorEncodingSetToSRGB(colour.as_mut_ptr(), false);
                        check(JxlEncoderSetColorEncoding(enc, colour.as_ptr()), "sRGB")?;
                    }
                }
                if let Some(exif) = &job.exif {
                    // An `Exif` box: a 4-byte offset to the TIFF header (here 0), then EXIF.
                    let mut contents = vec![0u8; 4];
                    contents.extend_from_slice(exif);
                    check(JxlEncoderUseContainer(enc, true), "the container")?;
                    check(JxlEncoderUseBoxes(enc), "metadata boxes")?;
                    check(
                        add_box(enc, b"Exif".as_ptr(), contents.as_ptr(), contents.len(), JxlBool::False),
                        "the EXIF box",
                    )?;
                }
                if job.lossless {
                    check(JxlEncoderSetFrameLossless(settings, true), "lossless")?;
                } else {
                    check(JxlEncoderSetFrameDistance(settings, job.distance.clamp(0.01, 25.0)), "the distance")?;
                }
                let format = JxlPixelFormat {
                    num_channels: channels,
                    data_type: JxlDataType::Uint8,
                    endianness: JxlEndianness::Native,
                    align: 0,
                };
                check(JxlEncoderAddImageFrame(settings, &format, input.as_ptr().cast(), input.len()), "the pixels")?;
            }
        }
        JxlEncoderCloseInput(enc);
        let mut buffer = vec![0u8; (input.len() / 4).max(64 << 10)];
        let mut written = 0usize;
        loop {
            let mut next = buffer.as_mut_ptr().add(written);
            let mut available = buffer.len() - written;
            let status = JxlEncoderProcessOutput(enc, &mut next, &mut available);
            written = buffer.len() - available;
            match status {
                JxlEncoderStatus::NeedMoreOutput => buffer.resize(buffer.len() * 2, 0),
                JxlEncoderStatus::Success => break,
                other => return Err(failed(format!("encoding failed ({other:?})"))),
            }
        }
        buffer.truncate(written);
        buffer
    };
    std::fs::write(&job.output, output).map_err(|e| failed(format!("cannot write {}: {e}", job.output.display())))
}

/// Rebuilds the JPEG a losslessly transcoded JPEG XL holds (libjxl's own reconstruction, as
/// `djxl` does it) into `jpeg`: the engine compares it with the original byte for byte.
pub(crate) fn rebuild_jpeg(jxl: &std::path::Path, jpeg: &std::path::Path) -> Result<(), EngineError> {
    use jpegxl_sys::{
        JxlDecoderCloseInput, JxlDecoderCreate, JxlDecoderDestroy, JxlDecoderProcessInput, JxlDecoderReleaseJPEGBuffer,
        JxlDecoderSetInput, JxlDecoderSetJPEGBuffer, JxlDecoderStatus, JxlDecoderSubscribeEvents,
    };
    let failed = |reason: String| EngineError::Corrupt { format: "JPEG XL", reason };
    let input = std::fs::read(jxl).map_err(|e| failed(format!("cannot read {}: {e}", jxl.display())))?;
    /// Destroys the decoder on every way out.
    struct Decoder(*mut jpegxl_sys::JxlDecoder);
    impl Drop for Decoder {
        fn drop(&mut self) {
            // SAFETY: created below, destroyed once.
            unsafe { JxlDecoderDestroy(self.0) }
        }
    }
    // SAFETY: libjxl's decoder API in its documented order; `input` and `output` outlive the
    // decoder's use of them (the JPEG buffer is released before `output` grows or is read).
    let output = unsafe {
        let decoder = Decoder(JxlDecoderCreate(null()));
        if decoder.0.is_null() {
            return Err(failed("libjxl's decoder could not start".into()));
        }
        let dec = decoder.0;
        let events = JxlDecoderStatus::JpegReconstruction as i32 | JxlDecoderStatus::FullImage as i32;
        if JxlDecoderSubscribeEvents(dec, events) != JxlDecoderStatus::Success
            || JxlDecoderSetInput(dec, input.as_ptr(), input.len()) != JxlDecoderStatus::Success
        {
            return Err(failed("libjxl's decoder refused the file".into()));
        }
        JxlDecoderCloseInput(dec);
        let mut output = vec![0u8; input.len() * 2 + (64 << 10)];
        let mut written = 0usize;
        let mut reconstructing = false;
        loop {
            match JxlDecoderProcessInput(dec) {
                JxlDecoderStatus::JpegReconstruction => {
                    reconstructing = true;
                    JxlDecoderSetJPEGBuffer(dec, output.as_mut_ptr(), output.len());
                }
                JxlDecoderStatus::JpegNeedMoreOutput => {
                    written = output.len() - JxlDecoderReleaseJPEGBuffer(dec);
                    output.resize(output.len() * 2, 0);
                    JxlDecoderSetJPEGBuffer(dec, output.as_mut_ptr().add(written), output.len() - written);
                }
                JxlDecoderStatus::FullImage => {
                    if reconstructing {
                        written = output.len() - JxlDecoderReleaseJPEGBuffer(dec);
                    }
                }
                JxlDecoderStatus::Success => break,
                JxlDecoderStatus::NeedImageOutBuffer => {
                    return Err(failed("it holds no JPEG to rebuild (not a lossless transcode)".into()))
                }
                other => return Err(failed(format!("libjxl could not rebuild the JPEG ({other:?})"))),
            }
        }
        if !reconstructing {
            return Err(failed("it holds no JPEG to rebuild (not a lossless transcode)".into()));
        }
        output.truncate(written);
        output
    };
    std::fs::write(jpeg, output).map_err(|e| failed(format!("cannot write {}: {e}", jpeg.display())))
}
