//! Keystore v3 interoperability with Python's `eth_account` (an independent implementation) and
//! with the published Web3 Secret Storage test vectors.
//!
//! The interpreter is `$GRANARY_PYTHON` if set, else `<workspace>/.oracles/venv/bin/python`; that
//! virtual environment is created (and eth-account installed into it) on first use. The test
//! fails, never skips, when no working interpreter can be had.

use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::{dev_key, key_address};
use granary_wallet::{Keystore, ScryptParams, WalletDir, WalletError, decrypt, encrypt};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

/// Reads `{"decrypt": [{keystore, passphrase}], "encrypt": [{key, passphrase, kdf, iterations}]}`
/// on stdin; prints `{"decrypted": [hex key | {"error": msg}], "encrypted": [keystore]}`.
const ORACLE: &str = r#"
import json, sys
from eth_account import Account
req = json.load(sys.stdin)
decrypted = []
for d in req["decrypt"]:
    try:
        decrypted.append(bytes(Account.decrypt(d["keystore"], d["passphrase"])).hex())
    except Exception as e:
        decrypted.append({"error": f"{type(e).__name__}: {e}"})
encrypted = [
    Account.encrypt(bytes.fromhex(e["key"]), e["passphrase"], kdf=e["kdf"], iterations=e["iterations"])
    for e in req["encrypt"]
]
json.dump({"decrypted": decrypted, "encrypted": encrypted}, sys.stdout)
"#;

fn eth_account(request: &Value) -> Value {
    let python = granary_testkit::python_with_eth_account();
    let mut child = Command::new(&python)
        .args(["-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("write request");
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "eth_account oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle prints JSON")
}

fn hex_key(k: &SecretKey) -> String {
    k.secret_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn keys() -> Vec<SecretKey> {
    let mut ks: Vec<SecretKey> = ["alice", "bob", "carol"].iter().map(|n| dev_key(n)).collect();
    let mut one = [0u8; 32];
    one[31] = 1;
    ks.push(SecretKey::from_byte_array(one).expect("1 is a key"));
    // n − 1, the largest key.
    let top: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae,
        0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x40,
    ];
    ks.push(SecretKey::from_byte_array(top).expect("n-1 is a key"));
    ks
}

const PASSPHRASES: [&str; 5] = ["correct horse battery staple", "", "pässwörd ✓ 🔑", "a\"b\\c\nd", "x"];

#[test]
fn interoperates_with_eth_account_both_ways() {
    let keys = keys();
    // (a) ours → eth_account, and a wrong passphrase that eth_account must refuse too.
    let ours: Vec<Keystore> = keys
        .iter()
        .zip(PASSPHRASES)
        .map(|(k, p)| {
            encrypt(k, p.as_bytes(), ScryptParams { log_n: 10 + (k.secret_bytes()[31] % 3) }).expect("encrypts")
        })
        .collect();
    let mut decrypt_req: Vec<Value> = ours
        .iter()
        .zip(PASSPHRASES)
        .map(|(ks, p)| json!({ "keystore": serde_json::to_value(ks).expect("json"), "passphrase": p }))
        .collect();
    decrypt_req.push(json!({ "keystore": serde_json::to_value(&ours[0]).expect("json"), "passphrase": "not it" }));
    // (b) eth_account → ours, scrypt and pbkdf2.
    let mut encrypt_req = Vec::new();
    for (k, p) in keys.iter().zip(PASSPHRASES) {
        encrypt_req.push(json!({ "key": hex_key(k), "passphrase": p, "kdf": "scrypt", "iterations": 1024 }));
        encrypt_req.push(json!({ "key": hex_key(k), "passphrase": p, "kdf": "pbkdf2", "iterations": 2048 }));
    }
    let resp = eth_account(&json!({ "decrypt": decrypt_req, "encrypt": encrypt_req }));

    let decrypted = resp["decrypted"].as_array().expect("decrypted list");
    assert_eq!(decrypted.len(), keys.len() + 1);
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(decrypted[i], Value::String(hex_key(k)), "eth_account decrypts our keystore #{i}");
    }
    let refused = decrypted[keys.len()]["error"].as_str().expect("eth_account refuses a wrong passphrase");
    assert!(refused.contains("MAC mismatch"), "{refused}");

    let encrypted = resp["encrypted"].as_array().expect("encrypted list");
    assert_eq!(encrypted.len(), 2 * keys.len());
    for (i, theirs) in encrypted.iter().enumerate() {
        let (k, p) = (&keys[i / 2], PASSPHRASES[i / 2]);
        let ks = Keystore::from_json(&theirs.to_string()).expect("eth_account writes a keystore we parse");
        assert_eq!(ks.crypto.kdf, if i % 2 == 0 { "scrypt" } else { "pbkdf2" });
        assert_eq!(decrypt(&ks, p.as_bytes()).expect("we decrypt eth_account's keystore"), *k, "#{i}");
        assert_eq!(ks.address().expect("address"), Some(key_address(k)));
    }
}

#[test]
fn wrong_passphrase_is_a_mac_error_and_changes_nothing() {
    let key = dev_key("dave");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = WalletDir::new(tmp.path().join("wallet"));
    let ks = encrypt(&key, b"right", ScryptParams::TEST).expect("encrypts");
    let file = dir.store(&ks).expect("stored");
    let before = std::fs::read(&file).expect("read");

    let entry = dir.find(key_address(&key)).expect("found");
    let err = decrypt(&entry.keystore, b"wrong").expect_err("refused");
    assert!(matches!(err, WalletError::WrongPassphrase));
    assert_eq!(err.to_string(), "wrong passphrase (MAC mismatch)");
    assert_eq!(entry.keystore, ks, "the keystore is untouched");
    assert_eq!(std::fs::read(&file).expect("read"), before, "the file is untouched");
    assert_eq!(dir.list().expect("lists").entries.len(), 1, "nothing added");
    assert_eq!(decrypt(&entry.keystore, b"right").expect("still opens"), key);
}

/// The Web3 Secret Storage definition's two test vectors (password "testpassword").
const SPEC_KEY: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

#[test]
fn spec_vector_pbkdf2() {
    let ks = Keystore::from_json(
        r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "6087dab2f9fdbbfaddc31a909735c1e6" },
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": {
                "c": 262144, "dklen": 32, "prf": "hmac-sha256",
                "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"
            },
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#,
    )
    .expect("parses");
    assert_eq!(hex_key(&decrypt(&ks, b"testpassword").expect("decrypts")), SPEC_KEY);
    assert!(matches!(decrypt(&ks, b"testpassword!"), Err(WalletError::WrongPassphrase)));
}

#[test]
fn spec_vector_scrypt() {
    let ks = Keystore::from_json(
        r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "83dbcc02d8ccb40e466191a123791e0e" },
            "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32, "n": 262144, "p": 8, "r": 1,
                "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"
            },
            "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#,
    )
    .expect("parses");
    assert_eq!(hex_key(&decrypt(&ks, b"testpassword").expect("decrypts")), SPEC_KEY);
}
