//! The HTTP API end to end: one in-process server per test binary (seeded demo world, clock
//! paused so that time moves only through `POST /api/time/advance`), driven over TCP with a
//! plain HTTP client. Every route of `granary_server::api_routes()` has a happy-path test here
//! (checked by `every_route_is_covered`), and every error class of SPEC §5 has a test that
//! asserts the status, the stable code, the field at fault, and that nothing changed.

use granary_engine::codec::ActionParts;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, SignedTransaction, Transaction, U256};
use granary_server::UpOptions;
use granary_server::limits::Limits;
use granary_server::platform::PlatformConfig;
use granary_store::{Location, SnapshotPolicy};
use granary_world::market::MarketConfig;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

// ---------------------------------------------------------------- the server

struct Server {
    base: String,
    wallet_dir: PathBuf,
    agent: ureq::Agent,
}

/// Seeding takes a couple of seconds: one server for the whole binary.
static SERVER: LazyLock<Server> = LazyLock::new(|| start(Limits::default()));

/// The tests share one platform. Those that change it, or that compare its state before and
/// after a request, hold this lock so that another test's writes cannot move the numbers.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Data folders of earlier runs older than this are removed (a `static` is never dropped, so
/// a run cannot clean up after itself).
const STALE: Duration = Duration::from_secs(3600);

fn start(limits: Limits) -> Server {
    let parent = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > STALE);
            if old && e.file_name().to_string_lossy().starts_with("granary-api-test-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let root = tempfile::Builder::new().prefix("granary-api-test-").tempdir_in(&parent).expect("temp dir").keep();
    let wallet_dir = root.join("wallet");
    let opts = UpOptions {
        platform: PlatformConfig {
            location: Location::Sqlite(root.join("store")),
            policy: SnapshotPolicy::default(),
            seed: 42,
            market: MarketConfig::default(),
        },
        wallet_dir: wallet_dir.clone(),
        addr: "127.0.0.1:0".parse().expect("addr"),
        speed: 0.0,
        tick: Duration::from_secs(1),
        paused: true,
        limits,
    };
    let app = granary_server::open(&opts).expect("the platform opens and seeds");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let rt =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, granary_server::router(app)).await.expect("serve");
        });
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into();
    Server { base: format!("http://{addr}"), wallet_dir, agent }
}

// ---------------------------------------------------------------- HTTP helpers

fn url(path: &str) -> String {
    format!("{}{path}", SERVER.base)
}

fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> (u16, String) {
    let mut r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_else(|e| panic!("{what}: body: {e}"));
    (status, text)
}

fn json_of(status: u16, text: &str, what: &str) -> (u16, Value) {
    let v = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {status} not JSON ({e}): {text}"));
    (status, v)
}

fn get(path: &str) -> (u16, Value) {
    let (s, t) = finish(SERVER.agent.get(url(path)).call(), path);
    json_of(s, &t, path)
}

fn get_text(path: &str) -> (u16, String) {
    finish(SERVER.agent.get(url(path)).call(), path)
}

fn get_auth(path: &str, token: &str) -> (u16, Value) {
    let (s, t) = finish(SERVER.agent.get(url(path)).header("authorization", format!("Bearer {token}")).call(), path);
    json_of(s, &t, path)
}

fn post_raw(path: &str, body: &str) -> (u16, Value) {
    let (s, t) = finish(SERVER.agent.post(url(path)).header("content-type", "application/json").send(body), path);
    json_of(s, &t, path)
}

fn post(path: &str, body: &Value) -> (u16, Value) {
    post_raw(path, &body.to_string())
}

fn post_auth(path: &str, body: &Value, token: &str) -> (u16, Value) {
    let (s, t) = finish(
        SERVER
            .agent
            .post(url(path))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .send(body.to_string()),
        path,
    );
    json_of(s, &t, path)
}

/// GET that must succeed.
#[track_caller]
fn ok(path: &str) -> Value {
    let (s, v) = get(path);
    assert_eq!(s, 200, "GET {path}: {v}");
    v
}

/// POST that must succeed.
#[track_caller]
fn ok_post(path: &str, body: &Value) -> Value {
    let (s, v) = post(path, body);
    assert_eq!(s, 200, "POST {path} {body}: {v}");
    v
}

/// An error response: its status, stable code, and the field at fault (`None`: there is no
/// field, and the body must not claim one).
#[track_caller]
fn assert_error(got: &(u16, Value), status: u16, code: &str, field: Option<&str>) {
    let (s, v) = got;
    assert_eq!(*s, status, "status of {v}");
    assert_eq!(v["error"]["code"], code, "code of {v}");
    let message = v["error"]["message"].as_str().expect("an error message");
    assert!(message.len() > 10, "a message that says what is wrong: {v}");
    match field {
        Some(f) => assert_eq!(v["error"]["field"], f, "field of {v}"),
        None => assert!(v["error"].get("field").is_none(), "no field expected in {v}"),
    }
}

// ---------------------------------------------------------------- values

fn u256(v: &Value) -> U256 {
    let s = v.as_str().unwrap_or_else(|| panic!("a decimal string, not {v}"));
    U256::from_str_radix(s, 10).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, not {v}"))
}

fn uint(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a whole number, not {v}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("a string, not {v}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("an array, not {v}"))
}

fn addr(a: &Address) -> String {
    format!("{a:#x}")
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

// ---------------------------------------------------------------- platform helpers

/// A fresh account funded by the faucet: its key and address.
fn funded(name: &str) -> (SecretKey, String) {
    let key = dev_key(&format!("api-test:{name}"));
    let a = addr(&key_address(&key));
    let r = ok_post("/api/faucet", &json!({"address": a}));
    assert!(!arr(&r["granted"]).is_empty(), "the faucet grants market tokens: {r}");
    (key, a)
}

fn account(a: &str) -> Value {
    ok(&format!("/api/accounts/{a}"))
}

/// Balance of `token` in an account document (zero when absent).
fn balance(acc: &Value, token: &str) -> U256 {
    arr(&acc["balances"]).iter().find(|b| b["token"] == token).map(|b| u256(&b["amount"])).unwrap_or(U256::ZERO)
}

fn chain_doc(id: &str) -> Value {
    ok("/api/chains").as_array().and_then(|l| l.iter().find(|c| c["id"] == id).cloned()).expect("chain")
}

/// Everything a refused request must leave as it was: the journal position, the engine's state
/// hash (every balance, pool and position of every chain), the chains (blocks, clocks), and one
/// account entire (balances, nonces, positions).
#[derive(Debug, PartialEq)]
struct Observed {
    next_seq: u64,
    state_hash: String,
    chains: Value,
    account: Option<Value>,
}

fn observe(who: Option<&str>) -> Observed {
    Observed {
        next_seq: uint(&ok("/api/health")["next_seq"]),
        state_hash: text(&ok("/api/status")["state_hash"]).to_string(),
        chains: ok("/api/chains"),
        account: who.map(account),
    }
}

/// Run a request that must be refused, and check that the platform did not move.
#[track_caller]
fn refused(who: Option<&str>, request: impl FnOnce() -> (u16, Value)) -> (u16, Value) {
    let before = observe(who);
    let r = request();
    assert!((400..500).contains(&r.0), "a 4xx, not {} {}", r.0, r.1);
    let after = observe(who);
    assert_eq!(before, after, "a refused request changes nothing");
    r
}

/// The JSON form of a transaction as `POST /api/tx` takes it.
fn tx_json(tx: &Transaction) -> Value {
    let p = tx.action.to_parts();
    json!({
        "chain_id": tx.chain_id,
        "sender": addr(&tx.sender),
        "nonce": tx.nonce,
        "deadline": tx.deadline,
        "action": {"kind": p.kind, "ids": p.ids, "amounts": p.amounts.iter().map(|a| a.to_string()).collect::<Vec<_>>()},
    })
}

/// An engine action from the API's `{kind, ids, amounts}`, built with the engine's own codec
/// (not the server's parser), so that what is signed is what the test means.
fn action_of(v: &Value) -> Action {
    let parts = ActionParts {
        kind: text(&v["kind"]).to_string(),
        ids: arr(&v["ids"]).iter().map(|s| text(s).to_string()).collect(),
        amounts: arr(&v["amounts"]).iter().map(u256).collect(),
    };
    Action::from_parts(&parts).expect("a valid action")
}

/// The transaction of a `POST /api/tx/prepare` answer.
fn tx_of(prepared: &Value) -> Transaction {
    let t = &prepared["transaction"];
    Transaction {
        chain_id: uint(&t["chain_id"]),
        sender: text(&t["sender"]).parse().expect("sender"),
        nonce: uint(&t["nonce"]),
        deadline: uint(&t["deadline"]),
        action: action_of(&t["action"]),
    }
}

fn prepare(sender: &str, intent: Value) -> Transaction {
    tx_of(&ok_post("/api/tx/prepare", &json!({"sender": sender, "intent": intent})))
}

fn submit(stx: &SignedTransaction) -> (u16, Value) {
    post("/api/tx", &json!({"transaction": tx_json(&stx.tx), "signature": hex(&stx.signature)}))
}

fn submit_raw(stx: &SignedTransaction) -> (u16, Value) {
    post("/api/tx", &json!({"raw": hex(&stx.to_bytes())}))
}

/// The demo exchange's BNB Chain pool the swap tests trade through, and its input token.
const SWAP_POOL: &str = "ms-bsc-WBNB-USDT";
const USDT: &str = "bsc-USDT";
const WBNB: &str = "bsc-WBNB";
/// 250 USDT (18 decimals on BNB Chain): small next to the faucet's $10 000.
const SWAP_IN: &str = "250000000000000000000";

fn swap_intent(min_out: Option<String>) -> Value {
    let mut i = json!({"kind": "swap", "pool": SWAP_POOL, "token_in": USDT, "amount_in": SWAP_IN});
    if let Some(m) = min_out {
        i["min_out"] = json!(m);
    }
    i
}

// ---------------------------------------------------------------- the local wallet

const PASSPHRASE: &str = "correct horse battery staple";

/// The one key of the local wallet, written once as a keystore with a cheap scrypt cost.
fn wallet_key() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = dev_key("api-test:wallet");
        let ks = granary_wallet::encrypt(&key, PASSPHRASE.as_bytes(), granary_wallet::ScryptParams { log_n: 4 })
            .expect("encrypt");
        granary_wallet::WalletDir::new(&SERVER.wallet_dir).store(&ks).expect("store the keystore");
        key
    })
}

