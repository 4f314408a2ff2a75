//! Differential harness against reference implementations.
//!
//! - [`oracles`]: locates (and, when missing, installs with npm) the reference contracts' build
//!   artifacts; they are never committed.
//! - [`evm`]: the revm host the bytecode harnesses share (deploy, call, view, clock, snapshots,
//!   ERC20 calls).
//! - [`uniswap_v2`]: the Uniswap V2 core bytecode (Factory, Pair, test ERC20) on revm, driven as
//!   v2-periphery's router drives it.
//! - [`staking_rewards`]: Synthetix `StakingRewards` bytecode on revm, with two test ERC20s as its
//!   staking and reward tokens.

pub mod evm;
pub mod oracles;
pub mod rng;
pub mod staking_rewards;
pub mod uniswap_v2;
