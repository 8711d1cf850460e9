//! Shared by the experiments: mozjpeg with the engine's encoder settings (progressive, optimised
//! Huffman and scans, trellis), the chroma subsampling and quantisation tables left to choose.

use image::RgbImage;
use mozjpeg::qtable::QTable;

/// Encodes `img` at quality `q`, chroma subsampled by `sub` (1: 4:4:4, 2: 4:2:0), with the
/// (luma, chroma) tables scaled by `q` (`None`: mozjpeg's default tables).
pub fn mozjpeg(img: &RgbImage, q: f32, sub: u8, tables: Option<(&QTable, &QTable)>) -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    c.set_size(img.width() as usize, img.height() as usize);
    c.set_quality(q);
    if let Some((luma, chroma)) = tables {
        c.set_luma_qtable(&luma.scaled(q, q));
        c.set_chroma_qtable(&chroma.scaled(q, q));
    }
    c.set_progressive_mode();
    c.set_optimize_coding(true);
    c.set_optimize_scans(true);
    c.set_chroma_sampling_pixel_sizes((sub, sub), (sub, sub));
    let mut s = c.start_compress(Vec::new()).unwrap();
    s.write_scanlines(img.as_raw()).unwrap();
    s.finish().unwrap()
}