fn unlock() -> (String, String) {
    let key = wallet_key();
    let (s, v) = post("/api/wallet/unlock", &json!({"passphrase": PASSPHRASE}));
    assert_eq!(s, 200, "unlock: {v}");
    assert_eq!(v["address"], addr(&key_address(key)));
    (text(&v["session"]).to_string(), addr(&key_address(key)))
}

/// A 30-day position in a staking pool that forbids early exit, staked through the local
/// wallet: the stake token is bought on the exchange with what the faucet gave.
#[derive(Debug, Clone)]
struct Staked {
    session: String,
    address: String,
    staking_pool: String,
    chain: String,
    stake_token: String,
    /// Balance of the stake token just before staking, and the amount staked.
    held_before: U256,
    amount: U256,
    /// The chain's clock when the stake was made.
    staked_now: u64,
    /// The position as the account shows it right after.
    position: Value,
    held_after: U256,
}

/// Call with [`serial`] held.
fn staked() -> Staked {
    static STAKED: OnceLock<Staked> = OnceLock::new();
    STAKED.get_or_init(stake_forbidden_30d).clone()
}

fn stake_forbidden_30d() -> Staked {
    let (session, who) = unlock();
    let r = ok_post("/api/faucet", &json!({"address": who}));
    assert!(!arr(&r["granted"]).is_empty(), "the faucet funds the wallet's key: {r}");

    let stakes = ok("/api/opportunities?kind=single_stake");
    let o = arr(&stakes)
        .iter()
        .find(|o| o["lockup"]["early_exit"]["rule"] == "forbidden" && o["lockup"]["days"] == 30)
        .expect("a 30-day term of a staking pool that forbids early exit");
    let id = text(&o["id"]);
    let staking_pool =
        id.strip_prefix("stake:").and_then(|s| s.strip_suffix(":30d")).expect("stake:<pool>:30d").to_string();
    let detail = ok(&format!("/api/opportunities/{id}"));
    let stake_token = text(&detail["stake_token"]["id"]).to_string();
    let chain = text(&detail["stake_token"]["chain"]).to_string();
    let symbol = text(&detail["stake_token"]["symbol"]).to_string();

    // A pool of the exchange that pairs the stake token with something the faucet gave.
    let acc = account(&who);
    let pools = ok(&format!("/api/opportunities?kind=plain_lp&chain={chain}&asset={symbol}"));
    let (pool, token_in) = arr(&pools)
        .iter()
        .find_map(|p| {
            let pid = text(&p["id"]);
            let d = ok(&format!("/api/opportunities/{pid}"));
            let toks: Vec<String> = arr(&d["pool_tokens"]).iter().map(|t| text(&t["id"]).to_string()).collect();
            let other = toks.iter().find(|t| **t != stake_token)?;
            (balance(&acc, other) > U256::ZERO).then(|| (pid.trim_start_matches("pool:").to_string(), other.clone()))
        })
        .expect("a pool that sells the stake token for a faucet token");
    let amount_in = balance(&acc, &token_in) / U256::from(4u8);
    let q = ok_post(
        "/api/quote",
        &json!({"sender": who, "intent": {"kind": "swap", "pool": pool, "token_in": token_in, "amount_in": amount_in.to_string()}}),
    );
    let bought = ok_post_auth("/api/wallet/act", &json!({"action": q["action"]}), &session);
    assert!(text(&bought["outcome"]).starts_with("swapped"), "{bought}");

    let held_before = balance(&account(&who), &stake_token);
    assert!(held_before > U256::ZERO, "the swap bought the stake token");
    let amount = held_before / U256::from(2u8);
    let q = ok_post(
        "/api/quote",
        &json!({"sender": who, "intent": {"kind": "stake", "staking_pool": staking_pool, "amount": amount.to_string(), "term_days": 30}}),
    );
    assert!(
        arr(&q["warnings"]).iter().any(|w| text(w).contains("locked for 30 days") && text(w).contains("no early exit")),
        "the preview warns of the lock: {q}"
    );
    let staked_now = uint(&chain_doc(&chain)["now"]);
    let r = ok_post_auth("/api/wallet/act", &json!({"action": q["action"]}), &session);
    assert!(text(&r["outcome"]).starts_with("position"), "{r}");
    let after = account(&who);
    let position = arr(&after["stake_positions"])
        .iter()
        .find(|p| p["staking_pool"] == staking_pool.as_str() && p["term_days"] == 30)
        .cloned()
        .expect("the account shows the new position");
    Staked {
        session,
        address: who,
        staking_pool,
        chain,
        stake_token: stake_token.clone(),
        held_before,
        amount,
        staked_now,
        position,
        held_after: balance(&after, &stake_token),
    }
}

#[track_caller]
fn ok_post_auth(path: &str, body: &Value, token: &str) -> Value {
    let (s, v) = post_auth(path, body, token);
    assert_eq!(s, 200, "POST {path} {body}: {v}");
    v
}

// ================================================================= happy paths

#[test]
fn health_and_status_describe_the_seeded_platform() {
    let _g = serial();
    let h = ok("/api/health");
    assert_eq!(h["status"], "ok");
    assert!(!text(&h["version"]).is_empty());
    let next_seq = uint(&h["next_seq"]);
    assert!(next_seq > 1_000, "the seeding is in the journal: next_seq {next_seq}");

    let s = ok("/api/status");
    assert_eq!(s["seeded_now"], true);
    assert_eq!(s["seed"], 42);
    assert_eq!(s["paused"], true);
    assert!(text(&s["store"]).starts_with("sqlite "), "{s}");
    assert_eq!(s["next_seq"], next_seq);
    assert_eq!(s["now"], h["now"]);
    let listed = arr(&ok("/api/opportunities")).len();
    assert_eq!(uint(&s["opportunities"]) as usize, listed);
    assert!(listed > 50, "the demo world has many opportunities: {listed}");
}

