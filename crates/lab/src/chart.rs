//! Charts of simulation results with `plotters`, as SVG or PNG (chosen by the file extension).
//!
//! * A backtest: the strategy's value and HODL's, day by day.
//! * A Monte Carlo run: the fan of the value across paths by day (p5–p95 and p25–p75 bands, the
//!   median, HODL's median) above a histogram of the final values.
//!
//! Text is drawn with `ab_glyph` from a TrueType file read at run time — no fontconfig or
//! freetype is linked. The font is `$GRANARY_FONT` if set, else the first of [`FONT_CANDIDATES`]
//! that exists (Debian's `fonts-dejavu-core` provides the first).

use crate::report::Fan;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where a sans-serif TrueType font is looked for when `GRANARY_FONT` is not set.
pub const FONT_CANDIDATES: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (1000, 640);
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 120, 20);

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart file {}: use a name ending in .svg or .png", .0.display())]
    Extension(PathBuf),
    #[error(
        "no TrueType font for the chart's text: set GRANARY_FONT to a .ttf file, or install one \
         (Debian: apt-get install fonts-dejavu-core); looked in {0}"
    )]
    NoFont(String),
    #[error("font {path}: {why}")]
    BadFont { path: String, why: String },
    #[error("drawing {}: {why}", path.display())]
    Draw { path: PathBuf, why: String },
    #[error("nothing to draw: {0}")]
    Empty(String),
}

/// Registers the font once per process.
fn font() -> Result<(), ChartError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let r = DONE.get_or_init(|| {
        let candidates: Vec<String> = match std::env::var("GRANARY_FONT") {
            Ok(p) if !p.is_empty() => vec![p],
            _ => FONT_CANDIDATES.iter().map(|s| s.to_string()).collect(),
        };
        let Some(path) = candidates.iter().find(|p| Path::new(p).is_file()) else {
            return Err(format!("\u{0}{}", candidates.join(", ")));
        };
        let bytes = std::fs::read(path).map_err(|e| format!("{path}\u{1}{e}"))?;
        // plotters keeps fonts for the whole process: give it a 'static copy, once.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .map_err(|_| format!("{path}\u{1}not a TrueType/OpenType font"))?;
        Ok(())
    });
    match r {
        Ok(()) => Ok(()),
        Err(e) => match e.strip_prefix('\u{0}') {
            Some(list) => Err(ChartError::NoFont(list.to_string())),
            None => {
                let (path, why) = e.split_once('\u{1}').unwrap_or((e.as_str(), ""));
                Err(ChartError::BadFont { path: path.to_string(), why: why.to_string() })
            }
        },
    }
}

enum Format {
    Svg,
    Png,
}

fn format_of(path: &Path) -> Result<Format, ChartError> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        _ => Err(ChartError::Extension(path.to_path_buf())),
    }
}

/// Draws on an SVG or PNG backend for `path`.
fn render(
    path: &Path,
    draw_svg: impl FnOnce(DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
    draw_png: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), ChartError> {
    let format = format_of(path)?;
    font()?;
    let err = |why: String| ChartError::Draw { path: path.to_path_buf(), why };
    match format {
        Format::Svg => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            draw_svg(root).map_err(err)
        }
        Format::Png => {
            let root = BitMapBackend::new(path, SIZE).into_drawing_area();
            draw_png(root).map_err(err)
        }
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-3).max(1e-9);
    (lo - pad, hi + pad)
}

fn usd(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("${:.2}M", v / 1e6)
    } else if v.abs() >= 1e3 {
        format!("${:.1}k", v / 1e3)
    } else {
        format!("${v:.0}")
    }
}

