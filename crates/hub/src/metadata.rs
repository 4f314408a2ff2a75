//! What the engine cannot know about a protocol — its audits, its launch date, its past incidents —
//! supplied by whoever seeds the world (or imports real-world pools), and a registry that maps the
//! engine's objects to the protocol behind them.
//!
//! **Time.** Every date here is a Unix timestamp in seconds (UTC), because these are real-world
//! facts (an audit report's date, a hack's date). The engine's chains count seconds from their own
//! genesis; the caller that grades an opportunity says what Unix time "now" is
//! ([`crate::risk::MarketFacts::now_unix`]), so that ages are measured on one clock.
//!
//! **Object keys.** Protocol objects are named by a kind and the engine's id, `kind:id`:
//! `pool:P`, `farm:F`, `farm_pool:F0`, `staking_pool:S`, `token:RWD`, and an owner by its address,
//! `owner:0x…` (lower-case hex). The same keys name subjects and opportunities in
//! [`crate::alerts`] and [`crate::risk`].

use granary_engine::state::{FarmIx, FarmPoolIx, PoolIx, StakingIx};
use granary_engine::{Address, Engine};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Seconds in a day, for ages.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// One security audit of a protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    /// Who audited (a firm's name).
    pub auditor: String,
    /// When the report was published, Unix seconds.
    pub date_unix: i64,
    /// What was in scope, in words (e.g. "MasterChef, Timelock, reward token").
    #[serde(default)]
    pub scope: String,
}

/// The kind of a past incident (DeFiLlama's hacks database classifies by technique; these are the
/// classes the grade tells apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A contract bug was exploited.
    Exploit,
    /// The team or an insider took the users' funds (liquidity pull, migrator, unbacked mint).
    RugPull,
    /// An admin or deployer key was stolen.
    KeyCompromise,
    /// Prices fed to the protocol were manipulated (flash loan, thin market).
    OracleManipulation,
    Other,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Exploit => "exploit",
            IncidentKind::RugPull => "rug pull",
            IncidentKind::KeyCompromise => "key compromise",
            IncidentKind::OracleManipulation => "oracle manipulation",
            IncidentKind::Other => "incident",
        }
    }
}

/// A past incident of a protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// When it happened, Unix seconds.
    pub date_unix: i64,
    pub kind: IncidentKind,
    /// Loss in USD at the time (0 when unknown or nothing was lost).
    #[serde(default)]
    pub loss_usd: f64,
    #[serde(default)]
    pub description: String,
}

/// What is known about a protocol outside the engine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProtocolInfo {
    /// The protocol's name; also its key in a [`ProtocolRegistry`].
    pub name: String,
    #[serde(default)]
    pub audits: Vec<Audit>,
    /// When the protocol went live, Unix seconds; `None` when unknown (graded as new).
    #[serde(default)]
    pub launched_at_unix: Option<i64>,
    #[serde(default)]
    pub incidents: Vec<Incident>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl ProtocolInfo {
    /// A protocol with a name and nothing else known.
    pub fn named(name: &str) -> Self {
        ProtocolInfo { name: name.to_string(), ..Default::default() }
    }

    /// Days since launch at `now_unix` (negative launch ages clamp to 0); `None` when unknown.
    pub fn age_days(&self, now_unix: i64) -> Option<f64> {
        self.launched_at_unix.map(|t| days_between(t, now_unix))
    }

    /// The most recent audit, if any.
    pub fn latest_audit(&self) -> Option<&Audit> {
        self.audits.iter().max_by_key(|a| a.date_unix)
    }
}

/// Whole and fractional days from `from` to `to` (Unix seconds), never negative.
pub fn days_between(from: i64, to: i64) -> f64 {
    (to.saturating_sub(from)).max(0) as f64 / SECONDS_PER_DAY
}

