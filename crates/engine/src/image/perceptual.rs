//! Per-image quality (`quality: "auto"`): instead of one encoder quality for every photo, the
//! lowest quality whose SSIMULACRA2 score keeps the level's target. A fixed quality wastes
//! bytes on easy images and loses quality on hard ones: at JPEG q75, real photos score from
//! the low 70s to the 80s.
//!
//! A whole-image trial would cost an encode, a decode and a score of every pixel (the score
//! alone takes about 0.9 s for a 4-megapixel photo with fast-ssim2's SIMD kernels), so trials
//! are scored on a *sample*: twenty 128-pixel tiles spread over the image, packed into one
//! small mosaic that is encoded, decoded and scored as an image of its own (about 43 ms a
//! trial, 27 of them the score; JPEG trials skip the scan search, which leaves the pixels as
//! they are). The tiles sit on the 16-pixel block grid, so the encoder cuts them into the same
//! blocks as the whole image. Scored as one image (rather than a mean of per-tile scores) the mosaic pools its
//! error statistics the way the full-image score does. On the twelve benchmark photos at
//! q60–q80 it scores 1.7 ± 1.5 points above the whole image (worst +6.2, a night sky): tiles
//! cannot see banding across a whole sky. Bigger samples are closer (256-pixel tiles:
//! 0.5 ± 0.6) but cost five times as much; `cargo run --example sample_accuracy` measures it.

use image::{DynamicImage, RgbImage};

use crate::options::Compression;

/// SSIMULACRA2 targets per level: 90 is visually lossless at a normal viewing distance,
/// 80 very good, 70 good ("web quality"). Tuned so `high` matches what a fixed q75 gives a
/// typical photo, and spends the bytes where the photo needs them.
pub(crate) fn target_score(level: Compression) -> f64 {
    match level {
        Compression::Medium => 86.0,
        Compression::High => 76.0,
        Compression::Ultra => 66.0,
    }
}

/// How much the sample's score exceeds the whole image's, on average: over the twelve
/// benchmark photos the whole images scored 1.4 points under the sample's target. The search
/// aims this much higher so that the whole image lands on the level's target.
pub(crate) const SAMPLE_OVERESTIMATE: f64 = 1.25;

/// JPEG XL's whole images land further under the sample's score than JPEG's (its larger
/// transforms see more of the image than a 128-pixel tile holds): on the five fetched photos
/// they scored 0.3 to 1.5 points under the target with [`SAMPLE_OVERESTIMATE`] alone.
pub(crate) const JXL_SAMPLE_OVERESTIMATE: f64 = 2.25;

/// Images narrower or lower than this keep the level's fixed quality.
pub(crate) const SMALLEST_SIDE: u32 = 32;

/// The quality range searched: below 30 a JPEG breaks into blocks whatever the score says;
/// above 95 it only grows.
const LOWEST: u8 = 30;
const HIGHEST: u8 = 95;
const TILE: u32 = 128;
const COLUMNS: u32 = 5;
const ROWS: u32 = 4;
/// A trial scoring this little under or over the target ends the search: the sample's own
/// error (1.5 points, one standard deviation) is larger, so another trial would gain nothing.
const CLOSE_UNDER: f64 = 0.5;
const CLOSE_OVER: f64 = 1.0;
/// Trial encodes at most (each is an encode and a score of the mosaic).
const MAX_TRIALS: usize = 4;
/// Score points per quality step between q60 and q85 (0.68 to 0.74 on the fetched photos
/// with mozjpeg's MS-SSIM tables): the slope of the first step.
const TYPICAL_SLOPE: f64 = 0.7;

/// The pixels trials are scored on, as RGB by `to_rgb`: the mosaic of tiles, or the whole
/// image when it is no bigger than the mosaic would be. Only the tiles are converted, not the
/// whole image. Images of the same size give the same tiles, so an encoder's decoded output
/// is sampled by the same call.
pub(crate) fn sample(image: &DynamicImage, to_rgb: impl Fn(&DynamicImage) -> RgbImage) -> RgbImage {
    match grid(image.width(), image.height()) {
        Some((columns, rows)) => tiles_of(image, columns, rows, to_rgb),
        None => to_rgb(image),
    }
}

