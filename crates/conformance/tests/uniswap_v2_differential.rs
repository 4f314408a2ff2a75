//! Differential test: the engine's constant-product pool against the Uniswap V2 core bytecode
//! (`@uniswap/v2-core@1.0.1`) on revm, to the wei, after every step of hundreds of random
//! sequences (fixed seed).
//!
//! Each sequence deploys a fresh Factory, two ERC20s and their pair, and a fresh engine with the
//! same actors and balances. Steps are router flows (add liquidity with optimal amounts, remove a
//! fraction of an LP position, exact-in and exact-out swaps both ways, from tiny to far larger than
//! the reserves), the protocol fee switched on and off, and clock advances (some sequences start
//! just below 2^32 s so the pair's uint32 timestamp wraps). After every step both sides must agree
//! on the result (or both reject it, the engine's state hash then unchanged) and on the reserves,
//! blockTimestampLast, both price accumulators, kLast, the LP supply, the LP balances of every
//! actor, the zero address and feeTo, and the token balances of the actors and the pool.

use alloy_primitives::{Address, U256};
use granary_conformance::oracles;
use granary_conformance::rng::Rng;
use granary_conformance::uniswap_v2::V2Evm;
use granary_engine::{Action, Engine, Minter, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const SEED: u64 = 0x6772_616e_6172_7932;
const SEQUENCES: usize = 1000;
const DEPLOYER: Address = Address::with_last_byte(0xd0);
const SETTER: Address = Address::with_last_byte(0xf0);
const FEE_TO: Address = Address::with_last_byte(0xfe);
const ACTORS: [Address; 3] =
    [Address::with_last_byte(0xa1), Address::with_last_byte(0xa2), Address::with_last_byte(0xa3)];
const POOL: &str = "AB";
const IDS: [&str; 2] = ["A", "B"];

fn bit_len(x: U256) -> i64 {
    x.bit_len() as i64
}

/// One step of a sequence, in the engine's terms (sides are the engine pool's token order).
#[derive(Debug, Clone)]
enum Step {
    Add {
        actor: usize,
        desired: [U256; 2],
    },
    Remove {
        actor: usize,
        liquidity: U256,
    },
    SwapIn {
        actor: usize,
        side_in: usize,
        amount_in: U256,
    },
    SwapOut {
        actor: usize,
        side_in: usize,
        amount_out: U256,
    },
    /// `Some(actor)`: a non-setter tries (must fail on both).
    FeeSwitch {
        on: bool,
        intruder: Option<usize>,
    },
}

/// What a step produced, in the engine pool's side order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StepResult {
    Liquidity { amounts: [U256; 2], liquidity: U256 },
    Removed { amounts: [U256; 2] },
    Swapped { amount_in: U256, amount_out: U256 },
    Done,
}

struct World {
    engine: Engine,
    chain: usize,
    pool: usize,
    lp: usize,
    tokens: [usize; 2],
    evm: V2Evm,
    /// Engine token `i` is the ERC20 at `evm_token[i]`...
    evm_token: [alloy_primitives::Address; 2],
    /// ...which is the pair's token `evm_side[i]` (0 = token0).
    evm_side: [usize; 2],
}

const ACTOR_FUNDS_BITS: usize = 115; // 2^115 > 2^112: enough to overflow the uint112 reserves

