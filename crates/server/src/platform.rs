//! The running platform: the store node (with the engine inside), the hub that watches every
//! closed block, the alert detector, the live demo market, and what the server derives from the
//! journal (positions' cost bases, opportunity series). One writer: every change goes through
//! [`Platform`] under the server's lock, and readers get an immutable [`crate::view::View`].

use crate::events::Event;
use crate::series::Series;
use granary_engine::state::PoolIx;
use granary_engine::{Action, Address, Engine, EngineError, Outcome, SignedTransaction, SystemOp, U256};
use granary_hub::Hub;
use granary_hub::alerts::{Alert, AlertDetector};
use granary_store::{Backend, Entry, Location, Node, Record, RecoveryReport, SnapshotPolicy, StoreError};
use granary_world::market::{Ledger, LedgerFailure, Market, MarketConfig, RunReport};
use granary_world::{Seed, World};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How `granary up` runs.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    pub location: Location,
    pub policy: SnapshotPolicy,
    /// Seed of the demo world (only read when the store is empty; kept in the journal after).
    pub seed: u64,
    pub market: MarketConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the demo world: {0}")]
    World(String),
    #[error("the market: {0}")]
    Market(String),
}

/// An alert as the platform keeps it: numbered in order of detection.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRecord {
    pub id: u64,
    /// The chain's id (`bsc`, …).
    pub chain: String,
    #[serde(flatten)]
    pub alert: Alert,
}

/// What an account put into and took out of a pool, for PnL against holding (HODL).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LpBasis {
    /// Token amounts still counted as deposited (reduced pro rata on each removal).
    #[serde(serialize_with = "crate::dto::ser_u256_pair")]
    pub deposited: [U256; 2],
    /// LP tokens minted to the account and not yet burned by it.
    #[serde(serialize_with = "crate::dto::ser_u256")]
    pub liquidity: U256,
    /// USD gained (negative: lost) against holding, realised by removals, at the prices of then.
    pub realised_il_usd: f64,
    pub realised_fees_and_il_usd: f64,
}

/// Cost bases of liquidity positions, by (account, pool), rebuilt from the journal.
#[derive(Debug, Clone, Default)]
pub struct CostBook {
    pub lp: BTreeMap<(Address, PoolIx), LpBasis>,
}

impl CostBook {
    /// Account for one applied transaction; `usd` prices a token index (for realised figures).
    fn record(
        &mut self,
        engine: &Engine,
        tx: &SignedTransaction,
        outcome: &Outcome,
        usd: &dyn Fn(usize) -> Option<f64>,
    ) {
        let who = tx.tx.sender;
        match (&tx.tx.action, outcome) {
            (Action::AddLiquidity { pool, .. }, Outcome::Liquidity { liquidity, amounts }) => {
                let Ok(ix) = engine.pool_ix(pool) else { return };
                let b = self.lp.entry((who, ix)).or_default();
                b.deposited = [b.deposited[0].saturating_add(amounts[0]), b.deposited[1].saturating_add(amounts[1])];
                b.liquidity = b.liquidity.saturating_add(*liquidity);
            }
            (Action::RemoveLiquidity { pool, liquidity, .. }, Outcome::Removed { amounts }) => {
                let Ok(ix) = engine.pool_ix(pool) else { return };
                let Some(b) = self.lp.get_mut(&(who, ix)) else { return };
                if b.liquidity.is_zero() {
                    return;
                }
                let burned = (*liquidity).min(b.liquidity);
                // The share of the basis that leaves: deposited · burned / liquidity (rounded down).
                let part = |d: U256| d.checked_mul(burned).map(|v| v / b.liquidity).unwrap_or(d);
                let left_basis = [part(b.deposited[0]), part(b.deposited[1])];
                let p = engine.pool(ix);
                let value = |a: [U256; 2]| -> Option<f64> {
                    let mut v = 0.0;
                    for (side, amount) in a.iter().enumerate() {
                        let t = p.tokens[side];
                        v += crate::dto::units_f64(*amount, engine.token(t).decimals) * usd(t)?;
                    }
                    Some(v)
                };
                if let (Some(out), Some(held)) = (value(*amounts), value(left_basis)) {
                    b.realised_fees_and_il_usd += out - held;
                }
                b.deposited = [b.deposited[0] - left_basis[0], b.deposited[1] - left_basis[1]];
                b.liquidity -= burned;
            }
            _ => {}
        }
    }
}

