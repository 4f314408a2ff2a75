//! Granary's wallet: secp256k1 keys kept in Ethereum keystore v3 (Web3 Secret Storage) files.
//!
//! [`keystore`] encrypts and decrypts one key (scrypt or PBKDF2-HMAC-SHA256, AES-128-CTR,
//! keccak-256 MAC); [`dir`] keeps a folder of them named as geth names them.

pub mod dir;
pub mod keystore;

pub use dir::{Entry, Listing, WalletDir};
pub use keystore::{Keystore, ScryptParams, decrypt, encrypt};

use alloy_primitives::Address;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("wrong passphrase (MAC mismatch)")]
    WrongPassphrase,
    #[error("not a keystore v3 file: {0}")]
    Malformed(String),
    #[error("unsupported keystore version {0} (only version 3)")]
    UnsupportedVersion(u32),
    #[error("unsupported cipher {0:?} (only aes-128-ctr)")]
    UnsupportedCipher(String),
    #[error("unsupported kdf {0} (only scrypt, and pbkdf2 with hmac-sha256)")]
    UnsupportedKdf(String),
    #[error("bad kdfparams: {0}")]
    KdfParams(String),
    #[error("malformed hex in {field}: {reason}")]
    Hex { field: &'static str, reason: String },
    #[error("the decrypted key is invalid: {0}")]
    InvalidKey(String),
    #[error("the file says address {stated} but its key is that of {actual}")]
    AddressMismatch { stated: Address, actual: Address },
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
    #[error("{}: {reason}", path.display())]
    Io { path: PathBuf, reason: String },
    #[error("no key for {address} in {}", dir.display())]
    NotFound { address: Address, dir: PathBuf },
    #[error("{address} is already in the wallet: {}", file.display())]
    AlreadyExists { address: Address, file: PathBuf },
}
