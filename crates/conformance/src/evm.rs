//! A small EVM host on revm shared by the bytecode harnesses: deploy creation code, send committed
//! calls, run read-only calls, move the block clock, snapshot and restore the state, and talk to
//! ERC20 tokens.
//!
//! Calldata is encoded by hand (4-byte selector + 32-byte words). Every state-changing call is its
//! own committed transaction; a harness that needs several of them to act as one transaction takes
//! a [`Snapshot`] first and restores it if any of them fails.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::context::TxEnv;
use revm::context::result::{ExecutionResult, Output};
use revm::database::{CacheDB, EmptyDB};
use revm::handler::MainnetContext;
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext, MainnetEvm};
use std::fmt;

/// ERC20 function selectors (first 4 bytes of keccak256 of the signature).
pub mod erc20 {
    pub const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb]; // transfer(address,uint256)
    pub const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3]; // approve(address,uint256)
    pub const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31]; // balanceOf(address)
    pub const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd]; // totalSupply()
}

/// Gas limit of every transaction (well above what any of these calls needs).
const GAS_LIMIT: u64 = 10_000_000;

/// A failed call: a revert with its reason string, a halt, or a check made off-chain (such as
/// a router library's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert(pub String);

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Revert {}

pub type Result<T> = std::result::Result<T, Revert>;

pub(crate) fn revert<T>(msg: &str) -> Result<T> {
    Err(Revert(msg.to_string()))
}

