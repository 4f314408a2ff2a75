//! Web3 Secret Storage (keystore v3) encryption and decryption of one secp256k1 key.
//!
//! Layout of a file written here:
//!
//! ```json
//! { "address": "<40 lowercase hex>",
//!   "crypto": { "cipher": "aes-128-ctr", "cipherparams": { "iv": "<16 bytes>" },
//!               "ciphertext": "<32 bytes>", "kdf": "scrypt",
//!               "kdfparams": { "dklen": 32, "n": 262144, "p": 1, "r": 8, "salt": "<32 bytes>" },
//!               "mac": "<32 bytes>" },
//!   "id": "<uuid v4>", "version": 3 }
//! ```
//!
//! The derived key `dk` is `kdf(passphrase, salt)`; the cipher key is `dk[0..16]` and
//! `mac = keccak256(dk[16..32] ‖ ciphertext)`. Decryption also accepts `"kdf": "pbkdf2"` with
//! `"prf": "hmac-sha256"`.

use crate::WalletError;
use alloy_primitives::{Address, hex, keccak256};
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::key_address;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The only cipher of keystore v3.
pub const CIPHER: &str = "aes-128-ctr";
/// Largest scrypt `n` accepted from a file (2^22); more is a denial of service, not a wallet.
const MAX_SCRYPT_LOG_N: u8 = 22;
/// Largest scrypt memory (128·n·r bytes) accepted from a file.
const MAX_SCRYPT_MEMORY: u64 = 2 << 30;
/// Largest PBKDF2 iteration count accepted from a file.
const MAX_PBKDF2_ROUNDS: u32 = 100_000_000;

/// scrypt cost of a keystore written by [`encrypt`]: `n = 2^log_n`, `r = 8`, `p = 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptParams {
    pub log_n: u8,
}

impl ScryptParams {
    /// The cost geth calls "standard": n = 2^18.
    pub const STANDARD: ScryptParams = ScryptParams { log_n: 18 };
    /// A cheap cost for tests: n = 2^10. Never for real keys.
    pub const TEST: ScryptParams = ScryptParams { log_n: 10 };
    pub const R: u32 = 8;
    pub const P: u32 = 1;
}

impl Default for ScryptParams {
    fn default() -> Self {
        ScryptParams::STANDARD
    }
}

/// A keystore v3 document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keystore {
    /// The key's address, 40 lowercase hex digits without `0x`. Some wallets leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Older files spell it `Crypto`.
    #[serde(alias = "Crypto")]
    pub crypto: Crypto,
    pub id: String,
    pub version: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crypto {
    pub cipher: String,
    pub cipherparams: CipherParams,
    pub ciphertext: String,
    pub kdf: String,
    pub kdfparams: KdfParams,
    pub mac: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CipherParams {
    pub iv: String,
}

/// `kdfparams`: which shape is told by the fields present (`n` for scrypt, `c` for PBKDF2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KdfParams {
    Scrypt { dklen: u32, n: u64, p: u32, r: u32, salt: String },
    Pbkdf2 { c: u32, dklen: u32, prf: String, salt: String },
}

impl Keystore {
    /// Parse a keystore file's text, saying what is wrong when it is not one.
    pub fn from_json(text: &str) -> Result<Keystore, WalletError> {
        let ks: Keystore = serde_json::from_str(text).map_err(|e| WalletError::Malformed(e.to_string()))?;
        if ks.version != 3 {
            return Err(WalletError::UnsupportedVersion(ks.version));
        }
        Ok(ks)
    }

