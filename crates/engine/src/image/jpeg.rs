//! JPEG output through mozjpeg: progressive, optimised Huffman tables, trellis quantisation.
//! Also the lossless path (jpegtran's job): the existing DCT coefficients re-encoded
//! progressively with optimal Huffman tables, so no pixel changes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::DynamicImage;

use super::Metadata;
use crate::error::EngineError;

const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// Chroma resolution of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chroma {
    Full,
    Quarter,
}

impl Chroma {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Chroma::Full => "4:4:4",
            Chroma::Quarter => "4:2:0",
        }
    }
}

/// How the progressive scans are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scans {
    /// mozjpeg's search over scan layouts: 1.2 % fewer bytes on the bench photos, for about
    /// half again the encode time. Every output gets it.
    Searched,
    /// libjpeg's standard progressive script. The decoded pixels are identical to
    /// [`Scans::Searched`]'s (trellis quantisation does not look at the scans), so the
    /// quality search's trials use it: a third cheaper per trial.
    Standard,
}

fn encode_failed(reason: impl Into<String>) -> EngineError {
    EngineError::Encode { format: "JPEG", reason: reason.into() }
}

/// libjpeg reports fatal errors by unwinding (mozjpeg's error manager); turn that into a message.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "libjpeg failed".to_string())
}

pub(crate) fn encode(
    image: &DynamicImage,
    quality: f32,
    chroma: Chroma,
    scans: Scans,
    metadata: &Metadata,
) -> Result<Vec<u8>, EngineError> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let (pixels, color_space) = if image.color().has_color() {
        (super::flatten_alpha(image).into_raw(), mozjpeg::ColorSpace::JCS_RGB)
    } else {
        (image.to_luma8().into_raw(), mozjpeg::ColorSpace::JCS_GRAYSCALE)
    };
    let result = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Vec<u8>> {
        let mut compress = mozjpeg::Compress::new(color_space);
        compress.set_size(width, height);
        compress.set_quality(quality);
        // mozjpeg's table tuned for MS-SSIM (cjpeg's `-quant-table 2`) instead of its default
        // (ImageMagick's): at equal SSIMULACRA2 it took 3 to 7 % fewer bytes on the fetched
        // photos. Scaled by the quality as libjpeg scales its own tables.
        compress.set_luma_qtable(&mozjpeg::qtable::MSSSIM_Luma.scaled(quality, quality));
        compress.set_chroma_qtable(&mozjpeg::qtable::MSSSIM_Chroma.scaled(quality, quality));
        match scans {
            Scans::Searched => {
                compress.set_progressive_mode();
                compress.set_optimize_scans(true);
            }
            Scans::Standard => {
                // In this order: turning the search off also drops the scan script.
                compress.set_optimize_scans(false);
                compress.set_progressive_mode();
            }
        }
        compress.set_optimize_coding(true);
        if color_space == mozjpeg::ColorSpace::JCS_RGB {
            let size = if chroma == Chroma::Full { (1, 1) } else { (2, 2) };
            compress.set_chroma_sampling_pixel_sizes(size, size);
        }
        let mut started = compress.start_compress(Vec::with_capacity(width * height / 4))?;
        if let Some(exif) = metadata.exif {
            started.write_marker(mozjpeg::Marker::APP(1), &with_exif_prefix(exif));
        }
        if let Some(icc) = metadata.icc {
            for marker in icc_markers(icc) {
                started.write_marker(mozjpeg::Marker::APP(2), &marker);
            }
        }
        started.write_scanlines(&pixels)?;
        started.finish()
    }));
    match result {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => Err(encode_failed(err.to_string())),
        Err(payload) => Err(encode_failed(panic_message(payload))),
    }
}

