//! A fixed loop of engine swaps, for profilers (`valgrind --tool=callgrind`, `perf`).

use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Engine, U256};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let wad = U256::from(10u64).pow(U256::from(18u8));
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    let (alice, bob) = (key_address(&dev_key("alice")), key_address(&dev_key("bob")));
    for id in ["WETH", "USDC"] {
        let t = e.create_token(id, c, id, 18, Minter::Nobody).unwrap_or(0);
        for who in [alice, bob] {
            let _ = e.faucet_mint(t, who, wad * U256::from(10_000_000u64));
        }
    }
    let _ =
        e.execute(alice, &Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    let _ = e.execute(
        alice,
        &Action::AddLiquidity {
            pool: "P".into(),
            amounts: [wad * U256::from(1_000_000u64), wad * U256::from(2_000_000u64)],
            min: [U256::ZERO; 2],
        },
    );
    let buy =
        Action::SwapExactIn { path: vec!["P".into()], token_in: "WETH".into(), amount_in: wad, min_out: U256::ZERO };
    let sell = Action::SwapExactIn {
        path: vec!["P".into()],
        token_in: "USDC".into(),
        amount_in: wad * U256::from(2u8),
        min_out: U256::ZERO,
    };
    let start = std::time::Instant::now();
    let mut ok = 0usize;
    for i in 0..n {
        ok += usize::from(e.execute(bob, if i % 2 == 0 { &buy } else { &sell }).is_ok());
    }
    let dt = start.elapsed();
    println!("{ok}/{n} swaps in {dt:?}: {:.0} ns/swap", dt.as_nanos() as f64 / n as f64);
}
