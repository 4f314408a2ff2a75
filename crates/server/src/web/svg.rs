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
    if a >= 1e9 {
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
    if pts.len() < 2 {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#888" text-anchor="middle">not enough history yet</text></svg>"##,
            W / 2.0,
            H / 2.0
        );
        return s;
    }
    let (x0, x1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(*x), b.max(*x)));
    let (mut y0, mut y1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(*y), b.max(*y)));
    if (y1 - y0).abs() < 1e-12 * y1.abs().max(1.0) {
        y0 -= y0.abs().max(1.0) * 0.01;
        y1 += y1.abs().max(1.0) * 0.01;
    }
    let xspan = (x1 - x0).max(1.0);
    let px = |x: f64| PAD_L + (x - x0) / xspan * (W - PAD_L - PAD_R);
    let py = |y: f64| PAD_T + (1.0 - (y - y0) / (y1 - y0)) * (H - PAD_T - PAD_B);
    // Axes and grid.
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
    let days = (x1 - x0) / 86_400.0;
    let _ = write!(
        s,
        r##"<text x="{PAD_L}" y="{}" font-size="10" fill="#666">{}</text><text x="{}" y="{}" font-size="10" fill="#666" text-anchor="end">now</text>"##,
        H - 8.0,
        esc(&format!("{days:.1} days ago")),
        W - PAD_R,
        H - 8.0
    );
    let mut path = String::new();
    for (i, (x, y)) in pts.iter().enumerate() {
        let _ = write!(path, "{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, px(*x), py(*y));
    }
    let _ = write!(s, r##"<path d="{path}" fill="none" stroke="#2f6fdd" stroke-width="2"/>"##);
    if let Some((x, y)) = pts.last() {
        let _ = write!(s, r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#2f6fdd"/>"##, px(*x), py(*y));
    }
    s.push_str("</svg>");
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
    fn split_bar_is_proportional() {
        let s = split_bar(1.0, 3.0, 100.0);
        assert!(s.contains(r#"width="25.0""#), "{s}");
        assert_eq!(split_bar(0.0, 0.0, 100.0), "");
    }
}
