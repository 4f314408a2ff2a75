//! A wallet folder: one keystore file per key, named `UTC--<ISO time>--<address>` as geth names them.

use crate::WalletError;
use crate::keystore::Keystore;
use alloy_primitives::{Address, hex};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A folder of keystore files. It is created (mode 0700 on Unix) on the first write.
#[derive(Clone, Debug)]
pub struct WalletDir {
    path: PathBuf,
}

/// One readable keystore of the folder.
#[derive(Clone, Debug)]
pub struct Entry {
    pub address: Address,
    pub file: PathBuf,
    pub keystore: Keystore,
}

/// What [`WalletDir::list`] found: the keys, and the files that are not keystores it can use.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub unreadable: Vec<(PathBuf, String)>,
}

impl WalletDir {
    pub fn new(path: impl Into<PathBuf>) -> WalletDir {
        WalletDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every keystore in the folder, sorted by file name (that is, by creation time). A missing
    /// folder is an empty wallet. Hidden files and editor backups (`~`) are ignored.
    pub fn list(&self) -> Result<Listing, WalletError> {
        let mut listing = Listing::default();
        let read = match std::fs::read_dir(&self.path) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => return Err(io(&self.path, e)),
        };
        let mut files = Vec::new();
        for item in read {
            let item = item.map_err(|e| io(&self.path, e))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with('~') || !item.path().is_file() {
                continue;
            }
            files.push(item.path());
        }
        files.sort();
        for file in files {
            match read_entry(&file) {
                Ok(entry) => listing.entries.push(entry),
                Err(e) => listing.unreadable.push((file, e.to_string())),
            }
        }
        Ok(listing)
    }

    /// The keystore of `address`.
    pub fn find(&self, address: Address) -> Result<Entry, WalletError> {
        self.list()?
            .entries
            .into_iter()
            .find(|e| e.address == address)
            .ok_or_else(|| WalletError::NotFound { address, dir: self.path.clone() })
    }

    /// Write `ks` as a new file and return its path. The keystore must carry its address; a key
    /// already in the folder is refused rather than stored twice.
    pub fn store(&self, ks: &Keystore) -> Result<PathBuf, WalletError> {
        let address = ks.address()?.ok_or(WalletError::Malformed("the keystore has no address".into()))?;
        if let Some(existing) = self.list()?.entries.into_iter().find(|e| e.address == address) {
            return Err(WalletError::AlreadyExists { address, file: existing.file });
        }
        create_private_dir(&self.path)?;
        let file = self.path.join(file_name(SystemTime::now(), address));
        write_new_private(&file, ks.to_json().as_bytes())?;
        Ok(file)
    }
}

fn read_entry(file: &Path) -> Result<Entry, WalletError> {
    let text = std::fs::read_to_string(file).map_err(|e| io(file, e))?;
    let keystore = Keystore::from_json(&text)?;
    let address = keystore.address()?.ok_or(WalletError::Malformed("no address field".into()))?;
    Ok(Entry { address, file: file.to_path_buf(), keystore })
}

/// `UTC--2024-05-01T12-30-45.123456789Z--<40 lowercase hex>`.
pub fn file_name(at: SystemTime, address: Address) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "UTC--{y:04}-{m:02}-{d:02}T{:02}-{:02}-{:02}.{:09}Z--{}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        since.subsec_nanos(),
        hex::encode(address)
    )
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (also the date of
/// `granary bench all`'s report).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn io(path: &Path, e: std::io::Error) -> WalletError {
    WalletError::Io { path: path.to_path_buf(), reason: e.to_string() }
}

fn create_private_dir(path: &Path) -> Result<(), WalletError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(path).map_err(|e| io(path, e))
}

/// Create `file` (which must not exist), readable by its owner only on Unix, and write `bytes`.
pub fn write_new_private(file: &Path, bytes: &[u8]) -> Result<(), WalletError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(file).map_err(|e| io(file, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| io(file, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::{ScryptParams, encrypt};
    use granary_engine::tx::{dev_key, key_address};

    #[test]
    fn geth_file_names() {
        let at = UNIX_EPOCH + std::time::Duration::new(1_458_651_475, 920_751_759);
        let name = file_name(at, Address::repeat_byte(0xab));
        assert_eq!(name, format!("UTC--2016-03-22T12-57-55.920751759Z--{}", "ab".repeat(20)));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn store_list_find() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = WalletDir::new(tmp.path().join("wallet"));
        assert!(dir.list().expect("empty").entries.is_empty());
        let key = dev_key("carol");
        let ks = encrypt(&key, b"pw", ScryptParams::TEST).expect("encrypts");
        let file = dir.store(&ks).expect("stored");
        std::fs::write(tmp.path().join("wallet/notes.txt"), "not a keystore").expect("write");
        let listing = dir.list().expect("lists");
        assert_eq!(listing.entries.len(), 1);
        assert_eq!(listing.unreadable.len(), 1);
        assert_eq!(listing.entries[0].file, file);
        assert_eq!(dir.find(key_address(&key)).expect("found").keystore, ks);
        assert!(matches!(dir.store(&ks), Err(WalletError::AlreadyExists { .. })));
        assert!(matches!(dir.find(Address::ZERO), Err(WalletError::NotFound { .. })));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