#[test]
fn chains_are_the_six_of_the_spec_and_advance_closes_blocks() {
    let _g = serial();
    let before = ok("/api/chains");
    let got: BTreeSet<(String, u64, String)> = arr(&before)
        .iter()
        .map(|c| (text(&c["id"]).to_string(), uint(&c["chain_id"]), text(&c["name"]).to_string()))
        .collect();
    let want: BTreeSet<(String, u64, String)> = [
        ("ethereum", 1, "Ethereum"),
        ("bsc", 56, "BNB Chain"),
        ("polygon", 137, "Polygon"),
        ("arbitrum", 42161, "Arbitrum"),
        ("base", 8453, "Base"),
        ("avalanche", 43114, "Avalanche"),
    ]
    .into_iter()
    .map(|(i, n, name)| (i.to_string(), n, name.to_string()))
    .collect();
    assert_eq!(got, want);

    let r = ok_post("/api/time/advance", &json!({"seconds": 600}));
    assert!(uint(&r["blocks"]) >= 6, "at least one block per chain: {r}");
    let after = ok("/api/chains");
    for c in arr(&before) {
        let a = arr(&after).iter().find(|x| x["id"] == c["id"]).expect("same chains");
        assert!(uint(&a["block_number"]) > uint(&c["block_number"]), "{} closed a block", c["id"]);
        assert_eq!(uint(&a["now"]), uint(&c["now"]) + 600, "{} moved 600 s", c["id"]);
        assert_eq!(num(&a["unix"]) - num(&c["unix"]), 600.0);
    }
    assert_eq!(uint(&r["now"]), arr(&after).iter().map(|c| uint(&c["now"])).max().expect("chains"));
}

#[test]
fn tokens_filter_by_chain_id_or_number() {
    let all = ok("/api/tokens");
    let chains: BTreeSet<&str> = arr(&all).iter().map(|t| text(&t["chain"])).collect();
    assert_eq!(chains.len(), 6, "tokens on every chain: {chains:?}");
    let bsc = ok("/api/tokens?chain=bsc");
    assert!(arr(&bsc).iter().all(|t| t["chain"] == "bsc"));
    assert_eq!(arr(&bsc).len(), arr(&all).iter().filter(|t| t["chain"] == "bsc").count());
    assert_eq!(ok("/api/tokens?chain=56"), bsc, "the EIP-155 number selects the same chain");
    let usdt = arr(&bsc).iter().find(|t| t["id"] == USDT).expect("bsc-USDT");
    assert_eq!(usdt["decimals"], 18, "BNB Chain's USDT has 18 decimals");
    assert_eq!(usdt["symbol"], "USDT");
    let p = num(&usdt["price_usd"]);
    assert!((0.95..1.05).contains(&p), "a stablecoin near $1: {p}");
}

/// The value a sort key ranks by; a missing figure ranks last.
fn key(o: &Value, sort: &str) -> f64 {
    let f = match sort {
        "tvl" => &o["tvl_usd"],
        "risk_adjusted_apy" => &o["apy_risk_adjusted"],
        _ => &o["apy"],
    };
    f.as_f64().unwrap_or(f64::NEG_INFINITY)
}

#[test]
fn opportunities_filter_and_sort_descending() {
    let _g = serial();
    let all = ok("/api/opportunities");
    let all = arr(&all);
    for sort in ["apy", "tvl", "risk_adjusted_apy"] {
        let l = ok(&format!("/api/opportunities?sort={sort}"));
        let keys: Vec<f64> = arr(&l).iter().map(|o| key(o, sort)).collect();
        assert_eq!(keys.len(), all.len());
        assert!(keys.windows(2).all(|w| w[0] >= w[1]), "sorted by {sort} descending: {keys:?}");
    }

    let bsc = ok("/api/opportunities?chain=bsc");
    assert!(!arr(&bsc).is_empty());
    assert!(arr(&bsc).iter().all(|o| o["chain_id"] == 56), "only BNB Chain");
    assert_eq!(arr(&bsc).len(), all.iter().filter(|o| o["chain_id"] == 56).count(), "all of BNB Chain");
    let keys: Vec<f64> = arr(&bsc).iter().map(|o| key(o, "apy")).collect();
    assert!(keys.windows(2).all(|w| w[0] >= w[1]), "filtered and sorted by APY: {keys:?}");

    let good = ok("/api/opportunities?min_grade=B");
    assert!(arr(&good).iter().all(|o| matches!(o["grade"].as_str(), Some("A" | "B"))), "A or B only");
    let expected = all.iter().filter(|o| matches!(o["grade"].as_str(), Some("A" | "B"))).count();
    assert_eq!(arr(&good).len(), expected);
    assert!(expected > 0 && expected < all.len(), "the filter keeps some and drops some");

    let stakes = ok("/api/opportunities?kind=single_stake&max_lockup_days=30");
    assert!(!arr(&stakes).is_empty());
    assert!(arr(&stakes).iter().all(|o| o["kind"] == "single_stake" && uint(&o["lockup"]["days"]) <= 30));

    let page = ok("/api/opportunities?limit=5&offset=2");
    let ids: Vec<&Value> = arr(&page).iter().map(|o| &o["id"]).collect();
    let want: Vec<&Value> = all.iter().skip(2).take(5).map(|o| &o["id"]).collect();
    assert_eq!(ids, want, "limit and offset page the ranked list");
}

#[test]
fn opportunity_detail_has_risk_factors_with_evidence_history_and_tokens() {
    let _g = serial();
    let all = ok("/api/opportunities?kind=plain_lp");
    let o = &arr(&all)[0];
    let id = text(&o["id"]);
    let d = ok(&format!("/api/opportunities/{id}"));
    assert_eq!(d["opportunity"]["id"], id);
    assert_eq!(d["opportunity"]["tvl_usd"], o["tvl_usd"]);
    let risk = &d["risk"];
    let score = uint(&risk["score"]);
    assert!(score <= 100);
    let letter = match score {
        85.. => "A",
        70..=84 => "B",
        55..=69 => "C",
        40..=54 => "D",
        25..=39 => "E",
        _ => "F",
    };
    assert_eq!(risk["grade"], letter, "the letter of score {score}");
    let factors = arr(&risk["factors"]);
    assert!(factors.len() >= 5, "every factor is shown: {risk}");
    for f in factors {
        assert!(!text(&f["name"]).is_empty());
        assert!(text(&f["evidence"]).len() > 3, "evidence for {}", f["name"]);
    }
    assert!(factors.iter().any(|f| f["name"] == "audits"), "the audits factor: {risk}");
    assert_eq!(ok(&format!("/api/opportunities/{id}/risk")), d["risk"], "the risk route says the same");

    let pool_syms: BTreeSet<&str> = arr(&d["pool_tokens"]).iter().map(|t| text(&t["symbol"])).collect();
    let opp_syms: BTreeSet<&str> = text(&o["symbol"]).split('-').collect();
    assert_eq!(pool_syms, opp_syms, "the pool's two tokens");
    assert!(d["stake_token"]["minter"] == "lp", "a plain pool's stake token is its LP token");

    let h = ok(&format!("/api/opportunities/{id}/history"));
    assert_eq!(h["id"], id);
    let points = arr(&h["points"]);
    assert!(!points.is_empty(), "the seeded day left hourly points");
    let ts: Vec<u64> = points.iter().map(|p| uint(&p["t"])).collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "points in time order");
    assert_eq!(d["history"], h["points"]);
    assert!(points.iter().all(|p| num(&p["tvl_usd"]) > 0.0));

    let stake = ok("/api/opportunities?kind=single_stake&limit=1");
    let sid = text(&arr(&stake)[0]["id"]);
    let sd = ok(&format!("/api/opportunities/{sid}"));
    assert!(sd["stake_token"]["id"].is_string() && sd["reward_token"]["id"].is_string(), "{sd}");
}

