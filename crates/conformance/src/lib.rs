//! Differential harness against reference implementations.
//!
//! - [`oracles`]: locates (and, when missing, installs with npm) the reference contracts' build
//!   artifacts; they are never committed.
//! - [`uniswap_v2`]: the Uniswap V2 core bytecode (Factory, Pair, test ERC20) on revm, driven as
//!   v2-periphery's router drives it.

pub mod oracles;
pub mod uniswap_v2;
