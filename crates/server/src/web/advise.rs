//! `/lab/advise`: the diversification advice as a page — a form (holdings, horizon, tolerance),
//! the allocation with each line's why, risks, median and bad case, the totals, SVG bars of the
//! allocation by chain and by protocol, the assumptions, and what was left out and why.

use super::{badge, esc, page, pct, session_of, url, usd};
use crate::api::{AppState, Params};
use crate::api_advise::{DEFAULT_HORIZON_DAYS, compute, holdings_of, tolerance_of};
use crate::error::ApiError;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use granary_hub::advise::{Advice, AdviceRequest, Slice, Tolerance};
use std::fmt::Write;

/// What the form shows before anything is asked.
pub const EXAMPLE_HOLDINGS: &str = "ETH=10,USDC=5000";

const PALETTE: [&str; 10] =
    ["#2f6fdd", "#3a9d5d", "#e0a030", "#8e44ad", "#d9481c", "#16a2b8", "#c8a400", "#5aa83a", "#b3261e", "#556677"];
const UNALLOCATED: &str = "#d5d9e0";

/// A horizontal bar of `slices` (name, USD) out of `total`, the rest marked unallocated, with a
/// legend underneath. Inline SVG, no script.
pub fn allocation_bar(id: &str, title: &str, slices: &[Slice], total: f64) -> String {
    const W: f64 = 640.0;
    const BAR_Y: f64 = 24.0;
    const BAR_H: f64 = 22.0;
    const ROW: f64 = 16.0;
    let mut segs: Vec<(String, f64, &str)> = slices
        .iter()
        .enumerate()
        .filter(|(_, s)| s.usd > 0.0 && s.usd.is_finite())
        .map(|(i, s)| (s.name.clone(), s.usd, PALETTE[i % PALETTE.len()]))
        .collect();
    let allocated: f64 = segs.iter().map(|s| s.1).sum();
    if total > allocated + 0.005 {
        segs.push(("unallocated".into(), total - allocated, UNALLOCATED));
    }
    let cols = 3usize;
    let rows = segs.len().div_ceil(cols).max(1);
    let h = BAR_Y + BAR_H + 10.0 + rows as f64 * ROW + 4.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{}" class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(id),
        esc(title)
    );
    let _ = write!(s, r##"<rect x="0" y="0" width="{W}" height="{h}" fill="#fff"/>"##);
    let _ = write!(s, r##"<text x="4" y="16" font-size="13" font-weight="600" fill="#222">{}</text>"##, esc(title));
    if total <= 0.0 || !total.is_finite() || segs.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#888" text-anchor="middle">nothing allocated</text></svg>"##,
            W / 2.0,
            BAR_Y + 15.0
        );
        return s;
    }
    let mut x = 4.0;
    let span = W - 8.0;
    for (name, v, color) in &segs {
        let w = span * v / total;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{BAR_Y}" width="{w:.1}" height="{BAR_H}" fill="{color}" data-name="{}"><title>{}: {} ({:.1}%)</title></rect>"#,
            esc(name),
            esc(name),
            esc(&usd(Some(*v))),
            v / total * 100.0
        );
        x += w;
    }
    for (i, (name, v, color)) in segs.iter().enumerate() {
        let cx = 4.0 + (i % cols) as f64 * (W / cols as f64);
        let cy = BAR_Y + BAR_H + 10.0 + (i / cols) as f64 * ROW;
        let _ = write!(
            s,
            r##"<rect x="{cx:.1}" y="{cy:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{} {} ({:.0}%)</text>"##,
            cx + 14.0,
            cy + 9.0,
            esc(name),
            esc(&usd(Some(*v))),
            v / total * 100.0
        );
    }
    s.push_str("</svg>");
    s
}

fn form(holdings: &str, horizon: &str, tolerance: Tolerance) -> String {
    let mut opts = String::new();
    for t in Tolerance::ALL {
        let _ = write!(
            opts,
            r#"<option value="{0}"{1}>{0}</option>"#,
            t.as_str(),
            if t == tolerance { " selected" } else { "" }
        );
    }
    format!(
        r#"<form class="inline card" method="get" action="/lab/advise" id="advise-form">
<label>Holdings (SYMBOL=AMOUNT, comma-separated; SYMBOL@chain for a chain)<input name="holdings" id="f-holdings" size="34" value="{}"></label>
<label>Horizon (days)<input name="horizon_days" id="f-horizon" size="5" value="{}"></label>
<label>Tolerance<select name="tolerance" id="f-tolerance">{opts}</select></label><button id="advise">Advise</button></form>"#,
        esc(holdings),
        esc(horizon)
    )
}

