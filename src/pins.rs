//! What this machine remembers about the vaults it has read (`$AGENT_VAULT_HOME/pins.json`),
//! so that a swapped signing key, a rollback to an older validly signed state, or another vault
//! put in a vault's place is refused: per vault identity, the verify key trusted now and the
//! highest sequence number seen; per location, the vault identity it holds; and, for
//! statements of version 1 (no identity), pins per location ("legacy").
//!
//! The CLI and both SDKs share this file, its lock protocol and its rules (docs/format.md,
//! "Pins"): a pin never moves backwards; an unreadable or unparsable file is an error, never
//! taken as "no pins"; a pin that cannot be written only weakens rollback protection, so the
//! caller reports it as a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fsutil::{self, CappedReadError, Durability, LockFile};
use crate::keys::KeyHome;
use crate::{Error, Result};

/// The largest `pins.json` read.
const MAX_PINS_FILE: u64 = 16 << 20;
/// How long a writer waits for another's lock before giving up (with a warning).
const LOCK_WAIT: Duration = Duration::from_secs(2);
const VERSION: u32 = 2;

/// One remembered key and sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The trusted verify key, `ed25519:<base64>`.
    pub verify_key: String,
    /// The highest statement sequence number seen with it (or any key before it).
    pub seq: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PinsFile {
    version: u32,
    #[serde(default)]
    vaults: BTreeMap<String, Pin>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    locations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    legacy: BTreeMap<String, Pin>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

/// What is pinned for one location (and the vault identity it held).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinState {
    /// The vault identity this location is known to hold.
    pub bound: Option<String>,
    /// The pins of every vault identity.
    vaults: BTreeMap<String, Pin>,
    /// The version-1 pin of this location.
    pub legacy: Option<Pin>,
}

impl PinState {
    /// The pin of a vault identity.
    pub fn vault(&self, id: &str) -> Option<&Pin> {
        self.vaults.get(id)
    }
}

/// A pin to record.
#[derive(Debug, Clone)]
pub enum PinUpdate {
    /// A version-2 statement: pin its vault identity and bind the location to it.
    Vault {
        vault: String,
        location: String,
        pin: Pin,
    },
    /// A version-1 statement: pin the location.
    Legacy { location: String, pin: Pin },
}

/// The pins of one key home.
#[derive(Debug, Clone)]
pub struct Pins {
    path: PathBuf,
}

impl Pins {
    /// The pins stored in `home`.
    pub fn new(home: &KeyHome) -> Self {
        Pins {
            path: home.root().join("pins.json"),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<PinsFile> {
        let bytes = match fsutil::read_capped(&self.path, MAX_PINS_FILE) {
            Ok(bytes) => bytes,
            Err(CappedReadError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                // `version` is set when the file is written.
                return Ok(PinsFile::default());
            }
            Err(CappedReadError::Io(e)) => {
                return Err(Error::io(
                    format!(
                        "cannot read {} (it remembers which vault keys this machine trusts)",
                        self.path.display()
                    ),
                    e,
                ));
            }
            Err(CappedReadError::TooLarge) => {
                return Err(self.corrupt("is larger than 16 MiB"));
            }
        };
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| self.corrupt(&format!("is not valid JSON (line {})", e.line())))?;
        let version = value.get("version").and_then(serde_json::Value::as_u64);
        match version {
            Some(1) => {
                // Version 1 kept pins per location: they become the legacy pins.
                #[derive(Deserialize)]
                struct V1 {
                    #[serde(default)]
                    vaults: BTreeMap<String, Pin>,
                }
                let v1: V1 = serde_json::from_value(value)
                    .map_err(|_| self.corrupt("does not have the version-1 shape"))?;
                Ok(PinsFile {
                    legacy: v1.vaults,
                    ..PinsFile::default()
                })
            }
            Some(2) => serde_json::from_value(value)
                .map_err(|_| self.corrupt("does not have the version-2 shape")),
            Some(v) if v > 2 => Err(self.corrupt(&format!(
                "has version {v}, written by a newer agent-vault; upgrade agent-vault"
            ))),
            _ => Err(self.corrupt("has no valid version")),
        }
    }

    fn corrupt(&self, why: &str) -> Error {
        Error::corrupt(
            self.path.display().to_string(),
            format!(
                "{why}; fix or delete it (deleting forgets which vault keys this machine trusts)"
            ),
        )
    }

    /// What is pinned for `location`.
    pub fn state(&self, location: &str) -> Result<PinState> {
        let mut file = self.read()?;
        Ok(PinState {
            bound: file.locations.remove(location),
            legacy: file.legacy.remove(location),
            vaults: file.vaults,
        })
    }

    /// Records `update` (under the lock, when it changes anything). A pin never moves
    /// backwards: a pinned sequence number higher than the update's (under another key) is
    /// kept. Returns whether the file changed.
    pub fn record(&self, update: &PinUpdate) -> Result<bool> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        if !dir.exists() {
            // The key home itself, but never folders above it (a missing $HOME stays missing).
            if dir
                .parent()
                .is_some_and(|p| !p.as_os_str().is_empty() && !p.is_dir())
            {
                return Err(Error::io(
                    format!("cannot create {}", dir.display()),
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                ));
            }
            fsutil::create_private_dir(dir)?;
        }
        // Most reads confirm what is pinned already: that needs no lock and no write. (Pins
        // only move forward, so an update that changes nothing now changes nothing later.)
        if self.path.exists() && !apply(&mut self.read()?, update) {
            return Ok(false);
        }
        let lock_path = self.path.with_extension("json.lock");
        let Some(_lock) = LockFile::acquire(&lock_path, LOCK_WAIT)? else {
            return Err(Error::io(
                format!("{} is held by another process", lock_path.display()),
                std::io::Error::from(std::io::ErrorKind::WouldBlock),
            ));
        };
        let mut file = self.read()?;
        if !apply(&mut file, update) && self.path.exists() {
            return Ok(false);
        }
        file.version = VERSION;
        let mut bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::corrupt(self.path.display().to_string(), e))?;
        bytes.push(b'\n');
        fsutil::write_atomically(&self.path, &bytes, Durability::Durable, true)?;
        Ok(true)
    }
}

