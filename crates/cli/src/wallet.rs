//! `granary wallet new|import|list|export`: keystore v3 files in `<data dir>/wallet`.

use clap::{Args, Subcommand};
use granary_engine::Address;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::key_address;
use granary_wallet::{Keystore, ScryptParams, WalletDir, decrypt, encrypt};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Environment variable holding the passphrase when no `--passphrase-file` is given.
const PASSPHRASE_ENV: &str = "GRANARY_PASSPHRASE";

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Generate a key and store it encrypted; prints its address and file.
    New {
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        cost: CostArgs,
    },
    /// Add a key from a file of 64 hex digits, or a keystore v3 file from another wallet.
    Import {
        /// A file holding the raw private key in hex (with or without 0x).
        #[arg(long, value_name = "HEX_FILE", conflicts_with = "keystore", required_unless_present = "keystore")]
        key_file: Option<PathBuf>,
        /// A keystore v3 JSON file (scrypt or pbkdf2); its passphrase is checked before it is added.
        #[arg(long, value_name = "FILE")]
        keystore: Option<PathBuf>,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        cost: CostArgs,
    },
    /// Print the address (EIP-55) and file of every key.
    List,
    /// Write the keystore JSON of ADDRESS to stdout or --out FILE.
    Export {
        /// The account, 0x-prefixed or not; a mixed-case address must have a valid EIP-55 checksum.
        address: String,
        /// Write here (a new file) instead of stdout.
        #[arg(long, value_name = "FILE", conflicts_with = "reveal_key")]
        out: Option<PathBuf>,
        /// Print the raw private key instead (asks for the passphrase). Anyone who sees it owns the account.
        #[arg(long)]
        reveal_key: bool,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

#[derive(Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from the first line of FILE. Otherwise $GRANARY_PASSPHRASE is used, or
    /// it is asked for on the terminal.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct CostArgs {
    /// log2 of the scrypt cost n of new files (18 is standard; lower only for tests).
    #[arg(long, hide = true, env = "GRANARY_SCRYPT_LOG_N", default_value_t = ScryptParams::STANDARD.log_n,
          value_parser = clap::value_parser!(u8).range(4..=22))]
    scrypt_log_n: u8,
}

impl CostArgs {
    fn params(&self) -> ScryptParams {
        if self.scrypt_log_n < ScryptParams::STANDARD.log_n {
            eprintln!("warning: scrypt n = 2^{} is below the standard 2^18; use it for tests only", self.scrypt_log_n);
        }
        ScryptParams { log_n: self.scrypt_log_n }
    }
}

