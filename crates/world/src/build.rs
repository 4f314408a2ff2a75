//! Records the seeding while applying it to a scratch engine, so that every later step can use what
//! earlier ones produced (LP amounts, position ids, queue ids) and every step is known to apply.

use crate::{Actor, ApplyError, Role, Seed};
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, Outcome, SystemOp, Transaction, U256};
use std::collections::BTreeMap;

pub(crate) struct Builder {
    pub engine: Engine,
    pub ops: Vec<Seed>,
    pub actors: Vec<Actor>,
    keys: BTreeMap<String, (SecretKey, Address)>,
    /// Who holds the supply of a protocol's token (its deployer), by token id.
    pub token_owner: BTreeMap<String, String>,
    rng: u64,
}

impl Builder {
    pub fn new(seed: u64) -> Self {
        Builder {
            engine: Engine::new(),
            ops: Vec::new(),
            actors: Vec::new(),
            keys: BTreeMap::new(),
            token_owner: BTreeMap::new(),
            rng: seed ^ 0x6772_616e_6172_7921,
        }
    }

    /// A uniform draw in [lo, hi) (splitmix64).
    pub fn jitter(&mut self, lo: f64, hi: f64) -> f64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        lo + (hi - lo) * ((z >> 11) as f64 / (1u64 << 53) as f64)
    }

    pub fn actor(&mut self, name: &str, role: Role, protocol: Option<&str>) -> Address {
        if let Some((_, a)) = self.keys.get(name) {
            return *a;
        }
        let key = dev_key(name);
        let address = key_address(&key);
        self.keys.insert(name.to_string(), (key, address));
        self.actors.push(Actor { name: name.to_string(), role, address, protocol: protocol.map(str::to_string) });
        address
    }

    pub fn address(&self, name: &str) -> Result<Address, ApplyError> {
        self.keys.get(name).map(|(_, a)| *a).ok_or_else(|| fail(format!("unknown actor {name}")))
    }

    pub fn sys(&mut self, op: SystemOp) -> Result<(), ApplyError> {
        let seed = Seed::System(op);
        self.push(seed).map(|_| ())
    }

    /// Sign `action` for `who` with its next nonce on the action's chain, apply and record it.
    pub fn tx(&mut self, who: &str, action: Action) -> Result<Outcome, ApplyError> {
        let stx = self.sign(&self.engine, who, action)?;
        self.push(Seed::Tx(stx))
    }

    /// Sign `action` for `who` against `engine`'s nonces, without applying it.
    pub fn sign(
        &self,
        engine: &Engine,
        who: &str,
        action: Action,
    ) -> Result<granary_engine::SignedTransaction, ApplyError> {
        let (key, sender) = self.keys.get(who).ok_or_else(|| fail(format!("unknown actor {who}")))?;
        let chain = engine.action_chain(&action).map_err(|e| at(self.ops.len(), action.kind(), e))?;
        let c = engine.chain(chain);
        let tx = Transaction {
            chain_id: c.chain_id,
            sender: *sender,
            nonce: engine.nonce(chain, *sender),
            deadline: u64::MAX,
            action,
        };
        Ok(tx.sign(key))
    }

    fn push(&mut self, seed: Seed) -> Result<Outcome, ApplyError> {
        let index = self.ops.len();
        let out = match &seed {
            Seed::System(op) => self.engine.apply_system(op).map(|_| Outcome::Done),
            Seed::Tx(stx) => self.engine.submit(stx),
        }
        .map_err(|e| at(index, seed.kind(), e))?;
        self.ops.push(seed);
        Ok(out)
    }

    /// Give `who` `amount` of `token`: the faucet for a market token, a transfer from the deployer
    /// for a protocol's own token.
    pub fn give(&mut self, token: &str, who: &str, amount: U256) -> Result<(), ApplyError> {
        let to = self.address(who)?;
        match self.token_owner.get(token).cloned() {
            Some(owner) => {
                self.tx(&owner, Action::Transfer { token: token.to_string(), to, amount })?;
            }
            None => self.sys(SystemOp::FaucetMint { token: token.to_string(), to, amount })?,
        }
        Ok(())
    }

    pub fn token_decimals(&self, token: &str) -> Result<u8, ApplyError> {
        let t = self.engine.token_ix(token).map_err(|e| at(self.ops.len(), "lookup", e))?;
        Ok(self.engine.token(t).decimals)
    }
}

fn at(index: usize, kind: &'static str, error: granary_engine::EngineError) -> ApplyError {
    ApplyError { index, kind, error }
}

pub(crate) fn fail(msg: String) -> ApplyError {
    ApplyError {
        index: usize::MAX,
        kind: "build",
        error: granary_engine::EngineError::Invalid { field: "world", why: msg },
    }
}

/// `whole` tokens (a float, rounded to 1e-8) in base units of a token with `decimals`.
pub(crate) fn units(whole: f64, decimals: u8) -> U256 {
    let scaled = (whole.max(0.0) * 1e8).round() as u128;
    U256::from(scaled) * U256::from(10u64).pow(U256::from(decimals)) / U256::from(100_000_000u64)
}