    /// Pretty JSON, as written to files.
    pub fn to_json(&self) -> String {
        // A struct of strings and integers always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The `address` field parsed, if present.
    pub fn address(&self) -> Result<Option<Address>, WalletError> {
        match &self.address {
            None => Ok(None),
            Some(a) => {
                let bytes: [u8; 20] = decode_fixed("address", a)?;
                Ok(Some(Address::from(bytes)))
            }
        }
    }
}

/// Encrypt `key` under `passphrase` with scrypt (`params`), a fresh random salt, IV and UUID.
pub fn encrypt(key: &SecretKey, passphrase: &[u8], params: ScryptParams) -> Result<Keystore, WalletError> {
    let mut salt = [0u8; 32];
    let mut iv = [0u8; 16];
    let mut id = [0u8; 16];
    for buf in [&mut salt[..], &mut iv[..], &mut id[..]] {
        getrandom::fill(buf).map_err(|e| WalletError::Random(e.to_string()))?;
    }
    encrypt_with(key, passphrase, params, salt, iv, id)
}

/// [`encrypt`] with the caller's salt, IV and 16 random bytes for the UUID (deterministic tests).
pub fn encrypt_with(
    key: &SecretKey,
    passphrase: &[u8],
    params: ScryptParams,
    salt: [u8; 32],
    iv: [u8; 16],
    uuid_random: [u8; 16],
) -> Result<Keystore, WalletError> {
    let kdfparams = KdfParams::Scrypt {
        dklen: 32,
        n: 1u64.checked_shl(params.log_n.into()).ok_or(WalletError::KdfParams(format!("log_n {}", params.log_n)))?,
        p: ScryptParams::P,
        r: ScryptParams::R,
        salt: hex::encode(salt),
    };
    let dk = derive_key("scrypt", &kdfparams, passphrase)?;
    let mut ciphertext = key.secret_bytes();
    apply_aes_128_ctr(&dk[..16], &iv, &mut ciphertext);
    let mac = mac(&dk, &ciphertext);
    Ok(Keystore {
        address: Some(hex::encode(key_address(key))),
        crypto: Crypto {
            cipher: CIPHER.to_string(),
            cipherparams: CipherParams { iv: hex::encode(iv) },
            ciphertext: hex::encode(ciphertext),
            kdf: "scrypt".to_string(),
            kdfparams,
            mac: hex::encode(mac),
        },
        id: uuid::Builder::from_random_bytes(uuid_random).into_uuid().hyphenated().to_string(),
        version: 3,
    })
}

/// Decrypt a keystore: checks the MAC (in constant time) before anything else is trusted, then
/// that the plaintext is a valid secp256k1 key and matches `address` when the file has one.
pub fn decrypt(ks: &Keystore, passphrase: &[u8]) -> Result<SecretKey, WalletError> {
    if ks.version != 3 {
        return Err(WalletError::UnsupportedVersion(ks.version));
    }
    let c = &ks.crypto;
    if !c.cipher.eq_ignore_ascii_case(CIPHER) {
        return Err(WalletError::UnsupportedCipher(c.cipher.clone()));
    }
    let iv = decode_iv(&c.cipherparams.iv)?;
    let ciphertext = hex::decode(&c.ciphertext)
        .map_err(|e| WalletError::Hex { field: "crypto.ciphertext", reason: e.to_string() })?;
    let expected: [u8; 32] = decode_fixed("crypto.mac", &c.mac)?;
    let dk = derive_key(&c.kdf, &c.kdfparams, passphrase)?;
    let actual = mac(&dk, &ciphertext);
    if !bool::from(actual.ct_eq(&expected)) {
        return Err(WalletError::WrongPassphrase);
    }
    if ciphertext.len() != 32 {
        return Err(WalletError::InvalidKey(format!("the plaintext is {} bytes, a key is 32", ciphertext.len())));
    }
    let mut plain = Zeroizing::new([0u8; 32]);
    plain.copy_from_slice(&ciphertext);
    apply_aes_128_ctr(&dk[..16], &iv, &mut plain[..]);
    let key = SecretKey::from_byte_array(*plain)
        .map_err(|_| WalletError::InvalidKey("zero or not below the secp256k1 group order".into()))?;
    if let Some(stated) = ks.address()? {
        let actual = key_address(&key);
        if stated != actual {
            return Err(WalletError::AddressMismatch { stated, actual });
        }
    }
    Ok(key)
}

fn mac(dk: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let mut buf = Zeroizing::new(Vec::with_capacity(16 + ciphertext.len()));
    buf.extend_from_slice(&dk[16..32]);
    buf.extend_from_slice(ciphertext);
    keccak256(&buf[..]).0
}

fn apply_aes_128_ctr(key: &[u8], iv: &[u8; 16], data: &mut [u8]) {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    // The key is 16 bytes of a derived key of at least 32 and the IV is 16 bytes: both fit.
    if let Ok(mut cipher) = ctr::Ctr128BE::<aes::Aes128>::new_from_slices(key, iv) {
        cipher.apply_keystream(data);
    }
}

/// The derived key (at least 32 bytes) for `kdf` with `params`.
fn derive_key(kdf: &str, params: &KdfParams, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, WalletError> {
    match (kdf, params) {
        ("scrypt", KdfParams::Scrypt { dklen, n, p, r, salt }) => {
            let salt = hex::decode(salt)
                .map_err(|e| WalletError::Hex { field: "crypto.kdfparams.salt", reason: e.to_string() })?;
            let dklen = check_dklen(*dklen)?;
            if *n < 2 || !n.is_power_of_two() {
                return Err(WalletError::KdfParams(format!("scrypt n = {n} must be a power of two above 1")));
            }
            let log_n = n.trailing_zeros() as u8;
            if log_n > MAX_SCRYPT_LOG_N || 128 * n * u64::from(*r) > MAX_SCRYPT_MEMORY {
                return Err(WalletError::KdfParams(format!(
                    "scrypt n = {n}, r = {r} would need more than {} MiB; refused",
                    MAX_SCRYPT_MEMORY >> 20
                )));
            }
            let params = scrypt::Params::new(log_n, *r, *p)
                .map_err(|e| WalletError::KdfParams(format!("scrypt n = {n}, r = {r}, p = {p}: {e}")))?;
            let mut out = Zeroizing::new(vec![0u8; dklen]);
            scrypt::scrypt(passphrase, &salt, &params, &mut out)
                .map_err(|e| WalletError::KdfParams(format!("scrypt: {e}")))?;
            Ok(out)
        }
        ("pbkdf2", KdfParams::Pbkdf2 { c, dklen, prf, salt }) => {
            if prf != "hmac-sha256" {
                return Err(WalletError::UnsupportedKdf(format!("pbkdf2 with prf {prf:?} (only hmac-sha256)")));
            }
            if *c == 0 || *c > MAX_PBKDF2_ROUNDS {
                return Err(WalletError::KdfParams(format!("pbkdf2 c = {c} must be within 1..={MAX_PBKDF2_ROUNDS}")));
            }
            let salt = hex::decode(salt)
                .map_err(|e| WalletError::Hex { field: "crypto.kdfparams.salt", reason: e.to_string() })?;
            let dklen = check_dklen(*dklen)?;
            let mut out = Zeroizing::new(vec![0u8; dklen]);
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, &salt, *c, &mut out);
            Ok(out)
        }
        ("scrypt" | "pbkdf2", _) => {
            Err(WalletError::KdfParams(format!("kdf is {kdf:?} but kdfparams are those of another kdf")))
        }
        (other, _) => Err(WalletError::UnsupportedKdf(other.to_string())),
    }
}

fn check_dklen(dklen: u32) -> Result<usize, WalletError> {
    if !(32..=64).contains(&dklen) {
        return Err(WalletError::KdfParams(format!("dklen = {dklen} must be within 32..=64")));
    }
    Ok(dklen as usize)
}

/// The IV is the initial value of a 128-bit big-endian counter. eth-keyfile (Python) writes it
/// as that integer in hex, without leading zero bytes, so a shorter IV is zero-padded on the left.
fn decode_iv(text: &str) -> Result<[u8; 16], WalletError> {
    let field = "crypto.cipherparams.iv";
    let bytes = hex::decode(text).map_err(|e| WalletError::Hex { field, reason: e.to_string() })?;
    if bytes.len() > 16 {
        return Err(WalletError::Hex { field, reason: format!("{} bytes, expected 16", bytes.len()) });
    }
    let mut iv = [0u8; 16];
    iv[16 - bytes.len()..].copy_from_slice(&bytes);
    Ok(iv)
}

fn decode_fixed<const N: usize>(field: &'static str, text: &str) -> Result<[u8; N], WalletError> {
    let bytes = hex::decode(text).map_err(|e| WalletError::Hex { field, reason: e.to_string() })?;
    let len = bytes.len();
    bytes.try_into().map_err(|_| WalletError::Hex { field, reason: format!("{len} bytes, expected {N}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use granary_engine::tx::dev_key;

    #[test]
    fn round_trip_and_shape() {
        let key = dev_key("alice");
        let ks = encrypt(&key, b"correct horse", ScryptParams::TEST).expect("encrypts");
        let json: serde_json::Value = serde_json::from_str(&ks.to_json()).expect("json");
        assert_eq!(json["version"], 3);
        assert_eq!(json["crypto"]["cipher"], "aes-128-ctr");
        assert_eq!(json["crypto"]["kdf"], "scrypt");
        assert_eq!(json["crypto"]["kdfparams"]["n"], 1024);
        assert_eq!(json["crypto"]["kdfparams"]["r"], 8);
        assert_eq!(json["crypto"]["kdfparams"]["p"], 1);
        assert_eq!(json["crypto"]["kdfparams"]["dklen"], 32);
        let addr = json["address"].as_str().expect("address");
        assert_eq!(addr.len(), 40);
        assert_eq!(addr, addr.to_lowercase());
        let id = uuid::Uuid::parse_str(json["id"].as_str().expect("id")).expect("uuid");
        assert_eq!(id.get_version_num(), 4);
        let back = Keystore::from_json(&ks.to_json()).expect("parses");
        assert_eq!(decrypt(&back, b"correct horse").expect("decrypts"), key);
        assert!(matches!(decrypt(&back, b"wrong horse"), Err(WalletError::WrongPassphrase)));
    }

    #[test]
    fn clear_errors() {
        let key = dev_key("bob");
        let ks = encrypt(&key, b"pw", ScryptParams::TEST).expect("encrypts");
        let mut bad = ks.clone();
        bad.crypto.cipher = "aes-128-cbc".into();
        assert_eq!(
            decrypt(&bad, b"pw").expect_err("refused").to_string(),
            "unsupported cipher \"aes-128-cbc\" (only aes-128-ctr)"
        );
        let mut bad = ks.clone();
        bad.crypto.kdf = "argon2".into();
        assert!(matches!(decrypt(&bad, b"pw"), Err(WalletError::UnsupportedKdf(_))));
        let mut bad = ks.clone();
        bad.crypto.mac = "zz".into();
        assert!(decrypt(&bad, b"pw").expect_err("refused").to_string().contains("crypto.mac"));
        let mut bad = ks.clone();
        bad.address = Some(hex::encode([7u8; 20]));
        assert!(matches!(decrypt(&bad, b"pw"), Err(WalletError::AddressMismatch { .. })));
        assert!(matches!(Keystore::from_json("{\"version\": 3}"), Err(WalletError::Malformed(_))));
        let mut v = ks.clone();
        v.version = 1;
        assert!(matches!(Keystore::from_json(&v.to_json()), Err(WalletError::UnsupportedVersion(1))));
        assert_eq!(WalletError::WrongPassphrase.to_string(), "wrong passphrase (MAC mismatch)");
    }

    #[test]
    fn short_iv_is_a_counter_without_leading_zeros() {
        let key = dev_key("erin");
        let mut iv = [0u8; 16];
        iv[2..].copy_from_slice(&[0x5a; 14]);
        let ks = encrypt_with(&key, b"pw", ScryptParams::TEST, [1; 32], iv, [2; 16]).expect("encrypts");
        let mut short = ks.clone();
        short.crypto.cipherparams.iv = hex::encode(&iv[2..]);
        assert_eq!(decrypt(&short, b"pw").expect("decrypts"), key);
        short.crypto.cipherparams.iv = hex::encode([1u8; 17]);
        assert!(matches!(decrypt(&short, b"pw"), Err(WalletError::Hex { .. })));
    }
}
