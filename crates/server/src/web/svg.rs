//! Charts drawn by the server as inline SVG: a line chart with its range, axes and labels.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 200.0;
const PAD_L: f64 = 64.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 24.0;
const PAD_B: f64 = 28.0;

fn esc(s: &str) -> String {
    super::esc(s)
}

/// Compact number for an axis label.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e9 {
        format!("{:.2}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// An axis label precise enough that neighbouring ticks `step` apart read differently.
pub fn label(v: f64, step: f64) -> String {
    let a = v.abs().max(step.abs());
    // Compact units only when the step is coarse enough to show in them.
    if a >= 1e4 && step.abs() >= a * 0.01 {
        return short(v);
    }
    let decimals = if step > 0.0 { (-(step.log10()).floor() + 1.0).clamp(0.0, 8.0) as usize } else { 2 };
    format!("{v:.decimals$}")
}

/// A line chart of `(x, y)` points (x: chain seconds), titled, with y-axis labels in `unit`.
/// Fewer than two finite points give a captioned empty frame, not a broken chart.
pub fn line_chart(id: &str, title: &str, unit: &str, points: &[(f64, f64)]) -> String {
    let pts: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    if pts.len() < 2 {
        let mut s = open(id, title);
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#888" text-anchor="middle">not enough history yet</text></svg>"##,
            W / 2.0,
            H / 2.0
        );
        return s;
    }
    let (x0, x1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(*x), b.max(*x)));
    let ago = format!("{:.1} days ago", (x1 - x0) / 86_400.0);
    lines_chart(id, title, unit, &[Series { label: "", color: "#2f6fdd", points: pts }], &ago, "now")
}

