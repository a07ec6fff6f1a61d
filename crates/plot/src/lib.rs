//! # plot
//!
//! PNG figures for freqprop, drawn with plotters' bitmap backend and an embedded font
//! (DejaVu Sans), so they render the same on a headless cluster node as on a laptop.
//!
//! Every function writes the PNG to a temporary file next to the target and renames it into
//! place, so an interrupted run never leaves a half-written figure.
//!
//! ```
//! use plot::{line_chart, Series, Axes};
//! let dir = tempfile::tempdir().unwrap();
//! let t: Vec<f64> = (0..100).map(|i| i as f64 * 1e-3).collect();
//! let v: Vec<f64> = t.iter().map(|t| (2.0 * std::f64::consts::PI * 10.0 * t).sin()).collect();
//! let path = dir.path().join("sine.png");
//! line_chart(&path, "a sine", &Axes::new("time (s)", "v (V)"), &[Series::new("v(out)", &t, &v)]).unwrap();
//! assert!(std::fs::metadata(&path).unwrap().len() > 1000);
//! ```

use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Errors while drawing or writing a figure.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot draw the figure: {message}")]
pub struct PlotError {
    /// The figure's path.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

type Result<T> = std::result::Result<T, PlotError>;

static FONT: Once = Once::new();

fn init_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

/// One line of a chart.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Legend label.
    pub label: &'a str,
    /// Abscissae.
    pub x: &'a [f64],
    /// Ordinates.
    pub y: &'a [f64],
}

impl<'a> Series<'a> {
    /// A labelled series.
    pub fn new(label: &'a str, x: &'a [f64], y: &'a [f64]) -> Series<'a> {
        Series { label, x, y }
    }
}

/// Axis labels and scales.
#[derive(Debug, Clone)]
pub struct Axes {
    /// X label.
    pub x_label: String,
    /// Y label.
    pub y_label: String,
    /// Logarithmic y axis (non-positive values are dropped).
    pub log_y: bool,
    /// Vertical marker lines (e.g. requested frequencies), with labels.
    pub markers: Vec<(f64, String)>,
}

impl Axes {
    /// Linear axes with labels.
    pub fn new(x_label: &str, y_label: &str) -> Axes {
        Axes {
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            markers: Vec::new(),
        }
    }

    /// Use a logarithmic y axis.
    pub fn log_y(mut self) -> Axes {
        self.log_y = true;
        self
    }

