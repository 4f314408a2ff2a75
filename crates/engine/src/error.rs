//! Engine errors: every rejection has a stable machine code (`code()`) and a message that says
//! what to fix. A rejected action leaves the state bit-for-bit unchanged (see `Engine::execute`).

use alloy_primitives::{Address, U256};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    // --- authentication and transaction envelope (SPEC §2.5) ---
    #[error("the signature does not recover to the sender {sender}: sign the transaction with the sender's key")]
    BadSignature { sender: Address },
    #[error("the signature bytes are malformed: give 65 bytes r‖s‖v with v = 27 or 28 and a low s (EIP-2)")]
    MalformedSignature,
    #[error("no chain has id {chain_id}: use the chain id of the chain that holds the objects acted on")]
    WrongChain { chain_id: u64 },
    #[error("the action acts on chain {actual} but the transaction is for chain {signed}: sign it for chain {actual}")]
    ChainMismatch { signed: u64, actual: u64 },
    #[error("nonce {got} is not the next nonce {expected} for this sender: sign with nonce {expected}")]
    BadNonce { expected: u64, got: u64 },
    #[error("the deadline {deadline} has passed (chain time {now}): sign again with a later deadline")]
    Expired { deadline: u64, now: u64 },
    #[error("the transaction bytes cannot be decoded: {0}")]
    Decode(String),

    // --- amounts ---
    #[error("`{field}` is zero: give a positive amount")]
    ZeroAmount { field: &'static str },
    #[error("an amount overflows 256 bits or an intermediate product does: use smaller amounts")]
    Overflow,
    #[error("balance of {token} is {have}, {need} is needed: fund the account or use a smaller amount")]
    InsufficientBalance { token: String, have: U256, need: U256 },
    #[error("staked {have} in {farm_pool}, cannot withdraw {need}: withdraw at most the staked amount")]
    InsufficientStaked { farm_pool: String, have: U256, need: U256 },
    #[error("slippage: {field} would be {actual}, beyond the bound {bound}: widen the bound or trade a smaller amount")]
    Slippage { field: &'static str, actual: U256, bound: U256 },

    // --- unknown ids ---
    #[error("unknown chain `{0}`: create it first or use an existing chain id")]
    UnknownChain(String),
    #[error("unknown token `{0}`: create it first or check the id")]
    UnknownToken(String),
    #[error("unknown pool `{0}`: create it with cp_pool first or check the id")]
    UnknownPool(String),
    #[error("unknown farm `{0}`: create it first or check the id")]
    UnknownFarm(String),
    #[error("unknown farm pool `{0}`: add it to a farm first or check the id")]
    UnknownFarmPool(String),
    #[error("unknown staking pool `{0}`: create it first or check the id")]
    UnknownStakingPool(String),
    #[error("unknown position `{0}`: it never existed or was closed by unstake")]
    UnknownPosition(String),
    #[error("staking pool {pool} has no {days}-day term: pick one of {offered}")]
    UnknownTerm { pool: String, days: u32, offered: String },
    #[error("the id `{0}` is taken: choose another id")]
    DuplicateId(String),
    #[error("`{field}` is invalid: {why}")]
    Invalid { field: &'static str, why: String },

    // --- protocol rules ---
    #[error("the liquidity minted would be 0: add more of both tokens")]
    InsufficientLiquidityMinted,
    #[error("burning this much liquidity returns 0 of a token: burn more liquidity")]
    InsufficientLiquidityBurned,
    #[error("the pool lacks the liquidity for this trade: trade a smaller amount or add liquidity first")]
    InsufficientLiquidity,
    #[error("the trade would return 0 tokens: trade a larger amount")]
    InsufficientOutputAmount,
    #[error("a reserve would exceed 2^112 - 1 (uint112): add less")]
    ReserveOverflow,
    #[error(
        "position {position} is locked until {unlock_at} (now {now}) and this pool forbids early exit: wait until it unlocks"
    )]
    Locked { position: String, unlock_at: u64, now: u64 },
    #[error("{who} is not the owner of {what}: only its owner may do this")]
    NotOwner { who: Address, what: String },
    #[error("{who} may not mint {token}: only its minter may")]
    NotMinter { who: Address, token: String },
    #[error("{0} is paused: wait for the owner to unpause it")]
    Paused(String),
    #[error(
        "reward rate {rate}/s would exceed what the pool holds for {duration_s}s: notify a smaller amount or fund the pool"
    )]
    RewardTooHigh { rate: U256, duration_s: u64 },
    #[error("the admin action is timelocked until {eta} (now {now}): queue it and execute it after the delay")]
    Timelocked { eta: u64, now: u64 },
    #[error("no queued admin action {0}: queue it first")]
    UnknownQueued(u64),
    #[error("no migrator is set on farm {0}: the owner must set one first")]
    NoMigrator(String),
}

impl EngineError {
    /// Stable machine-readable code; never changes once published.
    pub fn code(&self) -> &'static str {
        use EngineError::*;
        match self {
            BadSignature { .. } | MalformedSignature => "bad_signature",
            WrongChain { .. } | ChainMismatch { .. } => "wrong_chain",
            BadNonce { .. } => "bad_nonce",
            Expired { .. } => "expired",
            Decode(_) => "malformed",
            ZeroAmount { .. } => "zero_amount",
            Overflow => "overflow",
            InsufficientBalance { .. } => "insufficient_balance",
            InsufficientStaked { .. } => "insufficient_staked",
            Slippage { .. } => "slippage",
            UnknownChain(_) => "unknown_chain",
            UnknownToken(_) => "unknown_token",
            UnknownPool(_) => "unknown_pool",
            UnknownFarm(_) => "unknown_farm",
            UnknownFarmPool(_) => "unknown_farm_pool",
            UnknownStakingPool(_) => "unknown_staking_pool",
            UnknownPosition(_) => "unknown_position",
            UnknownTerm { .. } => "unknown_term",
            DuplicateId(_) => "duplicate_id",
            Invalid { .. } => "invalid",
            InsufficientLiquidityMinted => "insufficient_liquidity_minted",
            InsufficientLiquidityBurned => "insufficient_liquidity_burned",
            InsufficientLiquidity => "insufficient_liquidity",
            InsufficientOutputAmount => "insufficient_output_amount",
            ReserveOverflow => "reserve_overflow",
            Locked { .. } => "locked",
            NotOwner { .. } => "not_owner",
            NotMinter { .. } => "not_minter",
            Paused(_) => "paused",
            RewardTooHigh { .. } => "reward_too_high",
            Timelocked { .. } => "timelocked",
            UnknownQueued(_) => "unknown_queued",
            NoMigrator(_) => "no_migrator",
        }
    }

    pub(crate) fn invalid(field: &'static str, why: impl Into<String>) -> Self {
        EngineError::Invalid { field, why: why.into() }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