impl World {
    fn new(rng: &mut Rng, artifacts: &oracles::V2CoreArtifacts, start: u64) -> Self {
        let funds = U256::from(1u8) << ACTOR_FUNDS_BITS;
        let supply = U256::from(1u8) << 200;
        let mut evm = V2Evm::deploy(artifacts, DEPLOYER, SETTER, supply, start).expect("deploy");
        // Which deployed ERC20 plays engine token A: both mappings onto token0/token1 occur.
        let flip = rng.chance(50);
        let evm_token = if flip { [evm.tokens[1], evm.tokens[0]] } else { evm.tokens };
        let evm_side = evm_token.map(|t| usize::from(t != evm.token0));
        for token in evm.tokens {
            for a in ACTORS {
                evm.transfer(token, DEPLOYER, a, funds).expect("fund");
            }
        }
        let mut engine = Engine::new();
        let chain = engine.create_chain("evm", 1, "evm", 12).expect("chain");
        engine.advance(chain, start).expect("clock");
        let mut tokens = [0usize; 2];
        for (i, id) in IDS.iter().enumerate() {
            tokens[i] = engine.create_token(id, chain, id, 18, Minter::Account(DEPLOYER)).expect("token");
            for a in ACTORS {
                engine.faucet_mint(tokens[i], a, funds).expect("fund");
            }
        }
        engine
            .execute(SETTER, &Action::CreatePool { id: POOL.into(), tokens: IDS.map(String::from), fee_bps: 30 })
            .expect("pool");
        let pool = engine.pool_ix(POOL).expect("pool ix");
        let lp = engine.pool(pool).lp_token;
        assert_eq!(engine.now(chain), evm.timestamp());
        Self { engine, chain, pool, lp, tokens, evm, evm_token, evm_side }
    }

    fn advance(&mut self, seconds: u64) {
        self.engine.advance(self.chain, seconds).expect("advance");
        self.evm.set_timestamp(self.engine.now(self.chain));
    }

    /// Pair-ordered → engine-ordered.
    fn evm_to_engine_order(&self, v: [U256; 2]) -> [U256; 2] {
        [v[self.evm_side[0]], v[self.evm_side[1]]]
    }

    fn run_engine(&mut self, step: &Step) -> Result<StepResult, String> {
        let (sender, action) = match step {
            Step::Add { actor, desired } => {
                (ACTORS[*actor], Action::AddLiquidity { pool: POOL.into(), amounts: *desired, min: [U256::ZERO; 2] })
            }
            Step::Remove { actor, liquidity } => (
                ACTORS[*actor],
                Action::RemoveLiquidity { pool: POOL.into(), liquidity: *liquidity, min: [U256::ZERO; 2] },
            ),
            Step::SwapIn { actor, side_in, amount_in } => (
                ACTORS[*actor],
                Action::SwapExactIn {
                    path: vec![POOL.into()],
                    token_in: IDS[*side_in].into(),
                    amount_in: *amount_in,
                    min_out: U256::ZERO,
                },
            ),
            Step::SwapOut { actor, side_in, amount_out } => (
                ACTORS[*actor],
                Action::SwapExactOut {
                    path: vec![POOL.into()],
                    token_in: IDS[*side_in].into(),
                    amount_out: *amount_out,
                    max_in: U256::MAX,
                },
            ),
            Step::FeeSwitch { on, intruder } => (
                intruder.map_or(SETTER, |a| ACTORS[a]),
                Action::SetFeeTo { pool: POOL.into(), fee_to: on.then_some(FEE_TO) },
            ),
        };
        let before = self.engine.state_hash();
        match self.engine.execute(sender, &action) {
            Ok(outcome) => Ok(match outcome {
                Outcome::Liquidity { liquidity, amounts } => StepResult::Liquidity { amounts, liquidity },
                Outcome::Removed { amounts } => StepResult::Removed { amounts },
                Outcome::Swapped { amount_in, amount_out, .. } => StepResult::Swapped { amount_in, amount_out },
                Outcome::Done => StepResult::Done,
                other => panic!("unexpected outcome {other:?}"),
            }),
            Err(e) => {
                assert_eq!(self.engine.state_hash(), before, "a rejected step ({e}) changed the engine state");
                Err(format!("{} ({e})", e.code()))
            }
        }
    }

