//! `granary wallet new|list|export|import`, non-interactive (passphrase from the environment or a
//! file), with a cheap scrypt cost.

use std::path::Path;
use std::process::{Command, Stdio};

fn granary(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_granary"));
    cmd.arg("--data-dir").arg(data_dir).args(args).stdin(Stdio::null());
    cmd.env_remove("GRANARY_PASSPHRASE").env_remove("GRANARY_DATA_DIR").env("GRANARY_SCRYPT_LOG_N", "10");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn new_list_export_import() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let pass = [("GRANARY_PASSPHRASE", "hunter2 but longer")];

    // No passphrase and no terminal: a clear refusal, nothing written.
    let (code, _, err) = granary(&a, &[], &["wallet", "new"]);
    assert_eq!(code, 2);
    assert!(err.contains("--passphrase-file") && err.contains("GRANARY_PASSPHRASE"), "{err}");
    assert!(files(&a.join("wallet")).is_empty());

    let (code, out, err) = granary(&a, &pass, &["wallet", "new"]);
    assert_eq!(code, 0, "{err}");
    let (address, file) = out.trim().split_once("  ").expect("ADDRESS  FILE");
    assert!(address.starts_with("0x") && address.len() == 42, "{address}");
    assert_ne!(address, address.to_lowercase(), "EIP-55 mixed case");
    let name = Path::new(file).file_name().expect("name").to_string_lossy().into_owned();
    assert!(name.starts_with("UTC--") && name.ends_with(&format!("Z--{}", address[2..].to_lowercase())), "{name}");
    let ks: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).expect("file")).expect("json");
    assert_eq!(ks["version"], 3);
    assert_eq!(ks["crypto"]["kdfparams"]["n"], 1024);

    let (code, listed, _) = granary(&a, &[], &["wallet", "list"]);
    assert_eq!(code, 0);
    assert_eq!(listed, out, "list shows the new key");

    // Export to a file (no passphrase needed for the encrypted JSON); refuses to overwrite.
    let exported = tmp.path().join("exported.json");
    let ex = exported.to_str().expect("utf-8 path");
    let (code, _, err) = granary(&a, &[], &["wallet", "export", &address.to_lowercase(), "--out", ex]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&exported).expect("exported").trim(), ks_text(file).trim());
    let (code, _, _) = granary(&a, &[], &["wallet", "export", address, "--out", ex]);
    assert_ne!(code, 0, "an existing --out file is not overwritten");

    // Import into another data dir: a wrong passphrase is refused and writes nothing.
    let (code, _, err) = granary(&b, &[("GRANARY_PASSPHRASE", "wrong")], &["wallet", "import", "--keystore", ex]);
    assert_eq!(code, 2);
    assert!(err.contains("wrong passphrase (MAC mismatch)"), "{err}");
    assert!(files(&b.join("wallet")).is_empty());

    let pass_file = tmp.path().join("pass.txt");
    std::fs::write(&pass_file, "hunter2 but longer\n").expect("write");
    let pf = pass_file.to_str().expect("utf-8 path");
    let (code, out_b, err) = granary(&b, &[], &["wallet", "import", "--keystore", ex, "--passphrase-file", pf]);
    assert_eq!(code, 0, "{err}");
    assert!(out_b.starts_with(address), "{out_b}");
    let (code, _, err) = granary(&b, &pass, &["wallet", "import", "--keystore", ex]);
    assert_eq!(code, 2, "a key already in the wallet is not added twice");
    assert!(err.contains("already in the wallet"), "{err}");

    // --reveal-key: the key on stdout, a warning on stderr; importing that key elsewhere gives the address.
    let (code, key, err) = granary(&b, &pass, &["wallet", "export", address, "--reveal-key"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning"), "{err}");
    assert_eq!(key.trim().len(), 66);
    let key_file = tmp.path().join("key.hex");
    std::fs::write(&key_file, key.trim()).expect("write");
    let c = tmp.path().join("c");
    let (code, out_c, err) =
        granary(&c, &pass, &["wallet", "import", "--key-file", key_file.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "{err}");
    assert!(out_c.starts_with(address), "{out_c}");
    let (code, _, err) = granary(&c, &[("GRANARY_PASSPHRASE", "nope")], &["wallet", "export", address, "--reveal-key"]);
    assert_eq!(code, 2);
    assert!(err.contains("MAC mismatch"), "{err}");
}

fn ks_text(file: &str) -> String {
    std::fs::read_to_string(file).expect("keystore file")
}

#[test]
fn clear_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path().join("d");
    let pass = [("GRANARY_PASSPHRASE", "pw")];
    let (code, _, err) = granary(&d, &pass, &["wallet", "export", "0x0000000000000000000000000000000000000001"]);
    assert_eq!(code, 2);
    assert!(err.contains("no key for"), "{err}");
    let (code, _, err) = granary(&d, &pass, &["wallet", "export", "0xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAa"]);
    assert_eq!(code, 2);
    assert!(err.contains("EIP-55"), "{err}");
    let bad = tmp.path().join("bad.hex");
    std::fs::write(&bad, "0x1234").expect("write");
    let (code, _, err) = granary(&d, &pass, &["wallet", "import", "--key-file", bad.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2);
    assert!(err.contains("expected 32"), "{err}");
    let not_ks = tmp.path().join("not.json");
    std::fs::write(&not_ks, "{\"version\": 3}").expect("write");
    let (code, _, err) = granary(&d, &pass, &["wallet", "import", "--keystore", not_ks.to_str().expect("utf-8 path")]);
    assert_eq!(code, 2);
    assert!(err.contains("not a keystore v3 file"), "{err}");
    let (code, _, err) = granary(&d, &[("GRANARY_PASSPHRASE", "")], &["wallet", "new"]);
    assert_eq!(code, 2);
    assert!(err.contains("empty passphrase"), "{err}");
    let (code, out, err) = granary(&d, &[], &["wallet", "list"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("no keys"), "{err}");
}
