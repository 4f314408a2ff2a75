//! Test support shared by the crates' tests and benchmarks (a dev-dependency only).

pub mod bench;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The eth-account release the oracle tests were verified with (the one `scripts/oracles.sh` installs).
pub const ETH_ACCOUNT_PIN: &str = "eth-account==0.13.7";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn has_eth_account(python: &Path) -> bool {
    Command::new(python).args(["-c", "import eth_account"]).output().map(|o| o.status.success()).unwrap_or(false)
}

fn run_or_panic(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{cmd:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Python interpreter that can `import eth_account`: `$GRANARY_PYTHON` if set, else the venv that
/// `scripts/oracles.sh` makes in `.oracles/venv`, created and filled here if missing. Fails loudly,
/// never skips.
pub fn python_with_eth_account() -> PathBuf {
    if let Some(p) = std::env::var_os("GRANARY_PYTHON") {
        let p = PathBuf::from(p);
        assert!(
            has_eth_account(&p),
            "GRANARY_PYTHON={} cannot `import eth_account`: install it with `{} -m pip install {ETH_ACCOUNT_PIN}` or unset GRANARY_PYTHON",
            p.display(),
            p.display()
        );
        return p;
    }
    let venv = workspace_root().join(".oracles/venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run_or_panic(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "creating the eth_account oracle venv with `python3 -m venv` (is python3 with the venv module installed?)",
        );
    }
    if !has_eth_account(&python) {
        run_or_panic(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                ETH_ACCOUNT_PIN,
            ]),
            "installing eth-account into the oracle venv (needs access to PyPI)",
        );
    }
    assert!(
        has_eth_account(&python),
        "{} still cannot `import eth_account` after installing {ETH_ACCOUNT_PIN}",
        python.display()
    );
    python
}

/// A Python interpreter that can `import module`: `$GRANARY_PYTHON` if set, else the venv of
/// `scripts/oracles.sh` (`.oracles/venv`). `None` when neither can — the caller skips — except
/// under CI (`CI=true`), where the venv must exist and this panics with the fix.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let can_import = |p: &Path| {
        Command::new(p).args(["-c", &format!("import {module}")]).output().map(|o| o.status.success()).unwrap_or(false)
    };
    let candidate = match std::env::var_os("GRANARY_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join(".oracles/venv/bin/python"),
    };
    if can_import(&candidate) {
        return Some(candidate);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "{} cannot `import {module}` under CI: run scripts/oracles.sh first (it installs the pinned oracles into .oracles/venv)",
        candidate.display()
    );
    None
}
