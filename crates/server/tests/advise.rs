//! `POST /api/advise` and `/lab/advise` on a freshly seeded platform served in process: the
//! JSON shape, both holdings forms, 4xx with a stable code and the field, the page escapes what
//! it echoes, and the OpenAPI document lists the route (as it must list every route).

use granary_server::platform::PlatformConfig;
use granary_server::{UpOptions, open, router};
use granary_store::{Location, SnapshotPolicy};
use granary_world::market::MarketConfig;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Duration;

struct Server {
    base: String,
    _dir: tempfile::TempDir,
}

/// One seeded platform for the whole file, its clock paused.
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let opts = UpOptions {
            platform: PlatformConfig {
                location: Location::Sqlite(dir.path().join("data")),
                policy: SnapshotPolicy::default(),
                seed: 42,
                market: MarketConfig::default(),
            },
            wallet_dir: dir.path().join("wallet"),
            addr: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
            speed: 0.0,
            tick: Duration::from_millis(1000),
            paused: true,
            limits: granary_server::limits::Limits::default(),
        };
        let app = open(&opts).unwrap_or_else(|e| panic!("{e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        listener.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("{e}"));
                let _ = axum::serve(l, router(app)).await;
            });
        });
        Server { base: format!("http://{addr}"), _dir: dir }
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn post(path: &str, body: &str) -> (u16, Value) {
    let s = server();
    let mut r = agent()
        .post(&format!("{}{path}", s.base))
        .header("content-type", "application/json")
        .send(body)
        .unwrap_or_else(|e| panic!("{e}"));
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

fn get_text(path: &str) -> (u16, String) {
    let s = server();
    let mut r = agent().get(&format!("{}{path}", s.base)).call().unwrap_or_else(|e| panic!("{e}"));
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn advise_answers_with_lines_totals_and_assumptions() {
    let (status, v) =
        post("/api/advise", r#"{"holdings": "ETH=10,USDC=5000", "horizon_days": 90, "tolerance": "balanced"}"#);
    assert_eq!(status, 200, "{v}");
    let lines = v["lines"].as_array().cloned().unwrap_or_default();
    assert!(!lines.is_empty(), "{v}");
    let total = v["totals"]["holdings_usd"].as_f64().unwrap_or(0.0);
    let allocated: f64 = lines.iter().filter_map(|l| l["amount_usd"].as_f64()).sum();
    assert!(total > 30_000.0 && allocated <= total * (1.0 + 1e-9), "{allocated} of {total}");
    for l in &lines {
        for k in ["opportunity", "chain", "project", "symbol", "why", "risks", "limit", "bad_case"] {
            assert!(l[k].as_str().is_some_and(|s| !s.is_empty()), "{k} missing in {l}");
        }
        assert!(l["median_usd"].as_f64().is_some_and(|m| m > 0.0), "{l}");
        assert!(l["sources"][0]["route"].as_array().is_some_and(|r| !r.is_empty()), "{l}");
        let grade = l["grade"].as_str().unwrap_or("Z");
        assert!(grade <= "C", "balanced advised grade {grade}");
    }
    assert!(v["assumptions"].as_array().is_some_and(|a| a.len() >= 5));
    assert!(v["excluded"].as_array().is_some_and(|a| !a.is_empty()));
    // The object form of the holdings gives the same advice.
    let (s2, v2) = post(
        "/api/advise",
        r#"{"holdings": {"ETH": "10", "USDC": 5000}, "horizon_days": 90, "tolerance": "balanced"}"#,
    );
    assert_eq!(s2, 200);
    assert_eq!(v2["lines"], v["lines"]);
    // Defaults: 90 days, balanced.
    let (s3, v3) = post("/api/advise", r#"{"holdings": "ETH=10,USDC=5000"}"#);
    assert_eq!(s3, 200);
    assert_eq!(v3["lines"], v["lines"]);
}

#[test]
fn bad_requests_are_4xx_with_a_code_and_the_field() {
    let cases: [(Value, u16, &str, &str, &str); 10] = [
        (json!({"holdings": "ETH=ten"}), 422, "invalid_holdings", "holdings", "not an amount"),
        (json!({"holdings": ""}), 422, "invalid_holdings", "holdings", "no holdings"),
        (json!({"holdings": 5}), 400, "invalid_field", "holdings", "must be a string"),
        (json!({"holdings": {"ETH": true}}), 400, "invalid_field", "holdings", "`ETH` must be an amount"),
        (json!({"holdings": "DOGE=1"}), 422, "unknown_asset", "holdings", "DOGE"),
        (json!({"holdings": "USDC@mars=1"}), 422, "unknown_chain", "holdings", "mars"),
        (
            json!({"holdings": "ETH=1", "tolerance": "yolo"}),
            400,
            "invalid_field",
            "tolerance",
            "conservative, balanced or aggressive",
        ),
        (json!({"holdings": "ETH=1", "horizon_days": 0}), 400, "invalid_field", "horizon_days", "between 1 and"),
        (json!({"holdings": "ETH=1", "min_grade": "Q"}), 400, "invalid_field", "min_grade", "one letter A to F"),
        (json!({"holdings": "ETH=1", "max_chain_share": 2}), 400, "invalid_field", "max_chain_share", "not a share"),
    ];
    // 400: not the shape the route takes; 422: well-formed, but the holdings cannot be used.
    for (body, want, code, field, needle) in cases {
        let (status, v) = post("/api/advise", &body.to_string());
        assert_eq!(status, want, "{body}: {v}");
        assert_eq!(v["error"]["code"], code, "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains(needle)), "{body}: {v}");
    }
    let (status, v) = post("/api/advise", r#"{"holdings": "ETH=1", "colour": "red"}"#);
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("invalid_body")), "{v}");
    let (status, v) = post("/api/advise", r#"{"holdings": "#);
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("malformed_json")), "{v}");
}

#[test]
fn the_openapi_document_lists_advise_and_every_route() {
    assert_eq!(granary_server::openapi::undocumented(), Vec::<String>::new());
    let (status, text) = get_text("/api/openapi.json");
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&text).unwrap_or_default();
    let op = &doc["paths"]["/api/advise"]["post"];
    assert!(op["requestBody"]["content"]["application/json"]["schema"]["properties"]["holdings"].is_object(), "{op}");
    assert!(op["responses"]["400"].is_object());
}

#[test]
fn the_lab_page_renders_the_allocation_and_escapes_what_it_echoes() {
    let (status, html) = get_text("/lab/advise?holdings=ETH%3D10%2CUSDC%3D5000&horizon_days=90&tolerance=conservative");
    assert_eq!(status, 200, "{html}");
    for needle in [
        r#"id="advise-form""#,
        r#"id="allocation""#,
        r#"id="bar-chain""#,
        r#"id="bar-protocol""#,
        r#"id="assumptions""#,
        "Why:",
        "Risks:",
        r#"href="/lab">Lab</a>"#,
        r#"<option value="conservative" selected>"#,
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(!html.contains("<script"));
    // With no query: the example, advised.
    let (status, html) = get_text("/lab/advise");
    assert_eq!(status, 200);
    assert!(html.contains(r#"class="line""#) && html.contains("ETH=10,USDC=5000"));
    // Unusable holdings: a 422 page that shows the error and escapes the echo.
    let (status, html) = get_text("/lab/advise?holdings=%3Cb%3EX%3D1");
    assert_eq!(status, 422);
    assert!(html.contains(r#"id="error""#) && html.contains("&lt;b&gt;X=1") && !html.contains("<b>X"), "{html}");
}