/// Columns and rows of tiles for an image this size; `None` when the whole image is no bigger
/// than the full mosaic.
fn grid(width: u32, height: u32) -> Option<(u32, u32)> {
    let pixels = u64::from(width) * u64::from(height);
    let (columns, rows) = ((width / TILE).min(COLUMNS), (height / TILE).min(ROWS));
    let full_mosaic = u64::from(COLUMNS * ROWS * TILE * TILE);
    (columns > 0 && rows > 0 && pixels > full_mosaic).then_some((columns, rows))
}

fn tiles_of(image: &DynamicImage, columns: u32, rows: u32, to_rgb: impl Fn(&DynamicImage) -> RgbImage) -> RgbImage {
    let (width, height) = (image.width(), image.height());
    let mut mosaic = RgbImage::new(TILE * columns, TILE * rows);
    for row in 0..rows {
        for column in 0..columns {
            let on_grid = |x: u32| x / 16 * 16;
            let x = on_grid((width - TILE) * (2 * column + 1) / (2 * columns));
            let y = on_grid((height - TILE) * (2 * row + 1) / (2 * rows));
            let tile = to_rgb(&image.crop_imm(x, y, TILE, TILE));
            image::imageops::replace(&mut mosaic, &tile, i64::from(column * TILE), i64::from(row * TILE));
        }
    }
    mosaic
}

fn pixels(rgb: &RgbImage) -> Option<fast_ssim2::PixelSlice<'_>> {
    let (width, height) = rgb.dimensions();
    let stride = usize::try_from(width).ok()? * 3;
    fast_ssim2::PixelSlice::new(rgb.as_raw(), width, height, stride, fast_ssim2::PixelDescriptor::RGB8_SRGB).ok()
}

/// Whether SSIMULACRA2 can score an image this size: its coarsest scale needs 8×8 pixels.
fn scorable(rgb: &RgbImage) -> bool {
    rgb.width() >= 8 && rgb.height() >= 8
}

/// SSIMULACRA2 of `distorted` against `reference` (sRGB, same size); `None` if it cannot be computed.
pub(crate) fn score(reference: &RgbImage, distorted: &RgbImage) -> Option<f64> {
    if reference.dimensions() != distorted.dimensions() || !scorable(reference) {
        return None;
    }
    fast_ssim2::compute_ssimulacra2(&pixels(reference)?, &pixels(distorted)?).ok()
}

/// An image prepared once to score many candidates against (about half the cost of each
/// [`score`] call): the search's trials all compare with the same sample.
pub(crate) struct Reference(fast_ssim2::Ssimulacra2Reference);

impl Reference {
    pub(crate) fn new(reference: &RgbImage) -> Option<Self> {
        if !scorable(reference) {
            return None;
        }
        fast_ssim2::Ssimulacra2Reference::new(&pixels(reference)?).ok().map(Self)
    }