/// The platform: everything that changes, behind one writer.
pub struct Platform {
    node: Node<Box<dyn Backend>>,
    pub hub: Hub,
    pub world: World,
    market: Market,
    detector: AlertDetector,
    pub alerts: Vec<AlertRecord>,
    pub book: CostBook,
    pub series: Series,
    pub recovery: RecoveryReport,
    /// True when this start seeded the world (an empty store).
    pub seeded_now: bool,
    /// Accounts of the demo world (not the user's): their positions are not tracked for PnL.
    actors: BTreeSet<Address>,
    /// Events since the last [`Platform::take_events`].
    events: Vec<Event>,
    /// Last chain time per chain reported in a block event.
    pub txs_applied: u64,
    pub txs_refused: u64,
}

/// The node seen as the market's ledger, with everything that watches the journal hooked in.
struct Hooked<'a> {
    node: &'a mut Node<Box<dyn Backend>>,
    hub: &'a mut Hub,
    detector: &'a mut AlertDetector,
    alerts: &'a mut Vec<AlertRecord>,
    book: &'a mut CostBook,
    series: &'a mut Series,
    actors: &'a BTreeSet<Address>,
    events: &'a mut Vec<Event>,
    applied: &'a mut u64,
    refused: &'a mut u64,
}

fn fail(e: StoreError) -> LedgerFailure {
    LedgerFailure(e.to_string())
}

impl Hooked<'_> {
    fn flush(
        &mut self,
        batch: &mut Vec<SignedTransaction>,
        out: &mut Vec<Result<(), EngineError>>,
    ) -> Result<(), LedgerFailure> {
        if batch.is_empty() {
            return Ok(());
        }
        let txs = std::mem::take(batch);
        let results = self.node.submit_batch(txs.clone()).map_err(fail)?;
        let mut book = None;
        for (tx, r) in txs.iter().zip(results) {
            match r {
                Ok(receipt) => {
                    *self.applied += 1;
                    if !self.actors.contains(&tx.tx.sender)
                        && matches!(tx.tx.action, Action::AddLiquidity { .. } | Action::RemoveLiquidity { .. })
                    {
                        let engine = self.node.engine();
                        let prices = book.get_or_insert_with(|| self.hub.price_book(engine));
                        self.book.record(engine, tx, &receipt.outcome, &|t| prices.usd(t));
                    }
                    if !self.actors.contains(&tx.tx.sender) {
                        self.events.push(Event::tx(self.node.engine(), tx, receipt.seq, &receipt.outcome));
                    }
                    out.push(Ok(()));
                }
                Err(e) => {
                    *self.refused += 1;
                    out.push(Err(e));
                }
            }
        }
        Ok(())
    }

    fn after_block(&mut self, chain: &str) {
        let engine = self.node.engine();
        if let Ok(ix) = engine.chain_ix(chain) {
            let c = engine.chain(ix);
            self.events.push(Event::Block {
                chain: c.id.clone(),
                chain_id: c.chain_id,
                number: c.block_number,
                timestamp: c.now,
                unix: self.hub.genesis_unix + c.now as i64,
            });
        }
        let first_new = self.alerts.len();
        observe_block(engine, self.hub, self.detector, self.alerts, self.series);
        for record in &self.alerts[first_new..] {
            self.events.push(Event::Alert(Box::new(record.clone())));
        }
    }
}