/// A protocol object of the engine (or an owner address), as a registry key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectRef<'a> {
    Pool(&'a str),
    Farm(&'a str),
    FarmPool(&'a str),
    StakingPool(&'a str),
    Token(&'a str),
    Owner(Address),
}

impl ObjectRef<'_> {
    /// The object's key: `kind:id` (see the module documentation).
    pub fn key(&self) -> String {
        match self {
            ObjectRef::Pool(id) => format!("pool:{id}"),
            ObjectRef::Farm(id) => format!("farm:{id}"),
            ObjectRef::FarmPool(id) => format!("farm_pool:{id}"),
            ObjectRef::StakingPool(id) => format!("staking_pool:{id}"),
            ObjectRef::Token(id) => format!("token:{id}"),
            ObjectRef::Owner(a) => format!("owner:{}", hex_lower(*a)),
        }
    }
}

/// `0x` and 40 lower-case hex digits.
pub fn hex_lower(a: Address) -> String {
    let mut s = String::with_capacity(42);
    s.push_str("0x");
    for b in a.as_slice() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Key of an engine pool by index.
pub fn pool_key(engine: &Engine, p: PoolIx) -> String {
    ObjectRef::Pool(&engine.pool(p).id).key()
}
/// Key of an engine farm by index.
pub fn farm_key(engine: &Engine, f: FarmIx) -> String {
    ObjectRef::Farm(&engine.farm(f).id).key()
}
/// Key of an engine farm pool by index.
pub fn farm_pool_key(engine: &Engine, fp: FarmPoolIx) -> String {
    ObjectRef::FarmPool(&engine.farm_pool(fp).id).key()
}
/// Key of an engine staking pool by index.
pub fn staking_pool_key(engine: &Engine, sp: StakingIx) -> String {
    ObjectRef::StakingPool(&engine.staking_pool(sp).id).key()
}

/// Protocols by name, and which protocol each engine object belongs to.
///
/// An object is looked up from the most specific key to the least: a farm pool by its own key,
/// then its farm's, then the farm owner's address; a staking pool by its key, then its owner; a
/// pool by its key, then its creator. So a seeder may map a whole protocol by its owner address
/// and still single out one object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProtocolRegistry {
    /// Protocols by name.
    #[serde(default)]
    pub protocols: BTreeMap<String, ProtocolInfo>,
    /// Object key (`farm_pool:F0`, `owner:0x…`, …) → protocol name.
    #[serde(default)]
    pub objects: BTreeMap<String, String>,
}

impl ProtocolRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add or replace a protocol (keyed by its name).
    pub fn insert(&mut self, info: ProtocolInfo) {
        self.protocols.insert(info.name.clone(), info);
    }

    /// Say that `object` belongs to the protocol named `protocol`.
    pub fn assign(&mut self, object: ObjectRef<'_>, protocol: &str) {
        self.objects.insert(object.key(), protocol.to_string());
    }

    /// The protocol of exactly this object key, if mapped.
    pub fn get(&self, object: ObjectRef<'_>) -> Option<&ProtocolInfo> {
        self.by_key(&object.key())
    }

    fn by_key(&self, key: &str) -> Option<&ProtocolInfo> {
        self.objects.get(key).and_then(|name| self.protocols.get(name))
    }

    /// The protocol of a farm: its key, then its owner.
    pub fn for_farm(&self, engine: &Engine, f: FarmIx) -> Option<&ProtocolInfo> {
        let farm = engine.farm(f);
        self.get(ObjectRef::Farm(&farm.id)).or_else(|| self.get(ObjectRef::Owner(farm.owner)))
    }

    /// The protocol of a farm pool: its key, then its farm's, then the farm owner's.
    pub fn for_farm_pool(&self, engine: &Engine, fp: FarmPoolIx) -> Option<&ProtocolInfo> {
        let p = engine.farm_pool(fp);
        self.get(ObjectRef::FarmPool(&p.id)).or_else(|| self.for_farm(engine, p.farm))
    }

    /// The protocol of a staking pool: its key, then its owner.
    pub fn for_staking_pool(&self, engine: &Engine, sp: StakingIx) -> Option<&ProtocolInfo> {
        let s = engine.staking_pool(sp);
        self.get(ObjectRef::StakingPool(&s.id)).or_else(|| self.get(ObjectRef::Owner(s.owner)))
    }

    /// The protocol of a constant-product pool: its key, then its creator.
    pub fn for_pool(&self, engine: &Engine, p: PoolIx) -> Option<&ProtocolInfo> {
        let pool = engine.pool(p);
        self.get(ObjectRef::Pool(&pool.id)).or_else(|| self.get(ObjectRef::Owner(pool.creator)))
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}
