//! The CLI against a running `granary up`: `pools`, `positions`, `alerts`, `advise` read the API;
//! `stake`, `unstake`, `harvest`, `swap`, `add`, `remove` preview the action, ask (or take
//! `--yes`), sign it locally with the keystore key and submit the signed bytes. Tables by
//! default, `--json` for scripts.

use crate::wallet::PassphraseArgs;
use clap::Args;
use granary_engine::Address;
use granary_engine::secp256k1_key::SecretKey;
use granary_server::api::TxJson;
use granary_server::dto::{format_units, parse_units};
use granary_wallet::{WalletDir, decrypt};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// `println!` that ignores a closed stdout (`granary pools | head`).
macro_rules! outln {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

#[derive(Args, Clone)]
pub struct Conn {
    /// Base URL of the running `granary up`.
    #[arg(long, env = "GRANARY_URL", default_value = "http://127.0.0.1:8420")]
    pub url: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Why a client command failed: exit 1 for a refusal by the server, 2 for everything else.
pub enum Failure {
    Refused(String),
    Other(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Other(s)
    }
}

pub fn exit(r: Result<ExitCode, Failure>) -> ExitCode {
    match r {
        Ok(c) => c,
        Err(Failure::Refused(m)) => {
            eprintln!("refused: {m}");
            ExitCode::from(1)
        }
        Err(Failure::Other(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
    }
}

struct Api {
    agent: ureq::Agent,
    base: String,
}

impl Api {
    fn new(url: &str) -> Api {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Api { agent, base: url.trim_end_matches('/').to_string() }
    }

    fn handle(&self, r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Value, Failure> {
        let mut resp = r.map_err(|e| {
            Failure::Other(format!("no granary answers at {} ({e}): start it with `granary up`", self.base))
        })?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(|e| Failure::Other(e.to_string()))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| Failure::Other(format!("the server sent non-JSON ({e})")))?;
        if status >= 400 {
            let code = v["error"]["code"].as_str().unwrap_or("error");
            let msg = v["error"]["message"].as_str().unwrap_or("");
            return Err(Failure::Refused(format!("{msg} [{code}]")));
        }
        Ok(v)
    }

    fn get(&self, path: &str) -> Result<Value, Failure> {
        self.handle(self.agent.get(&format!("{}{path}", self.base)).call())
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        self.handle(
            self.agent
                .post(&format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .send(body.to_string()),
        )
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn print_json(v: &Value) -> Result<ExitCode, Failure> {
    outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// A plain text table, columns padded to their widest cell.
fn table(head: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let s: Vec<String> = cells.iter().enumerate().map(|(i, c)| format!("{c:<width$}", width = w[i])).collect();
        outln!("{}", s.join("  ").trim_end());
    };
    line(head.iter().map(|s| s.to_string()).collect());
    for r in rows {
        line(r.clone());
    }
}

fn pct(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.2}%")).unwrap_or_else(|| "-".into())
}

fn usd(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.abs() >= 1e6 => format!("${:.2}M", x / 1e6),
        Some(x) if x.abs() >= 1e3 => format!("${:.1}k", x / 1e3),
        Some(x) => format!("${x:.2}"),
        None => "-".into(),
    }
}

#[derive(Args, Clone)]
pub struct PoolsArgs {
    #[arg(long)]
    chain: Option<String>,
    #[arg(long)]
    asset: Option<String>,
    /// lp_farm, single_stake or plain_lp
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    max_lockup_days: Option<u32>,
    #[arg(long)]
    min_tvl_usd: Option<f64>,
    /// Worst grade kept (A–F).
    #[arg(long)]
    min_grade: Option<String>,
    /// apy, risk_adjusted_apy or tvl
    #[arg(long, default_value = "apy")]
    sort: String,
    #[arg(long)]
    limit: Option<usize>,
}

pub fn pools(conn: &Conn, a: &PoolsArgs) -> Result<ExitCode, Failure> {
    let api = Api::new(&conn.url);
    let mut q = vec![format!("sort={}", enc(&a.sort))];
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            q.push(format!("{k}={}", enc(&v)));
        }
    };
    push("chain", a.chain.clone());
    push("asset", a.asset.clone());
    push("kind", a.kind.clone());
    push("max_lockup_days", a.max_lockup_days.map(|v| v.to_string()));
    push("min_tvl_usd", a.min_tvl_usd.map(|v| v.to_string()));
    push("min_grade", a.min_grade.clone());
    push("limit", a.limit.map(|v| v.to_string()));
    let v = api.get(&format!("/api/opportunities?{}", q.join("&")))?;
    if conn.json {
        return print_json(&v);
    }
    let rows: Vec<Vec<String>> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    vec![
                        o["id"].as_str().unwrap_or("").to_string(),
                        o["chain"].as_str().unwrap_or("").to_string(),
                        o["project"].as_str().unwrap_or("").to_string(),
                        o["symbol"].as_str().unwrap_or("").to_string(),
                        pct(&o["apy"]),
                        pct(&o["apr_base"]),
                        pct(&o["apr_reward"]),
                        pct(&o["apy_risk_adjusted"]),
                        usd(&o["tvl_usd"]),
                        format!("{}d", o["lockup"]["days"].as_u64().unwrap_or(0)),
                        o["grade"].as_str().unwrap_or("-").to_string(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["ID", "CHAIN", "PROJECT", "SYMBOL", "APY", "BASE", "REWARD", "RISK-ADJ", "TVL", "LOCK", "GRADE"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// The wallet's key: `--from` or the only one in the folder.
fn pick_address(data_dir: &Path, from: Option<&str>) -> Result<Address, Failure> {
    if let Some(f) = from {
        return crate::wallet::parse_address(f).map_err(Failure::Other);
    }
    let dir = WalletDir::new(data_dir.join("wallet"));
    let list = dir.list().map_err(|e| Failure::Other(e.to_string()))?;
    match list.entries.as_slice() {
        [one] => Ok(one.address),
        [] => Err(Failure::Other("the wallet has no key: run `granary wallet new` (or pass an address)".into())),
        _ => Err(Failure::Other("the wallet holds several keys: choose one with --from ADDRESS".into())),
    }
}

pub fn positions(conn: &Conn, data_dir: &Path, address: Option<&str>) -> Result<ExitCode, Failure> {
    let api = Api::new(&conn.url);
    let who = pick_address(data_dir, address)?;
    let v = api.get(&format!("/api/accounts/{who:#x}"))?;
    if conn.json {
        return print_json(&v);
    }
    outln!("{}  total {}", v["address"].as_str().unwrap_or(""), usd(&v["total_usd"]));
    let empty = vec![];
    let balances: Vec<Vec<String>> = v["balances"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|b| {
            vec![
                b["chain"].as_str().unwrap_or("").into(),
                b["symbol"].as_str().unwrap_or("").into(),
                b["amount_tokens"].as_str().unwrap_or("").into(),
                usd(&b["value_usd"]),
            ]
        })
        .collect();
    outln!("\nBalances");
    table(&["CHAIN", "TOKEN", "AMOUNT", "VALUE"], &balances);
    let stakes: Vec<Vec<String>> = v["stake_positions"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|p| {
            let dec = p["stake_decimals"].as_u64().unwrap_or(18) as u8;
            let rdec = p["reward_decimals"].as_u64().unwrap_or(18) as u8;
            let amt =
                p["amount"].as_str().and_then(|s| s.parse().ok()).map(|a| format_units(a, dec)).unwrap_or_default();
            let pend = p["pending_reward"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .map(|a| format_units(a, rdec))
                .unwrap_or_default();
            vec![
                p["position"].to_string(),
                p["chain"].as_str().unwrap_or("").into(),
                p["staking_pool"].as_str().unwrap_or("").into(),
                format!("{} {}", amt, p["stake_symbol"].as_str().unwrap_or("")),
                format!("{}d", p["term_days"]),
                granary_server::web::fmt_unix(p["unlock_unix"].as_i64().unwrap_or(0)),
                format!("{} {}", pend, p["reward_symbol"].as_str().unwrap_or("")),
            ]
        })
        .collect();
    outln!("\nStakes");
    table(&["POSITION", "CHAIN", "POOL", "AMOUNT", "TERM", "UNLOCKS", "PENDING"], &stakes);
    let farms: Vec<Vec<String>> = v["farm_positions"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|p| {
            let rdec = p["reward_decimals"].as_u64().unwrap_or(18) as u8;
            let pend = p["pending_reward"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .map(|a| format_units(a, rdec))
                .unwrap_or_default();
            vec![
                p["chain"].as_str().unwrap_or("").into(),
                p["farm_pool"].as_str().unwrap_or("").into(),
                usd(&p["staked_usd"]),
                format!("{} {}", pend, p["reward_symbol"].as_str().unwrap_or("")),
            ]
        })
        .collect();
    outln!("\nFarms");
    table(&["CHAIN", "FARM POOL", "STAKED", "PENDING"], &farms);
    let lps: Vec<Vec<String>> = v["lp_positions"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|p| {
            vec![
                p["chain"].as_str().unwrap_or("").into(),
                p["pool"].as_str().unwrap_or("").into(),
                usd(&p["value_usd"]),
                usd(&p["hodl_usd"]),
                usd(&p["pnl_vs_hodl_usd"]),
                pct(&p["il_pct"]),
            ]
        })
        .collect();
    outln!("\nLiquidity");
    table(&["CHAIN", "POOL", "VALUE", "HODL", "PNL VS HODL", "IL"], &lps);
    Ok(ExitCode::SUCCESS)
}

pub fn alerts(conn: &Conn, chain: Option<&str>) -> Result<ExitCode, Failure> {
    let api = Api::new(&conn.url);
    let path = match chain {
        Some(c) => format!("/api/alerts?chain={}", enc(c)),
        None => "/api/alerts".to_string(),
    };
    let v = api.get(&path)?;
    if conn.json {
        return print_json(&v);
    }
    let rows: Vec<Vec<String>> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    vec![
                        x["id"].to_string(),
                        x["chain"].as_str().unwrap_or("").into(),
                        x["severity"].as_str().unwrap_or("").into(),
                        x["kind"].as_str().unwrap_or("").into(),
                        x["subject"].as_str().unwrap_or("").into(),
                        x["evidence"].as_str().unwrap_or("").into(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["ID", "CHAIN", "SEVERITY", "KIND", "SUBJECT", "EVIDENCE"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// Options shared by the commands that sign.
#[derive(Args)]
pub struct SignArgs {
    /// The wallet key to act with (default: the only one).
    #[arg(long)]
    from: Option<String>,
    /// Submit without asking after the preview.
    #[arg(long)]
    yes: bool,
    /// Slippage tolerance in basis points (swaps and liquidity).
    #[arg(long)]
    slippage_bps: Option<u32>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

/// What to do, with amounts in whole tokens (converted with the token's decimals).
pub enum Ask<'a> {
    Stake { pool: &'a str, amount: &'a str, term_days: u32 },
    Unstake { position: u64 },
    Harvest { farm_pool: Option<&'a str>, position: Option<u64> },
    Swap { pool: &'a str, token_in: &'a str, amount: &'a str },
    Add { pool: &'a str, amount0: &'a str, amount1: &'a str },
    Remove { pool: &'a str, liquidity: &'a str },
    Deposit { farm_pool: &'a str, amount: &'a str },
    Withdraw { farm_pool: &'a str, amount: &'a str },
}

fn decimals_of(detail: &Value, key: &str) -> Result<u8, Failure> {
    detail[key]["decimals"]
        .as_u64()
        .map(|d| d as u8)
        .ok_or_else(|| Failure::Other(format!("the server did not say the {key}")))
}

fn units(text: &str, decimals: u8) -> Result<String, Failure> {
    parse_units(text, decimals).map(|v| v.to_string()).map_err(|e| Failure::Other(format!("amount {e}")))
}

/// Preview, confirm, sign locally and submit.
pub fn act(conn: &Conn, data_dir: &Path, sign: &SignArgs, ask: Ask<'_>) -> Result<ExitCode, Failure> {
    let api = Api::new(&conn.url);
    let who = pick_address(data_dir, sign.from.as_deref())?;
    let slip = sign.slippage_bps;
    let intent = match ask {
        Ask::Stake { pool, amount, term_days } => {
            let d = api.get(&format!("/api/opportunities/{}", enc(&format!("stake:{pool}:{term_days}d"))))?;
            json!({"kind": "stake", "staking_pool": pool, "amount": units(amount, decimals_of(&d, "stake_token")?)?, "term_days": term_days})
        }
        Ask::Unstake { position } => json!({"kind": "unstake", "position": position}),
        Ask::Harvest { farm_pool: Some(fp), .. } => json!({"kind": "harvest", "farm_pool": fp}),
        Ask::Harvest { position: Some(p), .. } => json!({"kind": "claim", "position": p}),
        Ask::Harvest { .. } => return Err(Failure::Other("give a FARM_POOL or --position N".into())),
        Ask::Swap { pool, token_in, amount } => {
            let d = api.get(&format!("/api/opportunities/{}", enc(&format!("pool:{pool}"))))?;
            let toks = d["pool_tokens"].as_array().cloned().unwrap_or_default();
            let t = toks
                .iter()
                .find(|t| {
                    t["id"].as_str() == Some(token_in)
                        || t["symbol"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(token_in))
                })
                .ok_or_else(|| Failure::Other(format!("{token_in} is not a token of pool {pool}")))?;
            let dec = t["decimals"].as_u64().unwrap_or(18) as u8;
            json!({"kind": "swap", "pool": pool, "token_in": t["id"], "amount_in": units(amount, dec)?, "slippage_bps": slip})
        }
        Ask::Add { pool, amount0, amount1 } => {
            let d = api.get(&format!("/api/opportunities/{}", enc(&format!("pool:{pool}"))))?;
            let toks = d["pool_tokens"].as_array().cloned().unwrap_or_default();
            let dec = |i: usize| toks.get(i).and_then(|t| t["decimals"].as_u64()).unwrap_or(18) as u8;
            json!({"kind": "add_liquidity", "pool": pool, "amounts": [units(amount0, dec(0))?, units(amount1, dec(1))?], "slippage_bps": slip})
        }
        Ask::Remove { pool, liquidity } => {
            json!({"kind": "remove_liquidity", "pool": pool, "liquidity": units(liquidity, 18)?, "slippage_bps": slip})
        }
        Ask::Deposit { farm_pool, amount } => {
            let d = api.get(&format!("/api/opportunities/{}", enc(&format!("farm:{farm_pool}"))))?;
            json!({"kind": "deposit", "farm_pool": farm_pool, "amount": units(amount, decimals_of(&d, "stake_token")?)?})
        }
        Ask::Withdraw { farm_pool, amount } => {
            let d = api.get(&format!("/api/opportunities/{}", enc(&format!("farm:{farm_pool}"))))?;
            json!({"kind": "withdraw", "farm_pool": farm_pool, "amount": units(amount, decimals_of(&d, "stake_token")?)?})
        }
    };
    let mut intent = intent;
    if let Some(o) = intent.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    let preview = api.post("/api/quote", &json!({"sender": format!("{who:#x}"), "intent": intent}))?;
    if conn.json {
        outln!("{}", serde_json::to_string(&json!({"preview": preview})).unwrap_or_default());
    } else {
        print_preview(&preview);
    }
    if !sign.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::Other("not submitted: confirm with --yes (there is no terminal to ask on)".into()));
        }
        eprint!("Sign and submit? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| Failure::Other(e.to_string()))?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            eprintln!("not submitted");
            return Ok(ExitCode::from(1));
        }
    }
    let key = load_key(data_dir, who, &sign.passphrase)?;
    let prepared = api.post("/api/tx/prepare", &json!({"sender": format!("{who:#x}"), "action": preview["action"]}))?;
    let txj: TxJson = serde_json::from_value(prepared["transaction"].clone())
        .map_err(|e| Failure::Other(format!("the server's transaction is malformed: {e}")))?;
    // Sign only what was previewed, for this key.
    if serde_json::to_value(&txj.action).ok().as_ref() != Some(&preview["action"]) {
        return Err(Failure::Other("the prepared transaction differs from the preview: not signed".into()));
    }
    let tx = txj.to_tx().map_err(|e| Failure::Other(e.message))?;
    if tx.sender != who {
        return Err(Failure::Other("the prepared transaction is for another sender: not signed".into()));
    }
    let raw: String = tx.sign(&key).to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let receipt = api.post("/api/tx", &json!({"raw": format!("0x{raw}")}))?;
    if conn.json {
        outln!("{}", serde_json::to_string(&json!({"receipt": receipt})).unwrap_or_default());
    } else {
        outln!("submitted: journal entry {}, {}", receipt["seq"], receipt["outcome"].as_str().unwrap_or(""));
    }
    Ok(ExitCode::SUCCESS)
}

fn load_key(data_dir: &Path, who: Address, pass: &PassphraseArgs) -> Result<SecretKey, Failure> {
    let dir = WalletDir::new(data_dir.join("wallet"));
    let entry = dir.find(who).map_err(|e| Failure::Other(e.to_string()))?;
    let p = pass.read(false).map_err(Failure::Other)?;
    decrypt(&entry.keystore, &p).map_err(|e| Failure::Other(format!("{}: {e}", entry.file.display())))
}

fn print_preview(p: &Value) {
    let legs = |k: &str| -> String {
        p[k].as_array()
            .map(|a| {
                a.iter()
                    .map(|l| {
                        format!(
                            "{} {} ({})",
                            l["amount_tokens"].as_str().unwrap_or(""),
                            l["symbol"].as_str().unwrap_or(""),
                            usd(&l["value_usd"])
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "–".into())
    };
    outln!(
        "Preview on {} ({}): {}",
        p["chain"].as_str().unwrap_or(""),
        p["action"]["kind"].as_str().unwrap_or(""),
        p["outcome"].as_str().unwrap_or("")
    );
    outln!("  pay:      {}", legs("pay"));
    outln!("  receive:  {}", legs("receive"));
    if p["minimum_receive"].as_array().is_some_and(|a| !a.is_empty()) {
        outln!("  at least: {}", legs("minimum_receive"));
    }
    if !p["fee_usd"].is_null() {
        outln!("  fee:      {}", usd(&p["fee_usd"]));
    }
    if !p["price_impact_pct"].is_null() {
        outln!("  impact:   {}", pct(&p["price_impact_pct"]));
    }
    outln!("  gas:      {} units ({})", p["gas_units"], usd(&p["gas_usd"]));
    if let Some(r) = p["expected_reward"].as_object() {
        outln!(
            "  expected: {} {} by unlock at today's rate",
            r["amount_tokens"].as_str().unwrap_or(""),
            r["symbol"].as_str().unwrap_or("")
        );
    }
    if let Some(pen) = p["penalty"].as_object() {
        outln!("  PENALTY:  {} {}", pen["amount_tokens"].as_str().unwrap_or(""), pen["symbol"].as_str().unwrap_or(""));
    }
    for w in p["warnings"].as_array().into_iter().flatten() {
        outln!("  warning:  {}", w.as_str().unwrap_or(""));
    }
}

#[derive(Args, Clone)]
pub struct AdviseArgs {
    /// What you hold, in whole tokens: ETH=10,USDC=5000 (a chain with SYMBOL@CHAIN, e.g. USDC@arbitrum=5000).
    #[arg(long)]
    holdings: String,
    /// How long you mean to hold, days.
    #[arg(long, default_value_t = 90)]
    horizon_days: u32,
    /// conservative, balanced or aggressive.
    #[arg(long, default_value = "balanced")]
    tolerance: String,
    /// Worst grade advised (A–F), instead of the tolerance's.
    #[arg(long)]
    min_grade: Option<String>,
    /// Most of the holdings' value in one protocol (a fraction, e.g. 0.3).
    #[arg(long)]
    max_protocol_share: Option<f64>,
    /// Most of the holdings' value on one chain (a fraction).
    #[arg(long)]
    max_chain_share: Option<f64>,
    /// An opportunity id not to advise (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
}

/// `granary advise`: the allocation for the holdings, a table and each line's explanation.
pub fn advise(conn: &Conn, a: &AdviseArgs) -> Result<ExitCode, Failure> {
    let api = Api::new(&conn.url);
    let mut body = json!({"holdings": a.holdings, "horizon_days": a.horizon_days, "tolerance": a.tolerance});
    if let Some(o) = body.as_object_mut() {
        if let Some(g) = &a.min_grade {
            o.insert("min_grade".into(), json!(g));
        }
        if let Some(s) = a.max_protocol_share {
            o.insert("max_protocol_share".into(), json!(s));
        }
        if let Some(s) = a.max_chain_share {
            o.insert("max_chain_share".into(), json!(s));
        }
        if !a.exclude.is_empty() {
            o.insert("exclude".into(), json!(a.exclude));
        }
    }
    let v = api.post("/api/advise", &body)?;
    if conn.json {
        return print_json(&v);
    }
    print_advice(&v);
    Ok(ExitCode::SUCCESS)
}

fn signed_usd(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x < 0.0 => format!("-{}", usd(&json!(-x))),
        Some(_) => format!("+{}", usd(v)),
        None => "-".into(),
    }
}

fn print_advice(v: &Value) {
    let t = &v["totals"];
    let f = |k: &str| t[k].as_f64().unwrap_or(0.0);
    outln!(
        "Advice for {} over {} days ({}): {} allocated, median {} ({:+.2}%, {:.2}% a year), bad case {} (p5, lines together)",
        usd(&t["holdings_usd"]),
        v["horizon_days"],
        v["tolerance"].as_str().unwrap_or(""),
        usd(&t["allocated_usd"]),
        signed_usd(&t["median_usd"]),
        f("median_pct"),
        f("median_apy_pct"),
        signed_usd(&t["bad_usd"]),
    );
    let empty = vec![];
    let lines = v["lines"].as_array().unwrap_or(&empty);
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let from: Vec<String> = l["sources"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(|s| format!("{:.4} {}", s["amount"].as_f64().unwrap_or(0.0), s["holding"].as_str().unwrap_or("")))
                .collect();
            let cost = l["costs"]["total_usd"].as_f64().unwrap_or(0.0) + l["gas"]["total_usd"].as_f64().unwrap_or(0.0);
            vec![
                l["opportunity"].as_str().unwrap_or("").into(),
                l["chain"].as_str().unwrap_or("").into(),
                l["project"].as_str().unwrap_or("").into(),
                l["grade"].as_str().unwrap_or("-").into(),
                usd(&l["amount_usd"]),
                format!("{:.1}%", l["share"].as_f64().unwrap_or(0.0) * 100.0),
                from.join(", "),
                usd(&json!(cost)),
                pct(&l["apy"]["risk_adjusted_pct"]),
                signed_usd(&l["median_usd"]),
                signed_usd(&l["bad_usd"]),
            ]
        })
        .collect();
    outln!();
    table(
        &["OPPORTUNITY", "CHAIN", "PROJECT", "GRADE", "AMOUNT", "SHARE", "FROM", "COSTS+GAS", "APY", "MEDIAN", "BAD"],
        &rows,
    );
    if lines.is_empty() {
        outln!("(nothing nets more than its costs for these holdings over this horizon)");
    }
    for l in lines {
        outln!(
            "\n{} · {} {}",
            l["opportunity"].as_str().unwrap_or(""),
            l["project"].as_str().unwrap_or(""),
            l["symbol"].as_str().unwrap_or("")
        );
        outln!("  why:   {}", l["why"].as_str().unwrap_or(""));
        outln!("  risks: {}", l["risks"].as_str().unwrap_or(""));
        outln!("  limit: {}", l["limit"].as_str().unwrap_or(""));
        for s in l["sources"].as_array().unwrap_or(&empty) {
            let steps: Vec<&str> = s["route"].as_array().unwrap_or(&empty).iter().filter_map(Value::as_str).collect();
            outln!("  how:   {}: {}", s["holding"].as_str().unwrap_or(""), steps.join("; then "));
        }
    }
    let slices = |k: &str| -> String {
        t[k].as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({:.0}%)",
                    s["name"].as_str().unwrap_or(""),
                    usd(&s["usd"]),
                    s["share"].as_f64().unwrap_or(0.0) * 100.0
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    outln!("\nBy chain:    {}", slices("by_chain"));
    outln!("By protocol: {}", slices("by_protocol"));
    for u in v["unallocated"].as_array().unwrap_or(&empty) {
        outln!(
            "Unallocated: {:.4} {} ({})",
            u["amount"].as_f64().unwrap_or(0.0),
            u["holding"].as_str().unwrap_or(""),
            usd(&u["usd"])
        );
    }
    outln!("\nAssumptions:");
    for a in v["assumptions"].as_array().unwrap_or(&empty) {
        outln!("  - {}", a.as_str().unwrap_or(""));
    }
}
