//! Operator actions — genesis, the faucet, the clock — as data, so that a journal can record and
//! replay them exactly like signed transactions. They are not signed: only the process that owns
//! the world issues them.

use crate::codec::{Decoder, Encoder};
use crate::error::{EngineError, Result};
use crate::math::U256;
use crate::state::{BlockSeal, Engine, Minter};
use alloy_primitives::Address;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemOp {
    CreateChain {
        id: String,
        chain_id: u64,
        name: String,
        block_time_s: u64,
    },
    SetGasModel {
        chain: String,
        native_symbol: String,
        gas_price_wei: U256,
    },
    /// A token whose minter is an account (`Some`) or nobody (fixed supply).
    CreateToken {
        id: String,
        chain: String,
        symbol: String,
        decimals: u8,
        minter: Option<Address>,
    },
    FaucetMint {
        token: String,
        to: Address,
        amount: U256,
    },
    /// Close the chain's block and move its clock.
    Advance {
        chain: String,
        seconds: u64,
    },
}

impl SystemOp {
    pub fn kind(&self) -> &'static str {
        match self {
            SystemOp::CreateChain { .. } => "create_chain",
            SystemOp::SetGasModel { .. } => "set_gas_model",
            SystemOp::CreateToken { .. } => "create_token",
            SystemOp::FaucetMint { .. } => "faucet_mint",
            SystemOp::Advance { .. } => "advance",
        }
    }

    pub fn encode(&self, e: &mut Encoder) {
        match self {
            SystemOp::CreateChain { id, chain_id, name, block_time_s } => {
                e.u8(1).str(id).u64(*chain_id).str(name).u64(*block_time_s);
            }
            SystemOp::SetGasModel { chain, native_symbol, gas_price_wei } => {
                e.u8(2).str(chain).str(native_symbol).u256(*gas_price_wei);
            }
            SystemOp::CreateToken { id, chain, symbol, decimals, minter } => {
                e.u8(3).str(id).str(chain).str(symbol).u8(*decimals).opt_addr(*minter);
            }
            SystemOp::FaucetMint { token, to, amount } => {
                e.u8(4).str(token).addr(*to).u256(*amount);
            }
            SystemOp::Advance { chain, seconds } => {
                e.u8(5).str(chain).u64(*seconds);
            }
        }
    }

    pub fn decode(d: &mut Decoder<'_>) -> Result<SystemOp> {
        Ok(match d.u8()? {
            1 => SystemOp::CreateChain { id: d.str()?, chain_id: d.u64()?, name: d.str()?, block_time_s: d.u64()? },
            2 => SystemOp::SetGasModel { chain: d.str()?, native_symbol: d.str()?, gas_price_wei: d.u256()? },
            3 => SystemOp::CreateToken {
                id: d.str()?,
                chain: d.str()?,
                symbol: d.str()?,
                decimals: d.u8()?,
                minter: match d.u8()? {
                    0 => None,
                    1 => Some(d.addr()?),
                    v => return Err(EngineError::Decode(format!("minter flag {v}"))),
                },
            },
            4 => SystemOp::FaucetMint { token: d.str()?, to: d.addr()?, amount: d.u256()? },
            5 => SystemOp::Advance { chain: d.str()?, seconds: d.u64()? },
            v => {
                return Err(EngineError::Decode(format!("unknown operator action tag {v}")));
            }
        })
    }
}

impl Engine {
    /// Apply an operator action; an `Advance` returns the seal of the block it closed.
    pub fn apply_system(&mut self, op: &SystemOp) -> Result<Option<BlockSeal>> {
        match op {
            SystemOp::CreateChain { id, chain_id, name, block_time_s } => {
                self.create_chain(id, *chain_id, name, *block_time_s)?;
            }
            SystemOp::SetGasModel { chain, native_symbol, gas_price_wei } => {
                let c = self.chain_ix(chain)?;
                self.set_gas_model(c, native_symbol, *gas_price_wei)?;
            }
            SystemOp::CreateToken { id, chain, symbol, decimals, minter } => {
                let c = self.chain_ix(chain)?;
                let minter = minter.map_or(Minter::Nobody, Minter::Account);
                self.create_token(id, c, symbol, *decimals, minter)?;
            }
            SystemOp::FaucetMint { token, to, amount } => {
                let t = self.token_ix(token)?;
                self.faucet_mint(t, *to, *amount)?;
            }
            SystemOp::Advance { chain, seconds } => {
                let c = self.chain_ix(chain)?;
                return self.advance(c, *seconds).map(Some);
            }
        }
        Ok(None)
    }
}
