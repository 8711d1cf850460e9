//! The bytes-vs-score plot: one point per photo and tool (SSIMULACRA2 across, output size as a
//! percentage of the original up), plus Caesium's runs at the qualities that bracket our
//! score, so equal-quality comparisons can be read off vertically.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

use crate::{Kind, Matched, Row};

/// plotters' pure-Rust text needs a font file: Debian's DejaVu Sans (fonts-dejavu-core).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const SERIES: [(&str, RGBColor); 6] = [
    ("compressor", RGBColor(220, 40, 40)),
    ("compressor q75", RGBColor(250, 150, 40)),
    ("caesiumclt q75", RGBColor(40, 90, 220)),
    ("jpegoptim m75", RGBColor(120, 120, 120)),
    ("vips Q75", RGBColor(40, 160, 90)),
    ("cwebp q75", RGBColor(150, 60, 180)),
];

pub(crate) fn bytes_vs_score(rows: &[Row], matched: &[(String, u64, f64, Option<Matched>)], path: &Path) -> Result<()> {
    let font = std::fs::read(FONT).with_context(|| format!("{FONT} (apt install fonts-dejavu-core)"))?;
    plotters::style::register_font("sans-serif", FontStyle::Normal, Box::leak(font.into_boxed_slice()))
        .map_err(|_| anyhow!("{FONT} is not a usable font"))?;

    let percent = |file: &str, bytes: f64| -> Option<f64> {
        let original = rows.iter().find(|r| r.file == file)?.original_bytes;
        Some(bytes * 100.0 / original as f64)
    };

    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Photos: output size vs SSIMULACRA2 (up-left is better)", ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(50.0f64..100.0, 0.0f64..110.0)?;
    chart
        .configure_mesh()
        .x_desc("SSIMULACRA2 against the original (higher is better)")
        .y_desc("bytes, % of the original file")
        .label_style(("sans-serif", 16))
        .draw()?;

    for (tool, colour) in SERIES {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.kind == Kind::Jpeg && r.tool == tool)
            .filter_map(|r| Some((r.measurement.score, percent(&r.file, r.measurement.bytes as f64)?)))
            .collect();
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 5, colour.filled())))?
            .label(tool)
            .legend(move |(x, y)| Circle::new((x, y), 5, colour.filled()));
    }
    // Caesium's extra runs, joined per photo: where its curve crosses our score.
    let runs_colour = RGBColor(40, 90, 220).mix(0.5);
    let mut labelled = false;
    for (file, _, _, found) in matched {
        let Some(m) = found else { continue };
        let mut curve: Vec<(f64, f64)> =
            m.runs.iter().filter_map(|&(_, bytes, score)| Some((score, percent(file, bytes as f64)?))).collect();
        curve.sort_by(|a, b| a.0.total_cmp(&b.0));
        let series = chart.draw_series(LineSeries::new(curve, runs_colour.stroke_width(1)))?;
        if !labelled {
            series
                .label("caesiumclt at other qualities")
                .legend(move |(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], runs_colour.stroke_width(2)));
            labelled = true;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
    root.present()?;
    Ok(())
}
