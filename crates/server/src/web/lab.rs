//! The lab page (`/lab`): backtest a strategy over real closes or run it on Monte Carlo paths,
//! with the summary and the charts (value vs HODL, or the fan of outcomes and their histogram).
//! The same runs as `POST /api/simulate` and `granary simulate`.

use super::svg::{self, Series};
use super::{esc, page, usd};
use crate::api::{AppState, Params};
use crate::api_lab::{SimulateBody, SimulateResult, run_request};
use crate::error::ApiError;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

const FIELDS: &[&str] = &[
    "strategy",
    "pair",
    "from",
    "to",
    "paths",
    "days",
    "seed",
    "model",
    "deposit_usd",
    "chain",
    "volume",
    "reward_apr",
    "stake_apr",
    "term_days",
    "exit_day",
];

fn body_of(p: &Params) -> Result<SimulateBody, ApiError> {
    let s = |k: &str| p.str(k).map(str::to_string);
    Ok(SimulateBody {
        strategy: s("strategy").unwrap_or_else(|| "lp".into()),
        pair: s("pair"),
        from: s("from"),
        to: s("to"),
        paths: p.num("paths", "a whole number")?,
        days: p.num("days", "a whole number of days")?,
        seed: p.num("seed", "a whole number")?,
        model: s("model"),
        deposit_usd: p.num("deposit_usd", "a number of USD")?,
        chain: s("chain"),
        volume: p.num("volume", "a share (0.2 = 20 % a day)")?,
        reward_apr: p.num("reward_apr", "a fraction (0.4 = 40 %)")?,
        stake_apr: p.num("stake_apr", "a fraction (0.1 = 10 %)")?,
        term_days: p.num("term_days", "a whole number of days")?,
        exit_day: p.num("exit_day", "a whole number of days")?,
        ..SimulateBody::default()
    })
}

