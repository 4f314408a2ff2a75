//! Checked 256-bit arithmetic for protocol math.
//!
//! Every operation on an amount goes through these helpers so that overflow and underflow become
//! [`EngineError::Overflow`] instead of a wrap or a panic (Solidity 0.5 SafeMath semantics). Division
//! always floors, which is the EVM's integer division; callers that need the protocol-favouring
//! ceiling say so with [`div_ceil`].

use crate::error::EngineError;
pub use alloy_primitives::U256;

/// 10^12: MasterChef's `ACC_SUSHI_PRECISION` for `acc_reward_per_share`.
pub const ACC_PRECISION: U256 = U256::from_limbs([1_000_000_000_000, 0, 0, 0]);
/// 10^18: StakingRewards' precision for `reward_per_token`.
pub const REWARD_PER_TOKEN_PRECISION: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);
/// Basis points in one whole.
pub const BPS: U256 = U256::from_limbs([10_000, 0, 0, 0]);
/// `2^112 - 1`: the largest reserve a Uniswap V2 pair stores (`uint112`).
pub const MAX_RESERVE: U256 = U256::from_limbs([u64::MAX, (1u64 << 48) - 1, 0, 0]);

/// The overflow error, built lazily (`ok_or_else`) so the success path never constructs one.
#[cold]
pub fn overflow() -> EngineError {
    EngineError::Overflow
}

#[inline]
pub fn add(a: U256, b: U256) -> Result<U256, EngineError> {
    a.checked_add(b).ok_or_else(overflow)
}

#[inline]
pub fn sub(a: U256, b: U256) -> Result<U256, EngineError> {
    a.checked_sub(b).ok_or_else(overflow)
}

#[inline]
pub fn mul(a: U256, b: U256) -> Result<U256, EngineError> {
    a.checked_mul(b).ok_or_else(overflow)
}

/// Floor division; a zero divisor is an error, never a panic.
#[inline]
pub fn div(a: U256, b: U256) -> Result<U256, EngineError> {
    a.checked_div(b).ok_or_else(overflow)
}

/// Ceiling division, for amounts the caller owes the protocol.
#[inline]
pub fn div_ceil(a: U256, b: U256) -> Result<U256, EngineError> {
    if b.is_zero() {
        return Err(EngineError::Overflow);
    }
    let q = a / b;
    Ok(if (a % b).is_zero() { q } else { q + U256::from(1u8) })
}

/// `⌊a·b/c⌋` with the intermediate product checked against 2^256, as Solidity computes it.
#[inline]
pub fn mul_div(a: U256, b: U256, c: U256) -> Result<U256, EngineError> {
    div(mul(a, b)?, c)
}

/// `⌊√y⌋` (UniswapV2 `Math.sqrt`, the Babylonian method; equal to the integer square root).
#[inline]
pub fn sqrt(y: U256) -> U256 {
    y.root(2)
}

#[inline]
pub fn u(x: u64) -> U256 {
    U256::from(x)
}

/// `amount · bps / 10000`, floored.
#[inline]
pub fn bps_of(amount: U256, bps: u32) -> Result<U256, EngineError> {
    mul_div(amount, U256::from(bps), BPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_matches_uniswap_vector() {
        // protocols.md Vector C: √(1e21·2e21)
        let a = U256::from(10u8).pow(U256::from(21u8));
        let b = a * U256::from(2u8);
        assert_eq!(sqrt(a * b), "1414213562373095048801".parse::<U256>().unwrap_or_default());
        assert_eq!(sqrt(U256::ZERO), U256::ZERO);
        assert_eq!(sqrt(u(3)), u(1));
        assert_eq!(sqrt(u(4)), u(2));
        assert_eq!(sqrt(U256::MAX), U256::from(u128::MAX));
    }

    #[test]
    fn max_reserve_is_uint112_max() {
        assert_eq!(MAX_RESERVE + u(1), U256::from(1u8) << 112);
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(add(U256::MAX, u(1)), Err(EngineError::Overflow));
        assert_eq!(sub(u(0), u(1)), Err(EngineError::Overflow));
        assert_eq!(mul(U256::MAX, u(2)), Err(EngineError::Overflow));
        assert_eq!(div(u(1), u(0)), Err(EngineError::Overflow));
        assert_eq!(div_ceil(u(7), u(2)), Ok(u(4)));
        assert_eq!(div_ceil(u(6), u(2)), Ok(u(3)));
    }
}
