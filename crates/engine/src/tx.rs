//! Transactions (SPEC §2.5): chain id, sender, nonce, deadline and one action, signed as EIP-712
//! typed data over secp256k1, so that MetaMask, ethers and eth_account signatures verify.
//!
//! ```text
//! EIP712Domain(string name,string version,uint256 chainId)   name = "Granary", version = "1"
//! Transaction(uint256 chainId,address sender,uint256 nonce,uint256 deadline,Action action)
//! Action(string kind,string[] ids,uint256[] amounts)
//! digest = keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(Transaction))
//! ```

use crate::action::{Action, Outcome};
use crate::codec::{ActionParts, Decoder, Encoder};
use crate::error::{EngineError, Result};
use crate::state::Engine;
use alloy_primitives::{Address, B256, U256, keccak256};
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

pub const DOMAIN_NAME: &str = "Granary";
pub const DOMAIN_VERSION: &str = "1";
pub const DOMAIN_TYPE: &str = "EIP712Domain(string name,string version,uint256 chainId)";
pub const TRANSACTION_TYPE: &str = "Transaction(uint256 chainId,address sender,uint256 nonce,uint256 deadline,Action action)Action(string kind,string[] ids,uint256[] amounts)";
pub const ACTION_TYPE: &str = "Action(string kind,string[] ids,uint256[] amounts)";
/// Wire format version of an encoded signed transaction.
pub const WIRE_VERSION: u8 = 1;

/// secp256k1 group order / 2: signatures with a larger `s` are refused (EIP-2), so each
/// transaction has exactly one valid signature encoding.
const HALF_ORDER: U256 =
    U256::from_limbs([0xdfe92f46681b20a0, 0x5d576e7357a4501d, 0xffffffffffffffff, 0x7fffffffffffffff]);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub chain_id: u64,
    pub sender: Address,
    pub nonce: u64,
    /// Chain time (seconds) after which the transaction is refused.
    pub deadline: u64,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    pub tx: Transaction,
    /// r ‖ s ‖ v, v = 27 or 28.
    pub signature: [u8; 65],
}

/// A transaction whose signature has been checked (cheap to apply; checking is the costly part
/// and can run on any thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTransaction(SignedTransaction);

impl VerifiedTransaction {
    pub fn signed(&self) -> &SignedTransaction {
        &self.0
    }
    pub fn tx(&self) -> &Transaction {
        &self.0.tx
    }
}

fn word_u64(v: u64) -> [u8; 32] {
    U256::from(v).to_be_bytes::<32>()
}

/// `hashStruct(EIP712Domain)` for a chain.
pub fn domain_separator(chain_id: u64) -> B256 {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(keccak256(DOMAIN_TYPE).as_slice());
    buf.extend_from_slice(keccak256(DOMAIN_NAME).as_slice());
    buf.extend_from_slice(keccak256(DOMAIN_VERSION).as_slice());
    buf.extend_from_slice(&word_u64(chain_id));
    keccak256(&buf)
}

/// `hashStruct(Action)`: arrays are the keccak of their concatenated encoded elements.
pub fn action_hash(p: &ActionParts) -> B256 {
    let mut ids = Vec::with_capacity(32 * p.ids.len());
    for id in &p.ids {
        ids.extend_from_slice(keccak256(id.as_bytes()).as_slice());
    }
    let mut amounts = Vec::with_capacity(32 * p.amounts.len());
    for a in &p.amounts {
        amounts.extend_from_slice(&a.to_be_bytes::<32>());
    }
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(keccak256(ACTION_TYPE).as_slice());
    buf.extend_from_slice(keccak256(p.kind.as_bytes()).as_slice());
    buf.extend_from_slice(keccak256(&ids).as_slice());
    buf.extend_from_slice(keccak256(&amounts).as_slice());
    keccak256(&buf)
}

impl Transaction {
    /// `hashStruct(Transaction)`.
    pub fn struct_hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(192);
        buf.extend_from_slice(keccak256(TRANSACTION_TYPE).as_slice());
        buf.extend_from_slice(&word_u64(self.chain_id));
        buf.extend_from_slice(&[0u8; 12]);
        buf.extend_from_slice(self.sender.as_slice());
        buf.extend_from_slice(&word_u64(self.nonce));
        buf.extend_from_slice(&word_u64(self.deadline));
        buf.extend_from_slice(action_hash(&self.action.to_parts()).as_slice());
        keccak256(&buf)
    }

    /// The EIP-712 digest a wallet signs.
    pub fn signing_hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(66);
        buf.extend_from_slice(&[0x19, 0x01]);
        buf.extend_from_slice(domain_separator(self.chain_id).as_slice());
        buf.extend_from_slice(self.struct_hash().as_slice());
        keccak256(&buf)
    }

    /// Sign with a secp256k1 key (RFC 6979 deterministic nonce, low-s).
    pub fn sign(self, key: &SecretKey) -> SignedTransaction {
        let msg = Message::from_digest(self.signing_hash().0);
        let sig = SECP256K1.sign_ecdsa_recoverable(msg, key);
        let (rec, rs) = sig.serialize_compact();
        let mut signature = [0u8; 65];
        signature[..64].copy_from_slice(&rs);
        signature[64] = 27 + i32::from(rec) as u8;
        SignedTransaction { tx: self, signature }
    }

    pub fn encode(&self, e: &mut Encoder) {
        e.u64(self.chain_id).addr(self.sender).u64(self.nonce).u64(self.deadline);
        self.action.encode(e);
    }
}

