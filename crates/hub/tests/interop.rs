//! DeFiLlama `/pools` interop: export column order and import of a real-looking fixture.

use granary_hub::interop::{export, import};
use granary_hub::rank::{Filter, SortKey, rank};
use granary_hub::{Hub, Kind};

fn fixture() -> serde_json::Value {
    let path = format!("{}/tests/fixtures/defillama_pools.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[test]
fn import_reads_every_record_with_its_kind_and_lockup() {
    let opps = import(&fixture()).expect("imports");
    assert_eq!(opps.len(), 8);
    let get = |p: &str| opps.iter().find(|o| o.project == p).unwrap_or_else(|| panic!("{p}"));
    assert_eq!(get("lido").kind, Kind::SingleStake);
    assert_eq!(get("aerodrome-slipstream").kind, Kind::LpFarm);
    assert_eq!(get("curve-dex").kind, Kind::PlainLp);
    assert!(get("curve-dex").stablecoin && !get("curve-dex").il_risk);
    assert_eq!(get("pancakeswap-amm").lockup.days, 364);
    assert!(get("moonfarm-finance").flags.iter().any(|f| f.contains("outlier")));
}

#[test]
fn imported_pools_rank_and_filter() {
    let opps = import(&fixture()).expect("imports");
    let by_apy = rank(&opps, &Filter::default(), SortKey::Apy);
    assert_eq!(by_apy[0].project, "moonfarm-finance");
    let f = Filter { min_tvl_usd: Some(5_000_000.0), max_lockup_days: Some(30), ..Filter::default() };
    let kept = rank(&opps, &f, SortKey::Apy);
    assert_eq!(
        kept.iter().map(|o| o.project.as_str()).collect::<Vec<_>>(),
        ["traderjoe-dex", "gmx-v2", "aerodrome-slipstream", "lido", "curve-dex"]
    );
    let eth = rank(&opps, &Filter { chain: Some("ethereum".into()), ..Filter::default() }, SortKey::Tvl);
    assert_eq!(eth.iter().map(|o| o.project.as_str()).collect::<Vec<_>>(), ["lido", "curve-dex"]);
    let weth = rank(
        &opps,
        &Filter { asset: Some("weth".into()), kind: Some(Kind::LpFarm), ..Filter::default() },
        SortKey::Apy,
    );
    assert_eq!(weth.len(), 2);
}

#[test]
fn export_has_defillama_columns_in_order_and_reimports() {
    let opps = import(&fixture()).expect("imports");
    let doc = export(&opps);
    let first = &doc["data"][0];
    let keys: Vec<&str> = first.as_object().expect("record").keys().map(String::as_str).collect();
    let published = [
        "chain",
        "project",
        "symbol",
        "tvlUsd",
        "apyBase",
        "apyReward",
        "apy",
        "rewardTokens",
        "pool",
        "apyPct1D",
        "apyPct7D",
        "apyPct30D",
        "stablecoin",
        "ilRisk",
        "exposure",
        "predictions",
        "poolMeta",
        "mu",
        "sigma",
        "count",
        "outlier",
        "underlyingTokens",
        "il7d",
        "apyBase7d",
        "apyMean30d",
        "volumeUsd1d",
        "volumeUsd7d",
        "apyBaseInception",
    ];
    assert_eq!(&keys[..published.len()], &published);
    assert!(keys.contains(&"lockup") && keys.contains(&"grade") && keys.contains(&"asOf"));
    let again = import(&doc).expect("re-imports");
    assert_eq!(again.len(), opps.len());
    for (a, b) in again.iter().zip(&opps) {
        assert_eq!((a.tvl_usd, a.apy, a.kind, a.lockup.days), (b.tvl_usd, b.apy, b.kind, b.lockup.days));
    }
    // An empty hub exports an empty list.
    let hub = Hub::default();
    assert_eq!(export(&hub.opportunities(&granary_engine::Engine::new()))["data"], serde_json::json!([]));
}

#[test]
fn a_record_without_tvl_is_refused_with_its_index() {
    let doc =
        serde_json::json!([{"chain": "Ethereum", "symbol": "X", "tvlUsd": 1.0}, {"chain": "Ethereum", "symbol": "Y"}]);
    let err = import(&doc).expect_err("refused");
    assert_eq!(err.index, 1);
    assert!(err.why.contains("tvlUsd"));
}