#[test]
fn alerts_report_the_scheduled_rug_and_filter() {
    let _g = serial();
    // Mooncrop rugs on BNB Chain a few days after the seeding; run the clock until the alert.
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut alerts = ok("/api/alerts");
    let mut days = 0;
    while arr(&alerts).is_empty() {
        assert!(days < 6 && Instant::now() < deadline, "no alert after {days} days: the rug did not raise one");
        ok_post("/api/time/advance", &json!({"seconds": 86_400}));
        days += 1;
        alerts = ok("/api/alerts");
    }
    let list = arr(&alerts);
    let ids: Vec<u64> = list.iter().map(|a| uint(&a["id"])).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "numbered in order: {ids:?}");
    assert!(list.iter().all(|a| a["chain"] == "bsc"), "the rug is on BNB Chain: {alerts}");
    assert!(list.iter().all(|a| !text(&a["evidence"]).is_empty()), "every alert carries evidence");
    assert_eq!(ok("/api/alerts?chain=bsc"), alerts);
    assert_eq!(ok("/api/alerts?chain=56"), alerts);
    assert!(arr(&ok("/api/alerts?chain=ethereum")).is_empty());
    let last = *ids.last().expect("an alert");
    assert!(arr(&ok(&format!("/api/alerts?since_id={last}"))).is_empty());
    assert_eq!(arr(&ok(&format!("/api/alerts?since_id={}", ids[0]))).len(), ids.len() - 1);
    let on_moon = ok("/api/alerts?opportunity=farm:moon-0");
    assert!(!arr(&on_moon).is_empty(), "the rug concerns Mooncrop's farm: {alerts}");
    let d = ok("/api/opportunities/farm:moon-0");
    assert_eq!(d["alerts"], on_moon, "the detail shows the alerts on it");
    assert!(arr(&ok("/api/alerts?opportunity=pool:ms-eth-WETH-USDC")).is_empty());
}

#[test]
fn il_at_plus_100_percent_is_the_closed_form() {
    let r = ok("/api/il?price_change_pct=100");
    let want = (2.0 * 2f64.sqrt() / 3.0 - 1.0) * 100.0;
    assert!((num(&r["il_pct"]) - want).abs() < 1e-9, "{} vs {want}", r["il_pct"]);
    assert_eq!(num(&r["price_ratio"]), 2.0);
    let row = arr(&r["table"]).iter().find(|t| num(&t["price_change_pct"]) == 100.0).expect("+100 % row");
    assert!((num(&row["il_pct"]) - want).abs() < 1e-9);
    let flat = ok("/api/il");
    assert_eq!(num(&flat["il_pct"]), 0.0, "no price change, no loss");
    let r = ok("/api/il?price_change_pct=-75");
    let want = (2.0 * 0.25f64.sqrt() / 1.25 - 1.0) * 100.0;
    assert!((num(&r["il_pct"]) - want).abs() < 1e-9);
}

#[test]
fn faucet_funds_every_chain_and_the_account_shows_it() {
    let _g = serial();
    let key = dev_key("api-test:faucet");
    let who = addr(&key_address(&key));
    let empty = account(&who);
    assert_eq!(empty["address"], who);
    assert!(arr(&empty["balances"]).is_empty());
    assert_eq!(num(&empty["total_usd"]), 0.0);

    let g = ok_post("/api/faucet", &json!({"address": who}));
    assert_eq!(g["address"], who);
    let granted: BTreeMap<String, U256> =
        arr(&g["granted"]).iter().map(|x| (text(&x["token"]).to_string(), u256(&x["amount"]))).collect();
    assert!(granted.contains_key(USDT) && granted.contains_key("eth-WETH"), "{g}");
    let acc = account(&who);
    let held: BTreeMap<String, U256> =
        arr(&acc["balances"]).iter().map(|b| (text(&b["token"]).to_string(), u256(&b["amount"]))).collect();
    assert_eq!(held, granted, "the account holds exactly what was granted");
    let chains: BTreeSet<&str> = arr(&acc["balances"]).iter().map(|b| text(&b["chain"])).collect();
    assert_eq!(chains.len(), 6, "funded on every chain: {chains:?}");
    for b in arr(&acc["balances"]) {
        let usd = num(&b["value_usd"]);
        assert!((8_000.0..12_500.0).contains(&usd), "about $10 000 of {}: {usd}", b["token"]);
    }
    let total = num(&acc["total_usd"]);
    assert!((total - 10_000.0 * granted.len() as f64).abs() < 0.2 * total, "total {total}");
}

#[test]
fn quote_prepare_sign_submit_moves_balances_exactly_as_previewed() {
    let _g = serial();
    let (key, who) = funded("swap");
    let before = account(&who);
    let bsc = chain_doc("bsc");

    let q = ok_post("/api/quote", &json!({"sender": who, "intent": swap_intent(None)}));
    assert_eq!(q["chain"], "bsc");
    assert_eq!(q["chain_id"], 56);
    let pay = arr(&q["pay"]);
    let receive = arr(&q["receive"]);
    assert_eq!(pay.len(), 1, "{q}");
    assert_eq!(receive.len(), 1, "{q}");
    assert_eq!(pay[0]["token"], USDT);
    assert_eq!(u256(&pay[0]["amount"]), u256(&json!(SWAP_IN)));
    assert_eq!(receive[0]["token"], WBNB);
    let out = u256(&receive[0]["amount"]);
    let min = u256(&q["minimum_receive"][0]["amount"]);
    assert_eq!(min, out * U256::from(9_950u32) / U256::from(10_000u32), "0.5 % default slippage bound");
    assert!(num(&q["fee_usd"]) > 0.0 && num(&q["price_impact_pct"]) >= 0.0);

    let p = ok_post("/api/tx/prepare", &json!({"sender": who, "intent": swap_intent(None)}));
    let tx = tx_of(&p);
    assert_eq!(tx.chain_id, 56);
    assert_eq!(tx.nonce, uint(&before["nonces"]["bsc"]));
    assert_eq!(tx.deadline, uint(&bsc["now"]) + 3_600, "valid for an hour of chain time");
    assert_eq!(p["transaction"]["action"], q["action"], "prepare signs what the quote showed");
    assert_eq!(text(&p["digest"]), format!("{:#x}", tx.signing_hash()), "the EIP-712 digest");
    assert_eq!(p["typed_data"]["primaryType"], "Transaction");
    assert_eq!(p["typed_data"]["domain"]["chainId"], 56);
    assert_eq!(p["typed_data"]["message"]["nonce"], tx.nonce);

    let seq = uint(&ok("/api/health")["next_seq"]);
    let hash = ok("/api/status")["state_hash"].clone();
    let r = submit(&tx.sign(&key));
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(uint(&r.1["seq"]), seq, "journalled at the next position");
    assert_eq!(uint(&r.1["next_seq"]), seq + 1);
    assert_eq!(text(&r.1["outcome"]), format!("swapped {SWAP_IN} for {out}"));
    assert_ne!(ok("/api/status")["state_hash"], hash, "an accepted transaction changes the state");

    let after = account(&who);
    assert_eq!(balance(&after, USDT), balance(&before, USDT) - u256(&json!(SWAP_IN)), "paid to the wei");
    assert_eq!(balance(&after, WBNB), balance(&before, WBNB) + out, "received to the wei");
    assert_eq!(uint(&after["nonces"]["bsc"]), uint(&before["nonces"]["bsc"]) + 1);
    assert_eq!(after["nonces"]["ethereum"], before["nonces"]["ethereum"]);
    assert_eq!(balance(&after, "eth-WETH"), balance(&before, "eth-WETH"), "other chains untouched");
}