/// What follows every closed block, live or in a replay of the journal: the hub samples it, the
/// detector's alerts are numbered and kept, the opportunity series are sampled.
fn observe_block(
    engine: &Engine,
    hub: &mut Hub,
    detector: &mut AlertDetector,
    alerts: &mut Vec<AlertRecord>,
    series: &mut Series,
) {
    hub.observe(engine);
    for alert in detector.observe(engine) {
        let chain = engine.chain_ix_by_eip155(alert.chain_id).map(|ix| engine.chain(ix).id.clone()).unwrap_or_default();
        alerts.push(AlertRecord { id: alerts.len() as u64 + 1, chain, alert });
    }
    series.maybe_sample(engine, hub);
}

impl Ledger for Hooked<'_> {
    fn engine(&self) -> &Engine {
        self.node.engine()
    }

    fn apply(&mut self, steps: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure> {
        let mut out = Vec::with_capacity(steps.len());
        let mut batch = Vec::new();
        for step in steps {
            match step {
                Seed::Tx(stx) => batch.push(stx),
                Seed::System(op) => {
                    self.flush(&mut batch, &mut out)?;
                    let chain = match &op {
                        SystemOp::Advance { chain, .. } => Some(chain.clone()),
                        _ => None,
                    };
                    match self.node.system(op).map_err(fail)? {
                        Ok(_) => {
                            out.push(Ok(()));
                            if let Some(chain) = chain {
                                self.after_block(&chain);
                            }
                        }
                        Err(e) => out.push(Err(e)),
                    }
                }
            }
        }
        self.flush(&mut batch, &mut out)?;
        Ok(out)
    }
}

impl Platform {
    /// Open the store (recovering what it holds), rebuild the hub's history and the cost bases
    /// from the journal, and seed the demo world if the store is empty.
    pub fn open(config: &PlatformConfig) -> Result<Platform, PlatformError> {
        let world = granary_world::seed(config.seed);
        let mut hub = world.hub();
        let actors: BTreeSet<Address> = world.actors.iter().map(|a| a.address).collect();
        let mut detector = AlertDetector::default();
        let mut alerts = Vec::new();
        let mut book = CostBook::default();
        let mut series = Series::default();

        // Rebuild what the snapshots do not hold from the journal's history.
        let mut backend = config.location.open_writer()?;
        granary_store::replay_with(
            backend.as_mut(),
            |engine: &Engine, entry: &Entry, outcome: Option<&Outcome>| match (&entry.record, outcome) {
                (Record::Tx(stx), Some(o))
                    if !actors.contains(&stx.tx.sender)
                        && matches!(stx.tx.action, Action::AddLiquidity { .. } | Action::RemoveLiquidity { .. }) =>
                {
                    let prices = hub.price_book(engine);
                    book.record(engine, stx, o, &|t| prices.usd(t));
                }
                (Record::System(SystemOp::Advance { .. }), _) => {
                    observe_block(engine, &mut hub, &mut detector, &mut alerts, &mut series);
                }
                _ => {}
            },
        )?;
        let (node, recovery) = Node::open(backend, config.policy)?;
        let market = Market::new(&world, config.market.clone()).map_err(|e| PlatformError::Market(e.to_string()))?;
        let mut p = Platform {
            node,
            hub,
            world,
            market,
            detector,
            alerts,
            book,
            series,
            recovery,
            seeded_now: false,
            actors,
            events: Vec::new(),
            txs_applied: 0,
            txs_refused: 0,
        };
        if p.node.engine().chains().is_empty() {
            p.seed_world()?;
            p.seeded_now = true;
        }
        p.refresh_feeds();
        Ok(p)
    }

    fn hooked(&mut self) -> (Hooked<'_>, &mut Market) {
        (
            Hooked {
                node: &mut self.node,
                hub: &mut self.hub,
                detector: &mut self.detector,
                alerts: &mut self.alerts,
                book: &mut self.book,
                series: &mut self.series,
                actors: &self.actors,
                events: &mut self.events,
                applied: &mut self.txs_applied,
                refused: &mut self.txs_refused,
            },
            &mut self.market,
        )
    }

