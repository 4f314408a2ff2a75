//! The reference artifacts: compiled bytecode of the contracts the engine mirrors.
//!
//! They come from the npm package `@uniswap/v2-core@1.0.1` (solc 0.5.16 build output) and are
//! never committed. They live under `<workspace>/.oracles/node_modules/@uniswap/v2-core/build/`
//! (or under `$GRANARY_ORACLES_DIR` instead of `<workspace>/.oracles`). When they are missing,
//! [`v2_core_build_dir`] installs them with `npm install --no-save --prefix <dir>`; if that fails
//! the caller gets an error saying why: a missing reference is never a silent skip.

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The npm package (and exact version) holding the Uniswap V2 core build artifacts.
pub const V2_CORE_PACKAGE: &str = "@uniswap/v2-core@1.0.1";
/// The version that [`V2_CORE_PACKAGE`] pins, checked against the installed `package.json`.
pub const V2_CORE_VERSION: &str = "1.0.1";
/// Environment variable that replaces `<workspace>/.oracles` as the install prefix.
pub const ORACLES_DIR_ENV: &str = "GRANARY_ORACLES_DIR";

/// The artifacts the harness needs; all must be present for the build directory to count.
const V2_CORE_ARTIFACTS: [&str; 3] = ["UniswapV2Factory", "UniswapV2Pair", "ERC20"];

/// Why a reference artifact could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleError(pub String);

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OracleError {}

type Result<T> = std::result::Result<T, OracleError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(OracleError(msg.into()))
}

/// The cargo workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(manifest)
        .to_path_buf();
    root.canonicalize().unwrap_or(root)
}

/// The npm prefix holding the reference packages: `$GRANARY_ORACLES_DIR` if set and non-empty,
/// else `<workspace>/.oracles`.
pub fn oracles_dir() -> PathBuf {
    match std::env::var_os(ORACLES_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join(".oracles"),
    }
}

fn v2_core_package_dir(prefix: &Path) -> PathBuf {
    prefix.join("node_modules").join("@uniswap").join("v2-core")
}

/// `Ok(build dir)` when the pinned version's artifacts are all there, `Err(why not)` otherwise.
fn check_v2_core(prefix: &Path) -> std::result::Result<PathBuf, String> {
    let pkg = v2_core_package_dir(prefix);
    let manifest = pkg.join("package.json");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", manifest.display()))?;
    let version = json.get("version").and_then(|v| v.as_str()).unwrap_or("");
    if version != V2_CORE_VERSION {
        return Err(format!(
            "{} has version {version:?}, expected {V2_CORE_VERSION}",
            manifest.display()
        ));
    }
    let build = pkg.join("build");
    for name in V2_CORE_ARTIFACTS {
        let f = build.join(format!("{name}.json"));
        if !f.is_file() {
            return Err(format!("missing {}", f.display()));
        }
    }
    Ok(build)
}

/// Serialises installs between threads of one process (a file lock covers other processes).
static INSTALL: Mutex<()> = Mutex::new(());

fn npm_install(prefix: &Path, package: &str) -> Result<()> {
    fs::create_dir_all(prefix)
        .or_else(|e| err(format!("cannot create {}: {e}", prefix.display())))?;
    let output = Command::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(prefix)
        .arg(package)
        .output();
    match output {
        Err(e) => err(format!(
            "the reference bytecode ({package}) is missing under {} and npm could not be run \
             to install it: {e}. Install Node.js/npm, or run \
             `npm install --no-save --prefix {} {package}` yourself.",
            prefix.display(),
            prefix.display()
        )),
        Ok(out) if !out.status.success() => err(format!(
            "`npm install --no-save --prefix {} {package}` failed ({}):\n{}\n{}",
            prefix.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Ok(_) => Ok(()),
    }
}

/// The directory of `@uniswap/v2-core@1.0.1`'s build artifacts, installing the package with npm
/// first if it (or one of the needed artifacts) is missing.
pub fn v2_core_build_dir() -> Result<PathBuf> {
    let prefix = oracles_dir();
    if let Ok(build) = check_v2_core(&prefix) {
        return Ok(build);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    fs::create_dir_all(&prefix)
        .or_else(|e| err(format!("cannot create {}: {e}", prefix.display())))?;
    let lock_path = prefix.join(".install.lock");
    let lock = File::create(&lock_path)
        .or_else(|e| err(format!("cannot create {}: {e}", lock_path.display())))?;
    lock.lock()
        .or_else(|e| err(format!("cannot lock {}: {e}", lock_path.display())))?;
    // Another process may have finished the install while we waited for the lock.
    if let Ok(build) = check_v2_core(&prefix) {
        return Ok(build);
    }
    npm_install(&prefix, V2_CORE_PACKAGE)?;
    check_v2_core(&prefix).or_else(|why| {
        err(format!(
            "npm reported success installing {V2_CORE_PACKAGE} into {}, but the artifacts are \
             still not usable: {why}",
            prefix.display()
        ))
    })
}

/// One compiled contract: its ABI (as JSON) and its creation bytecode.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub name: String,
    pub abi: serde_json::Value,
    /// Creation (init) code; constructor arguments are appended ABI-encoded.
    pub bytecode: Vec<u8>,
}

/// Parse a `build/<name>.json` artifact (top-level `abi` and hex `bytecode`, or `evm.bytecode.object`).
pub fn load_artifact(build_dir: &Path, name: &str) -> Result<Artifact> {
    let path = build_dir.join(format!("{name}.json"));
    let text = fs::read_to_string(&path)
        .or_else(|e| err(format!("cannot read {}: {e}", path.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .or_else(|e| err(format!("{} is not JSON: {e}", path.display())))?;
    let hex_code = json
        .get("bytecode")
        .and_then(|b| b.as_str())
        .or_else(|| {
            json.pointer("/evm/bytecode/object")
                .and_then(|b| b.as_str())
        })
        .ok_or_else(|| OracleError(format!("{} has no bytecode", path.display())))?;
    let bytecode = alloy_primitives::hex::decode(hex_code)
        .or_else(|e| err(format!("{}: bad bytecode hex: {e}", path.display())))?;
    if bytecode.is_empty() {
        return err(format!("{}: empty bytecode", path.display()));
    }
    Ok(Artifact {
        name: name.to_string(),
        abi: json.get("abi").cloned().unwrap_or(serde_json::Value::Null),
        bytecode,
    })
}

/// Factory, Pair and the test ERC20 of `@uniswap/v2-core@1.0.1`.
#[derive(Debug, Clone)]
pub struct V2CoreArtifacts {
    pub factory: Artifact,
    pub pair: Artifact,
    pub erc20: Artifact,
}

/// Locate (installing if needed) and load the Uniswap V2 core artifacts.
pub fn v2_core() -> Result<V2CoreArtifacts> {
    let dir = v2_core_build_dir()?;
    Ok(V2CoreArtifacts {
        factory: load_artifact(&dir, "UniswapV2Factory")?,
        pair: load_artifact(&dir, "UniswapV2Pair")?,
        erc20: load_artifact(&dir, "ERC20")?,
    })
}
