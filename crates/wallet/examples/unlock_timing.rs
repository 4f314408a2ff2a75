//! How long a keystore takes to refuse a wrong passphrase against accepting the right one, at the
//! standard scrypt cost (n = 2^18): the two paths run the same derivation and a constant-time MAC
//! comparison, so the difference should be the AES decryption of 32 bytes, lost in scrypt's noise.
//! A measurement, not a test: `cargo run --release -p granary-wallet --example unlock_timing [runs]`.

use granary_engine::tx::dev_key;
use granary_wallet::keystore::{ScryptParams, decrypt, encrypt};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(15).max(3);
    let ks = match encrypt(&dev_key("timing"), b"correct horse", ScryptParams::STANDARD) {
        Ok(ks) => ks,
        Err(e) => {
            eprintln!("encrypt: {e}");
            std::process::exit(1);
        }
    };
    let (mut right, mut wrong, mut wrong_len) = (Vec::new(), Vec::new(), Vec::new());
    // Interleaved, so that drift of the machine's load hits all three alike.
    for _ in 0..runs {
        for (pass, out, ok) in [
            (&b"correct horse"[..], &mut right, true),
            (&b"correct horsf"[..], &mut wrong, false),
            (&b"x"[..], &mut wrong_len, false),
        ] {
            let t = Instant::now();
            let r = decrypt(&ks, pass);
            out.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(r.is_ok(), ok);
        }
    }
    let (r, w, l) = (median(right), median(wrong), median(wrong_len));
    println!(
        "scrypt n=2^18, {runs} runs each, median ms: right {r:.1}, wrong (one letter) {w:.1}, wrong (short) {l:.1}"
    );
    println!("wrong − right: {:+.2} ms ({:+.2} %)", w - r, 100.0 * (w - r) / r);
}