#[test]
fn wallet_unlock_and_act_stake_for_thirty_days() {
    let _g = serial();
    let s = staked();
    let key = wallet_key();
    assert_eq!(s.address, addr(&key_address(key)));

    let w = ok("/api/wallet");
    assert_eq!(w["addresses"], json!([s.address]));
    assert_eq!(w["unlocked"], Value::Null, "no session without the token");
    let (st, w) = get_auth("/api/wallet", &s.session);
    assert_eq!(st, 200);
    assert_eq!(w["unlocked"], s.address);

    let p = &s.position;
    assert_eq!(p["chain"], s.chain.as_str());
    assert_eq!(u256(&p["amount"]), s.amount);
    assert_eq!(uint(&p["term_days"]), 30);
    assert_eq!(uint(&p["staked_at"]), s.staked_now);
    assert_eq!(uint(&p["unlock_at"]), s.staked_now + 30 * 86_400, "unlocks 30 days after staking");
    assert_eq!(p["locked"], true);
    assert_eq!(p["early_exit"], "forbidden");
    assert_eq!(s.held_after, s.held_before - s.amount, "the stake left the wallet to the wei");
    assert_eq!(p["opportunity"], format!("stake:{}:30d", s.staking_pool));
}

#[test]
fn the_session_cookie_unlocks_and_lock_forgets_it() {
    let _g = serial();
    let (token, who) = unlock();
    let (s, t) = finish(
        SERVER.agent.get(url("/api/wallet")).header("cookie", format!("granary_session={token}")).call(),
        "wallet by cookie",
    );
    let (_, w) = json_of(s, &t, "wallet");
    assert_eq!(w["unlocked"], who, "the cookie carries the session");

    let r = ok_post_auth("/api/wallet/lock", &json!({}), &token);
    assert_eq!(r["unlocked"], Value::Null);
    let (_, w) = get_auth("/api/wallet", &token);
    assert_eq!(w["unlocked"], Value::Null, "the session is forgotten");
    let action = json!({"kind": "transfer", "ids": [USDT, who], "amounts": ["1"]});
    let r = refused(Some(&who), || post_auth("/api/wallet/act", &json!({"action": action}), &token));
    assert_error(&r, 401, "wallet_locked", None);
}

#[test]
fn events_stream_yields_a_block_after_an_advance() {
    let _g = serial();
    let before: BTreeMap<String, u64> =
        arr(&ok("/api/chains")).iter().map(|c| (text(&c["id"]).to_string(), uint(&c["block_number"]))).collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let resp = agent.get(url("/api/events")).call().expect("the stream opens");
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    // The handler subscribed before answering; read on a thread so that a silent stream fails
    // the test by timeout instead of hanging it.
    let (send, lines) = std::sync::mpsc::channel::<String>();
    let reader = resp.into_body().into_reader();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    ok_post("/api/time/advance", &json!({"seconds": 60}));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut event = String::new();
    let block = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("a block event within 30 s");
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_string();
        } else if let Some(data) = line.strip_prefix("data:")
            && event == "block"
        {
            break serde_json::from_str::<Value>(data.trim()).expect("block JSON");
        }
    };
    assert_eq!(block["type"], "block");
    let chain = text(&block["chain"]).to_string();
    let was = *before.get(&chain).unwrap_or_else(|| panic!("a known chain: {block}"));
    assert!(uint(&block["number"]) > was, "a block closed by the advance: {block}");
    assert_eq!(uint(&block["chain_id"]), uint(&chain_doc(&chain)["chain_id"]));
}

/// The value of a metric line `name{labels} value` (or `name value`).
fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn metrics_count_requests_and_blocks() {
    let _g = serial();
    let health = r#"granary_http_requests_total{method="GET",route="/api/health",status="200"}"#;
    let (s, m0) = get_text("/metrics");
    assert_eq!(s, 200);
    ok("/api/health");
    let (_, m1) = get_text("/metrics");
    let h0 = metric(&m0, health).unwrap_or(0.0);
    let h1 = metric(&m1, health).expect("requests counted by route and status");
    assert!(h1 >= h0 + 1.0, "{h0} → {h1}");
    assert!(m1.contains("# TYPE granary_http_requests_total counter"));

    let b0 = metric(&m1, "granary_blocks_total").expect("granary_blocks_total");
    ok_post("/api/time/advance", &json!({"seconds": 60}));
    let (_, m2) = get_text("/metrics");
    let b2 = metric(&m2, "granary_blocks_total").expect("granary_blocks_total");
    assert!(b2 >= b0 + 6.0, "one block per chain at least: {b0} → {b2}");
    let seq = uint(&ok("/api/health")["next_seq"]) as f64;
    assert_eq!(metric(&m2, "granary_journal_next_seq"), Some(seq));
}

#[test]
fn openapi_document_is_3_0_and_lists_exactly_the_routes() {
    assert!(granary_server::openapi::undocumented().is_empty(), "{:?}", granary_server::openapi::undocumented());
    let doc = ok("/api/openapi.json");
    assert!(text(&doc["openapi"]).starts_with("3.0."), "{}", doc["openapi"]);
    let mut documented = BTreeSet::new();
    let mut op_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            documented.insert((method.clone(), path.clone()));
            assert!(op["responses"]["200"].is_object(), "{method} {path} documents its 200");
            assert!(op_ids.insert(text(&op["operationId"]).to_string()), "unique operationId");
        }
    }
    let routes: BTreeSet<(String, String)> =
        granary_server::api_routes().iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, routes);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            // The server refuses unknown body fields, and reads an empty query value as absent.
            if let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
                assert_eq!(schema["additionalProperties"], false, "{method} {path}: a closed body");
            }
            for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query") {
                assert_eq!(p["allowEmptyValue"], true, "{method} {path} {}", p["name"]);
            }
        }
    }
}

// ================================================================= error classes (SPEC §5)

#[test]
fn malformed_json_is_400_and_changes_nothing() {
    let _g = serial();
    let (_, who) = funded("malformed");
    for path in ["/api/quote", "/api/tx/prepare", "/api/tx", "/api/faucet", "/api/time/advance", "/api/wallet/unlock"] {
        for body in [r#"{"sender": "#, "not json", r#"{"address": "0x12"]"#] {
            let r = refused(Some(&who), || post_raw(path, body));
            assert_error(&r, 400, "malformed_json", None);
        }
    }
}

#[test]
fn wrong_body_shape_is_400_invalid_body_naming_the_field() {
    let _g = serial();
    let (_, who) = funded("shape");
    let r = refused(Some(&who), || post("/api/faucet", &json!({"adress": who})));
    assert_error(&r, 400, "invalid_body", Some("adress"));
    let r = refused(Some(&who), || post("/api/time/advance", &json!({})));
    assert_error(&r, 400, "invalid_body", Some("seconds"));
    let r = refused(Some(&who), || post("/api/time/advance", &json!({"seconds": "ten"})));
    assert_eq!(r.1["error"]["code"], "invalid_body");
    assert!(text(&r.1["error"]["message"]).contains("ten"), "{}", r.1);
    // serde would read a struct from the array of its fields; the API takes objects only.
    for not_an_object in [json!([60]), json!(60), json!("seconds"), Value::Null] {
        let r = refused(Some(&who), || post("/api/time/advance", &not_an_object));
        assert_error(&r, 400, "invalid_body", None);
    }
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": {"kind": "swop"}})));
    assert_eq!((r.0, &r.1["error"]["code"]), (400, &json!("invalid_body")));
    let r = refused(Some(&who), || post("/api/faucet", &json!({"address": "0x1234"})));
    assert_error(&r, 400, "invalid_field", Some("address"));
}

