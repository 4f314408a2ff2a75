//! The reference artifacts: compiled bytecode of the contracts the engine mirrors.
//!
//! They come from pinned npm packages and are never committed:
//!
//! - `@uniswap/v2-core@1.0.1`: the solc 0.5.16 build of UniswapV2Factory, UniswapV2Pair and the
//!   test ERC20, under `node_modules/@uniswap/v2-core/build/`;
//! - `synthetix@2.102.1`: the StakingRewards creation code and ABI as deployed on mainnet
//!   (solc 0.5.16), in `node_modules/synthetix/publish/deployed/mainnet/deployment.json`.
//!
//! The npm prefix is `<workspace>/.oracles` (or `$GRANARY_ORACLES_DIR`). When a package or one of
//! its files is missing, [`ensure_npm_packages`] installs every pinned package with one
//! `npm install --no-save --no-audit --no-fund --prefix <dir> <pkg>@<version>...`: all of them at
//! once, because an `npm install --no-save` removes the packages that no manifest lists, so
//! installing one alone would uninstall the others. If that fails the caller gets an error saying
//! why: a missing reference is never a silent skip.

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The npm package (and exact version) holding the Uniswap V2 core build artifacts.
pub const V2_CORE_PACKAGE: &str = "@uniswap/v2-core@1.0.1";
/// The version that [`V2_CORE_PACKAGE`] pins, checked against the installed `package.json`.
pub const V2_CORE_VERSION: &str = "1.0.1";
/// The npm package (and exact version) holding the Synthetix deployment artifacts.
pub const SYNTHETIX_PACKAGE: &str = "synthetix@2.102.1";
/// The version that [`SYNTHETIX_PACKAGE`] pins, checked against the installed `package.json`.
pub const SYNTHETIX_VERSION: &str = "2.102.1";
/// Environment variable that replaces `<workspace>/.oracles` as the install prefix.
pub const ORACLES_DIR_ENV: &str = "GRANARY_ORACLES_DIR";

/// A pinned npm package and the files of it the harnesses read.
#[derive(Debug, Clone, Copy)]
pub struct NpmPackage {
    /// The name in `node_modules`.
    pub name: &'static str,
    pub version: &'static str,
    /// `name@version`, as given to npm.
    pub spec: &'static str,
    /// Paths inside the package that must all exist.
    pub files: &'static [&'static str],
}

/// The Uniswap V2 core build artifacts.
pub const V2_CORE: NpmPackage = NpmPackage {
    name: "@uniswap/v2-core",
    version: V2_CORE_VERSION,
    spec: V2_CORE_PACKAGE,
    files: &["build/UniswapV2Factory.json", "build/UniswapV2Pair.json", "build/ERC20.json"],
};

/// The Synthetix mainnet deployment record (creation code and ABI of every contract source).
pub const SYNTHETIX: NpmPackage = NpmPackage {
    name: "synthetix",
    version: SYNTHETIX_VERSION,
    spec: SYNTHETIX_PACKAGE,
    files: &[SYNTHETIX_MAINNET_DEPLOYMENT],
};

/// Where the mainnet deployment record sits inside the `synthetix` package.
pub const SYNTHETIX_MAINNET_DEPLOYMENT: &str = "publish/deployed/mainnet/deployment.json";

/// Every pinned npm package: they are installed together.
pub const NPM_PACKAGES: [NpmPackage; 2] = [V2_CORE, SYNTHETIX];

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
    let root = manifest.parent().and_then(Path::parent).unwrap_or(manifest).to_path_buf();
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

/// `<prefix>/node_modules/<name>`.
pub fn package_dir(prefix: &Path, package: &NpmPackage) -> PathBuf {
    package.name.split('/').fold(prefix.join("node_modules"), |dir, part| dir.join(part))
}

