//! Attacks on the engine, each test named for the attack it tries and asserting what stops it:
//! sandwiching a user's swap, inflating a new pool's share price by donation, replaying signed
//! transactions across chains, nonces and deadlines, and acting on another's positions or on a
//! farm's and a pool's owner powers. `rejections.rs` covers the plain refusals (a replay of an
//! accepted transaction, a wrong chain id, an expired deadline, the first owner checks); these
//! tests take the variants it leaves out. Every sweep is seeded, so every run is the same.

use granary_engine::amm::{MINIMUM_LIQUIDITY, get_amount_out};
use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, EngineError, Outcome, SignedTransaction, Transaction, U256};

const DAY: u64 = 86_400;

fn u(x: u64) -> U256 {
    U256::from(x)
}

fn pow10(e: u32) -> U256 {
    U256::from(10u8).pow(U256::from(e))
}

fn e18(x: u64) -> U256 {
    u(x) * pow10(18)
}

fn addr(name: &str) -> Address {
    key_address(&dev_key(name))
}

/// `a·b`, failing the test (never wrapping) if the product leaves 256 bits.
fn mul(a: U256, b: U256) -> U256 {
    a.checked_mul(b).expect("the test's own arithmetic stays inside 256 bits")
}

/// SplitMix64: a seeded generator with no dependency, so every sweep is identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// `m·10^e`, m in 1..=999, e in `lo..=hi`: sizes across many orders of magnitude.
    fn magnitude(&mut self, lo: u32, hi: u32) -> U256 {
        let e = self.range(u64::from(lo), u64::from(hi)) as u32;
        u(self.range(1, 999)) * pow10(e)
    }
}

#[derive(Clone)]
struct World {
    e: Engine,
}

impl World {
    /// Ethereum (chain 1, 12-second blocks) and BNB Chain (chain 56, 3-second blocks).
    fn new() -> World {
        let mut e = Engine::new();
        assert_eq!(e.create_chain("eth", 1, "ethereum", 12), Ok(0));
        assert_eq!(e.create_chain("bsc", 56, "bnb", 3), Ok(1));
        World { e }
    }

    /// A token minted by `owner`, with `amount` from the faucet for each of `holders`.
    fn token(&mut self, id: &str, chain: usize, decimals: u8, holders: &[&str], amount: U256) {
        let t = self.e.create_token(id, chain, id, decimals, Minter::Account(addr("owner"))).expect("token");
        for h in holders {
            self.e.faucet_mint(t, addr(h), amount).expect("faucet");
        }
    }

    fn chain_id_of(&self, action: &Action) -> u64 {
        let ix = self.e.action_chain(action).expect("the action names existing objects");
        self.e.chain(ix).chain_id
    }

    fn sign_with(&self, who: &str, chain_id: u64, nonce: u64, deadline: u64, action: Action) -> SignedTransaction {
        Transaction { chain_id, sender: addr(who), nonce, deadline, action }.sign(&dev_key(who))
    }

    /// Signed for the action's chain with the sender's next nonce and no deadline to speak of.
    fn sign(&self, who: &str, action: Action) -> SignedTransaction {
        let chain_id = self.chain_id_of(&action);
        let chain = self.e.chain_ix_by_eip155(chain_id).expect("chain");
        let nonce = self.e.nonce(chain, addr(who));
        self.sign_with(who, chain_id, nonce, u64::MAX, action)
    }

    fn ok(&mut self, who: &str, action: Action) -> Outcome {
        let stx = self.sign(who, action);
        match self.e.submit(&stx) {
            Ok(out) => out,
            Err(err) => panic!("{who}: {:?} was refused: {err}", stx.tx.action),
        }
    }

    /// Submit and assert: refused with `code`, and the state (hash and encoding) unchanged.
    fn refused(&mut self, stx: &SignedTransaction, code: &str) -> EngineError {
        let hash = self.e.state_hash();
        let encoded = self.e.encode_state();
        let err = match self.e.submit(stx) {
            Ok(out) => panic!("{:?} was accepted ({out:?}); expected {code}", stx.tx.action),
            Err(err) => err,
        };
        assert_eq!(err.code(), code, "{:?}: {err}", stx.tx.action);
        assert_eq!(self.e.state_hash(), hash, "a refused {:?} changed the state hash", stx.tx.action);
        assert_eq!(self.e.encode_state(), encoded);
        err
    }

    fn refuse(&mut self, who: &str, action: Action, code: &str) -> EngineError {
        let stx = self.sign(who, action);
        self.refused(&stx, code)
    }

    fn accepts(&mut self, stx: &SignedTransaction) -> Outcome {
        self.e.submit(stx).unwrap_or_else(|err| panic!("{:?} was refused: {err}", stx.tx.action))
    }

    fn bal(&self, token: &str, who: Address) -> U256 {
        self.e.balance(self.e.token_ix(token).expect("token"), who)
    }

    fn reserves(&self, pool: &str) -> [U256; 2] {
        self.e.pool(self.e.pool_ix(pool).expect("pool")).reserves
    }
}

fn swap(token_in: &str, amount_in: U256, min_out: U256) -> Action {
    Action::SwapExactIn { path: vec!["P".into()], token_in: token_in.into(), amount_in, min_out }
}

fn swapped_out(out: &Outcome) -> U256 {
    match out {
        Outcome::Swapped { amount_out, .. } => *amount_out,
        other => panic!("not a swap outcome: {other:?}"),
    }
}