/// The frame every chart starts with: the `<svg>` element, a white ground and the title.
fn open(id: &str, title: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{}" class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(id),
        esc(title)
    );
    let _ = write!(s, r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##);
    let _ =
        write!(s, r##"<text x="{PAD_L}" y="16" font-size="13" font-weight="600" fill="#222">{}</text>"##, esc(title));
    s
}

/// A horizontal bar split in two (APY base vs reward), as SVG, `width` px wide.
pub fn split_bar(base: f64, reward: f64, width: f64) -> String {
    let b = base.max(0.0);
    let r = reward.max(0.0);
    let total = b + r;
    if total <= 0.0 || !total.is_finite() {
        return String::new();
    }
    let wb = width * b / total;
    format!(
        r##"<svg class="split" width="{width}" height="8" viewBox="0 0 {width} 8" aria-hidden="true"><rect width="{wb:.1}" height="8" fill="#3a9d5d"/><rect x="{wb:.1}" width="{:.1}" height="8" fill="#e0a030"/></svg>"##,
        width - wb
    )
}

/// One line of a [`lines_chart`]: its legend, colour and points.
pub struct Series<'a> {
    pub label: &'a str,
    pub color: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// Several lines on shared axes with a legend; `x_left`/`x_right` label the ends of the x axis.
pub fn lines_chart(id: &str, title: &str, unit: &str, series: &[Series<'_>], x_left: &str, x_right: &str) -> String {
    let all: Vec<(f64, f64)> =
        series.iter().flat_map(|s| s.points.iter().copied()).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let mut s = open(id, title);
    if all.len() < 2 {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#888" text-anchor="middle">no data</text></svg>"##,
            W / 2.0,
            H / 2.0
        );
        return s;
    }
    let (x0, x1) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(*x), b.max(*x)));
    let (mut y0, mut y1) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(*y), b.max(*y)));
    if (y1 - y0).abs() < 1e-12 * y1.abs().max(1.0) {
        y0 -= y0.abs().max(1.0) * 0.01;
        y1 += y1.abs().max(1.0) * 0.01;
    }
    let xspan = (x1 - x0).max(1e-9);
    let px = |x: f64| PAD_L + (x - x0) / xspan * (W - PAD_L - PAD_R);
    let py = |y: f64| PAD_T + (1.0 - (y - y0) / (y1 - y0)) * (H - PAD_T - PAD_B);
    let step = (y1 - y0) / 4.0;
    for i in 0..=4 {
        let v = y0 + step * f64::from(i);
        let y = py(v);
        let _ = write!(
            s,
            r##"<line x1="{PAD_L}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" fill="#666" text-anchor="end">{}{}</text>"##,
            W - PAD_R,
            PAD_L - 4.0,
            y + 3.0,
            esc(&label(v, step)),
            esc(unit)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{PAD_L}" y="{}" font-size="10" fill="#666">{}</text><text x="{}" y="{}" font-size="10" fill="#666" text-anchor="end">{}</text>"##,
        H - 8.0,
        esc(x_left),
        W - PAD_R,
        H - 8.0,
        esc(x_right)
    );
    let mut legend_x = W - PAD_R;
    for line in series.iter().rev() {
        let mut path = String::new();
        for (i, (x, y)) in line.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).enumerate() {
            let _ = write!(path, "{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, px(*x), py(*y));
        }
        let _ = write!(s, r##"<path d="{path}" fill="none" stroke="{}" stroke-width="2"/>"##, esc(line.color));
        if series.len() == 1
            && let Some((x, y)) = line.points.iter().rev().find(|(x, y)| x.is_finite() && y.is_finite())
        {
            let _ = write!(s, r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"##, px(*x), py(*y), esc(line.color));
        }
        if line.label.is_empty() {
            continue;
        }
        legend_x -= 8.0 * line.label.chars().count() as f64 + 24.0;
        let _ = write!(
            s,
            r##"<rect x="{legend_x:.1}" y="8" width="10" height="10" fill="{}"/><text x="{:.1}" y="17" font-size="11" fill="#333">{}</text>"##,
            esc(line.color),
            legend_x + 14.0,
            esc(line.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A histogram of `values` in `bins` equal-width bins, with a marker at `mark` (e.g. the deposit).
pub fn histogram(id: &str, title: &str, values: &[f64], bins: usize, mark: Option<f64>) -> String {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let mut s = open(id, title);
    let bins = bins.max(1);
    let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    if v.is_empty() || hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        s.push_str("</svg>");
        return s;
    }
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for x in &v {
        let i = (((x - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = (W - PAD_L - PAD_R) / bins as f64;
    for (i, c) in counts.iter().enumerate() {
        let h = *c as f64 / max * (H - PAD_T - PAD_B);
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#2f6fdd" opacity="0.8"/>"##,
            PAD_L + bw * i as f64 + 0.5,
            H - PAD_B - h,
            (bw - 1.0).max(0.5)
        );
    }
    let x_of = |x: f64| PAD_L + (x - lo) / (hi - lo) * (W - PAD_L - PAD_R);
    if let Some(m) = mark.filter(|m| (lo..=hi).contains(m)) {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{PAD_T}" y2="{1}" stroke="#b3261e" stroke-dasharray="4 3"/>"##,
            x_of(m),
            H - PAD_B
        );
    }
    let _ = write!(
        s,
        r##"<text x="{PAD_L}" y="{}" font-size="10" fill="#666">{}</text><text x="{}" y="{}" font-size="10" fill="#666" text-anchor="end">{}</text>"##,
        H - 8.0,
        esc(&short(lo)),
        W - PAD_R,
        H - 8.0,
        esc(&short(hi))
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_scales_points_into_the_frame() {
        let svg = line_chart("c", "TVL", "$", &[(0.0, 10.0), (3600.0, 20.0), (7200.0, 15.0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // First point at the left edge and the lowest value at the bottom of the plot area.
        assert!(svg.contains(&format!("M{PAD_L:.1},{:.1}", H - PAD_B)), "{svg}");
        // The highest value touches the top of the plot area.
        assert!(svg.contains(&format!(",{PAD_T:.1}")), "{svg}");
    }

    #[test]
    fn labels_tell_close_ticks_apart() {
        assert_eq!(label(0.0, 158_800.0), "0");
        assert_eq!(label(3_348_120.0, 500.0), "3348120");
        assert_eq!(label(0.61995, 0.00001), "0.619950");
        assert_eq!(label(2_500_000.0, 400_000.0), "2.50M");
        assert_ne!(label(10.10, 0.025), label(10.125, 0.025));
    }

    #[test]
    fn chart_with_one_point_says_so() {
        let svg = line_chart("c", "APY", "%", &[(0.0, 1.0)]);
        assert!(svg.contains("not enough history yet"));
        assert!(!svg.contains("<path"));
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let svg = histogram("h", "finals", &[1.0, 2.0, 2.0, 3.0, 4.0], 3, Some(2.5));
        assert_eq!(svg.matches("<rect x=").count(), 1 + 3, "background and one bar per bin");
        assert!(svg.contains("stroke-dasharray"), "the marker is drawn");
    }

    #[test]
    fn lines_chart_draws_every_series_with_a_legend() {
        let a = Series { label: "value", color: "#2f6fdd", points: vec![(0.0, 1.0), (1.0, 2.0)] };
        let b = Series { label: "HODL", color: "#888", points: vec![(0.0, 1.0), (1.0, 1.5)] };
        let svg = lines_chart("c", "t", "$", &[a, b], "start", "end");
        assert_eq!(svg.matches("<path").count(), 2);
        assert!(svg.contains(">value<") && svg.contains(">HODL<"));
    }

    #[test]
    fn split_bar_is_proportional() {
        let s = split_bar(1.0, 3.0, 100.0);
        assert!(s.contains(r#"width="25.0""#), "{s}");
        assert_eq!(split_bar(0.0, 0.0, 100.0), "");
    }
}