/// The request forms are exactly what the OpenAPI document describes (schemathesis holds the
/// server to it): no blanks around amounts or addresses, no unknown fields in an action, a
/// tolerance in range even when unused; and an empty query value means "not given".
#[test]
fn requests_take_exactly_the_documented_forms() {
    let _g = serial();
    let (_, who) = funded("forms");
    let mut intent = swap_intent(Some("1".into()));
    intent["slippage_bps"] = json!(6000);
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 400, "invalid_field", Some("slippage_bps"));
    let intent = json!({"kind": "swap", "pool": SWAP_POOL, "token_in": USDT, "amount_in": format!(" {SWAP_IN}")});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 400, "invalid_field", Some("amount_in"));
    let r = refused(Some(&who), || post("/api/faucet", &json!({"address": format!("{who} ")})));
    assert_error(&r, 400, "invalid_field", Some("address"));
    let action = json!({"kind": "transfer", "ids": [USDT, who], "amounts": ["1"], "min_out": "1"});
    let r = refused(Some(&who), || post("/api/tx/prepare", &json!({"sender": who, "action": action})));
    assert_error(&r, 400, "invalid_body", Some("min_out"));
    let both =
        json!({"sender": who, "intent": swap_intent(None), "action": {"kind": "harvest", "ids": ["x"], "amounts": []}});
    let r = refused(Some(&who), || post("/api/tx/prepare", &both));
    assert_error(&r, 400, "invalid_field", Some("intent"));

    // `null` is "not given" for an optional field (the CLI sends `"slippage_bps": null`).
    let mut intent = swap_intent(None);
    intent["slippage_bps"] = Value::Null;
    intent["min_out"] = Value::Null;
    let q = ok_post("/api/quote", &json!({"sender": who, "intent": intent}));
    let p = ok_post("/api/tx/prepare", &json!({"sender": who, "intent": null, "action": q["action"]}));
    assert_eq!(p["transaction"]["action"], q["action"]);

    assert_eq!(ok("/api/opportunities?min_grade=&chain=&limit="), ok("/api/opportunities"), "empty means not given");
    assert_eq!(ok("/api/opportunities?min_grade=b"), ok("/api/opportunities?min_grade=B"), "a grade in either case");
    let bare = who.trim_start_matches("0x");
    assert_eq!(ok(&format!("/api/accounts/{bare}")), account(&who), "0x is optional");
}

#[test]
fn unknown_query_parameters_are_400() {
    let r = get("/api/opportunities?chian=bsc");
    assert_error(&r, 400, "invalid_field", Some("chian"));
    assert!(text(&r.1["error"]["message"]).contains("chain"), "the message lists the parameters: {}", r.1);
    assert_error(&get("/api/tokens?chains=bsc"), 400, "invalid_field", Some("chains"));
    assert_error(&get("/api/il?pct=5"), 400, "invalid_field", Some("pct"));
    assert_error(&get("/api/alerts?since=3"), 400, "invalid_field", Some("since"));
    assert_error(&get("/api/opportunities?chain=bsc&chain=base"), 400, "invalid_field", Some("chain"));
    assert_error(&get("/api/opportunities?limit=0"), 400, "invalid_field", Some("limit"));
    assert_error(&get("/api/opportunities?sort=yield"), 400, "invalid_field", Some("sort"));
    assert_error(&get("/api/opportunities?min_grade=Z"), 400, "invalid_field", Some("min_grade"));
    assert_error(&get("/api/il?price_change_pct=-100"), 400, "invalid_field", Some("price_change_pct"));
}

#[test]
fn unknown_ids_are_404_with_their_code() {
    let _g = serial();
    let (_, who) = funded("unknown-ids");
    for path in ["/api/opportunities/pool:nope", "/api/opportunities/pool:nope/history", "/api/opportunities/x/risk"] {
        let r = refused(Some(&who), || get(path));
        assert_error(&r, 404, "unknown_opportunity", Some("id"));
    }
    let r = refused(Some(&who), || get("/api/tokens?chain=mars"));
    assert_error(&r, 404, "unknown_chain", Some("chain"));
    assert!(text(&r.1["error"]["message"]).contains("ethereum"), "the message lists the chains: {}", r.1);
    assert_error(&get("/api/opportunities?chain=9999"), 404, "unknown_chain", Some("chain"));
    assert_error(&get("/api/alerts?chain=mars"), 404, "unknown_chain", Some("chain"));

    let intent = json!({"kind": "swap", "pool": "ms-bsc-NOPE", "token_in": USDT, "amount_in": "1000"});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 404, "unknown_pool", Some("pool"));
    let intent = json!({"kind": "stake", "staking_pool": "no-such-stake", "amount": "1000", "term_days": 30});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 404, "unknown_staking_pool", Some("staking_pool"));
    let r = refused(Some(&who), || post("/api/tx/prepare", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 404, "unknown_staking_pool", Some("staking_pool"));
}

#[test]
fn a_transaction_signed_for_another_chain_is_wrong_chain() {
    let _g = serial();
    let (key, who) = funded("wrong-chain");
    let mut tx = prepare(&who, swap_intent(None));
    tx.chain_id = 1; // Ethereum's id on a BNB Chain swap
    let stx = tx.sign(&key);
    let r = refused(Some(&who), || submit(&stx));
    assert_error(&r, 400, "wrong_chain", Some("chain_id"));
}

#[test]
fn a_bad_signature_is_refused() {
    let _g = serial();
    let (_, who) = funded("bad-signature");
    let tx = prepare(&who, swap_intent(None));
    let other = dev_key("api-test:someone-else");
    let stx = tx.clone().sign(&other);
    let r = refused(Some(&who), || submit(&stx));
    assert_error(&r, 400, "bad_signature", Some("signature"));
    // A signature that recovers no key at all (v must be 27 or 28).
    let mut broken = stx.clone();
    broken.signature[64] = 29;
    let r = refused(Some(&who), || submit(&broken));
    assert_error(&r, 400, "bad_signature", Some("signature"));
    let r = refused(Some(&who), || post("/api/tx", &json!({"transaction": tx_json(&tx), "signature": "0x1234"})));
    assert_error(&r, 400, "invalid_field", Some("signature"));
}

#[test]
fn a_replayed_transaction_is_bad_nonce() {
    let _g = serial();
    let (key, who) = funded("replay");
    let stx = prepare(&who, swap_intent(None)).sign(&key);
    let first = submit(&stx);
    assert_eq!(first.0, 200, "{}", first.1);
    let r = refused(Some(&who), || submit(&stx));
    assert_error(&r, 409, "bad_nonce", Some("nonce"));
    let r = refused(Some(&who), || submit_raw(&stx));
    assert_error(&r, 409, "bad_nonce", Some("nonce"));
}

#[test]
fn an_expired_deadline_is_refused() {
    let _g = serial();
    let (key, who) = funded("expired");
    let mut tx = prepare(&who, swap_intent(None));
    tx.deadline = uint(&chain_doc("bsc")["now"]) - 1;
    let stx = tx.sign(&key);
    let r = refused(Some(&who), || submit(&stx));
    assert_error(&r, 422, "expired", Some("deadline"));
}

#[test]
fn a_zero_amount_is_refused() {
    let _g = serial();
    let (key, who) = funded("zero");
    let intent = json!({"kind": "swap", "pool": SWAP_POOL, "token_in": USDT, "amount_in": "0"});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 422, "zero_amount", Some("amount_in"));
    let intent = json!({"kind": "transfer", "token": USDT, "to": who, "amount": "000"});
    let r = refused(Some(&who), || post("/api/tx/prepare", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 422, "zero_amount", Some("amount"));
    // Signed with a zero amount, the engine refuses it.
    let mut tx = prepare(&who, json!({"kind": "transfer", "token": USDT, "to": who, "amount": "1"}));
    tx.action = Action::Transfer { token: USDT.into(), to: tx.sender, amount: U256::ZERO };
    let stx = tx.sign(&key);
    let r = refused(Some(&who), || submit(&stx));
    assert_eq!(r.1["error"]["code"], "zero_amount", "{}", r.1);
    assert_eq!(r.0, 422);
}