// ------------------------------------------------------------------------------------ sandwich

/// A USDC/WETH pool (USDC is token 0) holding `usdc` and `weth`, with the attacker and the user
/// funded far beyond any trade of the sweep.
fn sandwich_world(fee_bps: u32, usdc: U256, weth: U256) -> World {
    let mut w = World::new();
    let rich = pow10(32);
    w.token("USDC", 0, 6, &["lp", "attacker", "user"], rich);
    w.token("WETH", 0, 18, &["lp", "attacker", "user"], rich);
    w.ok("lp", Action::CreatePool { id: "P".into(), tokens: ["USDC".into(), "WETH".into()], fee_bps });
    w.ok("lp", Action::AddLiquidity { pool: "P".into(), amounts: [usdc, weth], min: [U256::ZERO; 2] });
    w
}

/// The user's signed exact-in swap: `x` USDC for WETH, at least `min_out`.
struct Victim {
    stx: SignedTransaction,
    x: U256,
    /// The quote at signing time and the signed bound `quote·(10000 − slippage)/10000`.
    quote: U256,
    min_out: U256,
}

/// What one sandwich did: the user's output (`None`: refused), the attacker's USDC in and back.
struct Sandwiched {
    user_out: Option<U256>,
    front_in: U256,
    back_out: U256,
}

/// The user's output after a front-run of `front` USDC, by the pool's formula.
fn user_out_after(x: U256, front: U256, reserves: [U256; 2], fee: u32) -> U256 {
    let [mut usdc, mut weth] = reserves;
    if !front.is_zero() {
        let w = get_amount_out(front, usdc, weth, fee).expect("front-run quote");
        usdc += front;
        weth -= w;
    }
    get_amount_out(x, usdc, weth, fee).expect("user quote")
}