pub async fn lab_page(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let v = app.view();
    let session = app.wallet.session(&headers).map(|s| s.address);
    // Empty form fields arrive as `name=`; they mean "the default".
    let q = q.map(|q| q.split('&').filter(|p| !p.ends_with('=')).collect::<Vec<_>>().join("&"));
    let fresh = q.as_deref().is_none_or(str::is_empty);
    let p = match Params::parse(q.as_deref(), FIELDS) {
        Ok(p) => p,
        Err(e) => return super::error_page(&v, session, &e),
    };
    let mut req = match body_of(&p) {
        Ok(b) => b,
        Err(e) => return super::error_page(&v, session, &e),
    };
    if fresh {
        // The page opens on a worked example: ETH/USDC liquidity through the May 2021 crash.
        req.from = Some("2021-05-01".into());
        req.to = Some("2021-07-31".into());
    }
    let run = {
        let req = req.clone();
        tokio::task::spawn_blocking(move || run_request(&req)).await
    };
    let result = match run {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return super::error_page(&v, session, &e),
        Err(e) => return super::error_page(&v, session, &ApiError::internal(e.to_string())),
    };
    let field = |k: &str, val: String, size: usize| {
        format!(r#"<label>{k}<input name="{k}" id="lab-{k}" value="{}" size="{size}"></label>"#, esc(&val))
    };
    let select = |k: &str, cur: &str, opts: &[&str]| {
        let mut s = format!(r#"<label>{k}<select name="{k}" id="lab-{k}">"#);
        for o in opts {
            let _ = write!(s, r#"<option value="{o}"{}>{o}</option>"#, if *o == cur { " selected" } else { "" });
        }
        s.push_str("</select></label>");
        s
    };
    let opt = |x: Option<String>| x.unwrap_or_default();
    let mut b = String::from(
        r#"<h1>Lab</h1><p class="muted">What would this have earned, and what might it earn? Strategies run on the engine's exact pool math over real daily closes (a backtest: give <i>from</i> and <i>to</i>) or over Monte Carlo paths (give <i>paths</i>; GBM fitted on the real series, or a block bootstrap of real returns). <a href="/lab/advise">Diversification advice →</a></p>"#,
    );
    let _ = write!(
        b,
        r#"<form class="inline card" method="get" action="/lab" id="lab-form">{}{}{}{}{}{}{}{}{}{}{}{}{}{}<button id="lab-run">Run</button></form>"#,
        select("strategy", &req.strategy, &["hodl", "lp", "farm", "stake", "vault"]),
        field("pair", req.pair.clone().unwrap_or_else(|| "ETH/USDC".into()), 9),
        field("from", opt(req.from.clone()), 10),
        field("to", opt(req.to.clone()), 10),
        field("paths", req.paths.map(|x| x.to_string()).unwrap_or_default(), 5),
        field("days", req.days.map(|x| x.to_string()).unwrap_or_default(), 4),
        select("model", req.model.as_deref().unwrap_or("gbm"), &["gbm", "bootstrap"]),
        field("seed", req.seed.map(|x| x.to_string()).unwrap_or_default(), 4),
        field("deposit_usd", req.deposit_usd.map(|x| x.to_string()).unwrap_or_else(|| "10000".into()), 7),
        select(
            "chain",
            req.chain.as_deref().unwrap_or("ethereum"),
            &["ethereum", "bsc", "polygon", "arbitrum", "base", "avalanche"]
        ),
        field("volume", req.volume.map(|x| x.to_string()).unwrap_or_default(), 4),
        field("reward_apr", req.reward_apr.map(|x| x.to_string()).unwrap_or_default(), 4),
        field("stake_apr", req.stake_apr.map(|x| x.to_string()).unwrap_or_default(), 4),
        field("term_days", req.term_days.map(|x| x.to_string()).unwrap_or_default(), 4),
    );
    b.push_str(&render(&result));
    page("Lab", &v, session, &b).into_response()
}

fn render(r: &SimulateResult) -> String {
    let s = &r.summary;
    let mut b = String::new();
    let mc = s.info.paths > 1 || r.fan.is_some();
    let _ = write!(
        b,
        r#"<h2 id="lab-title">{} {} on {} · {}</h2>"#,
        esc(&s.info.pair),
        esc(&s.info.strategy),
        esc(&s.info.chain),
        if mc {
            format!(
                "{} paths × {} days ({}, fitted {}..{})",
                s.info.paths,
                s.info.days,
                esc(&s.info.model),
                esc(&s.info.from),
                esc(&s.info.to)
            )
        } else {
            format!("{}..{}", esc(&s.info.from), esc(&s.info.to))
        }
    );
    let row = |name: &str, st: &granary_lab::report::Stat, fmt: &dyn Fn(f64) -> String| {
        if mc {
            format!(
                "<tr><th>{name}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                fmt(st.p5),
                fmt(st.p50),
                fmt(st.p95)
            )
        } else {
            format!("<tr><th>{name}</th><td class=\"num\" colspan=\"3\">{}</td></tr>", fmt(st.p50))
        }
    };
    let money = |x: f64| usd(Some(x));
    let pc = |x: f64| format!("{x:+.2}%");
    let _ = write!(
        b,
        r#"<div class="scroll"><table id="lab-summary"><thead><tr><th></th>{}</tr></thead><tbody>{}{}{}{}{}{}{}{}{}{}"#,
        if mc {
            r#"<th class="num">p5</th><th class="num">p50</th><th class="num">p95</th>"#
        } else {
            r#"<th class="num" colspan="3">value</th>"#
        },
        row("Final value", &s.final_value_usd, &money),
        row("HODL value", &s.hodl_value_usd, &money),
        row("Return", &s.return_pct, &pc),
        row("Return vs HODL", &s.return_vs_hodl_pct, &pc),
        row("Impermanent loss", &s.il_pct, &pc),
        row("Fees earned", &s.fees_usd, &money),
        row("Rewards", &s.rewards_usd, &money),
        row("Gas", &s.gas_usd, &money),
        row("Early-exit penalty", &s.penalty_usd, &money),
        row("Max drawdown", &s.max_drawdown_pct, &|x| format!("{x:.2}%")),
    );
    if mc {
        let _ = write!(
            b,
            r#"<tr><th>Probability of a loss</th><td class="num" colspan="3" id="lab-prob-loss">{:.1}%</td></tr><tr><th>Probability of ending below HODL</th><td class="num" colspan="3">{:.1}%</td></tr>"#,
            s.prob_loss * 100.0,
            s.prob_below_hodl * 100.0
        );
    }
    b.push_str("</tbody></table></div>");
    if let Some(days) = &r.days {
        let value: Vec<(f64, f64)> = days.iter().enumerate().map(|(i, d)| (i as f64, d.1)).collect();
        let hodl: Vec<(f64, f64)> = days.iter().enumerate().map(|(i, d)| (i as f64, d.2)).collect();
        let (first, last) = (
            days.first().map(|d| d.0.clone()).unwrap_or_default(),
            days.last().map(|d| d.0.clone()).unwrap_or_default(),
        );
        b.push_str(&svg::lines_chart(
            "lab-chart",
            "Value vs HODL (USD)",
            "",
            &[
                Series { label: "strategy", color: "#2f6fdd", points: value },
                Series { label: "HODL", color: "#999", points: hodl },
            ],
            &first,
            &last,
        ));
    }
    if let Some(fan) = &r.fan {
        let line = |k: usize| fan.iter().enumerate().map(|(d, row)| (d as f64, row[k])).collect::<Vec<_>>();
        b.push_str(&svg::lines_chart(
            "lab-fan",
            "Value by day across paths (USD)",
            "",
            &[
                Series { label: "p95", color: "#8fb3ef", points: line(4) },
                Series { label: "p50", color: "#2f6fdd", points: line(2) },
                Series { label: "p5", color: "#8fb3ef", points: line(0) },
                Series { label: "HODL p50", color: "#999", points: line(5) },
            ],
            "day 0",
            &format!("day {}", fan.len().saturating_sub(1)),
        ));
    }
    if let Some(finals) = &r.finals {
        b.push_str(&svg::histogram(
            "lab-histogram",
            "Final value across paths (dashed: the deposit)",
            finals,
            30,
            Some(s.info.deposit_usd),
        ));
    }
    b
}
