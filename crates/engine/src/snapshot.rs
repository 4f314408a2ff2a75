//! Restoring a state from its canonical encoding (`Engine::encode_state`): what a snapshot holds.
//! Decoding checks every index it reads, so a corrupt snapshot is an error, never a panic or a
//! half-built engine; the caller then checks the state hash it expected.

use crate::action::Action;
use crate::amm::CpPool;
use crate::codec::Decoder;
use crate::error::{EngineError, Result};
use crate::farm::{Farm, FarmPool, FarmUser, Funding, Queued};
use crate::staking::{EarlyExit, PenaltyTo, Position, StakingPool, Term};
use crate::state::{Chain, Engine, Minter, Token};
use std::collections::BTreeMap;

/// The encoding version this engine reads and writes (the first byte of `encode_state`).
pub const STATE_ENCODING_VERSION: u8 = 2;

fn bad(why: impl Into<String>) -> EngineError {
    EngineError::Decode(why.into())
}

fn count(d: &mut Decoder<'_>) -> Result<usize> {
    Ok(d.u32()? as usize)
}

fn index(d: &mut Decoder<'_>, len: usize, what: &str) -> Result<usize> {
    let i = d.u64()?;
    usize::try_from(i).ok().filter(|i| *i < len).ok_or_else(|| bad(format!("{what} index {i} out of range")))
}

fn flag(d: &mut Decoder<'_>) -> Result<bool> {
    match d.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(bad(format!("flag byte {v}"))),
    }
}

fn opt_addr(d: &mut Decoder<'_>) -> Result<Option<alloy_primitives::Address>> {
    Ok(if flag(d)? { Some(d.addr()?) } else { None })
}

/// Capacity hint bounded so a corrupt count cannot allocate more than the input could hold.
fn cap(n: usize) -> usize {
    n.min(1 << 16)
}

