//! The advice's pure parts: holdings strings, tolerances, request checks, the dilution and the
//! normal quantile. The allocation itself is tested on the demo world (`crates/world/tests/advise.rs`).

use granary_hub::advise::{AdviceRequest, Holdings, Overrides, Tolerance, asset_of, diluted_apr, normal_quantile};
use granary_hub::riskadj::Grade;

#[test]
fn holdings_parse_symbols_amounts_and_chains() {
    let h = Holdings::parse(" ETH = 10 , USDC=5000,USDC@arbitrum=1_000.5 ,wbtc=0.25").unwrap_or_default();
    let got: Vec<(String, Option<String>, f64)> =
        h.0.iter().map(|x| (x.symbol.clone(), x.chain.clone(), x.amount)).collect();
    assert_eq!(
        got,
        vec![
            ("ETH".into(), None, 10.0),
            ("USDC".into(), None, 5000.0),
            ("USDC".into(), Some("arbitrum".into()), 1000.5),
            ("wbtc".into(), None, 0.25),
        ]
    );
    let p = Holdings::from_pairs([("ETH", "10"), ("USDC", "5000")]).unwrap_or_default();
    assert_eq!(p, Holdings::parse("ETH=10,USDC=5000").unwrap_or_default());
    assert_eq!("ETH=1".parse::<Holdings>().map(|h| h.0.len()), Ok(1));
}

#[test]
fn bad_holdings_are_errors_that_name_the_item_and_the_fix() {
    let cases: [(&str, usize, &str); 12] = [
        ("", 0, "no holdings: write SYMBOL=AMOUNT"),
        ("ETH", 1, "has no `=`"),
        ("ETH=10,USDC", 2, "has no `=`"),
        ("ETH=ten", 1, "`ten` is not an amount: write a decimal number"),
        ("ETH=-1", 1, "`-1` is not an amount"),
        ("ETH=0", 1, "the amount is zero: leave the holding out"),
        ("ETH=1e3", 1, "`1e3` is not an amount"),
        ("ETH=10,,USDC=1", 2, "is empty"),
        ("ETH=1,", 2, "is empty"),
        ("=5", 1, "has no symbol"),
        ("E$H=1", 1, "`E$H` is not a token symbol"),
        ("ETH=1,WETH=2", 2, "`WETH` repeats holding 1 (`ETH`)"),
    ];
    for (text, item, needle) in cases {
        match Holdings::parse(text) {
            Ok(h) => panic!("`{text}` parsed as {h:?}"),
            Err(e) => {
                assert_eq!(e.item, item, "`{text}`: {e}");
                assert!(e.to_string().contains(needle), "`{text}`: {e}");
            }
        }
    }
    // The same asset on two chains is two holdings; the same chain twice is not.
    assert!(Holdings::parse("USDC=1,USDC@arbitrum=2").is_ok());
    assert!(Holdings::parse("USDC@base=1,USDC.e@BASE=2").is_err());
    let e = Holdings::parse("ETH@=1").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("is not a chain"), "{e}");
    let e = Holdings::from_pairs([("ETH", "x")]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("holding 1 `ETH=x`"), "{e}");
    assert!(Holdings::from_pairs(std::iter::empty()).is_err());
}

#[test]
fn assets_are_one_across_wrappers_and_chains() {
    for (s, a) in [
        ("WETH", "ETH"),
        ("weth.e", "ETH"),
        ("BTCB", "BTC"),
        ("BTC.b", "BTC"),
        ("WBNB", "BNB"),
        ("USDbC", "USDC"),
        ("GRNT", "GRNT"),
    ] {
        assert_eq!(asset_of(s), a, "{s}");
    }
}

