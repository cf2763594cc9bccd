//! The PNG of a bench: stage times per second of video for every run (log
//! scale, as the article's speed-up figures span orders of magnitude), and
//! end-to-end fps beside it. Drawn with plotters; text in a TrueType font
//! read from disk, since the chart is the only thing in the engine that
//! draws text outside GStreamer.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::summary::{RunSummary, Stages};

/// Where Debian's and Ubuntu's `fonts-dejavu-core` put the font.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const COLOURS: [RGBColor; 6] = [
    RGBColor(200, 80, 60),
    RGBColor(230, 150, 60),
    RGBColor(60, 120, 200),
    RGBColor(40, 170, 110),
    RGBColor(120, 90, 180),
    RGBColor(110, 110, 110),
];

pub fn draw(runs: &[&RunSummary], font: &Path, out: &Path) -> Result<(), String> {
    let bytes = std::fs::read(font)
        .map_err(|e| format!("{}: {e} (install fonts-dejavu-core, or give --font)", font.display()))?;
    // plotters keeps registered fonts for the life of the process.
    register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into_boxed_slice()))
        .map_err(|_| format!("{}: not a TrueType font", font.display()))?;
    let root = BitMapBackend::new(out, (1400, 560)).into_drawing_area();
    let draw_error = |e: DrawingAreaErrorKind<_>| format!("{}: {e}", out.display());
    root.fill(&WHITE).map_err(draw_error)?;
    let (left, right) = root.split_horizontally(980);

    let stages = Stages::NAMES.len();
    let most = runs
        .iter()
        .flat_map(|r| r.stage_ms_per_video_second.values())
        .fold(1.0_f64, f64::max);
    let mut stage_chart = ChartBuilder::on(&left)
        .caption("Stage time, ms per second of video (log)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        // Headroom above the tallest bar for the legend.
        .build_cartesian_2d(0.0..stages as f64, (0.01..most * 300.0).log_scale())
        .map_err(draw_error)?;
    stage_chart
        .configure_mesh()
        .disable_x_mesh()
        // Key points every half unit: the stage's name under the middle of its group.
        .x_labels(2 * stages + 1)
        .x_label_formatter(&|x| {
            let middle = (x.fract() - 0.5).abs() < 1e-6;
            let name = Stages::NAMES.get(x.floor() as usize).filter(|_| middle);
            name.map_or_else(String::new, |n| (*n).to_owned())
        })
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(draw_error)?;
    let width = 0.8 / runs.len().max(1) as f64;
    for (r, run) in runs.iter().enumerate() {
        let colour = COLOURS[r % COLOURS.len()];
        let bars = run
            .stage_ms_per_video_second
            .values()
            .into_iter()
            .enumerate()
            .filter(|(_, ms)| *ms > 0.0)
            .map(move |(s, ms)| {
                let x0 = s as f64 + 0.1 + r as f64 * width;
                Rectangle::new([(x0, 0.01), (x0 + width * 0.9, ms.max(0.01))], colour.filled())
            });
        stage_chart
            .draw_series(bars)
            .map_err(draw_error)?
            .label(run.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
    }
    stage_chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(draw_error)?;

    let fastest = runs.iter().map(|r| r.fps).fold(1.0_f64, f64::max);
    let mut fps_chart = ChartBuilder::on(&right)
        .caption("End-to-end frames/s", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..runs.len() as f64, 0.0..fastest * 1.15)
        .map_err(draw_error)?;
    fps_chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(draw_error)?;
    for (r, run) in runs.iter().enumerate() {
        let colour = COLOURS[r % COLOURS.len()];
        let x0 = r as f64 + 0.15;
        fps_chart
            .draw_series([Rectangle::new([(x0, 0.0), (x0 + 0.7, run.fps)], colour.filled())])
            .map_err(draw_error)?;
        fps_chart
            .draw_series([Text::new(
                format!("{:.0}", run.fps),
                (x0 + 0.1, run.fps + fastest * 0.02),
                ("sans-serif", 15),
            )])
            .map_err(draw_error)?;
    }
    root.present().map_err(draw_error)
}
