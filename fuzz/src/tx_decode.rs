//! `tx_decode`: `SignedTransaction::from_bytes` on arbitrary bytes.
//!
//! Properties:
//! - decoding never panics;
//! - whatever decodes re-encodes to exactly the input bytes (one wire encoding per transaction;
//!   a non-canonical address spelling or signature `v` is refused);
//! - `verify()` never panics;
//! - submitted to a small pre-built engine, a rejected transaction leaves `state_hash()`
//!   unchanged, and an accepted one must have verified;
//! - the decoded action, re-signed by a fixture actor with the right chain, nonce and deadline,
//!   is executed for real, and a rejection again leaves `state_hash()` unchanged.

use crate::{ACTORS, fixture, sign_for};
use granary_engine::tx::SignedTransaction;

/// The body of the `tx_decode` target: panics when a property fails.
pub fn check_tx_decode(data: &[u8]) {
    let Ok(stx) = SignedTransaction::from_bytes(data) else {
        return;
    };
    let encoded = stx.to_bytes();
    assert!(
        encoded == data,
        "decode/encode is not the identity:\n input  {data:02x?}\n output {encoded:02x?}\n decoded {stx:?}"
    );

    let verified = stx.clone().verify();

    let base = fixture();
    let mut engine = base.clone();
    let before = engine.state_hash();
    match engine.submit(&stx) {
        Ok(_) => assert!(verified.is_ok(), "submit accepted a transaction that does not verify: {stx:?}"),
        Err(e) => {
            assert_eq!(engine.state_hash(), before, "a rejected submit ({}) changed the state: {stx:?}", e.code())
        }
    }

    // The same action from a real signer, so that execution is reached.
    for who in ACTORS {
        let mut engine = base.clone();
        let Some(resigned) = sign_for(&engine, who, stx.tx.action.clone()) else {
            return;
        };
        assert!(resigned.clone().verify().is_ok(), "a fresh signature verifies");
        let before = engine.state_hash();
        if let Err(e) = engine.submit(&resigned) {
            assert_eq!(engine.state_hash(), before, "a rejected action ({}) changed the state: {resigned:?}", e.code());
        }
    }
}