pub fn run(data_dir: &Path, command: WalletCommand) -> Result<ExitCode, String> {
    let dir = WalletDir::new(data_dir.join("wallet"));
    match command {
        WalletCommand::New { passphrase, cost } => {
            let pass = passphrase.read(true)?;
            let key = new_key()?;
            let ks = encrypt(&key, &pass, cost.params()).map_err(|e| e.to_string())?;
            store(&dir, &ks)
        }
        WalletCommand::Import { key_file, keystore, passphrase, cost } => match (key_file, keystore) {
            (Some(file), _) => {
                let key = read_key_file(&file)?;
                let pass = passphrase.read(true)?;
                let ks = encrypt(&key, &pass, cost.params()).map_err(|e| e.to_string())?;
                store(&dir, &ks)
            }
            (None, Some(file)) => {
                let text = read_text(&file)?;
                let mut ks = Keystore::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))?;
                let pass = passphrase.read(false)?;
                let key = decrypt(&ks, &pass).map_err(|e| format!("{}: {e}", file.display()))?;
                // Files without an address (some wallets leave it out) get the one of their key.
                ks.address.get_or_insert_with(|| hex(key_address(&key).as_slice()));
                store(&dir, &ks)
            }
            (None, None) => Err("give --key-file HEX_FILE or --keystore FILE".into()),
        },
        WalletCommand::List => {
            let listing = dir.list().map_err(|e| e.to_string())?;
            for (file, reason) in &listing.unreadable {
                eprintln!("warning: skipping {}: {reason}", file.display());
            }
            if listing.entries.is_empty() {
                eprintln!("no keys in {}", dir.path().display());
            }
            let mut out = std::io::stdout().lock();
            for e in &listing.entries {
                writeln!(out, "{}  {}", e.address.to_checksum(None), e.file.display()).map_err(|e| e.to_string())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        WalletCommand::Export { address, out, reveal_key, passphrase } => {
            let address = parse_address(&address)?;
            let entry = dir.find(address).map_err(|e| e.to_string())?;
            if reveal_key {
                let pass = passphrase.read(false)?;
                let key = decrypt(&entry.keystore, &pass).map_err(|e| format!("{}: {e}", entry.file.display()))?;
                eprintln!(
                    "warning: printing the raw private key of {}: anyone who sees it controls the account",
                    address.to_checksum(None)
                );
                println!("0x{}", hex(&key.secret_bytes()));
                return Ok(ExitCode::SUCCESS);
            }
            let json = entry.keystore.to_json();
            match out {
                Some(file) => {
                    granary_wallet::dir::write_new_private(&file, format!("{json}\n").as_bytes())
                        .map_err(|e| e.to_string())?;
                    eprintln!("wrote the keystore of {} to {}", address.to_checksum(None), file.display());
                }
                None => println!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

impl PassphraseArgs {
    /// The passphrase from --passphrase-file, else $GRANARY_PASSPHRASE, else the terminal (asked
    /// twice when `new` is set). A new key is never stored under an empty passphrase.
    pub(crate) fn read(&self, new: bool) -> Result<Vec<u8>, String> {
        let pass = if let Some(file) = &self.passphrase_file {
            let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            line.strip_suffix(b"\r").unwrap_or(line).to_vec()
        } else if let Some(v) = std::env::var_os(PASSPHRASE_ENV) {
            v.into_encoded_bytes()
        } else if std::io::stdin().is_terminal() {
            let first =
                rpassword::prompt_password("Passphrase: ").map_err(|e| format!("cannot read the passphrase: {e}"))?;
            if new {
                let again = rpassword::prompt_password("Repeat passphrase: ")
                    .map_err(|e| format!("cannot read the passphrase: {e}"))?;
                if again != first {
                    return Err("the passphrases differ".into());
                }
            }
            first.into_bytes()
        } else {
            return Err(format!(
                "no passphrase: give --passphrase-file FILE or set {PASSPHRASE_ENV} (there is no terminal to ask on)"
            ));
        };
        if new && pass.is_empty() {
            return Err("refusing to encrypt a key under an empty passphrase".into());
        }
        Ok(pass)
    }
}

fn store(dir: &WalletDir, ks: &Keystore) -> Result<ExitCode, String> {
    let file = dir.store(ks).map_err(|e| e.to_string())?;
    let address = ks.address().map_err(|e| e.to_string())?.unwrap_or_default();
    println!("{}  {}", address.to_checksum(None), file.display());
    Ok(ExitCode::SUCCESS)
}

/// A uniformly random valid secret key from the operating system's generator.
fn new_key() -> Result<SecretKey, String> {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers from the operating system: {e}"))?;
        if let Ok(key) = SecretKey::from_byte_array(bytes) {
            return Ok(key);
        }
    }
}

fn read_text(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

fn read_key_file(file: &Path) -> Result<SecretKey, String> {
    let text = read_text(file)?;
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = decode_hex(t).map_err(|e| format!("{}: {e}", file.display()))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
        format!("{}: the key is {} bytes, expected 32 (64 hex digits)", file.display(), b.len())
    })?;
    SecretKey::from_byte_array(bytes)
        .map_err(|_| format!("{}: not a secp256k1 key (zero or not below the group order)", file.display()))
}

/// A 20-byte address; mixed case must be a valid EIP-55 checksum.
pub(crate) fn parse_address(s: &str) -> Result<Address, String> {
    let t = s.strip_prefix("0x").unwrap_or(s);
    let bytes = decode_hex(t).map_err(|e| format!("address {s:?}: {e}"))?;
    let bytes: [u8; 20] =
        bytes.try_into().map_err(|b: Vec<u8>| format!("address {s:?} is {} bytes, expected 20", b.len()))?;
    let address = Address::from(bytes);
    let mixed = t.chars().any(|c| c.is_ascii_uppercase()) && t.chars().any(|c| c.is_ascii_lowercase());
    if mixed && address.to_checksum(None)[2..] != *t {
        return Err(format!("address {s:?} has a wrong EIP-55 checksum (expected {})", address.to_checksum(None)));
    }
    Ok(address)
}

fn decode_hex(t: &str) -> Result<Vec<u8>, String> {
    if !t.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..t.len())
        .step_by(2)
        .map(|i| {
            t.get(i..i + 2)
                .filter(|pair| pair.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("not hex at position {i}"))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
