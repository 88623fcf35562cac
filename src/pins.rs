//! What this machine remembers about each vault it has read: the verify key it trusts for it
//! and the highest statement sequence number it has seen, so that a swapped signing key or a
//! rollback to an older, validly signed state is refused.
//!
//! Stored in `$AGENT_VAULT_HOME/pins.json`:
//! `{"version": 1, "vaults": {"<location>": {"verify_key": "ed25519:…", "seq": 12}}}` where the
//! location is the canonical path of the repository's working tree (or, for SDK clones, the
//! remote URL).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::IoContext;
use crate::keys::{self, KeyHome};
use crate::{Error, Result};

/// One remembered vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The trusted verify key, `ed25519:<base64>`.
    pub verify_key: String,
    /// The highest statement sequence number seen.
    pub seq: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PinsFile {
    version: u32,
    #[serde(default)]
    vaults: BTreeMap<String, Pin>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

/// The pins of one key home.
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

    fn read(&self) -> Result<PinsFile> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::corrupt(
                    self.path.display().to_string(),
                    format!("cannot parse ({e}); fix or delete it (deleting forgets which vault keys this machine trusts)"),
                )
            }),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(PinsFile {
                    version: 1,
                    ..Default::default()
                })
            }
            Err(e) => Err(Error::io(format!("cannot read {}", self.path.display()), e)),
        }
    }

    /// The pin for a vault location.
    pub fn get(&self, location: &str) -> Result<Option<Pin>> {
        Ok(self.read()?.vaults.remove(location))
    }

    /// Records `pin` for `location`, keeping the highest sequence number if the key is the
    /// same. Serialized against concurrent writers by a lock file.
    pub fn record(&self, location: &str, pin: Pin) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            keys::create_private_dir(dir)?;
        }
        let lock_path = self.path.with_extension("json.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .io_context(|| format!("cannot open {}", lock_path.display()))?;
        lock.lock()
            .io_context(|| format!("cannot lock {}", lock_path.display()))?;
        let mut file = self.read()?;
        let entry = file
            .vaults
            .entry(location.to_owned())
            .or_insert_with(|| pin.clone());
        if entry.verify_key == pin.verify_key {
            entry.seq = entry.seq.max(pin.seq);
        } else {
            *entry = pin;
        }
        file.version = 1;
        let mut bytes = serde_json::to_vec_pretty(&file).expect("pins serialize");
        bytes.push(b'\n');
        crate::git::write_atomically(&self.path, &bytes)
    }
}