impl Engine {
    /// Rebuild an engine from [`Engine::encode_state`] bytes. An unknown version is refused.
    pub fn decode_state(bytes: &[u8]) -> Result<Engine> {
        let mut d = Decoder::new(bytes);
        let version = d.u8()?;
        if version != STATE_ENCODING_VERSION {
            return Err(bad(format!(
                "state encoding version {version} is unknown (this build reads version {STATE_ENCODING_VERSION})"
            )));
        }
        let mut e = Engine::new();
        let n = count(&mut d)?;
        for _ in 0..n {
            let c = Chain {
                id: d.str()?,
                chain_id: d.u64()?,
                name: d.str()?,
                native_symbol: d.str()?,
                block_time_s: d.u64()?,
                gas_price_wei: d.u256()?,
                now: d.u64()?,
                block_number: d.u64()?,
            };
            let ix = e.chains.len();
            if e.chain_by_id.insert(c.id.clone(), ix).is_some() || e.chain_by_eip155.insert(c.chain_id, ix).is_some() {
                return Err(bad(format!("chain {} appears twice", c.id)));
            }
            e.chains.push(c);
        }
        let n = count(&mut d)?;
        let mut minters = Vec::with_capacity(cap(n));
        for _ in 0..n {
            let id = d.str()?;
            let chain = index(&mut d, e.chains.len(), "chain")?;
            let address = d.addr()?;
            let symbol = d.str()?;
            let decimals = d.u8()?;
            let total_supply = d.u256()?;
            let minter = match d.u8()? {
                0 => (0u8, 0u64, Some(d.addr()?)),
                1 => (1, d.u64()?, None),
                2 => (2, d.u64()?, None),
                3 => (3, 0, None),
                v => return Err(bad(format!("minter tag {v}"))),
            };
            minters.push(minter);
            let ix = e.tokens.len();
            if e.token_by_id.insert(id.clone(), ix).is_some() {
                return Err(bad(format!("token {id} appears twice")));
            }
            e.tokens.push(Token { id, chain, address, symbol, decimals, total_supply, minter: Minter::Nobody });
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let t = index(&mut d, e.tokens.len(), "token")?;
            let a = d.addr()?;
            let v = d.u256()?;
            if v.is_zero() || e.balances.insert((t, a), v).is_some() {
                return Err(bad("a balance is zero or appears twice"));
            }
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let id = d.str()?;
            let chain = index(&mut d, e.chains.len(), "chain")?;
            let tokens = [index(&mut d, e.tokens.len(), "token")?, index(&mut d, e.tokens.len(), "token")?];
            let lp_token = index(&mut d, e.tokens.len(), "token")?;
            let p = CpPool {
                id,
                chain,
                tokens,
                lp_token,
                address: d.addr()?,
                creator: d.addr()?,
                fee_bps: d.u32()?,
                reserves: [d.u256()?, d.u256()?],
                k_last: d.u256()?,
                fee_to: opt_addr(&mut d)?,
                price_cumulative: [d.u256()?, d.u256()?],
                block_timestamp_last: d.u32()?,
                volume_in: [d.u256()?, d.u256()?],
                fees_in: [d.u256()?, d.u256()?],
            };
            if p.fee_bps > crate::amm::MAX_FEE_BPS {
                return Err(bad("pool fee out of range"));
            }
            let ix = e.pools.len();
            if e.pool_by_id.insert(p.id.clone(), ix).is_some() {
                return Err(bad(format!("pool {} appears twice", p.id)));
            }
            e.pools.push(p);
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let id = d.str()?;
            let chain = index(&mut d, e.chains.len(), "chain")?;
            let address = d.addr()?;
            let owner = d.addr()?;
            let reward_token = index(&mut d, e.tokens.len(), "token")?;
            let reward_per_second = d.u256()?;
            let start = d.u64()?;
            let end_value = d.u64()?;
            let end = if flag(&mut d)? { Some(end_value) } else { None };
            let total_alloc_point = d.u64()?;
            let funding = match d.u8()? {
                0 => Funding::Minted,
                1 => Funding::Budget,
                v => return Err(bad(format!("funding tag {v}"))),
            };
            let (reward_reserve, rewards_emitted, rewards_paid) = (d.u256()?, d.u256()?, d.u256()?);
            let paused = flag(&mut d)?;
            let migrator = opt_addr(&mut d)?;
            let (timelock_delay_s, next_queue_id) = (d.u64()?, d.u64()?);
            let mut queue = BTreeMap::new();
            for _ in 0..count(&mut d)? {
                let qid = d.u64()?;
                let eta = d.u64()?;
                let action = Action::decode(&mut d)?;
                queue.insert(qid, Queued { eta, action });
            }
            let np = count(&mut d)?;
            let mut pools = Vec::with_capacity(cap(np));
            for _ in 0..np {
                // Farm pools come later in the encoding; their count is checked below.
                pools.push(usize::try_from(d.u64()?).map_err(|_| bad("farm pool index"))?);
            }
            let ix = e.farms.len();
            if e.farm_by_id.insert(id.clone(), ix).is_some() {
                return Err(bad(format!("farm {id} appears twice")));
            }
            e.farms.push(Farm {
                id,
                chain,
                address,
                owner,
                reward_token,
                reward_per_second,
                start,
                end,
                total_alloc_point,
                funding,
                reward_reserve,
                rewards_emitted,
                rewards_paid,
                paused,
                migrator,
                timelock_delay_s,
                queue,
                next_queue_id,
                pools,
            });
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let p = FarmPool {
                id: d.str()?,
                farm: index(&mut d, e.farms.len(), "farm")?,
                stake_token: index(&mut d, e.tokens.len(), "token")?,
                alloc_point: d.u64()?,
                last_reward_time: d.u64()?,
                acc_reward_per_share: d.u256()?,
                total_staked: d.u256()?,
                deposit_fee_bps: d.u32()?,
            };
            let ix = e.farm_pools.len();
            if e.farm_pool_by_id.insert(p.id.clone(), ix).is_some() {
                return Err(bad(format!("farm pool {} appears twice", p.id)));
            }
            e.farm_pools.push(p);
        }
        if e.farms.iter().flat_map(|f| &f.pools).any(|p| *p >= e.farm_pools.len()) {
            return Err(bad("a farm lists an unknown farm pool"));
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let fp = index(&mut d, e.farm_pools.len(), "farm pool")?;
            let a = d.addr()?;
            let u = FarmUser { amount: d.u256()?, reward_debt: d.u256()?, owed: d.u256()? };
            if e.farm_users.insert((fp, a), u).is_some() {
                return Err(bad("a farm user appears twice"));
            }
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let id = d.str()?;
            let chain = index(&mut d, e.chains.len(), "chain")?;
            let address = d.addr()?;
            let owner = d.addr()?;
            let stake_token = index(&mut d, e.tokens.len(), "token")?;
            let reward_token = index(&mut d, e.tokens.len(), "token")?;
            let nt = count(&mut d)?;
            let mut terms = Vec::with_capacity(cap(nt));
            for _ in 0..nt {
                terms.push(Term { days: d.u32()?, boost_bps: d.u32()? });
            }
            let early_exit = match d.u8()? {
                0 => EarlyExit::Forbidden,
                tag @ (1 | 2) => EarlyExit::Penalty {
                    to: if tag == 1 { PenaltyTo::Treasury } else { PenaltyTo::Stakers },
                    penalty_bps: d.u32()?,
                    forfeit_rewards: flag(&mut d)?,
                },
                v => return Err(bad(format!("early exit tag {v}"))),
            };
            let s = StakingPool {
                id,
                chain,
                address,
                owner,
                stake_token,
                reward_token,
                terms,
                early_exit,
                reward_rate: d.u256()?,
                period_finish: d.u64()?,
                last_update_time: d.u64()?,
                reward_per_token_stored: d.u256()?,
                total_weight: d.u256()?,
                total_staked: d.u256()?,
                reward_reserve: d.u256()?,
                rewards_notified: d.u256()?,
                rewards_paid: d.u256()?,
            };
            let ix = e.staking_pools.len();
            if e.staking_by_id.insert(s.id.clone(), ix).is_some() {
                return Err(bad(format!("staking pool {} appears twice", s.id)));
            }
            e.staking_pools.push(s);
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let p = Position {
                id: d.u64()?,
                owner: d.addr()?,
                pool: index(&mut d, e.staking_pools.len(), "staking pool")?,
                amount: d.u256()?,
                weight: d.u256()?,
                term_days: d.u32()?,
                boost_bps: d.u32()?,
                staked_at: d.u64()?,
                unlock_at: d.u64()?,
                reward_per_token_paid: d.u256()?,
                rewards: d.u256()?,
            };
            if e.positions.insert(p.id, p).is_some() {
                return Err(bad("a position appears twice"));
            }
        }
        e.next_position = d.u64()?;
        if e.positions.keys().next_back().is_some_and(|last| *last >= e.next_position) {
            return Err(bad("a position id is not below the next position id"));
        }
        let n = count(&mut d)?;
        for _ in 0..n {
            let c = index(&mut d, e.chains.len(), "chain")?;
            let a = d.addr()?;
            let nonce = d.u64()?;
            if e.nonces.insert((c, a), nonce).is_some() {
                return Err(bad("a nonce appears twice"));
            }
        }
        d.finish()?;
        // Minters refer to pools and farms, which are known only now.
        for (t, (tag, ix, account)) in minters.into_iter().enumerate() {
            let ix = usize::try_from(ix).map_err(|_| bad("minter index"))?;
            e.tokens[t].minter = match (tag, account) {
                (0, Some(a)) => Minter::Account(a),
                (1, _) if ix < e.pools.len() => Minter::Pool(ix),
                (2, _) if ix < e.farms.len() => Minter::Farm(ix),
                (3, _) => Minter::Nobody,
                _ => return Err(bad("a token's minter is out of range")),
            };
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_version_is_refused() {
        let mut bytes = Engine::new().encode_state();
        bytes[0] = 9;
        let err = Engine::decode_state(&bytes).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("version 9 is unknown"), "{err}");
    }

    #[test]
    fn empty_state_round_trips() {
        let e = Engine::new();
        let d = Engine::decode_state(&e.encode_state()).unwrap_or_default();
        assert_eq!(d.state_hash(), e.state_hash());
    }
}