#[test]
fn an_amount_that_overflows_is_refused() {
    let _g = serial();
    let (key, who) = funded("overflow");
    let huge = "9".repeat(78); // above 2^256 − 1
    let intent = json!({"kind": "swap", "pool": SWAP_POOL, "token_in": USDT, "amount_in": huge});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 400, "invalid_field", Some("amount_in"));
    assert!(text(&r.1["error"]["message"]).contains("overflows"), "{}", r.1);
    let tx = prepare(&who, swap_intent(None));
    let mut body = json!({"transaction": tx_json(&tx), "signature": hex(&tx.clone().sign(&key).signature)});
    body["transaction"]["action"]["amounts"][0] = json!(huge);
    let r = refused(Some(&who), || post("/api/tx", &body));
    assert_error(&r, 400, "invalid_field", Some("action.amounts[0]"));
    // 2^256 − 1 parses, and the pool math refuses it rather than wrapping.
    let max = U256::MAX.to_string();
    let intent = json!({"kind": "swap", "pool": SWAP_POOL, "token_in": USDT, "amount_in": max});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 422, "overflow", Some("amount"));
}

#[test]
fn slippage_beyond_the_bound_is_refused() {
    let _g = serial();
    let (key, who) = funded("slippage");
    let q = ok_post("/api/quote", &json!({"sender": who, "intent": swap_intent(None)}));
    let out = u256(&q["receive"][0]["amount"]);
    let above = (out + U256::from(1u8)).to_string();
    let r =
        refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": swap_intent(Some(above.clone()))})));
    assert_error(&r, 422, "slippage", Some("min_out"));
    let stx = prepare(&who, swap_intent(Some(above))).sign(&key);
    let r = refused(Some(&who), || submit(&stx));
    assert_error(&r, 422, "slippage", Some("min_out"));
    // At exactly the quote, the same swap goes through.
    let stx = prepare(&who, swap_intent(Some(out.to_string()))).sign(&key);
    let r = submit(&stx);
    assert_eq!(r.0, 200, "{}", r.1);
}

#[test]
fn an_insufficient_balance_is_refused() {
    let _g = serial();
    let (key, who) = funded("insufficient");
    let held = balance(&account(&who), USDT);
    let more = (held + U256::from(1u8)).to_string();
    let intent = json!({"kind": "transfer", "token": USDT, "to": addr(&Address::repeat_byte(7)), "amount": more});
    let r = refused(Some(&who), || post("/api/quote", &json!({"sender": who, "intent": intent})));
    assert_error(&r, 422, "insufficient_balance", Some("amount"));
    let stx = prepare(&who, intent).sign(&key);
    let r = refused(Some(&who), || submit(&stx));
    assert_error(&r, 422, "insufficient_balance", Some("amount"));
}

#[test]
fn a_locked_position_cannot_be_unstaked() {
    let _g = serial();
    let s = staked();
    let id = uint(&s.position["position"]);
    // The position may have been unlocked by other tests' advances: only while locked.
    let p = arr(&account(&s.address)["stake_positions"])
        .iter()
        .find(|p| uint(&p["position"]) == id)
        .cloned()
        .expect("the position");
    assert_eq!(p["locked"], true, "30 days have not passed: {p}");
    let r = refused(Some(&s.address), || {
        post("/api/quote", &json!({"sender": s.address, "intent": {"kind": "unstake", "position": id}}))
    });
    assert_error(&r, 422, "locked", Some("position"));
    // Preparing does not run the action: the lock is the engine's to refuse.
    let p = ok_post("/api/tx/prepare", &json!({"sender": s.address, "intent": {"kind": "unstake", "position": id}}));
    let action = p["transaction"]["action"].clone();
    let r = refused(Some(&s.address), || post_auth("/api/wallet/act", &json!({"action": action}), &s.session));
    assert_error(&r, 422, "locked", Some("position"));
    assert_eq!(balance(&account(&s.address), &s.stake_token), s.held_after, "nothing came back");
}

#[test]
fn a_locked_wallet_is_401() {
    let _g = serial();
    let (_, who) = funded("wallet-locked");
    let action = json!({"kind": "transfer", "ids": [USDT, who], "amounts": ["1"]});
    let r = refused(Some(&who), || post("/api/wallet/act", &json!({"action": action})));
    assert_error(&r, 401, "wallet_locked", None);
    let r = refused(Some(&who), || post_auth("/api/wallet/act", &json!({"action": action}), "not-a-session"));
    assert_error(&r, 401, "wallet_locked", None);
}

#[test]
fn a_wrong_passphrase_is_401() {
    let _g = serial();
    let who = addr(&key_address(wallet_key()));
    let r = refused(Some(&who), || post("/api/wallet/unlock", &json!({"passphrase": "wrong horse"})));
    assert_error(&r, 401, "wrong_passphrase", Some("passphrase"));
    let r = refused(Some(&who), || {
        post("/api/wallet/unlock", &json!({"address": who, "passphrase": format!("{PASSPHRASE} ")}))
    });
    assert_error(&r, 401, "wrong_passphrase", Some("passphrase"));
    let stranger = addr(&Address::repeat_byte(9));
    let r = refused(Some(&who), || post("/api/wallet/unlock", &json!({"address": stranger, "passphrase": PASSPHRASE})));
    assert_error(&r, 404, "unknown_address", Some("address"));
}

#[test]
fn an_unknown_route_is_404() {
    let r = get("/api/nope");
    assert_error(&r, 404, "unknown_route", None);
    assert!(text(&r.1["error"]["message"]).contains("openapi.json"), "{}", r.1);
    assert_error(&get("/api/opportunities/a/b/c"), 404, "unknown_route", None);
    assert_error(&post("/api/advance", &json!({"seconds": 1})), 404, "unknown_route", None);
}

#[test]
fn advance_by_zero_or_more_than_30_days_is_400() {
    let _g = serial();
    for seconds in [0, 30 * 86_400 + 1, u64::MAX] {
        let r = refused(None, || post("/api/time/advance", &json!({"seconds": seconds})));
        assert_error(&r, 400, "invalid_field", Some("seconds"));
    }
    let r = refused(None, || post("/api/time/advance", &json!({"seconds": -5})));
    assert_eq!(r.1["error"]["code"], "invalid_body");
}

// ================================================================= coverage

type Test = fn();

/// Which test covers each route's happy path. The function pointers keep the names honest.
const COVERAGE: &[(&str, &str, Test)] = &[
    ("get", "/api/health", health_and_status_describe_the_seeded_platform),
    ("get", "/api/status", health_and_status_describe_the_seeded_platform),
    ("get", "/api/chains", chains_are_the_six_of_the_spec_and_advance_closes_blocks),
    ("get", "/api/tokens", tokens_filter_by_chain_id_or_number),
    ("get", "/api/opportunities", opportunities_filter_and_sort_descending),
    ("get", "/api/opportunities/{id}", opportunity_detail_has_risk_factors_with_evidence_history_and_tokens),
    ("get", "/api/opportunities/{id}/history", opportunity_detail_has_risk_factors_with_evidence_history_and_tokens),
    ("get", "/api/opportunities/{id}/risk", opportunity_detail_has_risk_factors_with_evidence_history_and_tokens),
    ("get", "/api/alerts", alerts_report_the_scheduled_rug_and_filter),
    ("get", "/api/accounts/{address}", faucet_funds_every_chain_and_the_account_shows_it),
    ("get", "/api/il", il_at_plus_100_percent_is_the_closed_form),
    ("post", "/api/quote", quote_prepare_sign_submit_moves_balances_exactly_as_previewed),
    ("post", "/api/tx/prepare", quote_prepare_sign_submit_moves_balances_exactly_as_previewed),
    ("post", "/api/tx", quote_prepare_sign_submit_moves_balances_exactly_as_previewed),
    ("post", "/api/faucet", faucet_funds_every_chain_and_the_account_shows_it),
    ("post", "/api/time/advance", chains_are_the_six_of_the_spec_and_advance_closes_blocks),
    ("get", "/api/wallet", wallet_unlock_and_act_stake_for_thirty_days),
    ("post", "/api/wallet/unlock", wallet_unlock_and_act_stake_for_thirty_days),
    ("post", "/api/wallet/lock", the_session_cookie_unlocks_and_lock_forgets_it),
    ("post", "/api/wallet/act", wallet_unlock_and_act_stake_for_thirty_days),
    ("get", "/api/events", events_stream_yields_a_block_after_an_advance),
    ("get", "/api/openapi.json", openapi_document_is_3_0_and_lists_exactly_the_routes),
    ("get", "/metrics", metrics_count_requests_and_blocks),
    ("post", "/api/advise", advice_stays_within_the_holdings),
    ("post", "/api/simulate", the_lab_runs_backtests_and_monte_carlo),
];

