//! The Uniswap V2 core contracts (Factory, Pair, test ERC20) running as bytecode on revm, driven
//! the way v2-periphery's router drives them.
//!
//! Calldata is encoded by hand (4-byte selector + 32-byte words) and runs on
//! [`crate::evm::Evm`]. Every state-changing call is its own committed transaction. The router
//! flows ([`V2Evm::add_liquidity`], [`V2Evm::remove_liquidity`], [`V2Evm::swap_exact_in`],
//! [`V2Evm::swap_exact_out`]) are several transactions (transfers into the pair, then
//! `mint`/`burn`/`swap`); since the router would run them in one transaction, a failure in any of
//! them restores the state from before the first, so a failed step leaves no trace (no stray
//! donation to the pair).

use crate::evm::{Calldata, Evm, abi_address, revert, word, word_address};
pub use crate::evm::{Result, Revert, Snapshot, revert_reason};
use crate::oracles::V2CoreArtifacts;
use alloy_primitives::{Address, Bytes, U256};
use std::fmt;

/// Function selectors (first 4 bytes of keccak256 of the signature).
pub mod selector {
    pub use crate::evm::erc20::{BALANCE_OF, TOTAL_SUPPLY, TRANSFER};
    pub const CREATE_PAIR: [u8; 4] = [0xc9, 0xc6, 0x53, 0x96]; // createPair(address,address)
    pub const SET_FEE_TO: [u8; 4] = [0xf4, 0x69, 0x01, 0xed]; // setFeeTo(address)
    pub const FEE_TO: [u8; 4] = [0x01, 0x7e, 0x7e, 0x58]; // feeTo()
    pub const MINT: [u8; 4] = [0x6a, 0x62, 0x78, 0x42]; // mint(address)
    pub const BURN: [u8; 4] = [0x89, 0xaf, 0xcb, 0x44]; // burn(address)
    pub const SWAP: [u8; 4] = [0x02, 0x2c, 0x0d, 0x9f]; // swap(uint256,uint256,address,bytes)
    pub const GET_RESERVES: [u8; 4] = [0x09, 0x02, 0xf1, 0xac]; // getReserves()
    pub const PRICE0_CUMULATIVE_LAST: [u8; 4] = [0x59, 0x09, 0xc0, 0xd5]; // price0CumulativeLast()
    pub const PRICE1_CUMULATIVE_LAST: [u8; 4] = [0x5a, 0x3d, 0x54, 0x93]; // price1CumulativeLast()
    pub const K_LAST: [u8; 4] = [0x74, 0x64, 0xfc, 0x3d]; // kLast()
    pub const TOKEN0: [u8; 4] = [0x0d, 0xfe, 0x16, 0x81]; // token0()
    pub const TOKEN1: [u8; 4] = [0xd2, 0x12, 0x20, 0xa7]; // token1()
}

/// v2-periphery `UniswapV2Library` math with SafeMath semantics: a would-be overflow fails.
pub mod library {
    use super::{Result, U256, revert};

    fn mul(a: U256, b: U256) -> Result<U256> {
        a.checked_mul(b).map_or_else(|| revert("ds-math-mul-overflow"), Ok)
    }
    fn add(a: U256, b: U256) -> Result<U256> {
        a.checked_add(b).map_or_else(|| revert("ds-math-add-overflow"), Ok)
    }
    fn sub(a: U256, b: U256) -> Result<U256> {
        a.checked_sub(b).map_or_else(|| revert("ds-math-sub-underflow"), Ok)
    }

    /// `quote(amountA, reserveA, reserveB) = amountA·reserveB / reserveA`.
    pub fn quote(amount_a: U256, reserve_a: U256, reserve_b: U256) -> Result<U256> {
        if amount_a.is_zero() {
            return revert("UniswapV2Library: INSUFFICIENT_AMOUNT");
        }
        if reserve_a.is_zero() || reserve_b.is_zero() {
            return revert("UniswapV2Library: INSUFFICIENT_LIQUIDITY");
        }
        Ok(mul(amount_a, reserve_b)? / reserve_a)
    }

    /// `getAmountOut`: `in·997·rOut / (rIn·1000 + in·997)`.
    pub fn get_amount_out(amount_in: U256, reserve_in: U256, reserve_out: U256) -> Result<U256> {
        if amount_in.is_zero() {
            return revert("UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT");
        }
        if reserve_in.is_zero() || reserve_out.is_zero() {
            return revert("UniswapV2Library: INSUFFICIENT_LIQUIDITY");
        }
        let amount_in_with_fee = mul(amount_in, U256::from(997u32))?;
        let numerator = mul(amount_in_with_fee, reserve_out)?;
        let denominator = add(mul(reserve_in, U256::from(1000u32))?, amount_in_with_fee)?;
        Ok(numerator / denominator)
    }

