//! The harness itself against v2-core's own test vectors (`test/UniswapV2Pair.spec.ts`): if these
//! pass on the bytecode, the revm driving (deployment, calldata, token order, reverts) is right.
//! Each vector is also checked against the engine's formula.

use alloy_primitives::{Address, U256};
use granary_conformance::oracles;
use granary_conformance::uniswap_v2::{V2Evm, library};
use granary_engine::{Action, Engine, Minter, Outcome};

const WALLET: Address = Address::with_last_byte(0x01);
const OTHER: Address = Address::with_last_byte(0x02);
const START: u64 = 1_600_000_000;

fn wad(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn n(s: &str) -> U256 {
    s.parse().expect("decimal literal")
}

/// v2-core's fixture: the wallet deploys the factory (as feeToSetter) and two tokens of 10000e18.
fn fixture() -> V2Evm {
    let artifacts = oracles::v2_core().expect("Uniswap V2 core artifacts");
    V2Evm::deploy(&artifacts, WALLET, WALLET, wad(10_000), START).expect("deployment")
}

fn add_liquidity(evm: &mut V2Evm, amount0: U256, amount1: U256) -> U256 {
    let pair = evm.pair;
    evm.transfer(evm.token0, WALLET, pair, amount0).expect("token0 in");
    evm.transfer(evm.token1, WALLET, pair, amount1).expect("token1 in");
    evm.mint(WALLET, WALLET).expect("mint")
}

#[test]
fn deployment_sorts_the_pair_tokens() {
    let mut evm = fixture();
    assert!(evm.token0 < evm.token1);
    let mut sorted = evm.tokens;
    sorted.sort();
    assert_eq!(sorted, [evm.token0, evm.token1]);
    assert_eq!(evm.balance_of(evm.token0, WALLET), wad(10_000));
    assert_eq!(evm.total_supply(evm.pair), U256::ZERO);
    assert_eq!(evm.fee_to(), Address::ZERO);
}

#[test]
fn mint() {
    let mut evm = fixture();
    let liquidity = add_liquidity(&mut evm, wad(1), wad(4));
    let expected = wad(2);
    assert_eq!(liquidity, expected - U256::from(1000u32));
    assert_eq!(evm.total_supply(evm.pair), expected);
    assert_eq!(evm.balance_of(evm.pair, WALLET), expected - U256::from(1000u32));
    assert_eq!(evm.balance_of(evm.pair, Address::ZERO), U256::from(1000u32));
    let (reserves, ts) = evm.reserves();
    assert_eq!(reserves, [wad(1), wad(4)]);
    assert_eq!(u64::from(ts), START);
}

/// `swapTestCases`: [swapAmount, token0Amount, token1Amount, expectedOutputAmount], all but the
/// last in units of 1e18. `swap(0, expected + 1)` must fail the K check, `swap(0, expected)` pass.
#[test]
fn get_input_price() {
    let cases = [
        (1, 5, 10, "1662497915624478906"),
        (1, 10, 5, "453305446940074565"),
        (2, 5, 10, "2851015155847869602"),
        (2, 10, 5, "831248957812239453"),
        (1, 10, 10, "906610893880149131"),
        (1, 100, 100, "987158034397061298"),
        (1, 1000, 1000, "996006981039903216"),
    ];
    for (swap, r0, r1, expected) in cases {
        let (swap, r0, r1, expected) = (wad(swap), wad(r0), wad(r1), n(expected));
        assert_eq!(library::get_amount_out(swap, r0, r1), Ok(expected));
        assert_eq!(granary_engine::amm::get_amount_out(swap, r0, r1, 30), Ok(expected));
        let mut evm = fixture();
        add_liquidity(&mut evm, r0, r1);
        let pair = evm.pair;
        evm.transfer(evm.token0, WALLET, pair, swap).expect("token0 in");
        let err = evm
            .swap(WALLET, U256::ZERO, expected + U256::from(1u8), WALLET)
            .expect_err("one wei more than the formula must fail");
        assert_eq!(err.0, "UniswapV2: K");
        evm.swap(WALLET, U256::ZERO, expected, WALLET).expect("the formula's output passes the K check");
        assert_eq!(evm.reserves().0, [r0 + swap, r1 - expected]);
    }
}

/// `optimisticTestCases`: [outputAmount, token0Amount, token1Amount, inputAmount]: take token0 out
/// having paid token0 in (a flash swap repaid in the same token).
#[test]
fn optimistic() {
    let cases = [
        ("997000000000000000", 5, 10, "1000000000000000000"),
        ("997000000000000000", 10, 5, "1000000000000000000"),
        ("997000000000000000", 5, 5, "1000000000000000000"),
        ("1000000000000000000", 5, 5, "1003009027081243732"),
    ];
    for (out, r0, r1, input) in cases {
        let (out, r0, r1, input) = (n(out), wad(r0), wad(r1), n(input));
        let mut evm = fixture();
        add_liquidity(&mut evm, r0, r1);
        let pair = evm.pair;
        evm.transfer(evm.token0, WALLET, pair, input).expect("token0 in");
        let err = evm.swap(WALLET, out + U256::from(1u8), U256::ZERO, WALLET).expect_err("one wei more must fail");
        assert_eq!(err.0, "UniswapV2: K");
        evm.swap(WALLET, out, U256::ZERO, WALLET).expect("exact output passes");
    }
}

#[test]
fn burn_returns_everything_but_the_locked_liquidity() {
    let mut evm = fixture();
    let three = wad(3);
    add_liquidity(&mut evm, three, three);
    let pair = evm.pair;
    let lp = three - U256::from(1000u32);
    evm.transfer(pair, WALLET, pair, lp).expect("LP in");
    let amounts = evm.burn(WALLET, WALLET).expect("burn");
    assert_eq!(amounts, [lp, lp]);
    assert_eq!(evm.total_supply(pair), U256::from(1000u32));
    assert_eq!(evm.reserves().0, [U256::from(1000u32); 2]);
}

#[test]
fn price_accumulators_tick_with_the_block_clock() {
    let mut evm = fixture();
    add_liquidity(&mut evm, wad(3), wad(6));
    evm.set_timestamp(START + 10);
    add_liquidity(&mut evm, wad(1), wad(2));
    let q112 = U256::from(1u8) << 112;
    let p0 = (wad(6) << 112usize) / wad(3);
    let p1 = (wad(3) << 112usize) / wad(6);
    assert_eq!(p0, q112 * U256::from(2u8));
    assert_eq!(evm.price_cumulative_last(), [p0 * U256::from(10u8), p1 * U256::from(10u8)]);
    assert_eq!(u64::from(evm.reserves().1), START + 10);
}

/// `feeTo:off` and `feeTo:on`: 1000e18/1000e18, swap 1e18 of token1 in for 996006981039903216 of
/// token0, then burn all but the locked liquidity. With the fee on, feeTo gets 249750499251388 LP.
#[test]
fn protocol_fee_on_and_off_on_the_bytecode_and_the_engine() {
    for fee_on in [false, true] {
        let mut evm = fixture();
        if fee_on {
            evm.set_fee_to(WALLET, OTHER).expect("setFeeTo");
            assert_eq!(evm.fee_to(), OTHER);
        }
        let thousand = wad(1000);
        add_liquidity(&mut evm, thousand, thousand);
        let out = n("996006981039903216");
        let pair = evm.pair;
        evm.transfer(evm.token1, WALLET, pair, wad(1)).expect("token1 in");
        evm.swap(WALLET, out, U256::ZERO, WALLET).expect("swap");
        let lp = thousand - U256::from(1000u32);
        evm.transfer(pair, WALLET, pair, lp).expect("LP in");
        evm.burn(WALLET, WALLET).expect("burn");

        let fee_lp = if fee_on { n("249750499251388") } else { U256::ZERO };
        let (bal0, bal1) = if fee_on { (n("249501683697445"), n("250000187312969")) } else { (U256::ZERO, U256::ZERO) };
        let thousand_wei = U256::from(1000u32);
        assert_eq!(evm.total_supply(pair), thousand_wei + fee_lp);
        assert_eq!(evm.balance_of(pair, OTHER), fee_lp);
        if fee_on {
            assert_eq!(evm.balance_of(evm.token0, pair), thousand_wei + bal0);
            assert_eq!(evm.balance_of(evm.token1, pair), thousand_wei + bal1);
        }

        // The same story on the engine, with its token order = the pair's.
        let mut engine = Engine::new();
        let chain = engine.create_chain("c", 1, "c", 12).expect("chain");
        let t0 = engine.create_token("T0", chain, "T0", 18, Minter::Account(WALLET)).expect("T0");
        let t1 = engine.create_token("T1", chain, "T1", 18, Minter::Account(WALLET)).expect("T1");
        engine.faucet_mint(t0, WALLET, wad(10_000)).expect("fund");
        engine.faucet_mint(t1, WALLET, wad(10_000)).expect("fund");
        let run = |engine: &mut Engine, action: Action| engine.execute(WALLET, &action).expect("engine action");
        run(&mut engine, Action::CreatePool { id: "P".into(), tokens: ["T0".into(), "T1".into()], fee_bps: 30 });
        if fee_on {
            run(&mut engine, Action::SetFeeTo { pool: "P".into(), fee_to: Some(OTHER) });
        }
        run(
            &mut engine,
            Action::AddLiquidity { pool: "P".into(), amounts: [thousand, thousand], min: [U256::ZERO; 2] },
        );
        let swapped = run(
            &mut engine,
            Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "T1".into(),
                amount_in: wad(1),
                min_out: U256::ZERO,
            },
        );
        assert!(matches!(swapped, Outcome::Swapped { amount_out, .. } if amount_out == out));
        run(&mut engine, Action::RemoveLiquidity { pool: "P".into(), liquidity: lp, min: [U256::ZERO; 2] });
        let pool = engine.pool(0);
        assert_eq!(engine.token(pool.lp_token).total_supply, thousand_wei + fee_lp);
        assert_eq!(engine.balance(pool.lp_token, OTHER), fee_lp);
        if fee_on {
            assert_eq!(pool.reserves, [thousand_wei + bal0, thousand_wei + bal1]);
        }
    }
}