/// The Ethereum address of a public key: the last 20 bytes of keccak256 of its 64 raw bytes.
pub fn address_of(pk: &PublicKey) -> Address {
    let raw = pk.serialize_uncompressed();
    Address::from_slice(&keccak256(&raw[1..])[12..])
}

/// The address of a secret key.
pub fn key_address(key: &SecretKey) -> Address {
    address_of(&PublicKey::from_secret_key(SECP256K1, key))
}

/// A deterministic development key for a named actor: keccak256("granary-dev-key:" ‖ name).
pub fn dev_key(name: &str) -> SecretKey {
    let mut seed = keccak256(format!("granary-dev-key:{name}").as_bytes());
    loop {
        if let Ok(k) = SecretKey::from_byte_array(seed.0) {
            return k;
        }
        seed = keccak256(seed.as_slice());
    }
}

/// Recover the signer of an EIP-712 digest from r ‖ s ‖ v (v = 27 or 28, s ≤ n/2).
pub fn recover(digest: B256, signature: &[u8; 65]) -> Result<Address> {
    let v = signature[64];
    let rec = match v {
        // Only 27/28 (what eth_account, ethers and MetaMask produce): with low-s this gives
        // every transaction exactly one valid signature encoding.
        27 | 28 => i32::from(v - 27),
        _ => return Err(EngineError::MalformedSignature),
    };
    let s = U256::from_be_slice(&signature[32..64]);
    if s > HALF_ORDER {
        return Err(EngineError::MalformedSignature);
    }
    let rec = RecoveryId::try_from(rec).map_err(|_| EngineError::MalformedSignature)?;
    let mut rs = [0u8; 64];
    rs.copy_from_slice(&signature[..64]);
    let sig = RecoverableSignature::from_compact(&rs, rec).map_err(|_| EngineError::MalformedSignature)?;
    let pk =
        SECP256K1.recover_ecdsa(Message::from_digest(digest.0), &sig).map_err(|_| EngineError::MalformedSignature)?;
    Ok(address_of(&pk))
}

impl SignedTransaction {
    /// Check that the signature recovers to the sender.
    pub fn verify(self) -> Result<VerifiedTransaction> {
        let signer = recover(self.tx.signing_hash(), &self.signature)?;
        if signer != self.tx.sender {
            return Err(EngineError::BadSignature { sender: self.tx.sender });
        }
        Ok(VerifiedTransaction(self))
    }

    /// Treat the signature as checked without checking it: for replaying a journal whose entries
    /// were verified when first accepted and are protected by checksums since.
    pub fn assume_verified(self) -> VerifiedTransaction {
        VerifiedTransaction(self)
    }

    /// Wire bytes: version ‖ transaction ‖ signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(WIRE_VERSION);
        self.tx.encode(&mut e);
        e.buf.extend_from_slice(&self.signature);
        e.buf
    }

    /// Decode wire bytes; any malformed input is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let version = d.u8()?;
        if version != WIRE_VERSION {
            return Err(EngineError::Decode(format!("wire version {version} is not {WIRE_VERSION}")));
        }
        let chain_id = d.u64()?;
        let sender = d.addr()?;
        let nonce = d.u64()?;
        let deadline = d.u64()?;
        let action = Action::decode(&mut d)?;
        let signature: [u8; 65] = d.array()?;
        d.finish()?;
        Ok(SignedTransaction { tx: Transaction { chain_id, sender, nonce, deadline, action }, signature })
    }
}

impl Engine {
    /// Check a transaction's envelope against the state: chain, deadline, nonce. Cheap; no
    /// signature work.
    pub fn check_envelope(&self, tx: &Transaction) -> Result<usize> {
        let chain = self.chain_ix_by_eip155(tx.chain_id)?;
        let acts_on = self.action_chain(&tx.action)?;
        if acts_on != chain {
            return Err(EngineError::ChainMismatch { signed: tx.chain_id, actual: self.chains[acts_on].chain_id });
        }
        let now = self.chains[chain].now;
        if now > tx.deadline {
            return Err(EngineError::Expired { deadline: tx.deadline, now });
        }
        let expected = self.nonce(chain, tx.sender);
        if tx.nonce != expected {
            return Err(EngineError::BadNonce { expected, got: tx.nonce });
        }
        Ok(chain)
    }

    /// Apply a transaction whose signature was already verified.
    pub fn apply_verified(&mut self, vtx: &VerifiedTransaction) -> Result<Outcome> {
        let tx = vtx.tx();
        let chain = self.check_envelope(tx)?;
        let mark = self.undo.len();
        let r = self.execute(tx.sender, &tx.action);
        if r.is_ok() {
            self.bump_nonce(chain, tx.sender);
        }
        self.finish(mark, r)
    }

    /// Authenticate and apply a signed transaction; a rejection changes nothing.
    pub fn submit(&mut self, stx: &SignedTransaction) -> Result<Outcome> {
        self.check_envelope(&stx.tx)?;
        let vtx = stx.clone().verify()?;
        self.apply_verified(&vtx)
    }
}