/// APP2 payloads carrying an ICC profile. Written here rather than with mozjpeg's
/// `write_icc_profile`, which numbers the chunks from 0: the ICC spec numbers them from 1,
/// and libjpeg-turbo (so browsers) and zune-jpeg discard a profile numbered otherwise.
fn icc_markers(icc: &[u8]) -> Vec<Vec<u8>> {
    const HEADER: &[u8] = b"ICC_PROFILE\0";
    const MAX_CHUNK: usize = 65_533 - HEADER.len() - 2;
    let chunks: Vec<&[u8]> = icc.chunks(MAX_CHUNK).collect();
    let count = chunks.len() as u8;
    chunks.iter().enumerate().map(|(index, chunk)| [HEADER, &[index as u8 + 1, count], chunk].concat()).collect()
}

fn with_exif_prefix(exif: &[u8]) -> Vec<u8> {
    if exif.starts_with(EXIF_PREFIX) {
        exif.to_vec()
    } else {
        [EXIF_PREFIX, exif].concat()
    }
}

/// Which APP markers the lossless path carries over.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeepMarkers {
    pub exif: bool,
    pub icc: bool,
    /// EXIF orientation to restate when the EXIF block itself is dropped: the pixels are not
    /// rotated in lossless mode, so losing the tag would turn the picture on its side.
    pub orientation: Option<u8>,
}

/// Re-encodes the coefficients of `input` without requantising: progressive scans and
/// optimal Huffman tables (what `jpegtran -optimize -progressive` does, with mozjpeg's scan search).
pub(crate) fn optimize_losslessly(input: &[u8], keep: KeepMarkers) -> Result<Vec<u8>, EngineError> {
    catch_unwind(AssertUnwindSafe(|| unsafe { lossless::transcode(input, keep) }))
        .map_err(|payload| EngineError::Corrupt { format: "JPEG", reason: panic_message(payload) })
}

/// A minimal EXIF block (big-endian TIFF header, one IFD entry) holding only the orientation.
pub(crate) fn orientation_only_exif(orientation: u8) -> Vec<u8> {
    let mut exif = Vec::with_capacity(32);
    exif.extend_from_slice(EXIF_PREFIX);
    exif.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // TIFF header, first IFD at offset 8
    exif.extend_from_slice(&1u16.to_be_bytes()); // one entry
    exif.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    exif.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    exif.extend_from_slice(&1u32.to_be_bytes()); // count
    exif.extend_from_slice(&[0, orientation, 0, 0]); // value, left-aligned
    exif.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    exif
}

/// Raw libjpeg calls: the safe `mozjpeg` wrapper has no coefficient-level API.
mod lossless {
    use std::mem;
    use std::os::raw::{c_int, c_uint, c_ulong, c_void};

    use mozjpeg_sys::*;

    use super::{orientation_only_exif, KeepMarkers, EXIF_PREFIX};

    extern "C" {
        fn free(ptr: *mut c_void);
    }

    const APP1: c_int = 0xE1;
    const APP2: c_int = 0xE2;

    extern "C-unwind" fn unwind_on_error(cinfo: &mut jpeg_common_struct) {
        let message = unsafe {
            let err = &*cinfo.err;
            match err.format_message {
                Some(format) => {
                    let buffer = [0u8; 80];
                    format(cinfo, &buffer);
                    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
                    String::from_utf8_lossy(&buffer[..end]).into_owned()
                }
                None => format!("libjpeg error {}", err.msg_code),
            }
        };
        std::panic::resume_unwind(Box::new(message));
    }

    extern "C-unwind" fn ignore_warning(_cinfo: &mut jpeg_common_struct, _level: c_int) {}

    /// Owns both libjpeg objects so they are destroyed even when libjpeg unwinds.
    struct Session {
        error: Box<jpeg_error_mgr>,
        source: Box<jpeg_decompress_struct>,
        dest: Box<jpeg_compress_struct>,
        out_buffer: *mut u8,
        out_size: c_ulong,
    }

