//! The demo world of `granary up`: six chains with their tokens and pools, eight protocols — honest
//! ones and dubious ones — other depositors already staked, and a schedule of future actions (a rug).
//!
//! The world is data: an ordered list of operator actions ([`SystemOp`]) and signed transactions,
//! so that a journal can record it and a restart can replay it. [`seed`] builds that list
//! deterministically from a seed (which only varies the depositors' amounts); [`World::apply`]
//! applies it to an engine. What the engine cannot know (audits, launch dates, incidents, names)
//! is in [`World::registry`] and [`World::projects`]; [`World::hub`] returns a hub configured with it.
//!
//! After the seeding, [`Market`] keeps the world alive as simulated time runs: prices that follow
//! real daily closes, arbitrageurs, noise traders, depositors who come and go, farmers who dump an
//! inflating reward, protocols that top up their rewards, and the schedule carried out on time.
//!
//! Every actor's key is `granary_engine::tx::dev_key(name)` for its [`Actor::name`].

mod build;
mod content;
pub mod market;

use granary_engine::{Address, Engine, EngineError, SignedTransaction, SystemOp};
use granary_hub::Hub;
use granary_hub::metadata::ProtocolRegistry;
use std::collections::BTreeMap;
use std::fmt;

pub use content::{GENESIS_UNIX, SEED_END};
pub use market::{BlockClosed, Fill, FillReason, Ledger, LedgerFailure, Market, MarketConfig, MarketError, RunReport};

/// One step of the seeding: an operator action or a signed user transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seed {
    System(SystemOp),
    Tx(SignedTransaction),
}

impl Seed {
    /// Apply this step to `engine` (a transaction's signature is verified).
    pub fn apply(&self, engine: &mut Engine) -> Result<(), EngineError> {
        match self {
            Seed::System(op) => engine.apply_system(op).map(|_| ()),
            Seed::Tx(stx) => engine.submit(stx).map(|_| ()),
        }
    }

    /// A short description: the operator action's or the transaction's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Seed::System(op) => op.kind(),
            Seed::Tx(stx) => stx.tx.action.kind(),
        }
    }
}

/// What an actor of the world does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Deploys and owns a protocol's contracts.
    Deployer,
    /// Provides liquidity to the exchange's pools.
    LiquidityProvider,
    /// Deposits in farms and stakes in staking pools.
    Depositor,
    /// Trades on the exchange (the pools' volume).
    Trader,
    /// The address a rug's migrator moves the staked tokens to.
    Migrator,
}

/// A named account of the world; its key is `dev_key(name)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    pub address: Address,
    /// The protocol it deploys (deployers and migrators).
    pub protocol: Option<String>,
}

/// A future step, due at chain time `at` on `chain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Chain time (seconds since the chain's genesis) at which the step is due.
    pub at: u64,
    /// The chain's id (`bsc`, …).
    pub chain: String,
    /// What the step is, in words.
    pub label: String,
    pub step: Seed,
}

impl Scheduled {
    /// The steps that carry it out on `engine`: advance the chain to `at` if it is behind, then
    /// the step itself. Returned as data so that a journal can record them.
    pub fn steps(&self, engine: &Engine) -> Result<Vec<Seed>, EngineError> {
        let now = engine.now(engine.chain_ix(&self.chain)?);
        let mut out = Vec::with_capacity(2);
        if now < self.at {
            out.push(Seed::System(SystemOp::Advance { chain: self.chain.clone(), seconds: self.at - now }));
        }
        out.push(self.step.clone());
        Ok(out)
    }

    /// Carry the step out on `engine` (see [`Scheduled::steps`]).
    pub fn apply(&self, engine: &mut Engine) -> Result<(), EngineError> {
        for s in self.steps(engine)? {
            s.apply(engine)?;
        }
        Ok(())
    }
}

/// The demo world.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    /// The seeding, in order.
    pub ops: Vec<Seed>,
    /// Audits, launch dates and incidents of the protocols, and which objects are whose.
    pub registry: ProtocolRegistry,
    /// Project name by engine object id (pool, farm, staking pool), for the hub's opportunity list.
    pub projects: BTreeMap<String, String>,
    pub actors: Vec<Actor>,
    /// Future steps, in order of time (the rug of the dubious farm).
    pub schedule: Vec<Scheduled>,
    /// Unix time of chain time 0 on every chain.
    pub genesis_unix: i64,
    /// USD price of each token at chain time 0, by token id: the prices the seeding sized its
    /// pools and deposits at (market tokens and protocol tokens; not LP tokens).
    pub prices: BTreeMap<String, f64>,
}

/// A step of the seeding that the engine refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// Index of the step in [`World::ops`].
    pub index: usize,
    pub kind: &'static str,
    pub error: EngineError,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seeding step {} ({}) failed: {}", self.index, self.kind, self.error)
    }
}

impl std::error::Error for ApplyError {}

impl World {
    /// Apply the seeding to `engine` (normally a fresh one), in order, stopping at the first error.
    pub fn apply(&self, engine: &mut Engine) -> Result<(), ApplyError> {
        self.apply_from(engine, 0)
    }

    /// Apply the seeding, calling `after_block` after every closed block (every `Advance`), so
    /// that a hub can observe the world as it is built.
    pub fn apply_observing(&self, engine: &mut Engine, mut after_block: impl FnMut(&Engine)) -> Result<(), ApplyError> {
        for (index, op) in self.ops.iter().enumerate() {
            op.apply(engine).map_err(|error| ApplyError { index, kind: op.kind(), error })?;
            if matches!(op, Seed::System(SystemOp::Advance { .. })) {
                after_block(engine);
            }
        }
        Ok(())
    }

    /// Apply the seeding from step `start` on (to resume after the first `start` steps were applied).
    pub fn apply_from(&self, engine: &mut Engine, start: usize) -> Result<(), ApplyError> {
        for (index, op) in self.ops.iter().enumerate().skip(start) {
            op.apply(engine).map_err(|error| ApplyError { index, kind: op.kind(), error })?;
        }
        Ok(())
    }

    /// A hub that knows this world's protocols, project names and genesis date.
    pub fn hub(&self) -> Hub {
        Hub {
            registry: self.registry.clone(),
            projects: self.projects.clone(),
            genesis_unix: self.genesis_unix,
            ..Hub::default()
        }
    }

    /// The actor with this name.
    pub fn actor(&self, name: &str) -> Option<&Actor> {
        self.actors.iter().find(|a| a.name == name)
    }
}

/// Build the demo world. The same seed always gives the same steps; the seed varies the other
/// depositors' amounts.
pub fn seed(seed: u64) -> World {
    match content::build(seed) {
        Ok(w) => w,
        // The world is fixed data checked by its tests; a failure here is a bug in this crate.
        Err(e) => panic!("the demo world does not apply: {e}"),
    }
}