    /// `getAmountIn`: `rIn·out·1000 / ((rOut − out)·997) + 1`.
    pub fn get_amount_in(amount_out: U256, reserve_in: U256, reserve_out: U256) -> Result<U256> {
        if amount_out.is_zero() {
            return revert("UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT");
        }
        if reserve_in.is_zero() || reserve_out.is_zero() {
            return revert("UniswapV2Library: INSUFFICIENT_LIQUIDITY");
        }
        let numerator = mul(mul(reserve_in, amount_out)?, U256::from(1000u32))?;
        let denominator = mul(sub(reserve_out, amount_out)?, U256::from(997u32))?;
        if denominator.is_zero() {
            // Solidity 0.6 division by zero is an invalid opcode: the call fails.
            return revert("division by zero");
        }
        add(numerator / denominator, U256::from(1u8))
    }
}

/// A deployed Factory, two test ERC20s and their pair.
pub struct V2Evm {
    evm: Evm,
    pub deployer: Address,
    pub fee_to_setter: Address,
    pub factory: Address,
    /// The two ERC20s in deployment order (not sorted).
    pub tokens: [Address; 2],
    pub pair: Address,
    /// The pair's sorted tokens (`token0 < token1`).
    pub token0: Address,
    pub token1: Address,
}

impl fmt::Debug for V2Evm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2Evm")
            .field("factory", &self.factory)
            .field("pair", &self.pair)
            .field("token0", &self.token0)
            .field("token1", &self.token1)
            .finish_non_exhaustive()
    }
}

impl V2Evm {
    /// Deploy `UniswapV2Factory(fee_to_setter)` and two `ERC20(supply)` from `deployer` (who
    /// receives both supplies), then `createPair(tokens[0], tokens[1])`. Block timestamp starts at
    /// `timestamp`.
    pub fn deploy(
        artifacts: &V2CoreArtifacts,
        deployer: Address,
        fee_to_setter: Address,
        supply: U256,
        timestamp: u64,
    ) -> Result<Self> {
        let mut this = Self {
            evm: Evm::new(timestamp),
            deployer,
            fee_to_setter,
            factory: Address::ZERO,
            tokens: [Address::ZERO; 2],
            pair: Address::ZERO,
            token0: Address::ZERO,
            token1: Address::ZERO,
        };
        let mut code = artifacts.factory.bytecode.clone();
        code.extend_from_slice(&abi_address(fee_to_setter));
        this.factory = this.create(deployer, code)?;
        for i in 0..2 {
            this.tokens[i] = this.evm.deploy_erc20(&artifacts.erc20.bytecode, deployer, supply)?;
        }
        let data = Calldata::new(selector::CREATE_PAIR).address(this.tokens[0]).address(this.tokens[1]).into_bytes();
        let out = this.call(deployer, this.factory, data)?;
        this.pair = word_address(&out, 0);
        let t0 = this.view(this.pair, Calldata::new(selector::TOKEN0).into_bytes())?;
        let t1 = this.view(this.pair, Calldata::new(selector::TOKEN1).into_bytes())?;
        this.token0 = word_address(&t0, 0);
        this.token1 = word_address(&t1, 0);
        Ok(this)
    }

    /// Move the block clock (and the block number, by one) to `timestamp`.
    pub fn set_timestamp(&mut self, timestamp: u64) {
        self.evm.set_timestamp(timestamp);
    }

    pub fn timestamp(&self) -> u64 {
        self.evm.timestamp()
    }

    /// Deploy `code` (creation code with constructor arguments) from `from`.
    pub fn create(&mut self, from: Address, code: Vec<u8>) -> Result<Address> {
        self.evm.create(from, code)
    }

    /// A committed call; its return data or why it failed.
    pub fn call(&mut self, from: Address, to: Address, data: Vec<u8>) -> Result<Bytes> {
        self.evm.call(from, to, data)
    }

    /// A read-only call (executed, never committed).
    pub fn view(&mut self, to: Address, data: Vec<u8>) -> Result<Bytes> {
        self.evm.view(to, data)
    }

    fn view_uint(&mut self, to: Address, data: Vec<u8>) -> U256 {
        self.evm.view_uint(to, data)
    }

    pub fn snapshot(&self) -> Snapshot {
        self.evm.snapshot()
    }

    pub fn restore(&mut self, snapshot: Snapshot) {
        self.evm.restore(snapshot);
    }

