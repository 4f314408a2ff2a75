//! The seeded random source of the differential tests: integers and 256-bit amounts spread over
//! bit lengths, so that dust, ordinary and whale-sized amounts all occur.

use granary_engine::U256;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

pub struct Rng(ChaCha8Rng);

impl Rng {
    pub fn seeded(seed: u64) -> Self {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo + 1).unwrap_or(1))).unwrap_or(0)
    }
    /// Uniform in [2^(bits−1), 2^bits) (0 for bits ≤ 0, capped at 256 bits).
    pub fn bits(&mut self, bits: i64) -> U256 {
        if bits <= 0 {
            return U256::ZERO;
        }
        let bits = bits.min(256) as usize;
        let x = self.raw() >> (256 - bits);
        x | (U256::from(1u8) << (bits - 1))
    }
    /// [`Rng::bits`] with a bit length in `[lo, hi]`, at least 1 (never zero).
    pub fn bits_in(&mut self, lo: i64, hi: i64) -> U256 {
        let b = self.range(lo, hi).max(1);
        self.bits(b)
    }
    /// [`Rng::bits`] with a bit length drawn from `base + [lo, hi]`, at least 1 (never zero).
    pub fn bits_near(&mut self, base: i64, lo: i64, hi: i64) -> U256 {
        self.bits_in(base + lo, base + hi)
    }
    /// Uniform in [0, n).
    pub fn below_u256(&mut self, n: U256) -> U256 {
        if n.is_zero() {
            return U256::ZERO;
        }
        self.raw() % n
    }
    pub fn raw(&mut self) -> U256 {
        U256::from_limbs([self.0.next_u64(), self.0.next_u64(), self.0.next_u64(), self.0.next_u64()])
    }
}