/// The lab's own tests are in granary-lab; here: both modes answer through the API, the series
/// match the summary, the same seed gives the same bytes, and the work bound is enforced.
#[test]
fn the_lab_runs_backtests_and_monte_carlo() {
    let bt = ok_post("/api/simulate", &json!({"strategy": "lp", "from": "2021-05-01", "to": "2021-07-31"}));
    assert_eq!(bt["summary"]["mode"], "backtest");
    let days = bt["days"].as_array().expect("days");
    assert_eq!(days.len(), 92, "May 1 to July 31, both ends");
    assert_eq!(days[0][0], "2021-05-01");
    let last = days.last().expect("a day");
    assert_eq!(last[1].as_f64(), bt["summary"]["final_value_usd"]["p50"].as_f64(), "the last day is the final value");
    let ask = json!({"strategy": "lp", "paths": 40, "days": 30, "seed": 7});
    let mc = ok_post("/api/simulate", &ask);
    assert_eq!(mc["finals"].as_array().map(Vec::len), Some(40));
    assert_eq!(mc["fan"].as_array().map(Vec::len), Some(31));
    let p = mc["summary"]["prob_loss"].as_f64().expect("prob_loss");
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(ok_post("/api/simulate", &ask), mc, "same seed, same answer");
    let (status, e) =
        post("/api/simulate", &json!({"strategy": "lp", "paths": 2000, "days": 730, "steps_per_day": 24}));
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("simulation_refused")), "too much work: {e}");
    assert_eq!(e["error"]["field"], "paths");
    let (status, e) = post("/api/simulate", &json!({"strategy": "lp"}));
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("from")), "a backtest needs its window");
    let (status, e) = post("/api/simulate", &json!({"strategy": "moon"}));
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("strategy")));
    let (status, _) = post("/api/simulate", &json!({"strategy": "lp", "from": "2030-01-01", "to": "2030-02-01"}));
    assert_eq!(status, 422, "a window outside the data is refused by the lab");
}

/// The advice's own tests are in tests/advise.rs; here: it answers on this server, spends no
/// more than the holdings are worth, and a refusal changes nothing.
#[test]
fn advice_stays_within_the_holdings() {
    let a = ok_post("/api/advise", &json!({"holdings": "ETH=10,USDC=5000", "horizon_days": 90}));
    let total = a["totals"]["holdings_usd"].as_f64().expect("holdings_usd");
    let allocated: f64 =
        a["lines"].as_array().expect("lines").iter().map(|l| l["amount_usd"].as_f64().expect("usd")).sum();
    assert!(!a["lines"].as_array().expect("lines").is_empty(), "{a}");
    assert!(total > 0.0 && allocated <= total * (1.0 + 1e-9), "{allocated} > {total}");
    let (status, e) = post("/api/advise", &json!({"holdings": "ETH=ten"}));
    assert_eq!(status, 422);
    assert_eq!(e["error"]["field"], "holdings");
}

#[test]
fn every_route_is_covered() {
    let covered: BTreeSet<(&str, &str)> = COVERAGE.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(covered.len(), COVERAGE.len(), "each route listed once");
    let routes: BTreeSet<(&str, &str)> = granary_server::api_routes().iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(covered, routes, "the tests cover exactly the routes of api_routes()");
}

/// One raw HTTP/1.1 request with the given `Host` and `Origin`: what a browser on another site,
/// or a DNS name rebound to 127.0.0.1, would send.
fn raw_request(method: &str, path: &str, host: &str, origin: Option<&str>, body: &str) -> (u16, Value) {
    let (status, _, v) = raw_request_to(SERVER.base.trim_start_matches("http://"), method, path, host, origin, body);
    (status, v)
}

/// A request written by hand to `addr`, so that `Host`, `Origin` and the body are exactly as
/// given: status, response headers (raw text) and JSON body.
fn raw_request_to(
    addr: &str,
    method: &str,
    path: &str,
    host: &str,
    origin: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut text = String::new();
    // The server may answer and close before reading an oversized body: what it sent still counts.
    let _ = s.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn oversized_bodies_and_floods_of_writes_are_refused() {
    let _g = serial();
    let (_, who) = funded("limits");
    let me = SERVER.base.trim_start_matches("http://").to_string();
    // A body over the limit is refused before it is read.
    let big = json!({"address": who, "pad": "x".repeat(Limits::default().max_body)}).to_string();
    let r = refused(Some(&who), || raw_request("POST", "/api/faucet", &me, None, &big));
    assert_error(&r, 413, "payload_too_large", None);
    // A server of its own with a burst of three writes and almost no refill.
    let tight = start(Limits {
        writes_per_s: 0.001,
        writes_burst: 3.0,
        heavy_per_s: 0.001,
        heavy_burst: 1.0,
        ..Limits::default()
    });
    let addr = tight.base.trim_start_matches("http://").to_string();
    let health = |addr: &str| raw_request_to(addr, "GET", "/api/health", addr, None, "").2["next_seq"].clone();
    let faucet = json!({"address": who}).to_string();
    for i in 0..3 {
        let (status, _, v) = raw_request_to(&addr, "POST", "/api/faucet", &addr, None, &faucet);
        assert_eq!(status, 200, "write {i} of the burst: {v}");
    }
    let before = health(&addr);
    let (status, head, v) = raw_request_to(&addr, "POST", "/api/faucet", &addr, None, &faucet);
    assert_eq!((status, v["error"]["code"].as_str()), (429, Some("rate_limited")), "{v}");
    assert!(
        head.lines().any(|l| l.starts_with("retry-after: ") && l[13..].trim().parse::<u64>().is_ok_and(|s| s >= 1)),
        "{head}"
    );
    assert_eq!(health(&addr), before, "a refused write changes nothing");
    // Reads are not limited.
    for _ in 0..20 {
        assert_eq!(raw_request_to(&addr, "GET", "/api/chains", &addr, None, "").0, 200);
    }
}

#[test]
fn requests_from_other_hosts_or_origins_are_refused() {
    let _g = serial();
    let (_, who) = funded("cross-origin");
    let me = SERVER.base.trim_start_matches("http://").to_string();
    let faucet = json!({"address": who}).to_string();
    // DNS rebinding: a foreign name that resolves to 127.0.0.1.
    let r = refused(Some(&who), || raw_request("POST", "/api/faucet", "evil.example", None, &faucet));
    assert_error(&r, 421, "not_loopback_host", Some("Host"));
    // A page of another site posting to the faucet through the user's browser.
    let r = refused(Some(&who), || raw_request("POST", "/api/faucet", &me, Some("http://evil.example"), &faucet));
    assert_error(&r, 403, "cross_origin", Some("Origin"));
    let r = refused(Some(&who), || raw_request("POST", "/time/advance", &me, Some("https://evil.example:8420"), ""));
    assert_error(&r, 403, "cross_origin", Some("Origin"));
    // The dashboard's own pages pass, by address or by name.
    let (status, v) = raw_request("GET", "/api/health", &me, Some(&format!("http://{me}")), "");
    assert_eq!((status, v["status"].as_str()), (200, Some("ok")));
    let port = me.rsplit(':').next().unwrap_or("");
    let (status, _) = raw_request("GET", "/api/health", &format!("localhost:{port}"), None, "");
    assert_eq!(status, 200);
}