    /// Run `f`; if it fails, put the state back as it was before (one router transaction).
    fn atomic<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let snapshot = self.snapshot();
        let r = f(self);
        if r.is_err() {
            self.restore(snapshot);
        }
        r
    }

    // ----- ERC20 -----

    pub fn transfer(&mut self, token: Address, from: Address, to: Address, amount: U256) -> Result<()> {
        self.evm.transfer(token, from, to, amount)
    }

    pub fn balance_of(&mut self, token: Address, who: Address) -> U256 {
        self.evm.balance_of(token, who)
    }

    pub fn total_supply(&mut self, token: Address) -> U256 {
        self.evm.total_supply(token)
    }

    // ----- Factory -----

    /// `factory.setFeeTo(fee_to)` sent by `from` (only `feeToSetter` may).
    pub fn set_fee_to(&mut self, from: Address, fee_to: Address) -> Result<()> {
        let data = Calldata::new(selector::SET_FEE_TO).address(fee_to).into_bytes();
        self.call(from, self.factory, data).map(|_| ())
    }

    pub fn fee_to(&mut self) -> Address {
        let out = self
            .view(self.factory, Calldata::new(selector::FEE_TO).into_bytes())
            .unwrap_or_else(|e| panic!("feeTo reverted: {e}"));
        word_address(&out, 0)
    }

    // ----- Pair -----

    /// `pair.mint(to)`: the LP tokens minted.
    pub fn mint(&mut self, from: Address, to: Address) -> Result<U256> {
        let data = Calldata::new(selector::MINT).address(to).into_bytes();
        let out = self.call(from, self.pair, data)?;
        Ok(word(&out, 0))
    }

    /// `pair.burn(to)`: the (token0, token1) amounts sent to `to`.
    pub fn burn(&mut self, from: Address, to: Address) -> Result<[U256; 2]> {
        let data = Calldata::new(selector::BURN).address(to).into_bytes();
        let out = self.call(from, self.pair, data)?;
        Ok([word(&out, 0), word(&out, 1)])
    }

    /// `pair.swap(amount0Out, amount1Out, to, "")`.
    pub fn swap(&mut self, from: Address, amount0_out: U256, amount1_out: U256, to: Address) -> Result<()> {
        let data = Calldata::new(selector::SWAP)
            .uint(amount0_out)
            .uint(amount1_out)
            .address(to)
            .uint(U256::from(0x80u32)) // offset of `data`
            .uint(U256::ZERO) // its length: empty, no callback
            .into_bytes();
        self.call(from, self.pair, data).map(|_| ())
    }

    /// `getReserves()`: ([reserve0, reserve1], blockTimestampLast).
    pub fn reserves(&mut self) -> ([U256; 2], u32) {
        let out = self
            .view(self.pair, Calldata::new(selector::GET_RESERVES).into_bytes())
            .unwrap_or_else(|e| panic!("getReserves reverted: {e}"));
        let ts = u32::try_from(word(&out, 2)).unwrap_or_else(|_| panic!("blockTimestampLast"));
        ([word(&out, 0), word(&out, 1)], ts)
    }

    /// `[price0CumulativeLast, price1CumulativeLast]`.
    pub fn price_cumulative_last(&mut self) -> [U256; 2] {
        [
            self.view_uint(self.pair, Calldata::new(selector::PRICE0_CUMULATIVE_LAST).into_bytes()),
            self.view_uint(self.pair, Calldata::new(selector::PRICE1_CUMULATIVE_LAST).into_bytes()),
        ]
    }

    pub fn k_last(&mut self) -> U256 {
        self.view_uint(self.pair, Calldata::new(selector::K_LAST).into_bytes())
    }

    /// The pair's token on `side` (0 = token0).
    pub fn side_token(&self, side: usize) -> Address {
        if side == 0 { self.token0 } else { self.token1 }
    }

    // ----- Router02 flows (one atomic step each) -----

    /// `addLiquidity(tokenA, tokenB, desired…)` with no minimums, where `token_a` is `token0` or
    /// `token1` and `desired` is in (A, B) order: the router's optimal amounts at the current
    /// reserves (computed in the caller's A/B order, as Router02 does: the rounding of `quote`
    /// depends on which token is named first) are transferred to the pair, then `mint(to)`.
    /// Returns (amounts used in (A, B) order, liquidity minted).
    pub fn add_liquidity(
        &mut self,
        from: Address,
        token_a: Address,
        desired: [U256; 2],
        to: Address,
    ) -> Result<([U256; 2], U256)> {
        assert!(token_a == self.token0 || token_a == self.token1, "token_a must be one of the pair's tokens");
        let a_is_0 = token_a == self.token0;
        self.atomic(|s| {
            let ([r0, r1], _) = s.reserves();
            let (ra, rb) = if a_is_0 { (r0, r1) } else { (r1, r0) };
            let amounts = if ra.is_zero() && rb.is_zero() {
                desired
            } else {
                let b_opt = library::quote(desired[0], ra, rb)?;
                if b_opt <= desired[1] {
                    [desired[0], b_opt]
                } else {
                    let a_opt = library::quote(desired[1], rb, ra)?;
                    assert!(a_opt <= desired[0], "router invariant: aOptimal <= aDesired");
                    [a_opt, desired[1]]
                }
            };
            let (token_b, pair) = (if a_is_0 { s.token1 } else { s.token0 }, s.pair);
            s.transfer(token_a, from, pair, amounts[0])?;
            s.transfer(token_b, from, pair, amounts[1])?;
            let liquidity = s.mint(from, to)?;
            Ok((amounts, liquidity))
        })
    }

    /// `removeLiquidity` with no minimums: LP to the pair, then `burn(to)`; (amount0, amount1).
    pub fn remove_liquidity(&mut self, from: Address, liquidity: U256, to: Address) -> Result<[U256; 2]> {
        self.atomic(|s| {
            let pair = s.pair;
            s.transfer(pair, from, pair, liquidity)?;
            s.burn(from, to)
        })
    }

    /// `swapExactTokensForTokens` on this pair, no minimum: returns the amount out.
    /// `zero_for_one`: token0 in, token1 out.
    pub fn swap_exact_in(&mut self, from: Address, zero_for_one: bool, amount_in: U256, to: Address) -> Result<U256> {
        self.atomic(|s| {
            let ([r0, r1], _) = s.reserves();
            let (r_in, r_out) = if zero_for_one { (r0, r1) } else { (r1, r0) };
            let out = library::get_amount_out(amount_in, r_in, r_out)?;
            s.pay_and_swap(from, zero_for_one, amount_in, out, to)?;
            Ok(out)
        })
    }

    /// `swapTokensForExactTokens` on this pair, no maximum: returns the amount in.
    pub fn swap_exact_out(&mut self, from: Address, zero_for_one: bool, amount_out: U256, to: Address) -> Result<U256> {
        self.atomic(|s| {
            let ([r0, r1], _) = s.reserves();
            let (r_in, r_out) = if zero_for_one { (r0, r1) } else { (r1, r0) };
            let amount_in = library::get_amount_in(amount_out, r_in, r_out)?;
            s.pay_and_swap(from, zero_for_one, amount_in, amount_out, to)?;
            Ok(amount_in)
        })
    }

    /// Transfer `amount_in` of the input token to the pair, then `swap` out `amount_out`.
    /// Two committed transactions, not rolled back on failure (see the router flows for that).
    pub fn pay_and_swap(
        &mut self,
        from: Address,
        zero_for_one: bool,
        amount_in: U256,
        amount_out: U256,
        to: Address,
    ) -> Result<()> {
        let (token_in, outs) = if zero_for_one {
            (self.token0, [U256::ZERO, amount_out])
        } else {
            (self.token1, [amount_out, U256::ZERO])
        };
        let pair = self.pair;
        self.transfer(token_in, from, pair, amount_in)?;
        self.swap(from, outs[0], outs[1], to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn selectors_match_signatures() {
        let cases = [
            (selector::TRANSFER, "transfer(address,uint256)"),
            (selector::BALANCE_OF, "balanceOf(address)"),
            (selector::TOTAL_SUPPLY, "totalSupply()"),
            (selector::CREATE_PAIR, "createPair(address,address)"),
            (selector::SET_FEE_TO, "setFeeTo(address)"),
            (selector::FEE_TO, "feeTo()"),
            (selector::MINT, "mint(address)"),
            (selector::BURN, "burn(address)"),
            (selector::SWAP, "swap(uint256,uint256,address,bytes)"),
            (selector::GET_RESERVES, "getReserves()"),
            (selector::PRICE0_CUMULATIVE_LAST, "price0CumulativeLast()"),
            (selector::PRICE1_CUMULATIVE_LAST, "price1CumulativeLast()"),
            (selector::K_LAST, "kLast()"),
            (selector::TOKEN0, "token0()"),
            (selector::TOKEN1, "token1()"),
        ];
        for (sel, sig) in cases {
            assert_eq!(sel[..], keccak256(sig)[..4], "{sig}");
        }
    }
}
