//! The experiment behind keeping mozjpeg's default trellis settings: its bytes at an equal
//! whole-image SSIMULACRA2 with the default lambdas and with cjpeg's other tunings, all on
//! the MS-SSIM tables, 4:2:0, searched progressive scans (what the engine writes).
//!
//! On the 12 bench photos at SSIMULACRA2 76 (median of bytes / default's bytes):
//! `-tune-ms-ssim`'s lambdas 1.050, `-tune-ssim`'s 1.077, rate-heavier lambdas 16/17.5 and
//! 17.5/19 0.998 (from 0.974 to 1.022 per photo), `trellis_q_opt` 1.001, no lambda weight
//! table 1.000. None is worth a change: the trellis is not where bytes are left.
//!
//! `cargo run --release --example trellis_tuning -p compressor-bench -- 76 PHOTO.jpg...`
use std::mem;
use std::os::raw::{c_int, c_ulong, c_void};

use image::RgbImage;
use mozjpeg_sys::*;

extern "C" {
    fn free(ptr: *mut c_void);
}

#[derive(Clone, Copy)]
struct Tuning {
    name: &'static str,
    lambdas: (f32, f32),
    weight_table: bool,
    q_opt: bool,
}

const TUNINGS: [Tuning; 7] = [
    Tuning { name: "default (hvs-psnr)", lambdas: (14.75, 16.5), weight_table: true, q_opt: false },
    Tuning { name: "ms-ssim lambdas", lambdas: (12.0, 13.0), weight_table: true, q_opt: false },
    Tuning { name: "ssim lambdas", lambdas: (11.5, 12.75), weight_table: false, q_opt: false },
    Tuning { name: "16/17.5", lambdas: (16.0, 17.5), weight_table: true, q_opt: false },
    Tuning { name: "17.5/19", lambdas: (17.5, 19.0), weight_table: true, q_opt: false },
    Tuning { name: "trellis_q_opt", lambdas: (14.75, 16.5), weight_table: true, q_opt: true },
    Tuning { name: "no lambda weights", lambdas: (14.75, 16.5), weight_table: false, q_opt: false },
];

/// MS-SSIM tables (`JINT_BASE_QUANT_TBL_IDX` 2) at quality `q`, 4:2:0, searched progressive scans.
fn encode(img: &RgbImage, q: c_int, tuning: Tuning) -> Vec<u8> {
    unsafe {
        let mut error: jpeg_error_mgr = mem::zeroed();
        jpeg_std_error(&mut error);
        let mut c: jpeg_compress_struct = mem::zeroed();
        c.common.err = &mut error;
        jpeg_CreateCompress(&mut c, JPEG_LIB_VERSION, mem::size_of::<jpeg_compress_struct>());
        let (mut buffer, mut size): (*mut u8, c_ulong) = (std::ptr::null_mut(), 0);
        jpeg_mem_dest(&mut c, &mut buffer, &mut size);
        c.image_width = img.width();
        c.image_height = img.height();
        c.input_components = 3;
        c.in_color_space = J_COLOR_SPACE::JCS_RGB;
        jpeg_set_defaults(&mut c);
        jpeg_c_set_int_param(&mut c, J_INT_PARAM::JINT_BASE_QUANT_TBL_IDX, 2);
        jpeg_set_quality(&mut c, q, 1);
        jpeg_c_set_float_param(&mut c, J_FLOAT_PARAM::JFLOAT_LAMBDA_LOG_SCALE1, tuning.lambdas.0);
        jpeg_c_set_float_param(&mut c, J_FLOAT_PARAM::JFLOAT_LAMBDA_LOG_SCALE2, tuning.lambdas.1);
        jpeg_c_set_bool_param(&mut c, J_BOOLEAN_PARAM::JBOOLEAN_USE_LAMBDA_WEIGHT_TBL, tuning.weight_table as boolean);
        jpeg_c_set_bool_param(&mut c, J_BOOLEAN_PARAM::JBOOLEAN_TRELLIS_Q_OPT, tuning.q_opt as boolean);
        jpeg_simple_progression(&mut c);
        c.optimize_coding = 1;
        jpeg_start_compress(&mut c, 1);
        let stride = img.width() as usize * 3;
        for row in img.as_raw().chunks(stride) {
            let rows = [row.as_ptr()];
            jpeg_write_scanlines(&mut c, rows.as_ptr(), 1);
        }
        jpeg_finish_compress(&mut c);
        let bytes = std::slice::from_raw_parts(buffer, size as usize).to_vec();
        free(buffer.cast());
        jpeg_destroy_compress(&mut c);
        bytes
    }
}

/// Bytes at `target` score, log-interpolated between the two qualities that bracket it.
fn bytes_at(points: &[(f64, f64)], target: f64) -> Option<f64> {
    points.windows(2).find(|w| (w[0].1 - target) * (w[1].1 - target) <= 0.0).map(|w| {
        let t = (target - w[0].1) / (w[1].1 - w[0].1);
        (w[0].0.ln() + t * (w[1].0.ln() - w[0].0.ln())).exp()
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let target: f64 = args.next().expect("target score").parse().expect("a number");
    let paths: Vec<String> = args.collect();
    let qualities = [40, 50, 60, 70, 80, 90, 95];
    let rows: Vec<(String, Vec<Option<f64>>)> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<String>> = (0..2).map(|i| paths.iter().skip(i).step_by(2).cloned().collect()).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|path| {
                            let photo = image::open(path).unwrap().to_rgb8();
                            let at: Vec<Option<f64>> = TUNINGS
                                .iter()
                                .map(|&tuning| {
                                    let points: Vec<(f64, f64)> = qualities
                                        .iter()
                                        .map(|&q| {
                                            let bytes = encode(&photo, q, tuning);
                                            let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
                                            let score = compressor_engine::ssimulacra2(&photo, &decoded).unwrap();
                                            (bytes.len() as f64, score)
                                        })
                                        .collect();
                                    bytes_at(&points, target)
                                })
                                .collect();
                            (path.rsplit('/').next().unwrap().to_string(), at)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    println!("{:>18} | {}", "photo", TUNINGS.map(|t| format!("{:>20}", t.name)).join(" | "));
    let mut ratios: Vec<Vec<f64>> = vec![vec![]; TUNINGS.len()];
    for (name, at) in &rows {
        let base = at[0];
        let cells: Vec<String> = at
            .iter()
            .enumerate()
            .map(|(i, b)| match (b, base) {
                (Some(b), Some(base)) => {
                    ratios[i].push(b / base);
                    format!("{:>11.0} ({:.3})", b, b / base)
                }
                _ => format!("{:>20}", "not bracketed"),
            })
            .collect();
        println!("{name:>18} | {}", cells.join(" | "));
    }
    for (i, tuning) in TUNINGS.iter().enumerate() {
        let mut r = ratios[i].clone();
        r.sort_by(f64::total_cmp);
        let median = if r.is_empty() { f64::NAN } else { r[r.len() / 2] };
        let mean = r.iter().sum::<f64>() / r.len().max(1) as f64;
        println!(
            "{:>20}: median {median:.3}, mean {mean:.3} of the default's bytes at SSIMULACRA2 {target}",
            tuning.name
        );
    }
}