fn request_of(p: &Params) -> Result<AdviceRequest, ApiError> {
    let holdings = holdings_of(&serde_json::Value::String(p.str("holdings").unwrap_or(EXAMPLE_HOLDINGS).to_string()))?;
    let horizon_days: u32 = p.num("horizon_days", "a whole number of days")?.unwrap_or(DEFAULT_HORIZON_DAYS);
    let tolerance = tolerance_of(p.str("tolerance"))?;
    let req = AdviceRequest::new(holdings, horizon_days, tolerance);
    req.validate().map_err(crate::api_advise::api_error)?;
    Ok(req)
}

/// `GET /lab/advise?holdings=…&horizon_days=…&tolerance=…` (the example when nothing is given).
pub async fn advise_page(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    // Empty form fields arrive as `name=`; they mean "the default".
    let q = q.map(|q| q.split('&').filter(|p| !p.ends_with('=')).collect::<Vec<_>>().join("&"));
    let mut b = String::from(r#"<h1>Lab · allocation advice</h1>"#);
    let parsed = Params::parse(q.as_deref(), &["holdings", "horizon_days", "tolerance"]);
    let (holdings_text, horizon_text, tolerance) = match &parsed {
        Ok(p) => (
            p.str("holdings").unwrap_or(EXAMPLE_HOLDINGS).to_string(),
            p.str("horizon_days").map(str::to_string).unwrap_or_else(|| DEFAULT_HORIZON_DAYS.to_string()),
            tolerance_of(p.str("tolerance")).unwrap_or(Tolerance::Balanced),
        ),
        Err(_) => (EXAMPLE_HOLDINGS.to_string(), DEFAULT_HORIZON_DAYS.to_string(), Tolerance::Balanced),
    };
    b.push_str(&form(&holdings_text, &horizon_text, tolerance));
    b.push_str(
        r#"<p class="muted">An allocation of your holdings across the opportunities that maximises risk-adjusted earnings net of swap, bridge and gas costs, within the tolerance's caps (per protocol, per chain, share of a pool), minimum grade and lock-ups within the horizon. Your own deposit dilutes what it joins, so money spreads out as it grows. <a href="/api/openapi.json">API: POST /api/advise</a></p>"#,
    );
    let result = match parsed.and_then(|p| request_of(&p)) {
        Ok(req) => {
            let app2 = app.clone();
            match tokio::task::spawn_blocking(move || compute(&app2, &req)).await {
                Ok(r) => r,
                Err(e) => Err(ApiError::internal(e.to_string())),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => b.push_str(&render(&a)),
        Err(e) => {
            let _ = write!(
                b,
                r#"<div class="error" id="error"><b>{}</b> — {}{}</div>"#,
                esc(e.code),
                esc(&e.message),
                e.field.as_ref().map(|f| format!(" (field <code>{}</code>)", esc(f))).unwrap_or_default()
            );
            return (e.status, page("Allocation advice", &v, session, &b)).into_response();
        }
    }
    page("Allocation advice", &v, session, &b).into_response()
}

/// `+$52.63 (+1.21%)`, `−$44.86 (−2.19%)`.
fn money_pct(v: f64, of: f64) -> String {
    let sign = if v < 0.0 { "−" } else { "+" };
    let amount = format!("{sign}{}", usd(Some(v.abs())));
    if of > 0.0 { format!("{amount} ({sign}{:.2}%)", (v / of * 100.0).abs()) } else { amount }
}

/// The advice as HTML (everything escaped).
pub fn render(a: &Advice) -> String {
    let t = &a.totals;
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<div class="grid" id="totals"><div class="card stat"><b id="t-holdings">{}</b><span>holdings</span></div><div class="card stat"><b id="t-allocated">{}</b><span>allocated ({:.0}%)</span></div><div class="card stat"><b id="t-median">{}</b><span>median over {} days ({} a year)</span></div><div class="card stat"><b id="t-bad">{}</b><span>bad case (p5, lines together)</span></div><div class="card stat"><b>{}</b><span>entry costs (swaps, bridges, fees)</span></div><div class="card stat"><b>{}</b><span>gas over the horizon</span></div></div>"#,
        usd(Some(t.holdings_usd)),
        usd(Some(t.allocated_usd)),
        if t.holdings_usd > 0.0 { t.allocated_usd / t.holdings_usd * 100.0 } else { 0.0 },
        money_pct(t.median_usd, t.allocated_usd),
        a.horizon_days,
        pct(Some(t.median_apy_pct)),
        money_pct(t.bad_usd, t.allocated_usd),
        usd(Some(t.costs_usd)),
        usd(Some(t.gas_usd)),
    );
    b.push_str(&allocation_bar("bar-chain", "Allocation by chain", &t.by_chain, t.holdings_usd));
    b.push_str(&allocation_bar("bar-protocol", "Allocation by protocol", &t.by_protocol, t.holdings_usd));
    let _ = write!(
        b,
        r#"<h2>Allocation</h2><div class="scroll"><table id="allocation"><thead><tr><th>Risk</th><th>Opportunity</th><th>Chain</th><th class="num">Amount</th><th>From</th><th class="num">Costs + gas</th><th class="num">APY at size</th><th class="num">Median</th><th class="num">Bad case</th></tr></thead><tbody>"#
    );
    if a.lines.is_empty() {
        b.push_str(r#"<tr><td colspan="9" class="muted" style="white-space:normal">No opportunity nets more than its costs for these holdings over this horizon: everything stays where it is (see below why each was left out).</td></tr>"#);
    }
    for l in &a.lines {
        let from: Vec<String> = l.sources.iter().map(|s| format!("{:.4} {}", s.amount, s.holding)).collect();
        let _ = write!(
            b,
            r#"<tr data-id="{id}" class="line"><td>{badge}</td><td><a href="/opportunities/{idu}">{project} · {symbol}</a></td><td>{chain}</td><td class="num">{amount} <span class="muted">{share:.1}%</span></td><td style="white-space:normal">{from}</td><td class="num">{costs}</td><td class="num">{apy}</td><td class="num">{median}</td><td class="num">{bad}</td></tr>"#,
            id = esc(&l.opportunity),
            badge = badge(Some(l.grade), l.risk_score),
            idu = url(&l.opportunity),
            project = esc(&l.project),
            symbol = esc(&l.symbol),
            chain = esc(&l.chain),
            amount = esc(&usd(Some(l.amount_usd))),
            share = l.share * 100.0,
            from = esc(&from.join(", ")),
            costs = esc(&usd(Some(l.costs.total_usd + l.gas.total_usd))),
            apy = esc(&pct(Some(l.apy.risk_adjusted_pct))),
            median = esc(&money_pct(l.median_usd, l.amount_usd)),
            bad = esc(&money_pct(l.bad_usd, l.amount_usd)),
        );
        let route: Vec<String> =
            l.sources.iter().map(|s| format!("{}: {}", s.holding, s.route.join(" → then "))).collect();
        let _ = write!(
            b,
            r#"<tr class="detail" data-for="{}"><td></td><td colspan="8" style="white-space:normal"><p class="why"><b>Why:</b> {}</p><p class="risks"><b>Risks:</b> {}</p><p class="muted"><b>Bad case:</b> {}. <b>Limit:</b> {}.</p><p class="muted"><b>How:</b> {}</p></td></tr>"#,
            esc(&l.opportunity),
            esc(&l.why),
            esc(&l.risks),
            esc(&l.bad_case),
            esc(&l.limit),
            esc(&route.join("; "))
        );
    }
    b.push_str("</tbody></table></div>");
    if !a.unallocated.is_empty() {
        b.push_str(r#"<h2>Unallocated</h2><ul id="unallocated">"#);
        for u in &a.unallocated {
            let _ = write!(b, "<li>{:.4} {} ({})</li>", u.amount, esc(&u.holding), esc(&usd(Some(u.usd))));
        }
        b.push_str("</ul>");
    }
    b.push_str(r#"<h2>Assumptions</h2><ul id="assumptions">"#);
    for x in &a.assumptions {
        let _ = write!(b, "<li>{}</li>", esc(x));
    }
    b.push_str("</ul>");
    let _ = write!(
        b,
        r#"<details class="card" id="excluded"><summary>{} opportunities not advised, and why</summary><div class="scroll"><table><tbody>"#,
        a.excluded.len()
    );
    for x in &a.excluded {
        let _ = write!(
            b,
            r#"<tr><td><a href="/opportunities/{}">{}</a></td><td style="white-space:normal">{}</td></tr>"#,
            url(&x.opportunity),
            esc(&x.opportunity),
            esc(&x.reason)
        );
    }
    b.push_str("</tbody></table></div></details>");
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_splits_the_total_and_marks_the_rest_unallocated() {
        let slices = vec![
            Slice { name: "Base".into(), usd: 300.0, share: 0.3 },
            Slice { name: "<Arb>".into(), usd: 200.0, share: 0.2 },
        ];
        let svg = allocation_bar("b", "By chain", &slices, 1000.0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // 632 px of bar: 30 % is 189.6 px, 20 % 126.4 px, the rest 316.0 px.
        assert!(
            svg.contains(r#"width="189.6""#) && svg.contains(r#"width="126.4""#) && svg.contains(r#"width="316.0""#),
            "{svg}"
        );
        assert!(svg.contains("&lt;Arb&gt;") && !svg.contains("<Arb>"));
        assert!(svg.contains("unallocated"));
        assert!(allocation_bar("b", "t", &[], 0.0).contains("nothing allocated"));
    }
}