#[test]
fn tolerances_parse_and_tighten_in_order() {
    assert_eq!("Balanced".parse::<Tolerance>(), Ok(Tolerance::Balanced));
    let e = "yolo".parse::<Tolerance>().err().unwrap_or_default();
    assert!(e.contains("use conservative, balanced or aggressive"), "{e}");
    let [c, b, a] = Tolerance::ALL.map(Tolerance::limits);
    assert!(c.min_grade < b.min_grade && b.min_grade < a.min_grade);
    assert!(a.min_grade <= Grade::D, "E and F are never advised");
    for (x, y) in [(c, b), (b, a)] {
        assert!(x.max_protocol_share < y.max_protocol_share);
        assert!(x.max_chain_share < y.max_chain_share);
        assert!(x.max_tvl_share < y.max_tvl_share);
        assert!(x.bad_case_weight > y.bad_case_weight);
    }
}

#[test]
fn requests_are_checked_field_by_field() {
    let h = Holdings::parse("ETH=1").unwrap_or_default();
    let ok = AdviceRequest::new(h.clone(), 90, Tolerance::Balanced);
    assert_eq!(ok.validate(), Ok(()));
    let field = |r: AdviceRequest| r.validate().err().map(|e| e.field);
    assert_eq!(field(AdviceRequest::new(h.clone(), 0, Tolerance::Balanced)), Some("horizon_days"));
    assert_eq!(field(AdviceRequest::new(h.clone(), 5000, Tolerance::Balanced)), Some("horizon_days"));
    assert_eq!(field(AdviceRequest::new(Holdings::default(), 30, Tolerance::Balanced)), Some("holdings"));
    let with = |o: Overrides| AdviceRequest { overrides: o, ..ok.clone() };
    assert_eq!(
        field(with(Overrides { max_protocol_share: Some(0.0), ..Overrides::default() })),
        Some("max_protocol_share")
    );
    assert_eq!(
        field(with(Overrides { max_chain_share: Some(f64::NAN), ..Overrides::default() })),
        Some("max_chain_share")
    );
    assert_eq!(field(with(Overrides { max_tvl_share: Some(1.0), ..Overrides::default() })), Some("max_tvl_share"));
    assert_eq!(field(with(Overrides { bad_case_weight: Some(1.5), ..Overrides::default() })), Some("bad_case_weight"));
    assert_eq!(
        field(with(Overrides { harvests_per_year: Some(400), ..Overrides::default() })),
        Some("harvests_per_year")
    );
    // Overrides replace the tolerance's defaults, one by one.
    let r = with(Overrides { min_grade: Some(Grade::A), max_chain_share: Some(0.5), ..Overrides::default() });
    let l = r.limits();
    assert_eq!((l.min_grade, l.max_chain_share), (Grade::A, 0.5));
    assert_eq!(l.max_protocol_share, Tolerance::Balanced.limits().max_protocol_share);
}

#[test]
fn dilution_lowers_the_apr_of_every_dollar() {
    // $1M staked earning 20 %: adding $1M halves it; a staking term's boost weighs the deposit.
    assert_eq!(diluted_apr(0.2, 1e6, 1e6, 1.0), 0.1);
    assert!((diluted_apr(0.2, 1e6, 1e6, 2.0) - 0.2 / 3.0).abs() < 1e-15);
    let earn = |d: f64| d * diluted_apr(0.2, 1e6, d, 1.0);
    // Concave: each extra $100k earns less than the one before.
    let steps: Vec<f64> = (0..5).map(|k| earn(f64::from(k + 1) * 1e5) - earn(f64::from(k) * 1e5)).collect();
    assert!(steps.windows(2).all(|w| w[1] < w[0]), "{steps:?}");
}

#[test]
fn the_normal_quantile_is_accurate() {
    for (p, z) in
        [(0.975, 1.959_963_984_540_054), (0.5, 0.0), (0.001, -3.090_232_306_167_813_6), (0.9999, 3.719_016_485_455_709)]
    {
        assert!((normal_quantile(p) - z).abs() < 1e-8, "{p}: {}", normal_quantile(p));
    }
    assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
}