/// A backtest chart: the strategy's daily value against HODL's. `dates[i]` labels day `i`.
pub fn backtest(path: &Path, title: &str, dates: &[String], value: &[f64], hodl: &[f64]) -> Result<(), ChartError> {
    if value.len() < 2 || hodl.len() != value.len() {
        return Err(ChartError::Empty("a backtest chart needs two or more days".to_string()));
    }
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, Shift>,
        title: &str,
        dates: &[String],
        value: &[f64],
        hodl: &[f64],
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let (lo, hi) = range(value.iter().chain(hodl).copied());
        let n = value.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0..n - 1, lo..hi)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|d| dates.get(*d).cloned().unwrap_or_default())
            .y_label_formatter(&|v| usd(*v))
            .label_style((FONT, 14))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(LineSeries::new(hodl.iter().copied().enumerate(), ORANGE.stroke_width(2)))
            .map_err(e)?
            .label("HODL")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ORANGE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(value.iter().copied().enumerate(), BLUE.stroke_width(2)))
            .map_err(e)?
            .label("strategy")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(e)?;
        root.present().map_err(e)
    }
    render(path, |r| draw(r, title, dates, value, hodl), |r| draw(r, title, dates, value, hodl))
}

/// A Monte Carlo chart: the fan by day above the histogram of final values.
pub fn montecarlo(path: &Path, title: &str, fan: &Fan, finals: &[f64], deposit: f64) -> Result<(), ChartError> {
    if fan.days.len() < 2 || finals.is_empty() {
        return Err(ChartError::Empty("a Monte Carlo chart needs two or more days and one path".to_string()));
    }
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, Shift>,
        title: &str,
        fan: &Fan,
        finals: &[f64],
        deposit: f64,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let root = root.titled(title, (FONT, 22)).map_err(e)?;
        let (top, bottom) = root.split_vertically(SIZE.1 * 3 / 5 - 20);
        let n = fan.days.len();
        let (lo, hi) = range(fan.days.iter().flat_map(|r| [r[0], r[4], r[5]]));
        let mut chart = ChartBuilder::on(&top)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(0..n - 1, lo..hi)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("day")
            .y_label_formatter(&|v| usd(*v))
            .label_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(e)?;
        let band = |a: usize, b: usize| -> Vec<(usize, f64)> {
            let up = fan.days.iter().enumerate().map(|(d, r)| (d, r[b]));
            let down = fan.days.iter().enumerate().rev().map(|(d, r)| (d, r[a]));
            up.chain(down).collect()
        };
        chart
            .draw_series(std::iter::once(Polygon::new(band(0, 4), BLUE.mix(0.18).filled())))
            .map_err(e)?
            .label("p5–p95")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.18).filled()));
        chart
            .draw_series(std::iter::once(Polygon::new(band(1, 3), BLUE.mix(0.35).filled())))
            .map_err(e)?
            .label("p25–p75")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.35).filled()));
        chart
            .draw_series(LineSeries::new(fan.days.iter().enumerate().map(|(d, r)| (d, r[2])), BLUE.stroke_width(2)))
            .map_err(e)?
            .label("median")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(fan.days.iter().enumerate().map(|(d, r)| (d, r[5])), ORANGE.stroke_width(2)))
            .map_err(e)?
            .label("HODL median")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ORANGE.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(e)?;

        // Histogram of final values: 40 equal bins over the observed range.
        let (flo, fhi) = range(finals.iter().copied());
        let bins = 40usize;
        let width = (fhi - flo) / bins as f64;
        let mut counts = vec![0usize; bins];
        for v in finals {
            let i = (((v - flo) / width).floor().max(0.0) as usize).min(bins - 1);
            counts[i] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(1).max(1);
        let mut hist = ChartBuilder::on(&bottom)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(flo..fhi, 0..max + max / 10 + 1)
            .map_err(e)?;
        hist.configure_mesh()
            .x_desc("final value")
            .y_desc("paths")
            .x_label_formatter(&|v| usd(*v))
            .label_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(e)?;
        hist.draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x0 = flo + width * i as f64;
            let color = if x0 + width / 2.0 < deposit { RGBColor(214, 39, 40) } else { BLUE };
            Rectangle::new([(x0, 0), (x0 + width, *c)], color.mix(0.7).filled())
        }))
        .map_err(e)?;
        if deposit > flo && deposit < fhi {
            hist.draw_series(std::iter::once(PathElement::new([(deposit, 0), (deposit, max)], BLACK.stroke_width(1))))
                .map_err(e)?;
        }
        root.present().map_err(e)
    }
    render(path, |r| draw(r, title, fan, finals, deposit), |r| draw(r, title, fan, finals, deposit))
}
