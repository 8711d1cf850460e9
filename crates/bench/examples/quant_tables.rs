//! The experiment behind the engine's JPEG tables: for one photo, mozjpeg's bytes at an equal
//! whole-image SSIMULACRA2 with its default tables, 4:4:4 chroma, and four other table sets
//! (three encodes each, log-bytes interpolated at the score).
//!
//! `cargo run --release --example quant_tables -p compressor-bench -- PHOTO.jpg 76`
use mozjpeg::qtable::*;

mod support;

/// A name, the chroma subsampling factor, and the (luma, chroma) tables (`None`: mozjpeg's).
type Config<'a> = (&'a str, u8, Option<(&'a QTable, &'a QTable)>);
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let target: f64 = a[2].parse().unwrap();
    let x = image::open(&a[1]).unwrap().to_rgb8();
    let configs: Vec<Config> = vec![
        ("default 420", 2, None),
        ("default 444", 1, None),
        ("msssim 420", 2, Some((&MSSSIM_Luma, &MSSSIM_Chroma))),
        ("psnrhvs 420", 2, Some((&PSNRHVS_Luma, &PSNRHVS_Chroma))),
        ("annexk 420", 2, Some((&AnnexK_Luma, &AnnexK_Chroma))),
        ("klein 420", 2, Some((&KleinSilversteinCarney, &KleinSilversteinCarney))),
    ];
    for (name, sub, table) in configs {
        let mut pts = vec![];
        for q in [60.0, 72.0, 84.0] {
            let b = support::mozjpeg(&x, q, sub, table);
            let y = image::load_from_memory(&b).unwrap().to_rgb8();
            let s = compressor_engine::ssimulacra2(&x, &y).unwrap();
            pts.push((q, b.len() as f64, s));
        }
        // interpolate bytes at target score (log-bytes linear in score)
        let mut at = f64::NAN;
        for w in pts.windows(2) {
            let (p0, p1) = (w[0], w[1]);
            if (p0.2 <= target && target <= p1.2) || (p1.2 <= target && target <= p0.2) {
                let t = (target - p0.2) / (p1.2 - p0.2);
                at = (p0.1.ln() + t * (p1.1.ln() - p0.1.ln())).exp();
            }
        }
        println!(
            "{} | {name} | {:?} | bytes@{target}: {at:.0}",
            a[1].rsplit('/').next().unwrap(),
            pts.iter().map(|p| format!("q{} {} {:.1}", p.0, p.1, p.2)).collect::<Vec<_>>()
        );
    }
}