/// Decode `Error(string)` revert data; anything else is shown as hex.
pub fn revert_reason(output: &[u8]) -> String {
    const ERROR_STRING: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    if output.len() >= 68 && output[..4] == ERROR_STRING {
        let len = U256::from_be_slice(&output[36..68]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if let Some(bytes) = output.get(68..68usize.saturating_add(len)) {
            return String::from_utf8_lossy(bytes).into_owned();
        }
    }
    if output.is_empty() {
        "reverted without data".to_string()
    } else {
        format!("reverted with 0x{}", alloy_primitives::hex::encode(output))
    }
}

/// ABI call data builder: selector followed by static 32-byte words.
#[derive(Debug, Clone)]
pub struct Calldata(Vec<u8>);

impl Calldata {
    pub fn new(selector: [u8; 4]) -> Self {
        let mut v = Vec::with_capacity(4 + 32 * 5);
        v.extend_from_slice(&selector);
        Self(v)
    }
    pub fn uint(mut self, x: U256) -> Self {
        self.0.extend_from_slice(&x.to_be_bytes::<32>());
        self
    }
    pub fn address(mut self, a: Address) -> Self {
        self.0.extend_from_slice(&[0u8; 12]);
        self.0.extend_from_slice(a.as_slice());
        self
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// One ABI word (a uint).
pub fn abi_word(x: U256) -> [u8; 32] {
    x.to_be_bytes::<32>()
}

/// One ABI word (an address).
pub fn abi_address(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

/// The 32-byte word `i` of return data as a uint.
pub fn word(out: &[u8], i: usize) -> U256 {
    out.get(32 * i..32 * (i + 1))
        .map(U256::from_be_slice)
        .unwrap_or_else(|| panic!("return data too short: {} bytes, want word {i}", out.len()))
}

/// The 32-byte word `i` of return data as an address.
pub fn word_address(out: &[u8], i: usize) -> Address {
    Address::from_word(word(out, i).to_be_bytes::<32>().into())
}

type Db = CacheDB<EmptyDB>;
type MainEvm = MainnetEvm<MainnetContext<Db>>;

/// The EVM state at a point in time, to go back to.
#[derive(Debug, Clone)]
pub struct Snapshot(Db);

/// A mainnet-spec EVM over an in-memory database, with a block clock the caller moves.
pub struct Evm {
    inner: MainEvm,
}

impl fmt::Debug for Evm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evm").field("timestamp", &self.timestamp()).finish_non_exhaustive()
    }
}

impl Evm {
    /// An empty state; block 1 at `timestamp`.
    pub fn new(timestamp: u64) -> Self {
        let ctx = Context::mainnet().with_db(CacheDB::new(EmptyDB::default()));
        let mut inner = ctx.build_mainnet();
        inner.ctx.modify_block(|b| {
            b.timestamp = U256::from(timestamp);
            b.number = U256::from(1u8);
        });
        Self { inner }
    }

    /// Move the block clock (and the block number, by one) to `timestamp`.
    pub fn set_timestamp(&mut self, timestamp: u64) {
        self.inner.ctx.modify_block(|b| {
            b.timestamp = U256::from(timestamp);
            b.number += U256::from(1u8);
        });
    }

    pub fn timestamp(&self) -> u64 {
        u64::try_from(self.inner.ctx.block.timestamp).unwrap_or(u64::MAX)
    }

    fn nonce(&self, who: Address) -> u64 {
        self.inner.ctx.journaled_state.database.cache.accounts.get(&who).map_or(0, |a| a.info.nonce)
    }

    fn tx(&self, from: Address, kind: TxKind, data: Vec<u8>) -> TxEnv {
        TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::from(data))
            .nonce(self.nonce(from))
            .gas_limit(GAS_LIMIT)
            .gas_price(0)
            .build_fill()
    }

    fn outcome(result: ExecutionResult) -> Result<Output> {
        match result {
            ExecutionResult::Success { output, .. } => Ok(output),
            ExecutionResult::Revert { output, .. } => Err(Revert(revert_reason(&output))),
            ExecutionResult::Halt { reason, .. } => Err(Revert(format!("halt: {reason:?}"))),
        }
    }

    /// Deploy `code` (creation code with constructor arguments) from `from`.
    pub fn create(&mut self, from: Address, code: Vec<u8>) -> Result<Address> {
        let tx = self.tx(from, TxKind::Create, code);
        let result = self.inner.transact_commit(tx).unwrap_or_else(|e| panic!("invalid create transaction: {e:?}"));
        match Self::outcome(result)? {
            Output::Create(_, Some(addr)) => Ok(addr),
            other => revert(&format!("create returned no address: {other:?}")),
        }
    }

    /// A committed call; its return data or why it failed.
    pub fn call(&mut self, from: Address, to: Address, data: Vec<u8>) -> Result<Bytes> {
        let tx = self.tx(from, TxKind::Call(to), data);
        let result = self.inner.transact_commit(tx).unwrap_or_else(|e| panic!("invalid transaction: {e:?}"));
        Ok(Self::outcome(result)?.into_data())
    }

    /// A read-only call (executed, never committed).
    pub fn view(&mut self, to: Address, data: Vec<u8>) -> Result<Bytes> {
        let tx = self.tx(Address::ZERO, TxKind::Call(to), data);
        let result = self.inner.transact(tx).unwrap_or_else(|e| panic!("invalid view transaction: {e:?}"));
        Ok(Self::outcome(result.result)?.into_data())
    }

    /// A read-only call returning one uint; panics if it reverts.
    pub fn view_uint(&mut self, to: Address, data: Vec<u8>) -> U256 {
        let out = self.view(to, data).unwrap_or_else(|e| panic!("view call reverted: {e}"));
        word(&out, 0)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.inner.ctx.journaled_state.database.clone())
    }

    pub fn restore(&mut self, snapshot: Snapshot) {
        self.inner.ctx.journaled_state.database = snapshot.0;
    }

    // ----- ERC20 -----

    /// Deploy an ERC20 whose constructor takes one argument, the supply minted to `from`.
    pub fn deploy_erc20(&mut self, creation_code: &[u8], from: Address, supply: U256) -> Result<Address> {
        let mut code = creation_code.to_vec();
        code.extend_from_slice(&abi_word(supply));
        self.create(from, code)
    }

    pub fn transfer(&mut self, token: Address, from: Address, to: Address, amount: U256) -> Result<()> {
        let data = Calldata::new(erc20::TRANSFER).address(to).uint(amount).into_bytes();
        self.call(from, token, data).map(|_| ())
    }

    pub fn approve(&mut self, token: Address, owner: Address, spender: Address, amount: U256) -> Result<()> {
        let data = Calldata::new(erc20::APPROVE).address(spender).uint(amount).into_bytes();
        self.call(owner, token, data).map(|_| ())
    }

    pub fn balance_of(&mut self, token: Address, who: Address) -> U256 {
        let data = Calldata::new(erc20::BALANCE_OF).address(who).into_bytes();
        self.view_uint(token, data)
    }

    pub fn total_supply(&mut self, token: Address) -> U256 {
        self.view_uint(token, Calldata::new(erc20::TOTAL_SUPPLY).into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn erc20_selectors_match_signatures() {
        let cases = [
            (erc20::TRANSFER, "transfer(address,uint256)"),
            (erc20::APPROVE, "approve(address,uint256)"),
            (erc20::BALANCE_OF, "balanceOf(address)"),
            (erc20::TOTAL_SUPPLY, "totalSupply()"),
        ];
        for (sel, sig) in cases {
            assert_eq!(sel[..], keccak256(sig)[..4], "{sig}");
        }
    }

    #[test]
    fn revert_reason_decodes_error_string() {
        let mut data = vec![0x08, 0xc3, 0x79, 0xa0];
        data.extend_from_slice(&abi_word(U256::from(32u8)));
        data.extend_from_slice(&abi_word(U256::from(12u8)));
        let mut s = b"UniswapV2: K".to_vec();
        s.resize(32, 0);
        data.extend_from_slice(&s);
        assert_eq!(revert_reason(&data), "UniswapV2: K");
        assert_eq!(revert_reason(&[]), "reverted without data");
    }
}
