//! The dashboard: HTML rendered by the server, charts drawn as SVG, no scripts and no CDN.
//! Every action goes form → preview (amounts, fees, slippage bound, gas, penalty, warnings) →
//! confirm; nothing is signed without the preview. Pages fit a phone-width screen.

pub mod advise;
pub mod lab;
pub mod svg;

use crate::api::{AppState, OPPORTUNITY_PARAMS, Params, decode, opp_matches, opportunity_query, ranked, target_tokens};
use crate::dto::{self, format_units, parse_units};
use crate::error::ApiError;
use crate::intent::{ActionJson, Intent, preview};
use crate::view::View;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use granary_engine::Address;
use granary_engine::staking::EarlyExit;
use granary_hub::Opportunity;
use granary_hub::market::{ExitRule, Target};
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/", get(opportunities_page))
        .route("/opportunities/{id}", get(opportunity_page))
        .route("/portfolio", get(portfolio_page))
        .route("/alerts", get(alerts_page))
        .route("/lab", get(lab::lab_page))
        .route("/lab/advise", get(advise::advise_page))
        .route("/wallet", get(wallet_page))
        .route("/wallet/unlock", post(wallet_unlock))
        .route("/wallet/lock", post(wallet_lock))
        .route("/wallet/faucet", post(wallet_faucet))
        .route("/time/advance", post(time_advance))
        .route("/act/preview", post(act_preview))
        .route("/act/submit", post(act_submit))
}