/// The largest front-run (in USDC) after which the user's swap still meets its bound, found by
/// bisection on the pool's formula; `None` if even the largest front-run tried leaves it valid.
fn largest_tolerated_front_run(v: &Victim, reserves: [U256; 2], fee: u32) -> Option<U256> {
    let (mut lo, mut hi) = (U256::ZERO, mul(reserves[0], u(1000)));
    if user_out_after(v.x, hi, reserves, fee) >= v.min_out {
        return None;
    }
    while hi - lo > u(1) {
        let mid = (lo + hi) >> 1;
        if user_out_after(v.x, mid, reserves, fee) >= v.min_out {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// Run front-run, the user's swap and the back-run on a copy of `base`, asserting at each step:
/// the user gets exactly the pool's output and at least `min_out`, or is refused with
/// `slippage` and nothing changes.
fn sandwich(base: &World, v: &Victim, front: U256, fee: u32) -> Sandwiched {
    let mut w = base.clone();
    let attacker = addr("attacker");
    let user = addr("user");
    let mut bought = U256::ZERO;
    let mut front_in = U256::ZERO;
    if !front.is_zero() {
        let stx = w.sign("attacker", swap("USDC", front, U256::ZERO));
        match w.e.submit(&stx) {
            Ok(out) => {
                bought = swapped_out(&out);
                front_in = front;
            }
            // A front-run too small to buy a single wei is no front-run.
            Err(err) => assert_eq!(err.code(), "insufficient_output_amount", "{err}"),
        }
    }
    let expected = get_amount_out(v.x, w.reserves("P")[0], w.reserves("P")[1], fee).expect("quote");
    let (usdc0, weth0) = (w.bal("USDC", user), w.bal("WETH", user));
    let user_out = if expected >= v.min_out {
        let out = swapped_out(&w.e.submit(&v.stx).unwrap_or_else(|err| panic!("user's swap refused: {err}")));
        assert_eq!(out, expected, "the user gets the pool's output at the reserves it meets");
        assert!(out >= v.min_out, "the user received {out} < signed min_out {}", v.min_out);
        assert_eq!(w.bal("USDC", user), usdc0 - v.x);
        assert_eq!(w.bal("WETH", user), weth0 + out);
        Some(out)
    } else {
        let err = w.refused(&v.stx, "slippage");
        assert_eq!(err, EngineError::Slippage { field: "amount_out", actual: expected, bound: v.min_out });
        assert_eq!((w.bal("USDC", user), w.bal("WETH", user)), (usdc0, weth0));
        None
    };
    let mut back_out = U256::ZERO;
    if !bought.is_zero() {
        let usdc_before = w.bal("USDC", attacker);
        back_out = swapped_out(&w.ok("attacker", swap("WETH", bought, U256::ZERO)));
        assert_eq!(w.bal("USDC", attacker), usdc_before + back_out);
    }
    Sandwiched { user_out, front_in, back_out }
}

/// The attacker's profit bound. With reserves X (USDC), Y (WETH) before the attack, the user's
/// input x, fee f and γ = (10000 − f)/10000, the user's quote q and actual output y:
///
/// ```text
/// π = back_out − front_in ≤ x·f/10000 + (q − y + 1)·(X + x·γ)²/(X·Y)
/// ```
///
/// Proof: the pool ends with X + x − π USDC and Y − y WETH, and k never decreases on a swap, so
/// π ≤ X + x − X·Y/(Y − y). With q* = x·γ·Y/(X + x·γ) the unrounded quote (q ≤ q* < q + 1),
/// X·Y/(Y − q*) = X + x·γ, and by convexity of t ↦ X·Y/(Y − t),
/// X·Y/(Y − y) ≥ X + x·γ − (q* − y)·(X + x·γ)²/(X·Y). So the attacker takes at most the user's
/// swap fee plus the user's loss against the quote (plus one wei) at the marginal price the
/// user's own trade would have left. Checked here in integers, multiplied by 10000²·X·Y.
fn profit_bound_holds(profit: U256, loss_vs_quote: U256, x: U256, reserves: [U256; 2], fee: u32) -> bool {
    let [big_x, big_y] = reserves;
    let xy = mul(big_x, big_y);
    let lhs = mul(mul(profit, xy), u(100_000_000));
    let fee_part = mul(mul(mul(x, u(u64::from(fee))), xy), u(10_000));
    let after = mul(big_x, u(10_000)) + mul(x, u(u64::from(10_000 - fee)));
    let price_part = mul(loss_vs_quote + u(1), mul(after, after));
    lhs <= fee_part + price_part
}

#[test]
fn sandwich_attacker_never_takes_more_than_the_signed_slippage_bound() {
    let mut rng = Rng(0x5a4d_7769_6368);
    let (mut refused, mut accepted, mut profitable, mut cases) = (0u32, 0u32, 0u32, 0u32);
    while cases < 500 {
        let fee = [0u32, 5, 30, 100][rng.range(0, 3) as usize];
        // X USDC base units (1e3 to 1e11 USDC), WETH at $1 to $100 000.
        let big_x = rng.magnitude(9, 14);
        let big_y = big_x * pow10(12) / u(rng.range(1, 100_000));
        // The user trades 1e-9 to 0.999 of the USDC reserve, log-uniformly.
        let x = big_x * rng.magnitude(0, 6) / pow10(9);
        let slippage = rng.range(1, 1000);
        let base = sandwich_world(fee, big_x, big_y);
        let reserves = base.reserves("P");
        assert_eq!(reserves, [big_x, big_y]);
        let quote = base.e.quote_exact_in(&[0], 0, x).map(|q| q[1]).unwrap_or_default();
        let min_out = quote * u(10_000 - slippage) / u(10_000);
        if min_out.is_zero() {
            continue;
        }
        cases += 1;
        let user = addr("user");
        let now = base.e.now(0);
        let stx = base.sign_with("user", 1, base.e.nonce(0, user), now + 120, swap("USDC", x, min_out));
        let v = Victim { stx, x, quote, min_out };
        // A random front-run, the largest the bound tolerates, and one USDC unit more.
        let mut fronts = vec![big_x * u(rng.range(0, 2_000_000)) / u(1_000_000)];
        if let Some(edge) = largest_tolerated_front_run(&v, reserves, fee) {
            fronts.extend([edge, edge + u(1)]);
        }
        for (i, front) in fronts.iter().enumerate() {
            let s = sandwich(&base, &v, *front, fee);
            match s.user_out {
                Some(y) => {
                    accepted += 1;
                    assert!(i != 2, "one unit beyond the largest tolerated front-run was accepted");
                    // The user loses at most the tolerated slippage against the quote.
                    assert!(y >= v.min_out && y <= v.quote);
                    if s.back_out > s.front_in {
                        profitable += 1;
                        let profit = s.back_out - s.front_in;
                        assert!(
                            profit_bound_holds(profit, v.quote - y, x, reserves, fee),
                            "profit {profit} beyond the fee plus the user's loss {} (fee {fee})",
                            v.quote - y
                        );
                        assert!(profit_bound_holds(profit, v.quote - v.min_out, x, reserves, fee));
                    }
                }
                None => {
                    refused += 1;
                    assert!(i != 1, "the largest tolerated front-run made the user's swap fail");
                    // Without the user's trade the attacker's round trip cannot gain.
                    assert!(s.back_out <= s.front_in, "a refused sandwich paid {} for {}", s.back_out, s.front_in);
                }
            }
        }
    }
    assert!(
        refused >= 200 && accepted >= 200 && profitable >= 100,
        "{refused} refused, {accepted} accepted, {profitable} profitable"
    );
}

// ----------------------------------------------------------------------- donation / first deposit

/// Two 18-decimal tokens worth the same, A and B; the attacker and the victim hold 10^12 of each.
fn donation_world() -> World {
    let mut w = World::new();
    for t in ["A", "B"] {
        w.token(t, 0, 18, &["attacker", "victim", "lp"], e18(1_000_000_000_000));
    }
    w
}

fn pool_address(w: &World, pool: &str) -> Address {
    w.e.pool(w.e.pool_ix(pool).expect("pool")).address
}

fn lp_supply(w: &World, pool: &str) -> U256 {
    w.e.token(w.e.token_ix(pool).expect("lp token")).total_supply
}

fn removed(out: &Outcome) -> [U256; 2] {
    match out {
        Outcome::Removed { amounts } => *amounts,
        other => panic!("not a removal: {other:?}"),
    }
}

/// A direct transfer to a pool's address is not a deposit: reserves stay until the pair next
/// updates (balance-based, as V2's `mint`/`burn`/`swap` measure `balance − reserve`; there is no
/// `skim` or `sync` action). A swap is priced on the reserves and then takes the donation into
/// them; the next `mint` credits a pending donation to whoever mints.
#[test]
fn donation_to_a_pool_address_is_taken_in_by_its_next_update_as_in_v2() {
    let mut w = donation_world();
    w.ok("lp", Action::CreatePool { id: "P".into(), tokens: ["A".into(), "B".into()], fee_bps: 30 });
    w.ok("lp", Action::AddLiquidity { pool: "P".into(), amounts: [e18(1000), e18(1000)], min: [U256::ZERO; 2] });
    let pool = pool_address(&w, "P");
    for t in ["A", "B"] {
        w.ok("attacker", Action::Transfer { token: t.into(), to: pool, amount: e18(100) });
    }
    assert_eq!(w.reserves("P"), [e18(1000), e18(1000)], "a donation does not move the reserves");
    assert_eq!(w.bal("A", pool), e18(1100));
    // A swap is priced on the reserves, not the balance, and then syncs the donation in.
    let mut swapper = w.clone();
    let quote = get_amount_out(e18(1), e18(1000), e18(1000), 30).expect("quote");
    assert_eq!(swapped_out(&swapper.ok("victim", swap("A", e18(1), U256::ZERO))), quote);
    assert_eq!(swapper.reserves("P"), [e18(1101), e18(1100) - quote]);
    // The next mint counts balance − reserve: the victim is credited with the donation.
    let supply = lp_supply(&w, "P");
    let out =
        w.ok("victim", Action::AddLiquidity { pool: "P".into(), amounts: [e18(10), e18(10)], min: [U256::ZERO; 2] });
    let Outcome::Liquidity { liquidity, amounts } = out else { panic!("{out:?}") };
    assert_eq!(amounts, [e18(10), e18(10)]);
    assert_eq!(liquidity, e18(110) * supply / e18(1000), "minted for 10 + the 100 donated");
    assert_eq!(w.reserves("P"), [e18(1110), e18(1110)]);
    let back = removed(&w.ok("victim", Action::RemoveLiquidity { pool: "P".into(), liquidity, min: [U256::ZERO; 2] }));
    assert!(back[0] > e18(100) && back[1] > e18(100), "the victim takes the donation: {back:?}");
}

/// The classic share-price inflation on a new pool: the attacker first-mints the least liquidity
/// it can (√(a0·a1) = 1001, so it holds 1 LP unit and 1000 are locked at the zero address), donates
/// to the pair and syncs it in with a small swap, so one LP unit is worth ≈ donation/1001, then a
/// victim adds liquidity and is minted `floor(min(A_i·S/R_i))` units.
///
/// What V2's arithmetic guarantees, asserted on every case (R, S before the victim's mint, S' after,
/// A the amounts the router took, o the other token):
/// - the victim loses less than `R_i·(1 + S/R_o)/S' + 1` of token i: one LP unit (the floor of
///   the mint), the router's `quote` rounding (S/R_o of a unit) and one base unit (the burn's floor);
/// - the 1000 locked units' share is never paid out: `S''·(attacker_i + victim_i) + 1000·R_i'' ≤ S''·R_i''`,
///   so the attacker's result is `victim's loss − 1000 units' worth` — it pays ≈ 1000/1001 of its
///   donation to the zero address to take at most about two units from the victim;
/// - hence the attacker never gets back more of either token than it put in.
///
/// A victim whose deposit would mint 0 units is refused and keeps everything.
#[test]
fn first_depositor_donation_inflation_leaves_the_attacker_with_less_than_it_spent() {
    let mut rng = Rng(0xd04a_710f);
    let (attacker, victim) = (addr("attacker"), addr("victim"));
    let (mut minted, mut refused) = (0u32, 0u32);
    for case in 0..150 {
        let mut w = donation_world();
        let start = [w.bal("A", attacker), w.bal("B", attacker)];
        w.ok("attacker", Action::CreatePool { id: "NEW".into(), tokens: ["A".into(), "B".into()], fee_bps: 30 });
        let first = w.ok(
            "attacker",
            Action::AddLiquidity { pool: "NEW".into(), amounts: [u(1001), u(1001)], min: [U256::ZERO; 2] },
        );
        assert_eq!(first, Outcome::Liquidity { liquidity: u(1), amounts: [u(1001), u(1001)] });
        let lp = w.e.token_ix("NEW").expect("lp");
        assert_eq!(w.e.balance(lp, Address::ZERO), MINIMUM_LIQUIDITY);
        // Donate (the first case is the textbook one: 10 000 tokens of each), then sync.
        let (d0, d1) = if case == 0 {
            (e18(10_000), e18(10_000))
        } else {
            let d0 = rng.magnitude(0, 24);
            (d0, if rng.range(0, 2) == 0 { d0 } else { rng.magnitude(0, 24) })
        };
        let pool = pool_address(&w, "NEW");
        w.ok("attacker", Action::Transfer { token: "A".into(), to: pool, amount: d0 });
        w.ok("attacker", Action::Transfer { token: "B".into(), to: pool, amount: d1 });
        w.ok(
            "attacker",
            Action::SwapExactIn { path: vec!["NEW".into()], token_in: "A".into(), amount_in: u(10), min_out: u(1) },
        );
        let r = w.reserves("NEW");
        assert_eq!((r[0], r[1]), (u(1011) + d0, w.bal("B", pool)), "the swap synced the donation in");
        let s = lp_supply(&w, "NEW");
        assert_eq!(s, u(1001));
        let spent = [start[0] - w.bal("A", attacker), start[1] - w.bal("B", attacker)];
        // The victim's deposit: a random size, B in proportion with some excess (or, where that
        // is more B than the victim holds, A in excess and the router takes less of it).
        let held = [w.bal("A", victim), w.bal("B", victim)];
        let v0 = if case == 0 { e18(19_999) } else { rng.magnitude(0, 25) };
        let v1 = (v0 * r[1] / r[0]).min(held[1] / u(2)).max(u(1)) + u(rng.range(0, 1000));
        let add =
            w.sign("victim", Action::AddLiquidity { pool: "NEW".into(), amounts: [v0, v1], min: [U256::ZERO; 2] });
        let hash = w.e.state_hash();
        let (liquidity, taken) = match w.e.submit(&add) {
            Ok(Outcome::Liquidity { liquidity, amounts }) => (liquidity, amounts),
            Ok(other) => panic!("{other:?}"),
            Err(err) => {
                assert_eq!(err.code(), "insufficient_liquidity_minted", "{err}");
                assert_eq!(w.e.state_hash(), hash);
                assert_eq!([w.bal("A", victim), w.bal("B", victim)], held, "a refused deposit takes nothing");
                refused += 1;
                (U256::ZERO, [U256::ZERO; 2])
            }
        };
        let r2 = w.reserves("NEW");
        let s2 = lp_supply(&w, "NEW");
        assert_eq!(w.e.balance(lp, Address::ZERO), MINIMUM_LIQUIDITY, "the locked units stay locked");
        let mut got = [U256::ZERO; 2];
        if !liquidity.is_zero() {
            minted += 1;
            let mut out = w.clone();
            got = removed(
                &out.ok("victim", Action::RemoveLiquidity { pool: "NEW".into(), liquidity, min: [U256::ZERO; 2] }),
            );
            for i in 0..2 {
                let o = 1 - i;
                let loss = taken[i].saturating_sub(got[i]);
                // loss·S'·R_o < R_i·(R_o + S) + S'·R_o
                assert!(
                    mul(mul(loss, s2), r[o]) < mul(r[i], r[o] + s) + mul(s2, r[o]),
                    "case {case}: the victim lost {loss} of token {i} depositing {} (R {r:?}, S {s}, S' {s2})",
                    taken[i]
                );
            }
        }
        // The attacker redeems its one unit, from the same state.
        let mut out = w.clone();
        let redeem = Action::RemoveLiquidity { pool: "NEW".into(), liquidity: u(1), min: [U256::ZERO; 2] };
        let stx = out.sign("attacker", redeem);
        let back = match out.e.submit(&stx) {
            Ok(o) => removed(&o),
            Err(err) => {
                assert_eq!(err.code(), "insufficient_liquidity_burned", "{err}");
                [U256::ZERO; 2]
            }
        };
        for i in 0..2 {
            assert!(
                mul(s2, back[i] + got[i]) + mul(MINIMUM_LIQUIDITY, r2[i]) <= mul(s2, r2[i]),
                "case {case}: the locked units' share of token {i} was paid out"
            );
            assert!(
                back[i] <= spent[i],
                "case {case}: the attacker got back {} of token {i} for {}",
                back[i],
                spent[i]
            );
        }
        if case == 0 {
            // 10 000 donated of each, 19 999 deposited: the victim is minted 2001 units for
            // 2001.9 units' worth and loses about 3 tokens of A; the attacker gets back under
            // 10 of each (≈ 1/1001 of its donation) and loses over 9 980 of each.
            assert_eq!(liquidity, u(2001));
            assert!(taken[0] - got[0] < e18(4), "{taken:?} {got:?}");
            for i in 0..2 {
                assert!(back[i] < e18(10) && spent[i] - back[i] > e18(9_980), "{back:?} {spent:?}");
            }
        }
    }
    assert!(minted >= 100 && refused >= 5, "{minted} minted, {refused} refused");
}

// ------------------------------------------------------------------------------- replays

/// Carol holds WETH on Ethereum and CAKE on BNB Chain and has never sent a transaction.
fn replay_world() -> World {
    let mut w = World::new();
    w.token("WETH", 0, 18, &["carol", "dave"], e18(1000));
    w.token("CAKE", 1, 18, &["carol", "dave"], e18(1000));
    w.e.advance(0, 3600).expect("advance");
    w.e.advance(1, 600).expect("advance");
    w
}

fn transfer(token: &str, amount: U256) -> Action {
    Action::Transfer { token: token.into(), to: addr("dave"), amount }
}

/// Nonces are per chain, so carol's next nonce is 0 on both chains: only the chain binding stops
/// a replay. A transaction accepted on chain 1, relabelled for chain 56 with the same nonce and
/// signature, is refused (its action acts on chain 1); a transaction signed under chain 1's
/// domain over chain 56's objects, relabelled for 56, has a signature that no longer recovers to
/// carol (the EIP-712 domain holds the chain id).
#[test]
fn cross_chain_replay_with_the_same_nonce_is_refused() {
    let mut w = replay_world();
    let carol = addr("carol");
    let on_eth = w.sign_with("carol", 1, 0, u64::MAX, transfer("WETH", e18(1)));
    w.accepts(&on_eth);
    assert_eq!((w.e.nonce(0, carol), w.e.nonce(1, carol)), (1, 0));
    let mut relabelled = on_eth.clone();
    relabelled.tx.chain_id = 56;
    w.refused(&relabelled, "wrong_chain");
    // Signed for chain 1 over a chain-56 token: refused on chain 1, and relabelled for 56 the
    // signature recovers to someone else.
    let wrong_domain = w.sign_with("carol", 1, 0, u64::MAX, transfer("CAKE", e18(1)));
    w.refused(&wrong_domain, "wrong_chain");
    let mut relabelled = wrong_domain.clone();
    relabelled.tx.chain_id = 56;
    assert_eq!(relabelled.clone().verify().map(|_| ()), Err(EngineError::BadSignature { sender: carol }));
    w.refused(&relabelled, "bad_signature");
    // Nonce 0 on chain 56 was free all along: the same transfer signed for 56 goes through.
    let cake = w.bal("CAKE", addr("dave"));
    let on_bsc = w.sign_with("carol", 56, 0, u64::MAX, transfer("CAKE", e18(1)));
    w.accepts(&on_bsc);
    assert_eq!(w.bal("CAKE", addr("dave")), cake + e18(1));
}

#[test]
fn replay_of_an_earlier_transaction_after_a_later_one_is_refused() {
    let mut w = replay_world();
    let first = w.sign_with("carol", 1, 0, u64::MAX, transfer("WETH", e18(1)));
    let second = w.sign_with("carol", 1, 1, u64::MAX, transfer("WETH", e18(2)));
    // Out of order: the later one waits for its nonce.
    w.refused(&second, "bad_nonce");
    w.accepts(&first);
    w.accepts(&second);
    for stale in [&first, &second] {
        let err = w.refused(stale, "bad_nonce");
        assert_eq!(err, EngineError::BadNonce { expected: 2, got: stale.tx.nonce });
    }
    assert_eq!(w.bal("WETH", addr("dave")), e18(1003));
}

/// A transaction is valid while `now ≤ deadline`, on the clock of its own chain: a deadline equal
/// to now is accepted, one second later it is expired; a refusal consumes no nonce.
#[test]
fn expired_deadline_boundary_is_now_inclusive_on_the_transactions_own_chain() {
    let mut w = replay_world();
    let now = w.e.now(0);
    let at_deadline = w.sign_with("carol", 1, 0, now, transfer("WETH", e18(1)));
    w.accepts(&at_deadline);
    let late = w.sign_with("carol", 1, 1, now, transfer("WETH", e18(1)));
    w.e.advance(0, 1).expect("advance");
    let err = w.refused(&late, "expired");
    assert_eq!(err, EngineError::Expired { deadline: now, now: now + 1 });
    assert_eq!(w.e.nonce(0, addr("carol")), 1, "the refusal used no nonce");
    let resigned = w.sign_with("carol", 1, 1, now + 1, transfer("WETH", e18(1)));
    w.accepts(&resigned);
    // BNB Chain's clock is its own: a deadline at its now is valid though Ethereum's is later.
    let bsc_now = w.e.now(1);
    assert!(bsc_now < now);
    let on_bsc = w.sign_with("carol", 56, 0, bsc_now, transfer("CAKE", e18(1)));
    w.clone().accepts(&on_bsc);
    w.e.advance(1, 3).expect("advance");
    w.refused(&on_bsc, "expired");
}

/// A refused transaction leaves the state, its nonce included, exactly as it was, so the same
/// signed bytes can be submitted again — by anyone — until its nonce is used or its deadline
/// passes. (An EVM chain would burn the nonce of a reverted transaction.) A swap refused for
/// slippage goes through later, once the price is back within its bound; the deadline is what
/// ends its life.
#[test]
fn refused_swap_can_be_resubmitted_until_its_deadline_and_no_later() {
    let mut w = sandwich_world(30, u(2_000_000) * pow10(6), e18(1000));
    let quote = w.e.quote_exact_in(&[0], 0, u(10_000) * pow10(6)).expect("quote")[1];
    let now = w.e.now(0);
    let signed = w.sign_with("user", 1, 0, now + 60, swap("USDC", u(10_000) * pow10(6), quote * u(995) / u(1000)));
    // The price moves against the user; the swap is refused.
    let bought = swapped_out(&w.ok("attacker", swap("USDC", u(50_000) * pow10(6), U256::ZERO)));
    w.refused(&signed, "slippage");
    assert_eq!(w.e.nonce(0, addr("user")), 0);
    // The price comes back: the very same bytes are valid again.
    let mut later = w.clone();
    later.ok("attacker", swap("WETH", bought, U256::ZERO));
    later.e.advance(0, 60).expect("advance");
    // Within its deadline the refused swap is still live.
    later.clone().accepts(&signed);
    later.e.advance(0, 1).expect("advance");
    later.refused(&signed, "expired");
}

// ------------------------------------------------------------------------- authorization

/// WETH/USDC pool `P` created by `owner`; farm `F` (no timelock) with pool `F0` staking P's LP
/// token, alice staked; farm `G` whose owner powers wait 2 days; staking pool `S` on BNB Chain
/// (flexible and 90-day terms, early exit forbidden) with alice's flexible position 0 and locked
/// position 1.
fn owned_world() -> World {
    let mut w = World::new();
    for (id, chain) in [("WETH", 0usize), ("USDC", 0), ("RWD", 0), ("RWD2", 0), ("CAKE", 1)] {
        w.token(id, chain, 18, &["alice", "bob", "owner"], e18(1_000_000));
    }
    w.ok("owner", Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    w.ok("alice", Action::AddLiquidity { pool: "P".into(), amounts: [e18(100), e18(200_000)], min: [U256::ZERO; 2] });
    for (id, token, lock) in [("F", "RWD", 0u64), ("G", "RWD2", 2 * DAY)] {
        w.ok(
            "owner",
            Action::CreateFarm {
                id: id.into(),
                reward_token: token.into(),
                reward_per_second: e18(1),
                start: 0,
                end: None,
                funding: Funding::Minted,
                timelock_delay_s: lock,
            },
        );
    }
    w.ok(
        "owner",
        Action::AddFarmPool {
            id: "F0".into(),
            farm: "F".into(),
            stake_token: "P".into(),
            alloc_point: 100,
            deposit_fee_bps: 0,
        },
    );
    w.ok("alice", Action::Deposit { farm_pool: "F0".into(), amount: e18(10) });
    w.ok(
        "owner",
        Action::CreateStakingPool {
            id: "S".into(),
            stake_token: "CAKE".into(),
            reward_token: "CAKE".into(),
            terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 90, boost_bps: 15_000 }],
            early_exit: EarlyExit::Forbidden,
        },
    );
    w.ok("owner", Action::NotifyReward { staking_pool: "S".into(), amount: e18(1000), duration_s: 30 * DAY });
    assert!(matches!(
        w.ok("alice", Action::Stake { staking_pool: "S".into(), amount: e18(50), term_days: 0 }),
        Outcome::Staked { position: 0, .. }
    ));
    assert!(matches!(
        w.ok("alice", Action::Stake { staking_pool: "S".into(), amount: e18(70), term_days: 90 }),
        Outcome::Staked { position: 1, .. }
    ));
    for c in [0, 1] {
        w.e.advance(c, 3600).expect("advance");
    }
    w
}

/// Ownership, not the lock, guards a position: bob cannot unstake or claim alice's flexible
/// position, nor her locked one once it has unlocked; alice then can.
#[test]
fn stranger_cannot_unstake_or_claim_an_unlocked_position() {
    let mut w = owned_world();
    let bob = addr("bob");
    for position in [0, 1] {
        let err = w.refuse("bob", Action::Unstake { position }, "not_owner");
        assert_eq!(err, EngineError::NotOwner { who: bob, what: format!("position {position}") });
        w.refuse("bob", Action::Claim { position }, "not_owner");
    }
    w.e.advance(1, 91 * DAY).expect("advance");
    for position in [0, 1] {
        w.refuse("bob", Action::Unstake { position }, "not_owner");
        w.refuse("bob", Action::Claim { position }, "not_owner");
    }
    let cake = w.bal("CAKE", addr("alice"));
    let out = w.ok("alice", Action::Unstake { position: 1 });
    let Outcome::Unstaked(done) = out else { panic!("{out:?}") };
    assert_eq!(done.amount, e18(70));
    assert_eq!(w.bal("CAKE", addr("alice")), cake + done.amount + done.reward);
}

/// A farm stake is the sender's own entry: bob cannot withdraw alice's, and his harvest pays him
/// nothing and leaves her pending reward where it was.
#[test]
fn stranger_cannot_withdraw_or_harvest_anothers_farm_stake() {
    let mut w = owned_world();
    let (alice, bob) = (addr("alice"), addr("bob"));
    w.refuse("bob", Action::Withdraw { farm_pool: "F0".into(), amount: e18(1) }, "insufficient_staked");
    w.refuse("bob", Action::EmergencyWithdraw { farm_pool: "F0".into() }, "insufficient_staked");
    let fp = w.e.farm_pool_ix("F0").expect("F0");
    let pending = w.e.farm_pending(fp, alice).expect("pending");
    assert!(!pending.is_zero());
    let rwd = w.bal("RWD", bob);
    let out = w.ok("bob", Action::Harvest { farm_pool: "F0".into() });
    assert_eq!(out, Outcome::Reward(granary_engine::farm::Payout::default()));
    assert_eq!(w.bal("RWD", bob), rwd);
    assert_eq!(w.e.farm_pending(fp, alice), Ok(pending));
    assert_eq!(w.e.farm_user(fp, alice).amount, e18(10));
}

/// The owner powers `rejections.rs` does not try: rate, pause and pool additions on farm F; every
/// power on the timelocked farm G (ownership is checked before the timelock); queueing on a farm
/// one does not own; the pool's fee switch turned off; a migrate by someone other than the set
/// migrator; taking over another's token mint with a minted farm.
#[test]
fn stranger_cannot_use_farm_or_pool_owner_powers() {
    let mut w = owned_world();
    let bob = addr("bob");
    w.ok("owner", Action::SetFeeTo { pool: "P".into(), fee_to: Some(addr("owner")) });
    w.ok("owner", Action::SetMigrator { farm: "F".into(), migrator: Some(addr("migrator")) });
    let powers = |farm: &str| {
        vec![
            Action::SetRewardPerSecond { farm: farm.into(), reward_per_second: e18(1000) },
            Action::SetPaused { farm: farm.into(), paused: true },
            Action::SetMigrator { farm: farm.into(), migrator: Some(addr("bob")) },
            Action::OwnerMint { farm: farm.into(), to: addr("bob"), amount: e18(1) },
            Action::AddFarmPool {
                id: format!("{farm}-bob"),
                farm: farm.into(),
                stake_token: "WETH".into(),
                alloc_point: 1_000_000,
                deposit_fee_bps: 0,
            },
        ]
    };
    for farm in ["F", "G"] {
        for action in powers(farm) {
            let err = w.refuse("bob", action.clone(), "not_owner");
            assert_eq!(err, EngineError::NotOwner { who: bob, what: farm.to_string() });
            w.refuse("bob", Action::QueueAdmin { farm: farm.into(), action: Box::new(action) }, "not_owner");
        }
    }
    w.refuse("bob", Action::SetFeeTo { pool: "P".into(), fee_to: None }, "not_owner");
    let err = w.refuse("bob", Action::Migrate { farm_pool: "F0".into() }, "not_owner");
    assert_eq!(err, EngineError::NotOwner { who: bob, what: "F migrator".into() });
    w.refuse(
        "bob",
        Action::CreateFarm {
            id: "H".into(),
            reward_token: "WETH".into(),
            reward_per_second: e18(1),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 0,
        },
        "not_minter",
    );
    // Bob's own farm cannot carry F's powers through its queue.
    w.ok(
        "bob",
        Action::CreateFarm {
            id: "H".into(),
            reward_token: "USDC".into(),
            reward_per_second: e18(1),
            start: 0,
            end: None,
            funding: Funding::Budget,
            timelock_delay_s: 0,
        },
    );
    for action in powers("F") {
        w.refuse("bob", Action::QueueAdmin { farm: "H".into(), action: Box::new(action) }, "invalid");
    }
    w.refuse(
        "bob",
        Action::QueueAdmin {
            farm: "H".into(),
            action: Box::new(Action::SetAllocPoint { farm_pool: "F0".into(), alloc_point: 0 }),
        },
        "invalid",
    );
    let f = w.e.farm_ix("F").expect("F");
    assert_eq!((w.e.farm(f).reward_per_second, w.e.farm(f).paused), (e18(1), false));
}

/// Every owner power of the timelocked farm G, queued at t0, is refused `timelocked` one second
/// before t0 + delay (state unchanged, the error naming the eta) and runs at exactly t0 + delay,
/// once; called directly, each is refused `timelocked` however long one waits.
#[test]
fn timelocked_admin_action_is_refused_a_second_before_its_eta_and_runs_at_it() {
    let mut w = owned_world();
    let delay = 2 * DAY;
    let direct = vec![
        Action::AddFarmPool {
            id: "G0".into(),
            farm: "G".into(),
            stake_token: "P".into(),
            alloc_point: 50,
            deposit_fee_bps: 0,
        },
        Action::SetRewardPerSecond { farm: "G".into(), reward_per_second: e18(3) },
        Action::SetMigrator { farm: "G".into(), migrator: Some(addr("migrator")) },
        Action::SetPaused { farm: "G".into(), paused: true },
        Action::OwnerMint { farm: "G".into(), to: addr("owner"), amount: e18(5) },
    ];
    for action in &direct {
        let now = w.e.now(0);
        let err = w.refuse("owner", action.clone(), "timelocked");
        assert_eq!(err, EngineError::Timelocked { eta: now + delay, now });
    }
    let t0 = w.e.now(0);
    for (i, action) in direct.iter().enumerate() {
        let out = w.ok("owner", Action::QueueAdmin { farm: "G".into(), action: Box::new(action.clone()) });
        assert_eq!(out, Outcome::Queued { queue_id: i as u64, eta: t0 + delay });
    }
    w.e.advance(0, delay - 1).expect("advance");
    for id in 0..direct.len() as u64 {
        let err = w.refuse("owner", Action::ExecuteQueued { farm: "G".into(), queue_id: id }, "timelocked");
        assert_eq!(err, EngineError::Timelocked { eta: t0 + delay, now: t0 + delay - 1 });
    }
    w.e.advance(0, 1).expect("advance");
    let rwd2 = w.bal("RWD2", addr("owner"));
    for id in 0..direct.len() as u64 {
        w.ok("owner", Action::ExecuteQueued { farm: "G".into(), queue_id: id });
    }
    let g = w.e.farm_ix("G").expect("G");
    let farm = w.e.farm(g);
    assert_eq!((farm.reward_per_second, farm.migrator, farm.paused), (e18(3), Some(addr("migrator")), true));
    assert_eq!(w.bal("RWD2", addr("owner")), rwd2 + e18(5));
    assert!(w.e.farm_pool_ix("G0").is_ok());
    w.refuse("owner", Action::ExecuteQueued { farm: "G".into(), queue_id: 0 }, "unknown_queued");
    // The new pool's alloc point is itself an owner power behind the same delay.
    w.refuse("owner", Action::SetAllocPoint { farm_pool: "G0".into(), alloc_point: 1 }, "timelocked");
    let t1 = w.e.now(0);
    let set = Action::SetAllocPoint { farm_pool: "G0".into(), alloc_point: 7 };
    let out = w.ok("owner", Action::QueueAdmin { farm: "G".into(), action: Box::new(set) });
    let Outcome::Queued { queue_id, eta } = out else { panic!("{out:?}") };
    assert_eq!(eta, t1 + delay);
    w.e.advance(0, delay - 1).expect("advance");
    w.refuse("owner", Action::ExecuteQueued { farm: "G".into(), queue_id }, "timelocked");
    w.e.advance(0, 1).expect("advance");
    w.ok("owner", Action::ExecuteQueued { farm: "G".into(), queue_id });
    assert_eq!(w.e.farm_pool(w.e.farm_pool_ix("G0").expect("G0")).alloc_point, 7);
}