    /// Add a vertical marker.
    pub fn marker(mut self, x: f64, label: &str) -> Axes {
        self.markers.push((x, label.into()));
        self
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plot.png".into());
    path.with_file_name(format!(".{name}.tmp-{}.png", std::process::id()))
}

fn err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Draw into a temporary PNG with `draw`, then rename it to `path`.
fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(
        &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    ) -> std::result::Result<(), String>,
) -> Result<()> {
    init_font();
    let tmp = tmp_path(path);
    let res = {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path, e))?;
        let r = draw(&root).map_err(|e| err(path, e));
        r.and_then(|_| root.present().map_err(|e| err(path, e)))
    };
    match res {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| err(path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1e-300) {
        let pad = if lo == 0.0 { 1.0 } else { 0.05 * lo.abs() };
        return (lo - pad, hi + pad);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// Tick label: plain for moderate magnitudes, scientific for small and large ones.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-2..1e4).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draw one panel of line series into `area`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    axes: &Axes,
    series: &[Series<'_>],
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = range(series.iter().flat_map(|s| s.x.iter().copied()));
    let ys = series.iter().flat_map(|s| s.y.iter().copied());
    if axes.log_y {
        let (lo, hi) = range(ys.filter(|v| *v > 0.0).map(|v| v.log10()));
        let (lo, hi) = (10f64.powf(lo.floor()), 10f64.powf(hi.ceil()));
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, (lo..hi).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(axes.x_label.as_str())
            .y_desc(axes.y_label.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, s) in series.iter().enumerate() {
            let c = COLORS[k % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    s.x.iter()
                        .zip(s.y)
                        .filter(|(_, y)| **y > 0.0)
                        .map(|(x, y)| (*x, *y)),
                    c.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label(s.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
        }
        for (x, label) in &axes.markers {
            chart
                .draw_series(LineSeries::new(
                    vec![(*x, lo), (*x, hi)],
                    RED.mix(0.6).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (*x, hi / 3.0),
                    ("sans-serif", 13).into_font().color(&RED),
                )))
                .map_err(|e| e.to_string())?;
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
    } else {
        let (y0, y1) = range(ys);
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(axes.x_label.as_str())
            .y_desc(axes.y_label.as_str())
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, s) in series.iter().enumerate() {
            let c = COLORS[k % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    s.x.iter().zip(s.y).map(|(x, y)| (*x, *y)),
                    c.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label(s.label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
        }
        for (x, label) in &axes.markers {
            chart
                .draw_series(LineSeries::new(
                    vec![(*x, y0), (*x, y1)],
                    RED.mix(0.6).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (*x, y1),
                    ("sans-serif", 13).into_font().color(&RED),
                )))
                .map_err(|e| e.to_string())?;
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// A line chart of one or more series.
pub fn line_chart(path: &Path, title: &str, axes: &Axes, series: &[Series<'_>]) -> Result<()> {
    render(path, (1000, 600), |root| panel(root, title, axes, series))
}

/// Stacked panels sharing a width, each a line chart: e.g. two traces over their difference,
/// or a waveform over its spectrum.
pub fn stacked(path: &Path, panels: &[(&str, Axes, Vec<Series<'_>>)]) -> Result<()> {
    let h = 420 * panels.len().max(1) as u32;
    render(path, (1000, h), |root| {
        let areas = root.split_evenly((panels.len().max(1), 1));
        for (area, (title, axes, series)) in areas.iter().zip(panels) {
            panel(area, title, axes, series)?;
        }
        Ok(())
    })
}

/// Overlay of a reference and a candidate trace with their difference underneath.
pub fn overlay(
    path: &Path,
    name: &str,
    reference: (&[f64], &[f64]),
    candidate: (&[f64], &[f64]),
    difference: (&[f64], &[f64]),
) -> Result<()> {
    stacked(
        path,
        &[
            (
                name,
                Axes::new("time (s)", "value"),
                vec![
                    Series::new("reference", reference.0, reference.1),
                    Series::new("candidate", candidate.0, candidate.1),
                ],
            ),
            (
                "candidate − reference",
                Axes::new("time (s)", "difference"),
                vec![Series::new("difference", difference.0, difference.1)],
            ),
        ],
    )
}

/// A histogram of `values` with `bins` equal bins.
pub fn histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> Result<()> {
    let bins = bins.max(1);
    let (lo, hi) = range(values.iter().copied());
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0u32; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let k = (((v - lo) / w) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    render(path, (800, 500), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi, 0u32..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("count")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(counts.iter().enumerate().map(|(k, &c)| {
                let x0 = lo + k as f64 * w;
                Rectangle::new([(x0, 0), (x0 + w, c)], COLORS[0].filled())
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// A heat map of `z[i][j]` over `x[j]` (columns) and `y[i]` (rows), with a colour legend
/// given by the min and max in the title.
pub fn heatmap(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x: &[f64],
    y: &[f64],
    z: &[Vec<f64>],
) -> Result<()> {
    let (zlo, zhi) = range(z.iter().flatten().copied());
    let nx = x.len().max(1);
    let ny = y.len().max(1);
    let title = format!("{title} (blue {zlo:.3e} … red {zhi:.3e})");
    render(path, (900, 700), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title.as_str(), ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        let xl: Vec<String> = x.iter().map(|v| format!("{v:.3e}")).collect();
        let yl: Vec<String> = y.iter().map(|v| format!("{v:.3e}")).collect();
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(nx)
            .y_labels(ny)
            .x_label_formatter(&|i| match i {
                SegmentValue::CenterOf(i) => xl.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|i| match i {
                SegmentValue::CenterOf(i) => yl.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .disable_mesh()
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(z.iter().enumerate().flat_map(|(i, row)| {
                row.iter().enumerate().map(move |(j, &v)| {
                    let t = if zhi > zlo {
                        ((v - zlo) / (zhi - zlo)).clamp(0.0, 1.0)
                    } else {
                        0.5
                    };
                    let c = RGBColor((255.0 * t) as u8, 60, (255.0 * (1.0 - t)) as u8);
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(j), SegmentValue::Exact(i)),
                            (SegmentValue::Exact(j + 1), SegmentValue::Exact(i + 1)),
                        ],
                        c.filled(),
                    )
                })
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}