    fn run_evm(&mut self, step: &Step) -> Result<StepResult, String> {
        let r = match step {
            Step::Add { actor, desired } => {
                let a = ACTORS[*actor];
                // Router02.addLiquidity(A, B, …) with A = the engine pool's first token
                self.evm
                    .add_liquidity(a, self.evm_token[0], *desired, a)
                    .map(|(amounts, liquidity)| StepResult::Liquidity { amounts, liquidity })
            }
            Step::Remove { actor, liquidity } => {
                let a = ACTORS[*actor];
                self.evm
                    .remove_liquidity(a, *liquidity, a)
                    .map(|amounts| StepResult::Removed { amounts: self.evm_to_engine_order(amounts) })
            }
            Step::SwapIn { actor, side_in, amount_in } => {
                let a = ACTORS[*actor];
                let zero_for_one = self.evm_side[*side_in] == 0;
                self.evm
                    .swap_exact_in(a, zero_for_one, *amount_in, a)
                    .map(|amount_out| StepResult::Swapped { amount_in: *amount_in, amount_out })
            }
            Step::SwapOut { actor, side_in, amount_out } => {
                let a = ACTORS[*actor];
                let zero_for_one = self.evm_side[*side_in] == 0;
                self.evm
                    .swap_exact_out(a, zero_for_one, *amount_out, a)
                    .map(|amount_in| StepResult::Swapped { amount_in, amount_out: *amount_out })
            }
            Step::FeeSwitch { on, intruder } => {
                let from = intruder.map_or(SETTER, |a| ACTORS[a]);
                let to = if *on { FEE_TO } else { Address::ZERO };
                self.evm.set_fee_to(from, to).map(|()| StepResult::Done)
            }
        };
        r.map_err(|e| e.0)
    }

    /// Every observable of the pool on both sides; the differences, if any.
    fn differences(&mut self) -> Vec<String> {
        let mut diffs = Vec::new();
        let mut check = |what: String, engine: U256, evm: U256| {
            if engine != evm {
                diffs.push(format!("{what}: engine {engine} != evm {evm}"));
            }
        };
        let p = self.engine.pool(self.pool).clone();
        let (reserves, ts) = self.evm.reserves();
        let reserves = self.evm_to_engine_order(reserves);
        let cumulative = self.evm.price_cumulative_last();
        let cumulative = self.evm_to_engine_order(cumulative);
        for i in 0..2 {
            check(format!("reserve[{i}]"), p.reserves[i], reserves[i]);
            check(format!("priceCumulativeLast[{i}]"), p.price_cumulative[i], cumulative[i]);
        }
        check("blockTimestampLast".into(), U256::from(p.block_timestamp_last), U256::from(ts));
        check("kLast".into(), p.k_last, self.evm.k_last());
        let pair = self.evm.pair;
        check("LP totalSupply".into(), self.engine.token(self.lp).total_supply, self.evm.total_supply(pair));
        let holders = [
            ("actor0", ACTORS[0]),
            ("actor1", ACTORS[1]),
            ("actor2", ACTORS[2]),
            ("zero", Address::ZERO),
            ("feeTo", FEE_TO),
        ];
        for (name, who) in holders {
            check(format!("LP balance of {name}"), self.engine.balance(self.lp, who), self.evm.balance_of(pair, who));
        }
        check(
            "LP balance of the pool".into(),
            self.engine.balance(self.lp, p.address),
            self.evm.balance_of(pair, pair),
        );
        for (i, id) in IDS.iter().enumerate() {
            let (t, et) = (self.tokens[i], self.evm_token[i]);
            for (k, a) in ACTORS.iter().enumerate() {
                check(format!("{id} balance of actor{k}"), self.engine.balance(t, *a), self.evm.balance_of(et, *a));
            }
            check(
                format!("{id} balance of the pool"),
                self.engine.balance(t, p.address),
                self.evm.balance_of(et, pair),
            );
        }
        diffs
    }
}

