//! The 1/6 protocol fee (`UniswapV2Pair._mintFee`), v2-core's "feeTo:on" case, and the factory
//! convention that `feeTo = address(0)` means off.

use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

/// 1000/1000 pool, fee switched to `fee_to`, a 1e18 swap, then a burn of the LP's whole position.
fn fee_minted_after_swap_and_burn(fee_to: Option<Address>) -> (Engine, U256) {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    let lp = key_address(&dev_key("lp"));
    for id in ["A", "B"] {
        let t = e.create_token(id, c, id, 18, Minter::Nobody).unwrap_or(0);
        assert!(e.faucet_mint(t, lp, e18(10_000)).is_ok());
    }
    let steps = [
        Action::CreatePool { id: "P".into(), tokens: ["A".into(), "B".into()], fee_bps: 30 },
        Action::SetFeeTo { pool: "P".into(), fee_to },
        Action::AddLiquidity { pool: "P".into(), amounts: [e18(1000), e18(1000)], min: [U256::ZERO; 2] },
        Action::SwapExactIn { path: vec!["P".into()], token_in: "A".into(), amount_in: e18(1), min_out: U256::ZERO },
    ];
    for a in &steps {
        assert!(e.execute(lp, a).is_ok(), "{a:?}");
    }
    let lp_token = e.token_ix("P").unwrap_or(0);
    let liquidity = e.balance(lp_token, lp);
    let burn = Action::RemoveLiquidity { pool: "P".into(), liquidity, min: [U256::ZERO; 2] };
    assert!(e.execute(lp, &burn).is_ok());
    let minted = fee_to.map(|a| e.balance(lp_token, a)).unwrap_or_default();
    (e, minted)
}

#[test]
fn fee_on_mints_one_sixth_of_root_k_growth() {
    let treasury = key_address(&dev_key("treasury"));
    let (e, minted) = fee_minted_after_swap_and_burn(Some(treasury));
    // v2-core test/UniswapV2Pair.spec.ts "feeTo:on": 249750499251388 LP to feeTo.
    assert_eq!(minted, U256::from(249_750_499_251_388u64));
    let p = e.pool(0);
    assert_eq!(p.k_last, p.reserves[0] * p.reserves[1]);
}

#[test]
fn fee_to_the_zero_address_means_off() {
    let (e, _) = fee_minted_after_swap_and_burn(Some(Address::ZERO));
    let p = e.pool(0);
    assert_eq!(p.fee_to, None);
    assert_eq!(p.k_last, U256::ZERO);
    // Only MINIMUM_LIQUIDITY sits at the zero address.
    assert_eq!(e.balance(p.lp_token, Address::ZERO), U256::from(1000u32));
}