    impl Drop for Session {
        fn drop(&mut self) {
            unsafe {
                jpeg_destroy_compress(&mut self.dest);
                jpeg_destroy_decompress(&mut self.source);
                if !self.out_buffer.is_null() {
                    free(self.out_buffer.cast());
                }
            }
            let _ = &self.error;
        }
    }

    pub(super) unsafe fn transcode(input: &[u8], keep: KeepMarkers) -> Vec<u8> {
        let mut session = Session {
            error: Box::new(mem::zeroed()),
            source: Box::new(mem::zeroed()),
            dest: Box::new(mem::zeroed()),
            out_buffer: std::ptr::null_mut(),
            out_size: 0,
        };
        jpeg_std_error(&mut session.error);
        session.error.error_exit = Some(unwind_on_error);
        session.error.emit_message = Some(ignore_warning);
        let error: *mut jpeg_error_mgr = &mut *session.error;

        session.source.common.err = error;
        jpeg_CreateDecompress(&mut *session.source, JPEG_LIB_VERSION, mem::size_of::<jpeg_decompress_struct>());
        session.dest.common.err = error;
        jpeg_CreateCompress(&mut *session.dest, JPEG_LIB_VERSION, mem::size_of::<jpeg_compress_struct>());

        jpeg_mem_src(&mut session.source, input.as_ptr(), input.len() as c_ulong);
        jpeg_save_markers(&mut session.source, APP1, 0xFFFF);
        jpeg_save_markers(&mut session.source, APP2, 0xFFFF);
        jpeg_read_header(&mut session.source, 1);
        let coefficients = jpeg_read_coefficients(&mut session.source);

        jpeg_copy_critical_parameters(&session.source, &mut session.dest);
        session.dest.optimize_coding = 1;
        jpeg_simple_progression(&mut session.dest);
        jpeg_mem_dest(&mut session.dest, &mut session.out_buffer, &mut session.out_size);
        jpeg_write_coefficients(&mut session.dest, coefficients);

        let mut wrote_exif = false;
        let mut marker = session.source.marker_list;
        while let Some(saved) = marker.as_ref() {
            let data = std::slice::from_raw_parts(saved.data, saved.data_length as usize);
            let is_exif = c_int::from(saved.marker) == APP1 && data.starts_with(EXIF_PREFIX);
            let is_icc = c_int::from(saved.marker) == APP2 && data.starts_with(b"ICC_PROFILE\0");
            if (is_exif && keep.exif) || (is_icc && keep.icc) {
                jpeg_write_marker(&mut session.dest, c_int::from(saved.marker), saved.data, saved.data_length);
                wrote_exif |= is_exif;
            }
            marker = saved.next;
        }
        if let (false, Some(orientation)) = (wrote_exif, keep.orientation) {
            let exif = orientation_only_exif(orientation);
            jpeg_write_marker(&mut session.dest, APP1, exif.as_ptr(), exif.len() as c_uint);
        }

        jpeg_finish_compress(&mut session.dest);
        jpeg_finish_decompress(&mut session.source);
        std::slice::from_raw_parts(session.out_buffer, session.out_size as usize).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quality search scores trials encoded with the standard scans and writes the
    /// output with searched scans: that is only sound while both decode to the same pixels.
    #[test]
    fn searched_and_standard_scans_decode_to_the_same_pixels() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/photo.jpg");
        let photo = image::open(path).expect("the fixture photo decodes");
        for chroma in [Chroma::Quarter, Chroma::Full] {
            let encode = |scans| encode(&photo, 70.0, chroma, scans, &Metadata::default()).expect("encodes");
            let (searched, standard) = (encode(Scans::Searched), encode(Scans::Standard));
            assert_ne!(searched, standard, "the two scan layouts are different files");
            let pixels = |bytes: &[u8]| image::load_from_memory(bytes).expect("decodes").to_rgb8().into_raw();
            assert!(pixels(&searched) == pixels(&standard), "{} pixels differ", chroma.label());
        }
    }
}