/// A random step given the current pool state.
fn random_step(rng: &mut Rng, w: &World, fee_sequence: bool) -> Step {
    let p = w.engine.pool(w.pool);
    let reserves = p.reserves;
    let actor = rng.below(3) as usize;
    let empty = reserves[0].is_zero();
    let roll = rng.below(100);
    if empty || roll < 22 {
        // add liquidity
        let desired = if empty {
            match rng.below(20) {
                // √(a·b) ≤ 1000 territory
                0 | 1 => [U256::from(rng.below(40_000)), U256::from(rng.below(40_000))],
                // uint112 overflow or beyond the actor's funds
                2 => [rng.bits_near(0, 100, 116), rng.bits_near(0, 108, 116)],
                // unrelated magnitudes: extreme prices
                3..=7 => [rng.bits_near(0, 20, 100), rng.bits_near(0, 20, 100)],
                _ => {
                    let a = rng.bits_near(0, 40, 100);
                    let b = rng.bits_near(bit_len(a), -20, 20);
                    [a, b]
                }
            }
        } else {
            let mut d = [U256::ZERO; 2];
            for i in 0..2 {
                d[i] = match rng.below(25) {
                    0 => U256::ZERO,
                    1 => U256::from(1 + rng.below(1000)),
                    2 => rng.bits_near(0, 112, 117),
                    _ => rng.bits_near(bit_len(reserves[i]), -50, 6),
                };
            }
            d
        };
        return Step::Add { actor, desired };
    }
    if roll < 40 {
        // mostly someone who holds LP tokens
        let holders: Vec<usize> = (0..3).filter(|&a| !w.engine.balance(w.lp, ACTORS[a]).is_zero()).collect();
        let actor = if !holders.is_empty() && rng.chance(85) {
            holders[rng.below(holders.len() as u64) as usize]
        } else {
            actor
        };
        let bal = w.engine.balance(w.lp, ACTORS[actor]);
        let liquidity = match rng.below(12) {
            0 => U256::ZERO,
            1 => U256::from(1u8),
            2 => U256::from(1 + rng.below(100_000)),
            3 | 4 => bal,
            5 => bal + U256::from(1u8),
            _ => rng.below_u256(bal) + U256::from(1u8),
        };
        return Step::Remove { actor, liquidity };
    }
    let side_in = rng.below(2) as usize;
    if roll < 78 {
        let r_in = reserves[side_in];
        let amount_in = match rng.below(20) {
            0 => U256::ZERO,
            1 => U256::from(1 + rng.below(1000)),
            2 => rng.bits_near(0, 100, 117),
            3 => rng.bits_near(bit_len(r_in), 0, 12),
            _ => rng.bits_near(bit_len(r_in), -70, 2),
        };
        return Step::SwapIn { actor, side_in, amount_in };
    }
    if roll < 92 || !fee_sequence {
        let r_out = reserves[1 - side_in];
        let amount_out = match rng.below(20) {
            0 => U256::ZERO,
            1 => U256::from(1 + rng.below(1000)),
            2 => r_out,
            3 => r_out.saturating_sub(U256::from(1 + rng.below(3))),
            _ => rng.bits_near(bit_len(r_out), -70, 0),
        };
        return Step::SwapOut { actor, side_in, amount_out };
    }
    let on = rng.chance(70);
    let intruder = rng.chance(15).then_some(actor);
    Step::FeeSwitch { on, intruder }
}

fn random_advance(rng: &mut Rng) -> Option<u64> {
    match rng.below(10) {
        0..=3 => None,
        4 => Some(0),
        5 | 6 => Some(1 + rng.below(30)),
        7 | 8 => Some(1 + rng.below(100_000)),
        _ => Some(1 + rng.below(1 << 31)),
    }
}

#[derive(Default)]
struct Tally {
    sequences: usize,
    fee_sequences: usize,
    wrapping_sequences: usize,
    steps: usize,
    both_ok: [usize; 5],
    both_err: [usize; 5],
    advances: usize,
    /// (step kind, engine error code, EVM revert reason) → count.
    rejections: BTreeMap<(usize, String, String), usize>,
}

const KINDS: [&str; 5] = ["add", "remove", "swap-in", "swap-out", "fee-switch"];

fn kind(step: &Step) -> usize {
    match step {
        Step::Add { .. } => 0,
        Step::Remove { .. } => 1,
        Step::SwapIn { .. } => 2,
        Step::SwapOut { .. } => 3,
        Step::FeeSwitch { .. } => 4,
    }
}

