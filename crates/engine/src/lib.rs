//! Granary's engine: the deterministic state machine of every chain.
//!
//! Tokens and balances, Uniswap V2 constant-product pools ([`amm`]), MasterChef farms ([`farm`]),
//! StakingRewards single-token staking with lock terms ([`staking`]), signed EIP-712 transactions
//! ([`tx`]) and the state hash ([`hash`]). All amounts are 256-bit unsigned integers in base units;
//! every step is checked; there is no I/O, no wall clock, no randomness and no floating point in
//! state. Time moves only when the caller advances a chain.

pub mod action;
pub mod amm;
pub mod codec;
pub mod error;
pub mod farm;
pub mod hash;
pub mod invariants;
pub mod math;
pub mod snapshot;
pub mod staking;
pub mod state;
pub mod system;
pub mod tx;

pub use action::{Action, Outcome};
pub use alloy_primitives::{Address, B256, U256};
pub use error::{EngineError, Result};
pub use state::{BlockSeal, Chain, Engine, Minter, Token};
pub use system::SystemOp;
pub use tx::{SignedTransaction, Transaction, VerifiedTransaction};
/// The secp256k1 secret key type used by `tx::dev_key` and `Transaction::sign`.
pub mod secp256k1_key {
    pub use secp256k1::SecretKey;
}
