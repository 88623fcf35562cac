//! agent-vault: a secret store for AI agents and CI jobs that keeps every secret as an
//! [age](https://age-encryption.org) multi-recipient ciphertext inside a git repository.
//!
//! The library owns the vault logic; the `agent-vault` binary is a thin CLI over it.
//!
//! * [`names`] validates secret paths, agent and group names before anything touches disk.
//! * [`format`] defines the versioned on-disk files (see `docs/format.md`).
//! * [`manifest`] is the access-control policy: agents → groups → secrets.
//! * [`crypto`] wraps age: encryption to recipient sets, decryption, fingerprints.
//! * [`keys`] reads and writes identity files and discovers which key to use.
//! * [`git`] treats git as the database: locking, atomic commits, reads from objects.
//! * [`integrity`] signs the vault's state and verifies it; [`pins`] remembers trusted keys.
//! * [`scan`] is the leak guard: key material and secret values in what is about to be committed.
//! * [`vault`] composes them into the operations the CLI exposes.
//! * [`broker`] uses secrets without handing them out: policies, injection, proxy, audit log.
//!
//! ```no_run
//! use agent_vault::{keys::{KeyChoice, KeyHome}, names::SecretPath, vault::{ReadOptions, Vault}};
//! use secrecy::ExposeSecret;
//!
//! let vault = Vault::discover(std::path::Path::new("."), KeyHome::from_env()?)?;
//! let path = SecretPath::parse("stripe/api-key")?;
//! let secret = vault.get(&path, &KeyChoice::Auto, &ReadOptions::default())?;
//! assert!(!secret.value.expose_secret().is_empty());
//! # Ok::<(), agent_vault::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod broker;
pub mod check;
pub mod crypto;
pub mod error;
pub mod format;
pub mod git;
pub mod hook;
pub mod integrity;
pub mod keys;
pub mod manifest;
pub mod names;
pub mod pins;
pub mod scan;
pub mod time;
pub mod vault;

pub use error::{Error, ErrorKind, Result};