#[test]
fn engine_matches_uniswap_v2_bytecode_to_the_wei() {
    let artifacts = oracles::v2_core().expect("Uniswap V2 core artifacts");
    let mut rng = Rng::seeded(SEED);
    let mut tally = Tally::default();
    for seq in 0..SEQUENCES {
        let start = match rng.below(4) {
            0 => (1u64 << 32) - 1 - rng.below(3_000_000),
            1 => rng.below(1000),
            _ => 1_600_000_000 + rng.below(200_000_000),
        };
        let mut w = World::new(&mut rng, &artifacts, start);
        let fee_sequence = rng.chance(40);
        let len = 20 + rng.below(21);
        let mut log = String::new();
        let _ = writeln!(
            log,
            "sequence {seq}: start {start}, engine token order = pair sides {:?}, fee {}",
            w.evm_side,
            if fee_sequence { "on" } else { "off" }
        );
        if fee_sequence && rng.chance(80) {
            // the common case: the fee is on before the first liquidity event
            let step = Step::FeeSwitch { on: true, intruder: None };
            let (e, v) = (w.run_engine(&step), w.run_evm(&step));
            assert!(e.is_ok() && v.is_ok(), "{log}fee switch: {e:?} / {v:?}");
            let _ = writeln!(log, "  fee on");
        }
        let mut wrapped = false;
        for i in 0..len {
            if let Some(dt) = random_advance(&mut rng) {
                w.advance(dt);
                tally.advances += 1;
                wrapped |= (w.engine.now(w.chain) >> 32) != (start >> 32);
                let _ = writeln!(log, "  advance {dt} s -> t = {}", w.engine.now(w.chain));
            }
            let step = random_step(&mut rng, &w, fee_sequence);
            let e = w.run_engine(&step);
            let v = w.run_evm(&step);
            let _ = writeln!(log, "  step {i}: {step:?}\n    engine {e:?}\n    evm    {v:?}");
            match (&e, &v) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{log}results differ");
                    tally.both_ok[kind(&step)] += 1;
                }
                (Err(a), Err(b)) => {
                    tally.both_err[kind(&step)] += 1;
                    let code = a.split(' ').next().unwrap_or_default().to_string();
                    let key = (kind(&step), code, b.clone());
                    *tally.rejections.entry(key).or_default() += 1;
                }
                _ => panic!("{log}one side rejected the step, the other did not"),
            }
            let diffs = w.differences();
            assert!(diffs.is_empty(), "{log}state differs:\n  {}", diffs.join("\n  "));
            tally.steps += 1;
        }
        tally.sequences += 1;
        tally.fee_sequences += usize::from(fee_sequence);
        tally.wrapping_sequences += usize::from(wrapped);
    }
    let per_kind: Vec<String> =
        (0..5).map(|k| format!("{} {} ok/{} rejected", KINDS[k], tally.both_ok[k], tally.both_err[k])).collect();
    println!(
        "uniswap_v2_differential: {} sequences ({} with the protocol fee, {} crossing a 2^32 s \
         timestamp wrap), {} steps compared to the wei after each step, {} clock advances; {}",
        tally.sequences,
        tally.fee_sequences,
        tally.wrapping_sequences,
        tally.steps,
        tally.advances,
        per_kind.join(", ")
    );
    println!("rejected by both (count, step, engine error code, EVM revert reason):");
    for ((k, code, reason), count) in &tally.rejections {
        println!("  {count:6}  {:<10}  {code:<30}  {reason}", KINDS[*k]);
    }
    assert_eq!(tally.sequences, SEQUENCES);
    assert!(tally.sequences >= 500);
    assert!(tally.steps >= 500 * 20);
    assert!(tally.fee_sequences >= 100);
    assert!(tally.wrapping_sequences >= 20);
    for (k, name) in KINDS.iter().enumerate() {
        assert!(tally.both_ok[k] >= 50 && tally.both_err[k] >= 10, "too little coverage of {name}");
    }
}
