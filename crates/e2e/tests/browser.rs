//! The dashboard end to end in Debian's headless Chromium: unlock the local wallet, filter the
//! opportunities to one chain, open one, swap for its token, stake with a 30-day term (after the
//! preview), advance simulated time and watch the pending reward grow, harvest and see the
//! balance rise by exactly what was pending; put money in the dubious farm, let its scheduled rug
//! happen, and see the alert on the alerts page and on the exposed position. Screenshots of every
//! page go to `target/e2e-screenshots/`.

use fantoccini::Locator;
use granary_e2e::*;

fn u(s: &str) -> u128 {
    s.parse().unwrap_or_else(|_| panic!("not an amount: {s:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stake_harvest_and_see_the_rug_in_a_browser() {
    let p = start_platform().await;
    let driver = start_driver();
    let c = browser(&driver, 1200, 1600).await;
    let base = &p.base;

    // The wallet: unlock with the passphrase.
    c.goto(&format!("{base}/wallet")).await.expect("open /wallet");
    shot(&c, "01-wallet-locked").await;
    fill(&c, "#passphrase", PASSPHRASE).await;
    click(&c, "#unlock").await;
    assert!(c.current_url().await.expect("url").path().ends_with("/portfolio"), "unlock lands on the portfolio");
    let addr = format!("{:#x}", p.address);
    assert!(text(&c, "h1").await.contains(&addr), "the portfolio is the unlocked key's");
    // The faucet funded the key on every chain.
    let wmatic_before = u(&attr(&c, r#"tr[data-token="pol-WMATIC"]"#, "data-amount").await.expect("WMATIC"));
    assert!(wmatic_before > 0);

    // Opportunities filtered to one chain.
    c.goto(&format!("{base}/")).await.expect("open /");
    let all = c.find_all(Locator::Css("#opportunities tbody tr")).await.expect("rows").len();
    select(&c, "#f-chain", "polygon").await;
    click(&c, "#apply").await;
    let rows = c.find_all(Locator::Css("#opportunities tbody tr")).await.expect("rows");
    assert!(!rows.is_empty() && rows.len() < all, "{} of {all} rows after the chain filter", rows.len());
    for r in &rows {
        assert_eq!(r.attr("data-chain").await.expect("attr").as_deref(), Some("Polygon"));
    }
    shot(&c, "02-opportunities-polygon").await;

    // Buy the staking token: swap WMATIC for GRNT, preview first.
    c.goto(&format!("{base}/opportunities/pool:granite-pol-GRNT-WMATIC")).await.expect("open the pool");
    select(&c, "#swap-form select[name=token_in]", "pol-WMATIC").await;
    fill(&c, "#swap-form input[name=amount]", "2000").await;
    click(&c, "#swap-form button").await;
    assert!(text(&c, "#pv-pay").await.contains("2000 WMATIC"), "the preview shows what is paid");
    assert!(text(&c, "#pv-min").await.contains("GRNT"), "the preview shows the slippage bound");
    assert!(text(&c, "#pv-fee").await.starts_with('$'));
    click(&c, "#confirm").await;
    assert!(text(&c, "#flash").await.contains("swapped"));
    let grnt_bought = u(&attr(&c, r#"tr[data-token="pol-GRNT"]"#, "data-amount").await.expect("GRNT"));
    assert!(grnt_bought > 1_000 * 10u128.pow(18), "2000 WMATIC buy more than 1000 GRNT: {grnt_bought}");

    // Open the 30-day staking opportunity from the list and stake 1000 GRNT.
    c.goto(&format!("{base}/?chain=polygon")).await.expect("open /");
    click(&c, r#"tr[data-id="stake:granite-pol:30d"] a"#).await;
    assert!(text(&c, "#title").await.contains("Granite"));
    shot(&c, "03-opportunity-granite-30d").await;
    fill(&c, "#stake-amount", "1000").await;
    select(&c, "#stake-term", "30").await;
    click(&c, "#stake-preview").await;
    let preview = text(&c, "body").await;
    assert!(preview.contains("locked for 30 days"), "the preview warns of the lock: {preview}");
    assert!(text(&c, "#pv-pay").await.contains("1000 GRNT"));
    assert!(text(&c, "#pv-expected").await.contains("GRNT"), "the preview shows the reward expected by unlock");
    shot(&c, "04-preview-stake").await;
    click(&c, "#confirm").await;
    assert!(text(&c, "#flash").await.contains("position"));
    let row = c.find(Locator::Css("#stakes tbody tr")).await.expect("a stake row");
    let position = row.attr("data-position").await.expect("attr").expect("position id");
    let pending_cell = format!(r#"tr[data-position="{position}"] td.pending"#);
    let pending0 = u(&attr(&c, &pending_cell, "data-pending").await.expect("pending"));
    assert_eq!(pending0, 0, "nothing is pending right after staking");
    assert!(text(&c, r#"#stakes tbody tr"#).await.contains("30 d"));

    // Advance simulated time: the pending reward grows, block after block.
    click(&c, "#advance-1d").await;
    let pending1 = u(&attr(&c, &pending_cell, "data-pending").await.expect("pending"));
    click(&c, "#advance-1d").await;
    let pending2 = u(&attr(&c, &pending_cell, "data-pending").await.expect("pending"));
    assert!(pending1 > 0 && pending2 > pending1, "pending rewards grow: {pending0} → {pending1} → {pending2}");
    shot(&c, "05-portfolio-pending").await;

    // Harvest (claim): the GRNT balance rises by exactly what was pending.
    let grnt_before = u(&attr(&c, r#"tr[data-token="pol-GRNT"]"#, "data-amount").await.expect("GRNT"));
    click(&c, &format!("#claim-{position}")).await;
    assert!(text(&c, "#pv-receive").await.contains("GRNT"));
    click(&c, "#confirm").await;
    let grnt_after = u(&attr(&c, r#"tr[data-token="pol-GRNT"]"#, "data-amount").await.expect("GRNT"));
    assert_eq!(grnt_after - grnt_before, pending2, "the claim pays exactly the pending reward");
    assert_eq!(u(&attr(&c, &pending_cell, "data-pending").await.expect("pending")), 0);
    shot(&c, "06-portfolio-after-harvest").await;

    // Put money in the dubious farm: buy MOON, deposit it in Mooncrop's MOON pool.
    c.goto(&format!("{base}/opportunities/pool:mooncrop-bsc-MOON-WBNB")).await.expect("open the MOON pool");
    select(&c, "#swap-form select[name=token_in]", "bsc-WBNB").await;
    fill(&c, "#swap-form input[name=amount]", "2").await;
    click(&c, "#swap-form button").await;
    click(&c, "#confirm").await;
    let moon = u(&attr(&c, r#"tr[data-token="bsc-MOON"]"#, "data-amount").await.expect("MOON"));
    let deposit = moon / 2 / 10u128.pow(18);
    assert!(deposit > 0);
    c.goto(&format!("{base}/opportunities/farm:moon-2")).await.expect("open the Mooncrop farm");
    fill(&c, "#deposit-form input[name=amount]", &deposit.to_string()).await;
    click(&c, "#deposit-form button").await;
    click(&c, "#confirm").await;
    assert!(c.find(Locator::Css(r#"tr[data-farm-pool="moon-2"]"#)).await.is_ok(), "the farm position shows");
    c.goto(&format!("{base}/alerts")).await.expect("open /alerts");
    assert!(c.find(Locator::Css("#no-alerts")).await.is_ok(), "no alert before the rug");

    // A week later the scheduled rug has happened: alerts everywhere the user looks.
    click(&c, "#advance-7d").await;
    c.goto(&format!("{base}/alerts")).await.expect("open /alerts");
    let kinds: Vec<String> = {
        let mut k = Vec::new();
        for el in c.find_all(Locator::Css(".alert-item")).await.expect("alerts") {
            k.push(el.attr("data-kind").await.expect("attr").unwrap_or_default());
        }
        k
    };
    assert!(kinds.iter().any(|k| k == "migrator_set"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "migrator_drain"), "{kinds:?}");
    assert!(text(&c, "main").await.contains("Your wallet is exposed"));
    shot(&c, "07-alerts-after-rug").await;
    c.goto(&format!("{base}/portfolio")).await.expect("open /portfolio");
    assert!(text(&c, ".exposed-alert").await.contains("Your position is exposed"));
    let farm_row = text(&c, r#"tr[data-farm-pool="moon-2"]"#).await;
    assert!(farm_row.contains("alert") && farm_row.contains("backed"), "the drained position says so: {farm_row}");
    shot(&c, "08-portfolio-exposed").await;
    c.goto(&format!("{base}/opportunities/farm:moon-2")).await.expect("open the rugged farm");
    assert!(c.find(Locator::Css(".alert.critical")).await.is_ok(), "the farm page shows a critical alert");
    shot(&c, "09-opportunity-rugged").await;
    // The lab: a backtest over real closes, then Monte Carlo, then the advice.
    c.goto(&format!("{base}/lab")).await.expect("open /lab");
    assert!(text(&c, "#lab-title").await.contains("2021-05-01..2021-07-31"));
    assert!(c.find(Locator::Css("svg#lab-chart path")).await.is_ok(), "the backtest is charted");
    shot(&c, "12-lab-backtest").await;
    fill(&c, "#lab-paths", "60").await;
    fill(&c, "#lab-days", "30").await;
    click(&c, "#lab-run").await;
    assert!(text(&c, "#lab-title").await.contains("60 paths × 30 days"));
    assert!(text(&c, "#lab-prob-loss").await.ends_with('%'));
    assert!(
        c.find(Locator::Css("svg#lab-fan path")).await.is_ok()
            && c.find(Locator::Css("svg#lab-histogram rect")).await.is_ok()
    );
    shot(&c, "13-lab-montecarlo").await;
    c.goto(&format!("{base}/lab/advise")).await.expect("open /lab/advise");
    assert!(c.find(Locator::Css("#allocation")).await.is_ok(), "the advice page shows an allocation");
    shot(&c, "14-lab-advise").await;
    c.close().await.expect("close the browser");

    // Phone width: the pages still read (tables scroll inside their box, the page does not).
    let phone = browser(&driver, 390, 844).await;
    phone.goto(&format!("{base}/")).await.expect("open / on a phone");
    let overflow: bool = phone
        .execute("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![])
        .await
        .expect("script")
        .as_bool()
        .expect("bool");
    assert!(!overflow, "the page is wider than a phone screen");
    shot(&phone, "10-phone-opportunities").await;
    phone.goto(&format!("{base}/opportunities/stake:granite-pol:30d")).await.expect("detail on a phone");
    shot(&phone, "11-phone-opportunity").await;
    phone.close().await.expect("close");
}
