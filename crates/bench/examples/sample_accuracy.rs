//! The experiment behind the engine's auto-quality sample: how far a mosaic of tiles, encoded
//! and scored on its own, lands from the whole image's SSIMULACRA2 at the same JPEG quality,
//! for several tile sizes and counts, and what each costs per trial.
//!
//! `cargo run --release --example sample_accuracy -p compressor-bench -- PHOTO.jpg...`
use std::time::{Duration, Instant};

use image::RgbImage;
use mozjpeg::qtable::{MSSSIM_Chroma, MSSSIM_Luma};

mod support;

/// The engine's JPEG at quality `q`: 4:2:0 with the MS-SSIM tables (the `high` level).
fn encode(img: &RgbImage, q: f32) -> Vec<u8> {
    support::mozjpeg(img, q, 2, Some((&MSSSIM_Luma, &MSSSIM_Chroma)))
}

/// Tiles of `tile` pixels on a `columns`×`rows` grid, centred in equal cells, on the 16-px grid.
fn mosaic(rgb: &RgbImage, tile: u32, columns: u32, rows: u32) -> RgbImage {
    let (width, height) = rgb.dimensions();
    let mut out = RgbImage::new(tile * columns, tile * rows);
    for row in 0..rows {
        for column in 0..columns {
            let x = (width - tile) * (2 * column + 1) / (2 * columns) / 16 * 16;
            let y = (height - tile) * (2 * row + 1) / (2 * rows) / 16 * 16;
            let part = image::imageops::crop_imm(rgb, x, y, tile, tile).to_image();
            image::imageops::replace(&mut out, &part, i64::from(column * tile), i64::from(row * tile));
        }
    }
    out
}

fn score(a: &RgbImage, b: &RgbImage) -> f64 {
    compressor_engine::ssimulacra2(a, b).unwrap()
}

fn main() {
    let configs: [(u32, u32, u32); 6] = [(128, 5, 4), (64, 10, 8), (128, 8, 5), (192, 6, 4), (256, 5, 4), (128, 10, 8)];
    let qualities = [60.0, 70.0, 80.0];
    let mut errors: Vec<Vec<f64>> = vec![vec![]; configs.len()];
    let mut costs = vec![Duration::ZERO; configs.len()];
    for path in std::env::args().skip(1) {
        let photo = image::open(&path).unwrap().to_rgb8();
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        for q in qualities {
            let whole = score(&photo, &image::load_from_memory(&encode(&photo, q)).unwrap().to_rgb8());
            let mut line = format!("{name:>18} q{q}: whole {whole:5.1}");
            for (i, &(tile, columns, rows)) in configs.iter().enumerate() {
                let sample = mosaic(&photo, tile, columns, rows);
                let start = Instant::now();
                let decoded = image::load_from_memory(&encode(&sample, q)).unwrap().to_rgb8();
                let s = score(&sample, &decoded);
                costs[i] += start.elapsed();
                errors[i].push(s - whole);
                line += &format!(" | {:+5.1}", s - whole);
            }
            println!("{line}");
        }
    }
    println!("\ntile × grid: mean error, standard deviation, worst, time per trial");
    for (i, (tile, columns, rows)) in configs.iter().enumerate() {
        let e = &errors[i];
        let n = e.len() as f64;
        let mean = e.iter().sum::<f64>() / n;
        let sd = (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let worst = e.iter().fold(0.0f64, |w, x| if x.abs() > w.abs() { *x } else { w });
        println!(
            "{tile:>3} × {columns}×{rows}: {mean:+.2} ± {sd:.2}, worst {worst:+.1}, {:.0} ms",
            costs[i].as_secs_f64() * 1000.0 / n
        );
    }
}