/// `Ok(package dir)` when the pinned version and all its needed files are there, `Err(why not)`
/// otherwise.
fn check_package(prefix: &Path, package: &NpmPackage) -> std::result::Result<PathBuf, String> {
    let pkg = package_dir(prefix, package);
    let manifest = pkg.join("package.json");
    let text = fs::read_to_string(&manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", manifest.display()))?;
    let version = json.get("version").and_then(|v| v.as_str()).unwrap_or("");
    if version != package.version {
        return Err(format!("{} has version {version:?}, expected {}", manifest.display(), package.version));
    }
    for file in package.files {
        let f = pkg.join(file);
        if !f.is_file() {
            return Err(format!("missing {}", f.display()));
        }
    }
    Ok(pkg)
}

/// Every pinned package's directory, or the first reason one is not usable.
fn check_all(prefix: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    NPM_PACKAGES.iter().map(|p| check_package(prefix, p)).collect()
}

/// Serialises installs between threads of one process (a file lock covers other processes).
static INSTALL: Mutex<()> = Mutex::new(());

/// The install command line, as a user would type it.
pub fn npm_install_command(prefix: &Path) -> String {
    let specs: Vec<&str> = NPM_PACKAGES.iter().map(|p| p.spec).collect();
    format!("npm install --no-save --no-audit --no-fund --prefix {} {}", prefix.display(), specs.join(" "))
}

fn npm_install(prefix: &Path) -> Result<()> {
    fs::create_dir_all(prefix).or_else(|e| err(format!("cannot create {}: {e}", prefix.display())))?;
    let output = Command::new("npm")
        .args(["install", "--no-save", "--no-audit", "--no-fund", "--prefix"])
        .arg(prefix)
        .args(NPM_PACKAGES.iter().map(|p| p.spec))
        .output();
    let command = npm_install_command(prefix);
    match output {
        Err(e) => err(format!(
            "the reference bytecode is missing under {} and npm could not be run to install it: \
             {e}. Install Node.js/npm, or run `{command}` yourself.",
            prefix.display(),
        )),
        Ok(out) if !out.status.success() => err(format!(
            "`{command}` failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Ok(_) => Ok(()),
    }
}

/// The directories of every pinned npm package (in [`NPM_PACKAGES`] order), installing them all
/// with npm first if one of them (or one of its needed files) is missing.
pub fn ensure_npm_packages() -> Result<Vec<PathBuf>> {
    let prefix = oracles_dir();
    if let Ok(dirs) = check_all(&prefix) {
        return Ok(dirs);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    fs::create_dir_all(&prefix).or_else(|e| err(format!("cannot create {}: {e}", prefix.display())))?;
    let lock_path = prefix.join(".install.lock");
    let lock = File::create(&lock_path).or_else(|e| err(format!("cannot create {}: {e}", lock_path.display())))?;
    lock.lock().or_else(|e| err(format!("cannot lock {}: {e}", lock_path.display())))?;
    // Another process may have finished the install while we waited for the lock.
    if let Ok(dirs) = check_all(&prefix) {
        return Ok(dirs);
    }
    npm_install(&prefix)?;
    check_all(&prefix).or_else(|why| {
        err(format!(
            "npm reported success installing the reference packages into {}, but they are still \
             not usable: {why}",
            prefix.display()
        ))
    })
}

/// The directory of one pinned package, installing the pinned packages if needed.
fn package_path(package: &NpmPackage) -> Result<PathBuf> {
    let dirs = ensure_npm_packages()?;
    NPM_PACKAGES
        .iter()
        .zip(dirs)
        .find(|(p, _)| p.name == package.name)
        .map(|(_, dir)| dir)
        .ok_or_else(|| OracleError(format!("{} is not a pinned package", package.spec)))
}

/// The directory of `@uniswap/v2-core@1.0.1`'s build artifacts, installing the pinned packages
/// with npm first if one of them is missing.
pub fn v2_core_build_dir() -> Result<PathBuf> {
    Ok(package_path(&V2_CORE)?.join("build"))
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
    let json = read_json(&path)?;
    artifact_from_json(&path, name, &json)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = fs::read_to_string(path).or_else(|e| err(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).or_else(|e| err(format!("{} is not JSON: {e}", path.display())))
}

/// An artifact from a JSON object with `abi` and a hex `bytecode` (or `evm.bytecode.object`);
/// `path` only names it in errors.
fn artifact_from_json(path: &Path, name: &str, json: &serde_json::Value) -> Result<Artifact> {
    let path = path.display();
    let hex_code = json
        .get("bytecode")
        .and_then(|b| b.as_str())
        .or_else(|| json.pointer("/evm/bytecode/object").and_then(|b| b.as_str()))
        .ok_or_else(|| OracleError(format!("{path}: {name} has no bytecode")))?;
    let bytecode =
        alloy_primitives::hex::decode(hex_code).or_else(|e| err(format!("{path}: {name}: bad bytecode hex: {e}")))?;
    if bytecode.is_empty() {
        return err(format!("{path}: {name}: empty bytecode"));
    }
    if !json.get("abi").is_some_and(serde_json::Value::is_array) {
        return err(format!("{path}: {name} has no ABI"));
    }
    Ok(Artifact { name: name.to_string(), abi: json.get("abi").cloned().unwrap_or_default(), bytecode })
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

/// `sources.<name>` of a Synthetix deployment record: the creation code and ABI of a contract
/// source as deployed.
pub fn load_deployment_source(deployment: &Path, name: &str) -> Result<Artifact> {
    let json = read_json(deployment)?;
    let source = json
        .get("sources")
        .and_then(|s| s.get(name))
        .ok_or_else(|| OracleError(format!("{} has no sources.{name}", deployment.display())))?;
    artifact_from_json(deployment, name, source)
}

/// Synthetix `StakingRewards` as deployed on mainnet (`synthetix@2.102.1`), and the test ERC20 of
/// `@uniswap/v2-core@1.0.1` for its staking and reward tokens.
#[derive(Debug, Clone)]
pub struct StakingRewardsArtifacts {
    pub staking_rewards: Artifact,
    pub erc20: Artifact,
}

/// Locate (installing if needed) and load `StakingRewards` and the test ERC20.
pub fn staking_rewards() -> Result<StakingRewardsArtifacts> {
    let deployment = package_path(&SYNTHETIX)?.join(SYNTHETIX_MAINNET_DEPLOYMENT);
    Ok(StakingRewardsArtifacts {
        staking_rewards: load_deployment_source(&deployment, "StakingRewards")?,
        erc20: load_artifact(&v2_core_build_dir()?, "ERC20")?,
    })
}
