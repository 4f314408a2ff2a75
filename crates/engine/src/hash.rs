//! The state hash: keccak256 over the canonical encoding of the whole state, objects in creation
//! order, maps sorted by key. Equal states give equal hashes on every machine; replaying a journal
//! must reproduce the hash recorded for each block.

use crate::codec::Encoder;
use crate::farm::Funding;
use crate::staking::{EarlyExit, PenaltyTo};
use crate::state::{Engine, Minter};
use alloy_primitives::{B256, keccak256};

use crate::snapshot::STATE_ENCODING_VERSION;

impl Engine {
    /// The canonical encoding of the state.
    pub fn encode_state(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(STATE_ENCODING_VERSION);
        e.u32(self.chains.len() as u32);
        for c in &self.chains {
            e.str(&c.id).u64(c.chain_id).str(&c.name).str(&c.native_symbol).u64(c.block_time_s);
            e.u256(c.gas_price_wei).u64(c.now).u64(c.block_number);
        }
        e.u32(self.tokens.len() as u32);
        for t in &self.tokens {
            e.str(&t.id).u64(t.chain as u64).addr(t.address).str(&t.symbol).u8(t.decimals).u256(t.total_supply);
            match t.minter {
                Minter::Account(a) => e.u8(0).addr(a),
                Minter::Pool(p) => e.u8(1).u64(p as u64),
                Minter::Farm(f) => e.u8(2).u64(f as u64),
                Minter::Nobody => e.u8(3),
            };
        }
        let mut balances: Vec<_> = self.balances.iter().collect();
        balances.sort_unstable_by_key(|(k, _)| **k);
        e.u32(balances.len() as u32);
        for ((t, a), v) in balances {
            e.u64(*t as u64).addr(*a).u256(*v);
        }
        e.u32(self.pools.len() as u32);
        for p in &self.pools {
            e.str(&p.id).u64(p.chain as u64).u64(p.tokens[0] as u64).u64(p.tokens[1] as u64);
            e.u64(p.lp_token as u64).addr(p.address).addr(p.creator).u32(p.fee_bps);
            e.u256(p.reserves[0]).u256(p.reserves[1]).u256(p.k_last).opt_addr(p.fee_to);
            e.u256(p.price_cumulative[0]).u256(p.price_cumulative[1]).u32(p.block_timestamp_last);
            e.u256(p.volume_in[0]).u256(p.volume_in[1]).u256(p.fees_in[0]).u256(p.fees_in[1]);
        }
        e.u32(self.farms.len() as u32);
        for f in &self.farms {
            e.str(&f.id).u64(f.chain as u64).addr(f.address).addr(f.owner).u64(f.reward_token as u64);
            e.u256(f.reward_per_second).u64(f.start).u64(f.end.unwrap_or(0)).u8(u8::from(f.end.is_some()));
            e.u64(f.total_alloc_point).u8(match f.funding {
                Funding::Minted => 0,
                Funding::Budget => 1,
            });
            e.u256(f.reward_reserve).u256(f.rewards_emitted).u256(f.rewards_paid).u8(u8::from(f.paused));
            e.opt_addr(f.migrator).u64(f.timelock_delay_s).u64(f.next_queue_id);
            e.u32(f.queue.len() as u32);
            for (id, q) in &f.queue {
                e.u64(*id).u64(q.eta);
                q.action.encode(&mut e);
            }
            e.u32(f.pools.len() as u32);
            for p in &f.pools {
                e.u64(*p as u64);
            }
        }
        e.u32(self.farm_pools.len() as u32);
        for p in &self.farm_pools {
            e.str(&p.id).u64(p.farm as u64).u64(p.stake_token as u64).u64(p.alloc_point);
            e.u64(p.last_reward_time).u256(p.acc_reward_per_share).u256(p.total_staked).u32(p.deposit_fee_bps);
        }
        let mut users: Vec<_> = self.farm_users.iter().collect();
        users.sort_unstable_by_key(|(k, _)| **k);
        e.u32(users.len() as u32);
        for ((fp, a), u) in users {
            e.u64(*fp as u64).addr(*a).u256(u.amount).u256(u.reward_debt).u256(u.owed);
        }
        e.u32(self.staking_pools.len() as u32);
        for s in &self.staking_pools {
            e.str(&s.id).u64(s.chain as u64).addr(s.address).addr(s.owner);
            e.u64(s.stake_token as u64).u64(s.reward_token as u64);
            e.u32(s.terms.len() as u32);
            for t in &s.terms {
                e.u32(t.days).u32(t.boost_bps);
            }
            match s.early_exit {
                EarlyExit::Forbidden => e.u8(0),
                EarlyExit::Penalty { penalty_bps, forfeit_rewards, to } => e
                    .u8(match to {
                        PenaltyTo::Treasury => 1,
                        PenaltyTo::Stakers => 2,
                    })
                    .u32(penalty_bps)
                    .u8(u8::from(forfeit_rewards)),
            };
            e.u256(s.reward_rate).u64(s.period_finish).u64(s.last_update_time).u256(s.reward_per_token_stored);
            e.u256(s.total_weight).u256(s.total_staked).u256(s.reward_reserve);
            e.u256(s.rewards_notified).u256(s.rewards_paid);
        }
        e.u32(self.positions.len() as u32);
        for p in self.positions.values() {
            e.u64(p.id).addr(p.owner).u64(p.pool as u64).u256(p.amount).u256(p.weight);
            e.u32(p.term_days).u32(p.boost_bps).u64(p.staked_at).u64(p.unlock_at);
            e.u256(p.reward_per_token_paid).u256(p.rewards);
        }
        e.u64(self.next_position);
        let mut nonces: Vec<_> = self.nonces.iter().collect();
        nonces.sort_unstable_by_key(|(k, _)| **k);
        e.u32(nonces.len() as u32);
        for ((c, a), n) in nonces {
            e.u64(*c as u64).addr(*a).u64(*n);
        }
        e.buf
    }

    /// keccak256 of [`Engine::encode_state`].
    pub fn state_hash(&self) -> B256 {
        keccak256(self.encode_state())
    }
}