/// HTML escaping for text and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Percent-encoding for a path segment or query value.
pub fn url(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `2024-02-12 00:00 UTC` for a Unix time.
pub fn fmt_unix(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

fn usd(v: Option<f64>) -> String {
    match v {
        Some(x) if !x.is_finite() => "–".into(),
        Some(x) if x.abs() >= 1e6 => format!("${:.2}M", x / 1e6),
        Some(x) if x.abs() >= 1e3 => format!("${:.1}k", x / 1e3),
        Some(x) => format!("${x:.2}"),
        None => "–".into(),
    }
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() && x.abs() >= 1000.0 => format!("{x:.0}%"),
        Some(x) if x.is_finite() => format!("{x:.2}%"),
        _ => "–".into(),
    }
}

fn badge(grade: Option<char>, score: Option<u8>) -> String {
    match grade {
        Some(g) => format!(
            r#"<span class="badge g{}" title="risk score {}/100">{}</span>"#,
            g.to_ascii_lowercase(),
            score.map(|s| s.to_string()).unwrap_or_default(),
            g
        ),
        None => r#"<span class="badge">?</span>"#.into(),
    }
}

fn lockup(o: &Opportunity) -> String {
    let rule = match &o.lockup.early_exit {
        ExitRule::Free => String::new(),
        ExitRule::Forbidden => ", no early exit".into(),
        ExitRule::Penalty { penalty_pct, forfeit_rewards } => {
            format!(", early exit −{penalty_pct:.1}%{}", if *forfeit_rewards { " + rewards" } else { "" })
        }
    };
    if o.lockup.days == 0 { format!("none{rule}") } else { format!("{} days{rule}", o.lockup.days) }
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:8px 12px;display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header .brand{font-size:17px;margin-right:8px}
header .clock{font-size:12px;color:#c8d0e0;margin-left:auto}
header form{display:inline;margin:0}header button{font-size:12px;padding:2px 6px}
main{padding:12px;max-width:1100px;margin:0 auto}
h1{font-size:20px;margin:8px 0 12px}h2{font-size:16px;margin:18px 0 8px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;background:#fff;border:1px solid #dde1e8;border-radius:6px}
table{border-collapse:collapse;width:100%;min-width:560px}th,td{padding:6px 8px;border-bottom:1px solid #eef0f4;text-align:left;white-space:nowrap}
th{background:#fafbfc;font-size:12px;color:#556}td.num,th.num{text-align:right}
.badge{display:inline-block;min-width:22px;text-align:center;border-radius:4px;padding:1px 5px;font-weight:700;color:#fff;background:#888}
.ga{background:#1e8e3e}.gb{background:#5aa83a}.gc{background:#c8a400}.gd{background:#e07b00}.ge{background:#d9481c}.gf{background:#b3261e}
.card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 12px;margin:8px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px}
.stat b{display:block;font-size:18px}.stat span{font-size:12px;color:#667}
form.inline{display:flex;flex-wrap:wrap;gap:6px;align-items:end}label{display:flex;flex-direction:column;font-size:12px;color:#556}
input,select,button{font:inherit;padding:5px 7px;border:1px solid #c5cad3;border-radius:4px;background:#fff}
button{background:#2f6fdd;color:#fff;border-color:#2f6fdd;cursor:pointer}button.secondary{background:#fff;color:#2f6fdd}
button.danger{background:#b3261e;border-color:#b3261e}
.alert{border-left:4px solid #e07b00;background:#fff8ec;padding:8px 10px;margin:6px 0;border-radius:4px}
.alert.critical{border-color:#b3261e;background:#fdecea}.alert.high{border-color:#d9481c}
.exposed{color:#b3261e;font-weight:700}.muted{color:#778}.ok{color:#1e8e3e}.flash{background:#e8f3ec;border:1px solid #b7dcc4;padding:8px 10px;border-radius:4px}
.error{background:#fdecea;border:1px solid #f1b6b0;padding:8px 10px;border-radius:4px}
svg.chart{width:100%;height:auto;border:1px solid #eef0f4;border-radius:4px;margin:4px 0}
@media (max-width:600px){main{padding:8px}h1{font-size:18px}header .clock{margin-left:0;width:100%}}
"#;

fn page(title: &str, v: &View, session: Option<Address>, body: &str) -> Html<String> {
    page_with(title, v, session, body, "")
}

/// A page; `head` is extra markup for `<head>` (the portfolio's refresh while time runs).
fn page_with(title: &str, v: &View, session: Option<Address>, body: &str, head: &str) -> Html<String> {
    let clock = fmt_unix(v.genesis_unix + v.now as i64);
    let who = match session {
        Some(a) => format!(r#"<a href="/portfolio" id="who">{}</a>"#, esc(&short_addr(&a))),
        None => r#"<a href="/wallet" id="who">Unlock wallet</a>"#.into(),
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{} · Granary</title><style>{STYLE}</style>{head}</head><body>
<header><a class="brand" href="/">Granary</a><a href="/">Opportunities</a><a href="/portfolio">Portfolio</a><a href="/alerts">Alerts{}</a><a href="/lab">Lab</a><a href="/wallet">Wallet</a>{who}
<span class="clock" id="clock">chain time {}</span>
<form method="post" action="/time/advance"><input type="hidden" name="seconds" value="3600"><button class="secondary" id="advance-1h" title="run the market one hour">+1h</button></form>
<form method="post" action="/time/advance"><input type="hidden" name="seconds" value="86400"><button class="secondary" id="advance-1d" title="run the market one day">+1d</button></form>
<form method="post" action="/time/advance"><input type="hidden" name="seconds" value="604800"><button class="secondary" id="advance-7d" title="run the market seven days">+7d</button></form>
</header><main>{body}</main></body></html>"#,
        esc(title),
        if v.alerts.is_empty() {
            String::new()
        } else {
            format!(r#" <span class="badge gf" id="alert-count">{}</span>"#, v.alerts.len())
        },
        esc(&clock),
    ))
}

fn short_addr(a: &Address) -> String {
    let s = dto::address(a);
    format!("{}…{}", &s[..6], &s[s.len() - 4..])
}

fn error_page(v: &View, session: Option<Address>, e: &ApiError) -> Response {
    let body = format!(
        r#"<h1>Not done</h1><div class="error" id="error"><b>{}</b> — {}{}</div><p><a href="javascript:history.back()">Back</a> · <a href="/">Opportunities</a></p>"#,
        esc(e.code),
        esc(&e.message),
        e.field.as_ref().map(|f| format!(" (field <code>{}</code>)", esc(f))).unwrap_or_default()
    );
    (e.status, page("Error", v, session, &body)).into_response()
}

fn session_of(app: &AppState, headers: &HeaderMap) -> Option<crate::wallet::Session> {
    app.wallet.session(headers)
}

/// Form fields of a urlencoded body.
fn form(bytes: &Bytes) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(bytes);
    text.split('&')
        .filter(|s| !s.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

// ---------- opportunities ----------

async fn opportunities_page(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    // Empty form fields arrive as `name=`; they mean "any".
    let q = q.map(|q| q.split('&').filter(|p| !p.ends_with('=')).collect::<Vec<_>>().join("&"));
    let p = match Params::parse(q.as_deref(), OPPORTUNITY_PARAMS) {
        Ok(p) => p,
        Err(e) => return error_page(&v, session, &e),
    };
    let (filter, sort, limit, offset) = match opportunity_query(&v, &p) {
        Ok(x) => x,
        Err(e) => return error_page(&v, session, &e),
    };
    let list = ranked(&v, &filter, sort);
    let sel = |name: &str, opts: &[(&str, &str)]| -> String {
        let cur = p.str(name).unwrap_or("");
        let mut s = format!(r#"<select name="{name}" id="f-{name}">"#);
        for (val, label) in opts {
            let _ = write!(
                s,
                r#"<option value="{}"{}>{}</option>"#,
                esc(val),
                if *val == cur { " selected" } else { "" },
                esc(label)
            );
        }
        s.push_str("</select>");
        s
    };
    let mut chains: Vec<(String, String)> = vec![(String::new(), "all chains".into())];
    chains.extend(v.chains.iter().map(|c| (c.id.clone(), c.name.clone())));
    let chain_opts: Vec<(&str, &str)> = chains.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h1>Opportunities</h1><form class="inline card" method="get" action="/" id="filters">
<label>Chain{}</label><label>Kind{}</label><label>Asset<input name="asset" size="7" value="{}"></label>
<label>Max lock-up (days)<input name="max_lockup_days" size="4" value="{}"></label><label>Min TVL ($)<input name="min_tvl_usd" size="8" value="{}"></label>
<label>Min grade{}</label><label>Sort{}</label><button id="apply">Apply</button></form>"#,
        sel("chain", &chain_opts),
        sel("kind", &[("", "any"), ("lp_farm", "LP farm"), ("single_stake", "single stake"), ("plain_lp", "plain LP")]),
        esc(p.str("asset").unwrap_or("")),
        esc(p.str("max_lockup_days").unwrap_or("")),
        esc(p.str("min_tvl_usd").unwrap_or("")),
        sel(
            "min_grade",
            &[
                ("", "any"),
                ("A", "A"),
                ("B", "B or better"),
                ("C", "C or better"),
                ("D", "D or better"),
                ("E", "E or better")
            ]
        ),
        sel("sort", &[("apy", "APY"), ("risk_adjusted_apy", "risk-adjusted APY"), ("tvl", "TVL")]),
    );
    let _ = write!(
        b,
        r#"<p class="muted">{} of {} opportunities. APY = base (trading fees) + reward (emissions); risk-adjusted APY nets out expected IL, gas, reward-token decay and the grade's expected loss.</p>
<div class="scroll"><table id="opportunities"><thead><tr><th>Risk</th><th>Opportunity</th><th>Chain</th><th>Kind</th><th class="num">APY</th><th>Base / reward</th><th class="num">Risk-adj.</th><th class="num">TVL</th><th>Lock-up</th></tr></thead><tbody>"#,
        list.len().min(limit),
        v.opportunities.len()
    );
    for o in list.iter().skip(offset).take(limit) {
        let kind = match o.kind {
            granary_hub::Kind::LpFarm => "LP farm",
            granary_hub::Kind::SingleStake => "stake",
            granary_hub::Kind::PlainLp => "LP",
        };
        let alerted = v.alerts.iter().any(|a| a.alert.opportunities.iter().any(|x| opp_matches(x, &o.id)));
        let _ = write!(
            b,
            r#"<tr data-id="{id}" data-chain="{chain}"><td>{badge}{warn}</td><td><a href="/opportunities/{idu}">{project} · {symbol}</a></td><td>{chain}</td><td>{kind}</td><td class="num">{apy}</td><td>{split} <span class="muted">{base} + {reward}</span></td><td class="num">{radj}</td><td class="num">{tvl}</td><td>{lock}</td></tr>"#,
            id = esc(&o.id),
            chain = esc(&o.chain),
            badge = badge(o.grade, o.risk_score),
            warn = if alerted { r#" <span class="exposed" title="alert raised">⚠</span>"# } else { "" },
            idu = url(&o.id),
            project = esc(&o.project),
            symbol = esc(&o.symbol),
            apy = pct(Some(o.apy)),
            split = svg::split_bar(o.apr_base.unwrap_or(0.0), o.apr_reward.unwrap_or(0.0), 60.0),
            base = pct(o.apr_base),
            reward = pct(o.apr_reward),
            radj = pct(o.apy_risk_adjusted),
            tvl = usd(Some(o.tvl_usd)),
            lock = esc(&lockup(o)),
        );
    }
    b.push_str("</tbody></table></div>");
    page("Opportunities", &v, session, &b).into_response()
}

// ---------- one opportunity ----------

async fn opportunity_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    let Some((_, o)) = v.opportunity(&id) else {
        return error_page(
            &v,
            session,
            &ApiError::not_found("unknown_opportunity", format!("unknown opportunity `{id}`")).field("id"),
        );
    };
    let o = o.clone();
    let (risk, history) = app.read_platform(|p| {
        (
            p.hub.risk_of(&v.engine, &o, false),
            p.series.by_id.get(&id).map(|q| q.iter().copied().collect::<Vec<_>>()).unwrap_or_default(),
        )
    });
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h1 id="title">{} {} · {} <span class="muted">on {}</span></h1>"#,
        badge(o.grade, o.risk_score),
        esc(&o.project),
        esc(&o.symbol),
        esc(&o.chain)
    );
    for a in v.alerts.iter().filter(|a| a.alert.opportunities.iter().any(|x| opp_matches(x, &id))) {
        let _ = write!(
            b,
            r#"<div class="alert {}" data-alert="{}"><b>{} · {}</b> — {} <span class="muted">({})</span></div>"#,
            sev(&a.alert.severity),
            a.id,
            esc(sev(&a.alert.severity)),
            esc(a.alert.kind.as_str()),
            esc(&a.alert.evidence),
            esc(&fmt_unix(v.genesis_unix + a.alert.timestamp as i64))
        );
    }
    let _ = write!(
        b,
        r#"<div class="grid"><div class="card stat"><b id="apy">{}</b><span>APY</span></div><div class="card stat"><b>{}</b><span>base APR (fees)</span></div><div class="card stat"><b>{}</b><span>reward APR</span></div><div class="card stat"><b>{}</b><span>risk-adjusted APY</span></div><div class="card stat"><b>{}</b><span>TVL</span></div><div class="card stat"><b>{}</b><span>lock-up</span></div><div class="card stat"><b>{}/100</b><span>risk score</span></div></div>"#,
        pct(Some(o.apy)),
        pct(o.apr_base),
        pct(o.apr_reward),
        pct(o.apy_risk_adjusted),
        usd(Some(o.tvl_usd)),
        esc(&lockup(&o)),
        risk.score
    );
    for f in &o.flags {
        let _ = write!(b, r#"<p class="muted">⚑ {}</p>"#, esc(f));
    }
    // Charts.
    let series = |f: &dyn Fn(&crate::series::Point) -> Option<f64>| -> Vec<(f64, f64)> {
        history.iter().filter_map(|p| f(p).map(|y| (p.t as f64, y))).collect()
    };
    b.push_str("<h2>History</h2>");
    b.push_str(&svg::line_chart("chart-apy", "APY (%)", "%", &series(&|p| Some(p.apy))));
    b.push_str(&svg::line_chart("chart-tvl", "TVL (USD)", "", &series(&|p| Some(p.tvl_usd))));
    b.push_str(&svg::line_chart("chart-price", "Price of the first asset (USD)", "", &series(&|p| p.price_usd)));
    // Actions.
    b.push_str(&action_forms(&v, &o));
    // Risk factors.
    let _ = write!(
        b,
        r#"<h2>Risk: grade {} ({}/100)</h2><div class="scroll"><table id="risk-factors"><thead><tr><th>Factor</th><th>Category</th><th class="num">Points lost</th><th>Evidence</th></tr></thead><tbody>"#,
        risk.grade, risk.score
    );
    for f in &risk.factors {
        let _ = write!(
            b,
            r#"<tr><td>{}{}</td><td>{:?}</td><td class="num">{:.1}</td><td style="white-space:normal">{}</td></tr>"#,
            esc(&f.name),
            f.ceiling
                .map(|c| format!(r#" <span class="exposed" title="caps the score at {c}">cap {c}</span>"#))
                .unwrap_or_default(),
            f.category,
            f.penalty,
            esc(&f.evidence)
        );
    }
    b.push_str("</tbody></table></div>");
    // IL calculator.
    let change: f64 = q
        .as_deref()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("price_change_pct=")))
        .and_then(|s| decode(s).parse().ok())
        .filter(|c: &f64| c.is_finite() && *c > -100.0)
        .unwrap_or(50.0);
    let il = granary_hub::il::il_closed_form(1.0 + change / 100.0) * 100.0;
    let _ = write!(
        b,
        r#"<h2>Impermanent loss calculator</h2><div class="card"><form class="inline" method="get" action="/opportunities/{}"><label>Price change of one asset vs the other (%)<input name="price_change_pct" id="il-change" value="{change}" size="6"></label><button class="secondary">Compute</button></form>
<p id="il-result">A {change:+}% move costs an LP <b>{il:.2}%</b> against holding (IL(r) = 2·√r/(1+r) − 1), before fees and rewards.{}</p></div>"#,
        url(&id),
        if o.il_risk { "" } else { " This opportunity holds one asset: it has no impermanent loss." }
    );
    page(&format!("{} {}", o.project, o.symbol), &v, session, &b).into_response()
}

fn sev(s: &granary_hub::alerts::Severity) -> &'static str {
    match s {
        granary_hub::alerts::Severity::Warning => "warning",
        granary_hub::alerts::Severity::High => "high",
        granary_hub::alerts::Severity::Critical => "critical",
    }
}

/// The forms that act on an opportunity (each goes to the preview first).
fn action_forms(v: &View, o: &Opportunity) -> String {
    let e = &v.engine;
    let (stake, _, pool_tokens) = target_tokens(v, o);
    let sym = |t: Option<usize>| t.map(|t| e.token(t).symbol.clone()).unwrap_or_default();
    let mut b = String::from("<h2>Act</h2>");
    match o.target {
        Target::Staking { ix, term_days } => {
            let sp = e.staking_pool(ix);
            let mut terms = String::new();
            for t in &sp.terms {
                let _ = write!(
                    terms,
                    r#"<option value="{}"{}>{} days (boost ×{:.2})</option>"#,
                    t.days,
                    if t.days == term_days { " selected" } else { "" },
                    t.days,
                    f64::from(t.boost_bps) / 10_000.0
                );
            }
            let exit = match sp.early_exit {
                EarlyExit::Forbidden => "No early exit: the stake stays locked until the term ends.".to_string(),
                EarlyExit::Penalty { penalty_bps, forfeit_rewards, .. } => format!(
                    "Early exit costs {:.2}% of the principal{}.",
                    f64::from(penalty_bps) / 100.0,
                    if forfeit_rewards { " and the pending rewards" } else { "" }
                ),
            };
            let _ = write!(
                b,
                r#"<form class="inline card" method="post" action="/act/preview" id="stake-form"><input type="hidden" name="kind" value="stake"><input type="hidden" name="staking_pool" value="{}">
<label>Amount ({})<input name="amount" id="stake-amount" size="10" required></label><label>Term<select name="term_days" id="stake-term">{terms}</select></label><button id="stake-preview">Preview stake</button><span class="muted">{}</span></form>"#,
                esc(&sp.id),
                esc(&sym(stake)),
                esc(&exit)
            );
        }
        Target::FarmPool { ix } => {
            let fp = e.farm_pool(ix);
            for (kind, label) in [("deposit", "Deposit"), ("withdraw", "Withdraw")] {
                let _ = write!(
                    b,
                    r#"<form class="inline card" method="post" action="/act/preview" id="{kind}-form"><input type="hidden" name="kind" value="{kind}"><input type="hidden" name="farm_pool" value="{}"><label>Amount ({})<input name="amount" size="10" required></label><button>Preview {}</button></form>"#,
                    esc(&fp.id),
                    esc(&sym(stake)),
                    label.to_lowercase()
                );
            }
            let _ = write!(
                b,
                r#"<form class="inline card" method="post" action="/act/preview" id="harvest-form"><input type="hidden" name="kind" value="harvest"><input type="hidden" name="farm_pool" value="{}"><button>Preview harvest</button></form>"#,
                esc(&fp.id)
            );
        }
        Target::Pool { .. } => {}
    }
    if let Some(toks) = pool_tokens {
        let pool = e.pools().iter().find(|p| p.tokens == toks).map(|p| p.id.clone()).unwrap_or_default();
        let (s0, s1) = (e.token(toks[0]).symbol.clone(), e.token(toks[1]).symbol.clone());
        let _ = write!(
            b,
            r#"<form class="inline card" method="post" action="/act/preview" id="add-form"><input type="hidden" name="kind" value="add_liquidity"><input type="hidden" name="pool" value="{p}">
<label>{s0}<input name="amount0" size="9" required></label><label>{s1}<input name="amount1" size="9" required></label><label>Slippage (bps)<input name="slippage_bps" size="4" value="50"></label><button>Preview add liquidity</button></form>
<form class="inline card" method="post" action="/act/preview" id="remove-form"><input type="hidden" name="kind" value="remove_liquidity"><input type="hidden" name="pool" value="{p}">
<label>LP tokens<input name="liquidity" size="9" required></label><label>Slippage (bps)<input name="slippage_bps" size="4" value="50"></label><button>Preview remove</button></form>
<form class="inline card" method="post" action="/act/preview" id="swap-form"><input type="hidden" name="kind" value="swap"><input type="hidden" name="pool" value="{p}">
<label>Sell<select name="token_in"><option value="{t0}">{s0}</option><option value="{t1}">{s1}</option></select></label><label>Amount<input name="amount" size="9" required></label><label>Slippage (bps)<input name="slippage_bps" size="4" value="50"></label><button>Preview swap</button></form>"#,
            p = esc(&pool),
            s0 = esc(&s0),
            s1 = esc(&s1),
            t0 = esc(&e.token(toks[0]).id),
            t1 = esc(&e.token(toks[1]).id),
        );
    }
    b
}

// ---------- actions: preview, then confirm ----------

/// Whole-token form amounts → the API's intent in base units.
fn intent_of(v: &View, f: &BTreeMap<String, String>) -> Result<Intent, ApiError> {
    let e = &v.engine;
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let need = |k: &str| get(k).ok_or_else(|| ApiError::bad_field(k, "is missing: fill it in"));
    let tokens = |k: &str, t: usize| -> Result<String, ApiError> {
        let text = need(k)?;
        parse_units(&text, e.token(t).decimals).map(|u| u.to_string()).map_err(|why| ApiError::bad_field(k, why))
    };
    let slip = || -> Result<Option<u32>, ApiError> {
        get("slippage_bps")
            .map(|s| s.parse().map_err(|_| ApiError::bad_field("slippage_bps", "is not a whole number")))
            .transpose()
    };
    let kind = need("kind")?;
    Ok(match kind.as_str() {
        "stake" => {
            let pool = need("staking_pool")?;
            let sp = e.staking_pool(e.staking_ix(&pool)?);
            let term_days =
                need("term_days")?.parse().map_err(|_| ApiError::bad_field("term_days", "is not a whole number"))?;
            Intent::Stake { amount: tokens("amount", sp.stake_token)?, staking_pool: pool, term_days }
        }
        "deposit" | "withdraw" => {
            let fp = need("farm_pool")?;
            let stake = e.farm_pool(e.farm_pool_ix(&fp)?).stake_token;
            let amount = tokens("amount", stake)?;
            if kind == "deposit" {
                Intent::Deposit { farm_pool: fp, amount }
            } else {
                Intent::Withdraw { farm_pool: fp, amount }
            }
        }
        "harvest" => Intent::Harvest { farm_pool: need("farm_pool")? },
        "add_liquidity" => {
            let pool = need("pool")?;
            let p = e.pool(e.pool_ix(&pool)?);
            Intent::AddLiquidity {
                amounts: [tokens("amount0", p.tokens[0])?, tokens("amount1", p.tokens[1])?],
                pool,
                slippage_bps: slip()?,
            }
        }
        "remove_liquidity" => {
            let pool = need("pool")?;
            let lp = e.pool(e.pool_ix(&pool)?).lp_token;
            Intent::RemoveLiquidity { liquidity: tokens("liquidity", lp)?, pool, slippage_bps: slip()? }
        }
        "swap" => {
            let pool = need("pool")?;
            let token_in = need("token_in")?;
            let t = e.token_ix(&token_in)?;
            Intent::Swap {
                amount_in: tokens("amount", t)?,
                pool: Some(pool),
                path: None,
                token_in,
                min_out: None,
                slippage_bps: slip()?,
            }
        }
        "unstake" | "claim" => {
            let position =
                need("position")?.parse().map_err(|_| ApiError::bad_field("position", "is not a whole number"))?;
            if kind == "unstake" { Intent::Unstake { position } } else { Intent::Claim { position } }
        }
        other => return Err(ApiError::bad_field("kind", format!("`{other}` is not an action of the dashboard"))),
    })
}

fn locked_wallet(v: &View) -> Response {
    let b = r#"<h1>Wallet locked</h1><p class="error">Unlock the local wallet with its passphrase to act.</p><p><a href="/wallet">Unlock</a></p>"#;
    (StatusCode::UNAUTHORIZED, page("Wallet locked", v, None, b)).into_response()
}

async fn act_preview(State(app): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    let v = app.view();
    let Some(session) = session_of(&app, &headers) else { return locked_wallet(&v) };
    let f = form(&bytes);
    let r = intent_of(&v, &f).and_then(|i| i.to_action(&v.engine)).and_then(|a| {
        let mut p = preview(&v.engine, &v.book, session.address, &a)?;
        crate::api::add_alert_warnings(&v, &a, &mut p.warnings);
        Ok(p)
    });
    let p = match r {
        Ok(p) => p,
        Err(e) => return error_page(&v, Some(session.address), &e),
    };
    let legs = |l: &[crate::intent::Leg]| -> String {
        if l.is_empty() {
            return "–".into();
        }
        l.iter()
            .map(|x| format!("{} {} ({})", esc(&x.amount_tokens), esc(&x.symbol), usd(x.value_usd)))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let action_json = serde_json::to_string(&p.action).unwrap_or_default();
    let mut b = format!(
        r#"<h1>Preview: {} on {}</h1><div class="card"><table id="preview"><tbody>
<tr><th>You pay</th><td id="pv-pay">{}</td></tr><tr><th>You receive</th><td id="pv-receive">{}</td></tr>"#,
        esc(&p.action.kind),
        esc(&p.chain),
        legs(&p.pay),
        legs(&p.receive)
    );
    if !p.minimum_receive.is_empty() {
        let _ = write!(
            b,
            r#"<tr><th>At least (slippage bound)</th><td id="pv-min">{}</td></tr>"#,
            legs(&p.minimum_receive)
        );
    }
    if let Some(fee) = p.fee_usd {
        let _ = write!(b, r#"<tr><th>Trading fee</th><td id="pv-fee">{}</td></tr>"#, usd(Some(fee)));
    }
    if let Some(i) = p.price_impact_pct {
        let _ = write!(b, r#"<tr><th>Price impact</th><td id="pv-impact">{i:.3}%</td></tr>"#);
    }
    let _ = write!(b, r#"<tr><th>Gas</th><td id="pv-gas">{} units · {}</td></tr>"#, p.gas_units, usd(p.gas_usd));
    if let Some(r) = &p.expected_reward {
        let _ = write!(
            b,
            r#"<tr><th>Reward by unlock at today's rate</th><td id="pv-expected">{} {} ({})</td></tr>"#,
            esc(&r.amount_tokens),
            esc(&r.symbol),
            usd(r.value_usd)
        );
    }
    if let Some(pen) = &p.penalty {
        let _ = write!(
            b,
            r#"<tr><th>Early-exit penalty</th><td id="pv-penalty" class="exposed">{} {}</td></tr>"#,
            esc(&pen.amount_tokens),
            esc(&pen.symbol)
        );
    }
    if let Some(fr) = &p.forfeited_reward {
        let _ = write!(
            b,
            r#"<tr><th>Rewards forfeited</th><td class="exposed">{} {}</td></tr>"#,
            esc(&fr.amount_tokens),
            esc(&fr.symbol)
        );
    }
    let _ = write!(b, r#"<tr><th>Outcome</th><td>{}</td></tr></tbody></table></div>"#, esc(&p.outcome));
    for w in &p.warnings {
        let _ = write!(b, r#"<div class="alert">{}</div>"#, esc(w));
    }
    let _ = write!(
        b,
        r#"<form method="post" action="/act/submit" id="confirm-form"><input type="hidden" name="action" value="{}"><button id="confirm">Confirm and sign</button> <a href="/">Cancel</a></form>"#,
        esc(&action_json)
    );
    page("Preview", &v, Some(session.address), &b).into_response()
}

async fn act_submit(State(app): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    let v = app.view();
    let Some(session) = session_of(&app, &headers) else { return locked_wallet(&v) };
    let f = form(&bytes);
    let action = f
        .get("action")
        .ok_or_else(|| ApiError::bad_field("action", "is missing: act from a preview"))
        .and_then(|a| serde_json::from_str::<ActionJson>(a).map_err(|e| ApiError::bad_field("action", e)))
        .and_then(|a| a.to_action());
    let r = match action {
        Ok(a) => app.act(&session, a).await,
        Err(e) => Err(e),
    };
    match r {
        Ok((seq, outcome)) => {
            Redirect::to(&format!("/portfolio?done={}", url(&format!("entry {seq}: {}", dto::outcome_words(&outcome)))))
                .into_response()
        }
        Err(e) => error_page(&app.view(), Some(session.address), &e),
    }
}

// ---------- portfolio ----------

async fn portfolio_page(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    let params = Params::parse(q.as_deref(), &["done", "address"]).ok();
    let who = match params.as_ref().and_then(|p| p.str("address")).map(|a| dto::parse_address(a.trim())) {
        Some(Ok(a)) => a,
        Some(Err(why)) => return error_page(&v, session, &ApiError::bad_field("address", why)),
        None => match session {
            Some(a) => a,
            None => return locked_wallet(&v),
        },
    };
    let acc = dto::account(&v.engine, &v.book, &v.costs, v.genesis_unix, who);
    let mut b = String::new();
    if let Some(done) = params.as_ref().and_then(|p| p.str("done")) {
        let _ = write!(b, r#"<p class="flash" id="flash">Submitted — {}</p>"#, esc(done));
    }
    let _ = write!(
        b,
        r#"<h1>Portfolio <span class="muted">{}</span></h1><div class="grid"><div class="card stat"><b id="total">{}</b><span>total value</span></div></div>"#,
        esc(&acc.address),
        usd(Some(acc.total_usd))
    );
    // Alerts exposing this wallet.
    for a in v.alerts.iter().filter(|a| a.alert.exposed.iter().any(|e| e.holder == who)) {
        let _ = write!(
            b,
            r#"<div class="alert {} exposed-alert" data-alert="{}"><b>Your position is exposed</b> — {} on {}: {}</div>"#,
            sev(&a.alert.severity),
            a.id,
            esc(a.alert.kind.as_str()),
            esc(&a.alert.subject),
            esc(&a.alert.evidence)
        );
    }
    let exposed_to = |opp: &str| {
        v.alerts.iter().any(|a| a.alert.exposed.iter().any(|e| e.holder == who && opp_matches(&e.opportunity, opp)))
    };
    // Stakes.
    b.push_str(r#"<h2>Staking positions</h2><div class="scroll"><table id="stakes"><thead><tr><th>#</th><th>Pool</th><th>Chain</th><th class="num">Amount</th><th>Term</th><th>Unlocks</th><th class="num">Pending reward</th><th></th></tr></thead><tbody>"#);
    for s in &acc.stake_positions {
        let _ = write!(
            b,
            r#"<tr data-position="{pos}"><td>{pos}</td><td><a href="/opportunities/{ou}">{pool}</a>{x}</td><td>{chain}</td><td class="num">{amt} {ss}</td><td>{term} d</td><td>{unlock}{lk}</td><td class="num pending" data-pending="{pr}">{pend} {rs} <span class="muted">{pu}</span></td>
<td><form method="post" action="/act/preview" style="display:inline"><input type="hidden" name="kind" value="claim"><input type="hidden" name="position" value="{pos}"><button class="secondary" id="claim-{pos}">Claim</button></form>
<form method="post" action="/act/preview" style="display:inline"><input type="hidden" name="kind" value="unstake"><input type="hidden" name="position" value="{pos}"><button class="secondary" id="unstake-{pos}">Unstake</button></form></td></tr>"#,
            pos = s.position,
            ou = url(&s.opportunity),
            pool = esc(&s.staking_pool),
            x = if exposed_to(&s.opportunity) { r#" <span class="exposed">⚠ alert</span>"# } else { "" },
            chain = esc(&s.chain),
            amt = esc(&format_units(s.amount, s.stake_decimals)),
            ss = esc(&s.stake_symbol),
            term = s.term_days,
            unlock = esc(&fmt_unix(s.unlock_unix)),
            lk = if s.locked {
                format!(r#" <span class="muted">locked ({})</span>"#, s.early_exit)
            } else {
                r#" <span class="ok">unlocked</span>"#.into()
            },
            pr = s.pending_reward,
            pend = esc(&format_units(s.pending_reward, s.reward_decimals)),
            rs = esc(&s.reward_symbol),
            pu = usd(s.pending_reward_usd),
        );
    }
    b.push_str("</tbody></table></div>");
    // Farms.
    b.push_str(r#"<h2>Farm positions</h2><div class="scroll"><table id="farms"><thead><tr><th>Farm pool</th><th>Chain</th><th class="num">Staked</th><th class="num">Pending reward</th><th></th></tr></thead><tbody>"#);
    for f in &acc.farm_positions {
        let _ = write!(
            b,
            r#"<tr data-farm-pool="{fp}"><td><a href="/opportunities/{ou}">{fp}</a>{x}</td><td>{chain}</td><td class="num">{st} {ss} <span class="muted">{su}</span></td><td class="num pending" data-pending="{pr}">{pend} {rs} <span class="muted">{pu}</span></td>
<td><form method="post" action="/act/preview"><input type="hidden" name="kind" value="harvest"><input type="hidden" name="farm_pool" value="{fp}"><button class="secondary" id="harvest-{fp}">Harvest</button></form></td></tr>"#,
            fp = esc(&f.farm_pool),
            ou = url(&f.opportunity),
            x = if exposed_to(&f.opportunity) { r#" <span class="exposed">⚠ alert</span>"# } else { "" },
            chain = esc(&f.chain),
            st = esc(&format_units(f.staked, f.stake_decimals)),
            ss = esc(&f.stake_symbol),
            su = if f.backing < 0.999_999 {
                format!(
                    r#"{} <span class="exposed" title="the farm no longer holds what its pools record">only {:.1}% backed</span>"#,
                    usd(f.staked_usd),
                    f.backing * 100.0
                )
            } else {
                usd(f.staked_usd)
            },
            pr = f.pending_reward,
            pend = esc(&format_units(f.pending_reward, f.reward_decimals)),
            rs = esc(&f.reward_symbol),
            pu = usd(f.pending_reward_usd),
        );
    }
    b.push_str("</tbody></table></div>");
    // Liquidity.
    b.push_str(r#"<h2>Liquidity positions</h2><div class="scroll"><table id="lps"><thead><tr><th>Pool</th><th>Chain</th><th class="num">Value</th><th class="num">HODL</th><th class="num">PnL vs HODL</th><th class="num">IL now</th><th class="num">Realised vs HODL</th></tr></thead><tbody>"#);
    for l in &acc.lp_positions {
        let _ = write!(
            b,
            r#"<tr><td><a href="/opportunities/{}">{}</a>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            url(&l.opportunity),
            esc(&l.symbol),
            if exposed_to(&l.opportunity) { r#" <span class="exposed">⚠ alert</span>"# } else { "" },
            esc(&l.chain),
            usd(l.value_usd),
            usd(l.hodl_usd),
            usd(l.pnl_vs_hodl_usd),
            pct(l.il_pct),
            usd(Some(l.realised_vs_hodl_usd))
        );
    }
    b.push_str("</tbody></table></div>");
    // Balances.
    b.push_str(r#"<h2>Balances</h2><div class="scroll"><table id="balances"><thead><tr><th>Chain</th><th>Token</th><th class="num">Amount</th><th class="num">Value</th></tr></thead><tbody>"#);
    for x in &acc.balances {
        let _ = write!(
            b,
            r#"<tr data-token="{}" data-amount="{}"><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            esc(&x.token),
            x.amount,
            esc(&x.chain),
            esc(&x.symbol),
            esc(&x.amount_tokens),
            usd(x.value_usd)
        );
    }
    b.push_str("</tbody></table></div>");
    // While simulated time runs, the page reloads so pending rewards tick up without scripts.
    let refresh =
        if app.clock.paused() || app.clock.speed() == 0.0 { "" } else { r#"<meta http-equiv="refresh" content="5">"# };
    page_with("Portfolio", &v, session, &b, refresh).into_response()
}

// ---------- alerts ----------

async fn alerts_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    let mut b = format!(r#"<h1>Alerts <span class="muted">({})</span></h1>"#, v.alerts.len());
    if v.alerts.is_empty() {
        b.push_str(r#"<p class="muted" id="no-alerts">No rug or exploit signal so far. Alerts appear within one block of an owner pulling liquidity, an unscheduled mint, a migrator, an emission spike or a sharp TVL drain.</p>"#);
    }
    for a in v.alerts.iter().rev() {
        let mine = session.is_some_and(|w| a.alert.exposed.iter().any(|e| e.holder == w));
        let opps: Vec<String> = a.alert.opportunities.iter().map(|o| esc(o)).collect();
        let _ = write!(
            b,
            r#"<div class="alert {} alert-item" data-alert="{}" data-kind="{}"><b>#{} {} · {}</b> on {} — {}<br><span class="muted">{} · block {} · affects {} · {} position(s) exposed</span>{}</div>"#,
            sev(&a.alert.severity),
            a.id,
            esc(a.alert.kind.as_str()),
            a.id,
            esc(sev(&a.alert.severity)),
            esc(a.alert.kind.as_str()),
            esc(&a.chain),
            esc(&a.alert.evidence),
            esc(&fmt_unix(v.genesis_unix + a.alert.timestamp as i64)),
            a.alert.block,
            opps.join(", "),
            a.alert.exposed.len(),
            if mine { r#"<br><span class="exposed">Your wallet is exposed.</span>"# } else { "" }
        );
    }
    page("Alerts", &v, session, &b).into_response()
}

// ---------- wallet ----------

async fn wallet_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    let list = app.wallet.addresses().unwrap_or_default();
    let mut b = String::from("<h1>Wallet</h1>");
    if list.is_empty() {
        let _ = write!(
            b,
            r#"<p class="card">The local wallet ({}) has no key yet. Create one with <code>granary wallet new</code> (or import a keystore with <code>granary wallet import --keystore FILE</code>); the faucet funds it on every chain.</p>"#,
            esc(&app.wallet.dir.path().display().to_string())
        );
    }
    match session {
        Some(a) => {
            let _ = write!(
                b,
                r#"<div class="card">Unlocked: <b id="unlocked">{}</b><form method="post" action="/wallet/lock" class="inline"><button class="secondary" id="lock">Lock</button></form>
<form method="post" action="/wallet/faucet" class="inline"><button class="secondary" id="faucet">Get demo tokens from the faucet</button></form></div>"#,
                esc(&dto::address(&a))
            );
        }
        None if !list.is_empty() => {
            let mut opts = String::new();
            for a in &list {
                let _ = write!(opts, r#"<option value="{0}">{0}</option>"#, esc(&dto::address(a)));
            }
            let _ = write!(
                b,
                r#"<form class="inline card" method="post" action="/wallet/unlock" id="unlock-form"><label>Key<select name="address" id="unlock-address">{opts}</select></label><label>Passphrase<input type="password" name="passphrase" id="passphrase" required></label><button id="unlock">Unlock</button></form>"#
            );
        }
        None => {}
    }
    page("Wallet", &v, session, &b).into_response()
}

async fn wallet_unlock(State(app): State<AppState>, bytes: Bytes) -> Response {
    let f = form(&bytes);
    let pass = f.get("passphrase").cloned().unwrap_or_default();
    let addr = f.get("address").cloned();
    let app2 = app.clone();
    let r = tokio::task::spawn_blocking(move || app2.wallet.unlock(addr.as_deref(), &pass)).await;
    match r {
        Ok(Ok((token, _))) => {
            let mut resp = Redirect::to("/portfolio").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, crate::wallet::cookie(&token));
            resp
        }
        Ok(Err(e)) => error_page(&app.view(), None, &e),
        Err(e) => error_page(&app.view(), None, &ApiError::internal(e.to_string())),
    }
}

async fn wallet_lock(State(app): State<AppState>, headers: HeaderMap) -> Response {
    app.wallet.lock(&headers);
    let mut resp = Redirect::to("/wallet").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, crate::wallet::clear_cookie());
    resp
}

async fn wallet_faucet(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let v = app.view();
    let Some(s) = session_of(&app, &headers) else { return locked_wallet(&v) };
    let app2 = app.clone();
    let r = tokio::task::spawn_blocking(move || app2.write(|p| p.faucet(s.address))).await;
    match r {
        Ok(Ok(g)) => Redirect::to(&format!("/portfolio?done={}", url(&format!("the faucet sent {} tokens", g.len()))))
            .into_response(),
        Ok(Err(e)) => error_page(&v, Some(s.address), &ApiError::internal(e.to_string())),
        Err(e) => error_page(&v, Some(s.address), &ApiError::internal(e.to_string())),
    }
}

async fn time_advance(State(app): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    let v = app.view();
    let session = session_of(&app, &headers).map(|s| s.address);
    let f = form(&bytes);
    let seconds: u64 = match f.get("seconds").and_then(|s| s.parse().ok()) {
        Some(s) if s > 0 && s <= crate::api::MAX_ADVANCE_S => s,
        _ => return error_page(&v, session, &ApiError::bad_field("seconds", "must be between 1 and 2592000")),
    };
    let app2 = app.clone();
    let r = tokio::task::spawn_blocking(move || app2.write(|p| p.run(seconds))).await;
    match r {
        Ok(Ok(_)) => {
            let back = headers.get(header::REFERER).and_then(|h| h.to_str().ok()).and_then(|r| {
                // Only go back to a page of this server.
                let path = r.splitn(4, '/').nth(3).map(|p| format!("/{p}"))?;
                path.starts_with('/').then_some(path)
            });
            Redirect::to(&back.unwrap_or_else(|| "/".into())).into_response()
        }
        Ok(Err(e)) => error_page(&v, session, &ApiError::internal(e.to_string())),
        Err(e) => error_page(&v, session, &ApiError::internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_format_as_utc_dates() {
        assert_eq!(fmt_unix(0), "1970-01-01 00:00 UTC");
        assert_eq!(fmt_unix(1_707_696_000), "2024-02-12 00:00 UTC");
        assert_eq!(fmt_unix(951_782_400 + 3_661), "2000-02-29 01:01 UTC");
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