    /// SSIMULACRA2 of `distorted` (the reference's size) against the reference.
    pub(crate) fn score(&self, distorted: &RgbImage) -> Option<f64> {
        self.0.compare(&pixels(distorted)?).ok()
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Choice {
    pub quality: u8,
    /// The sample's score at that quality (measured or, between two trials, interpolated).
    pub score: f64,
    pub trials: usize,
}

/// The lowest quality whose sample score reaches `target`, found by secant steps on the
/// score-versus-quality curve (smooth and rising), at most [`MAX_TRIALS`] trials.
/// `trial(q)` encodes the sample at q, decodes it and returns its score; `None` (a failed
/// trial) ends the search with `None`, and the caller keeps the level's fixed quality.
pub(crate) fn search(start: u8, target: f64, mut trial: impl FnMut(u8) -> Option<f64>) -> Option<Choice> {
    let mut measured: Vec<(u8, f64)> = Vec::with_capacity(MAX_TRIALS);
    let mut quality = start.clamp(LOWEST, HIGHEST);
    loop {
        let score = trial(quality)?;
        measured.push((quality, score));
        if (target - CLOSE_UNDER..=target + CLOSE_OVER).contains(&score) {
            return Some(Choice { quality, score, trials: measured.len() });
        }
        let next = next_quality(&measured, target);
        if measured.len() >= MAX_TRIALS || measured.iter().any(|&(q, _)| q == next) {
            break;
        }
        quality = next;
    }
    Some(settle(&measured, target))
}

/// The next quality to try: interpolated between the closest trials below and above the
/// target when there are both, else a step along the nearest two trials' slope (or the
/// typical slope after one trial).
fn next_quality(measured: &[(u8, f64)], target: f64) -> u8 {
    let below = measured.iter().filter(|m| m.1 < target).max_by(|a, b| a.1.total_cmp(&b.1));
    let above = measured.iter().filter(|m| m.1 >= target).min_by(|a, b| a.1.total_cmp(&b.1));
    let guess = match (below, above) {
        (Some(&(q0, s0)), Some(&(q1, s1))) if (s1 - s0).abs() > f64::EPSILON => {
            f64::from(q0) + (target - s0) * (f64::from(q1) - f64::from(q0)) / (s1 - s0)
        }
        _ => {
            let &(q, s) = measured.last().expect("at least one trial");
            let slope = match measured {
                [.., (qa, sa), (qb, sb)] if qa != qb && (sb - sa) / (f64::from(*qb) - f64::from(*qa)) > 0.05 => {
                    (sb - sa) / (f64::from(*qb) - f64::from(*qa))
                }
                _ => TYPICAL_SLOPE,
            };
            f64::from(q) + (target - s) / slope
        }
    };
    (guess.ceil().clamp(f64::from(LOWEST), f64::from(HIGHEST))) as u8
}

/// After the last trial: the lowest quality known (or, between two trials, interpolated
/// and rounded up) to reach the target; the highest tried when none does.
fn settle(measured: &[(u8, f64)], target: f64) -> Choice {
    let trials = measured.len();
    let reaching = measured.iter().filter(|m| m.1 >= target).min_by_key(|m| m.0);
    let missing = measured.iter().filter(|m| m.1 < target).max_by_key(|m| m.0);
    match (missing, reaching) {
        (Some(&(q0, s0)), Some(&(q1, s1))) if q1 > q0 + 1 && s1 > s0 => {
            let quality = next_quality(&[(q0, s0), (q1, s1)], target).clamp(q0 + 1, q1);
            let score = s0 + (s1 - s0) * f64::from(quality - q0) / f64::from(q1 - q0);
            Choice { quality, score, trials }
        }
        (_, Some(&(quality, score))) => Choice { quality, score, trials },
        (Some(_), None) => {
            let &(quality, score) = measured.iter().max_by_key(|m| m.0).expect("at least one trial");
            Choice { quality, score, trials }
        }
        (None, None) => unreachable!("search measures before it settles"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up image whose score rises with quality like JPEG's does.
    fn curve(quality: u8) -> f64 {
        100.0 - 40.0 * ((100.0 - f64::from(quality)) / 70.0).powf(0.8)
    }

    #[test]
    fn finds_the_lowest_quality_reaching_the_target_in_few_trials() {
        for target in [66.0, 76.0, 86.0] {
            let mut trials = 0;
            let choice = search(75, target, |q| {
                trials += 1;
                Some(curve(q))
            })
            .expect("trials succeed");
            assert!(curve(choice.quality) >= target - CLOSE_UNDER, "{target}: {choice:?}");
            assert!(
                choice.quality == LOWEST || curve(choice.quality - 2) < target,
                "{target}: {choice:?} is not near the lowest"
            );
            assert!(trials <= MAX_TRIALS, "{trials} trials");
        }
    }

    #[test]
    fn an_unreachable_target_takes_the_best_tried() {
        let choice = search(75, 99.0, |q| Some(curve(q))).expect("trials succeed");
        assert_eq!(choice.quality, HIGHEST);
    }

    #[test]
    fn a_failed_trial_gives_up() {
        assert_eq!(search(75, 76.0, |_| None), None);
    }

    #[test]
    fn the_sample_of_a_big_image_is_the_mosaic_and_small_images_are_whole() {
        let of_size = |width, height| sample(&DynamicImage::new_rgb8(width, height), DynamicImage::to_rgb8);
        assert_eq!(of_size(2560, 1600).dimensions(), (TILE * COLUMNS, TILE * ROWS));
        assert_eq!(of_size(300, 200).dimensions(), (300, 200));
        // Too low for four rows: as many as fit, still far fewer pixels than the image.
        assert_eq!(of_size(1600, 300).dimensions(), (TILE * COLUMNS, TILE * 2));
    }

    #[test]
    fn identical_pixels_score_100_and_noise_lowers_the_score() {
        let reference = RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 128]));
        assert!((score(&reference, &reference).expect("scored") - 100.0).abs() < 0.01);
        let noisy = RgbImage::from_fn(64, 64, |x, y| {
            let p = reference.get_pixel(x, y);
            image::Rgb([p[0].wrapping_add(((x * 7 + y * 13) % 23) as u8), p[1], p[2]])
        });
        assert!(score(&reference, &noisy).expect("scored") < 90.0);
    }
}