    fn seed_world(&mut self) -> Result<(), PlatformError> {
        let ops = self.world.ops.clone();
        let (mut ledger, _) = self.hooked();
        let results = ledger.apply(ops).map_err(|e| PlatformError::World(e.0))?;
        if let Some((index, Err(e))) = results.iter().enumerate().find(|(_, r)| r.is_err()) {
            return Err(PlatformError::World(format!("seeding step {index} was refused: {e}")));
        }
        // The seeding's own events are history, not news.
        self.events.clear();
        Ok(())
    }

    pub fn engine(&self) -> &Engine {
        self.node.engine()
    }

    /// The latest chain time across chains (every chain moves together).
    pub fn now(&self) -> u64 {
        self.engine().chains().iter().map(|c| c.now).max().unwrap_or(0)
    }

    fn refresh_feeds(&mut self) {
        let now = self.now();
        self.hub.feeds = self.market.feeds_at(now);
    }

    /// Run the market and the clock forward by `seconds` of chain time.
    pub fn run(&mut self, seconds: u64) -> Result<RunReport, PlatformError> {
        if seconds == 0 {
            return Ok(RunReport::default());
        }
        let (mut ledger, market) = self.hooked();
        let report = market.run(&mut ledger, seconds).map_err(|e| PlatformError::Market(e.0))?;
        for f in &report.fills {
            self.events.push(Event::fill(f));
        }
        self.refresh_feeds();
        Ok(report)
    }

    /// Apply one user transaction (signature checked), durably.
    pub fn submit(&mut self, stx: SignedTransaction) -> Result<Result<(u64, Outcome), EngineError>, PlatformError> {
        let tx = stx.clone();
        let (ledger, _) = self.hooked();
        let mut results = ledger.node.submit_batch(vec![stx])?;
        let r = results.pop().unwrap_or(Err(EngineError::Decode("empty batch".into())));
        match r {
            Ok(receipt) => {
                *ledger.applied += 1;
                if !ledger.actors.contains(&tx.tx.sender) {
                    let engine = ledger.node.engine();
                    let prices = ledger.hub.price_book(engine);
                    ledger.book.record(engine, &tx, &receipt.outcome, &|t| prices.usd(t));
                    ledger.events.push(Event::tx(engine, &tx, receipt.seq, &receipt.outcome));
                }
                Ok(Ok((receipt.seq, receipt.outcome)))
            }
            Err(e) => {
                *ledger.refused += 1;
                Ok(Err(e))
            }
        }
    }

    /// The demo faucet: operator mints of every chain's market tokens to `to`.
    pub fn faucet(&mut self, to: Address) -> Result<Vec<(String, U256)>, PlatformError> {
        let mut steps = Vec::new();
        let mut given = Vec::new();
        for (token, amount) in crate::faucet::grants(self.node.engine(), &self.market, &self.world) {
            steps.push(Seed::System(SystemOp::FaucetMint { token: token.clone(), to, amount }));
            given.push((token, amount));
        }
        let (mut ledger, _) = self.hooked();
        let results = ledger.apply(steps).map_err(|e| PlatformError::Market(e.0))?;
        Ok(given.into_iter().zip(results).filter(|(_, r)| r.is_ok()).map(|(g, _)| g).collect())
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn market(&self) -> &Market {
        &self.market
    }

    /// Journal position of the next entry.
    pub fn next_seq(&self) -> u64 {
        self.node.next_seq()
    }

    /// The node's backend, for status reporting.
    pub fn describe_store(&mut self) -> String {
        self.node.backend().describe()
    }

    /// Take a snapshot now (on shutdown, so the next start replays little).
    pub fn snapshot(&mut self) -> Result<u64, PlatformError> {
        Ok(self.node.snapshot()?)
    }
}