/// Applies `update` to `file`; returns whether it changed anything.
fn apply(file: &mut PinsFile, update: &PinUpdate) -> bool {
    match update {
        PinUpdate::Vault {
            vault,
            location,
            pin,
        } => {
            let a = upsert(&mut file.vaults, vault, pin);
            let b = file.locations.get(location) != Some(vault);
            file.locations.insert(location.clone(), vault.clone());
            let c = file.legacy.remove(location).is_some();
            a || b || c
        }
        PinUpdate::Legacy { location, pin } => upsert(&mut file.legacy, location, pin),
    }
}

/// Inserts or merges `new` under `key`; returns whether the map changed.
fn upsert(map: &mut BTreeMap<String, Pin>, key: &str, new: &Pin) -> bool {
    match map.get_mut(key) {
        Some(entry) => merge(entry, new),
        None => {
            map.insert(key.to_owned(), new.clone());
            true
        }
    }
}

/// Merges `new` into `entry`; returns whether it changed. Same key: the higher sequence
/// number. Another key: replaced, unless the pinned sequence number is higher.
fn merge(entry: &mut Pin, new: &Pin) -> bool {
    let before = entry.clone();
    if entry.verify_key == new.verify_key {
        entry.seq = entry.seq.max(new.seq);
    } else if new.seq >= entry.seq {
        *entry = new.clone();
    }
    *entry != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(key: &str, seq: u64) -> Pin {
        Pin {
            verify_key: key.into(),
            seq,
        }
    }

    fn vault_update(vault: &str, location: &str, key: &str, seq: u64) -> PinUpdate {
        PinUpdate::Vault {
            vault: vault.into(),
            location: location.into(),
            pin: pin(key, seq),
        }
    }

    #[test]
    fn pins_never_move_backwards_and_bind_locations() {
        let dir = tempfile::tempdir().unwrap();
        let pins = Pins::new(&KeyHome::at(dir.path().join("home")));
        assert_eq!(pins.state("/repo").unwrap(), PinState::default());
        assert!(pins.record(&vault_update("v1", "/repo", "k1", 5)).unwrap());
        // Same key: the higher seq wins, a lower one changes nothing.
        assert!(!pins.record(&vault_update("v1", "/repo", "k1", 3)).unwrap());
        assert_eq!(
            pins.state("/repo").unwrap().vault("v1"),
            Some(&pin("k1", 5))
        );
        // Another key with a lower seq never replaces the pin (the mutation `==` → `!=` in
        // the key comparison is caught here and below).
        pins.record(&vault_update("v1", "/repo", "k2", 4)).unwrap();
        assert_eq!(
            pins.state("/repo").unwrap().vault("v1"),
            Some(&pin("k1", 5))
        );
        pins.record(&vault_update("v1", "/repo", "k2", 6)).unwrap();
        assert_eq!(
            pins.state("/repo").unwrap().vault("v1"),
            Some(&pin("k2", 6))
        );
        pins.record(&vault_update("v1", "/repo", "k2", 9)).unwrap();
        assert_eq!(
            pins.state("/repo").unwrap().vault("v1"),
            Some(&pin("k2", 9))
        );
        let state = pins.state("/repo").unwrap();
        assert_eq!(state.bound.as_deref(), Some("v1"));
        assert!(pins.state("/other").unwrap().bound.is_none());
        // The same vault, unchanged, seen at a second place: the place is bound to it.
        assert!(pins.record(&vault_update("v1", "/other", "k2", 9)).unwrap());
        assert_eq!(pins.state("/other").unwrap().bound.as_deref(), Some("v1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(pins.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            assert!(!pins.path().with_extension("json.lock").exists());
        }
    }

    #[test]
    fn version_1_files_become_legacy_pins_until_a_vault_id_binds_the_location() {
        let dir = tempfile::tempdir().unwrap();
        let pins = Pins::new(&KeyHome::at(dir.path().to_path_buf()));
        std::fs::write(
            pins.path(),
            r#"{"version": 1, "vaults": {"/repo": {"verify_key": "k", "seq": 4}}}"#,
        )
        .unwrap();
        let state = pins.state("/repo").unwrap();
        assert_eq!(state.legacy, Some(pin("k", 4)));
        pins.record(&vault_update("v", "/repo", "k", 5)).unwrap();
        let state = pins.state("/repo").unwrap();
        assert_eq!(state.legacy, None);
        assert_eq!(state.bound.as_deref(), Some("v"));
        let text = std::fs::read_to_string(pins.path()).unwrap();
        assert!(text.contains("\"version\": 2"), "{text}");
    }

    #[test]
    fn unreadable_corrupt_or_newer_files_are_errors_never_empty_pins() {
        let dir = tempfile::tempdir().unwrap();
        let pins = Pins::new(&KeyHome::at(dir.path().to_path_buf()));
        for bad in [&b"{not json"[..], b"{\"version\": 3}", b"{}", b"[1]"] {
            std::fs::write(pins.path(), bad).unwrap();
            assert!(
                pins.state("/repo").is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            assert!(pins.record(&vault_update("v", "/repo", "k", 1)).is_err());
            assert_eq!(std::fs::read(pins.path()).unwrap(), bad);
        }
        let message = |text: &str| {
            std::fs::write(pins.path(), text).unwrap();
            pins.state("/repo").unwrap_err().to_string()
        };
        assert!(
            message(r#"{"version": 3}"#).contains("has version 3, written by a newer agent-vault")
        );
        for old in [r#"{"version": 0}"#, r#"{"version": "2"}"#] {
            assert!(message(old).contains("has no valid version"), "{old}");
        }
        std::fs::remove_file(pins.path()).unwrap();
        std::fs::create_dir(pins.path()).unwrap();
        assert!(pins.state("/repo").is_err());
    }

    #[test]
    fn a_missing_parent_of_the_home_is_never_created() {
        let dir = tempfile::tempdir().unwrap();
        let pins = Pins::new(&KeyHome::at(dir.path().join("no-home/.agent-vault")));
        assert!(pins.record(&vault_update("v", "/repo", "k", 1)).is_err());
        assert!(!dir.path().join("no-home").exists());
    }

    #[test]
    fn a_held_lock_makes_recording_fail_not_wait_forever() {
        let dir = tempfile::tempdir().unwrap();
        let pins = Pins::new(&KeyHome::at(dir.path().to_path_buf()));
        let _held = LockFile::acquire(&pins.path().with_extension("json.lock"), Duration::ZERO)
            .unwrap()
            .unwrap();
        assert!(pins.record(&vault_update("v", "/repo", "k", 1)).is_err());
        drop(_held);
        assert!(pins.record(&vault_update("v", "/repo", "k", 1)).unwrap());
        // What is pinned already is confirmed without the lock (a read never waits on it).
        let _held = LockFile::acquire(&pins.path().with_extension("json.lock"), Duration::ZERO)
            .unwrap()
            .unwrap();
        assert!(!pins.record(&vault_update("v", "/repo", "k", 1)).unwrap());
        assert!(pins.record(&vault_update("v", "/repo", "k", 2)).is_err());
    }
}
