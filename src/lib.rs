//! agent-vault: a secret store for AI agents and CI jobs that keeps every secret as an
//! [age](https://age-encryption.org) multi-recipient ciphertext inside a git repository.
//!
//! The library owns the vault logic; the `agent-vault` binary is a thin CLI over it. It never
//! reads process environment variables: callers pass a [`settings::Settings`].
//!
//! * [`names`] validates secret paths, agent and group names before anything touches disk.
//! * [`format`] defines the versioned on-disk files (see `docs/format.md`).
//! * [`manifest`] is the access-control policy: agents → groups → secrets.
//! * [`crypto`] wraps age: encryption to recipient sets, bounded decryption, fingerprints.
//! * [`keys`] reads and writes identity files and decides which key to use.
//! * [`integrity`] is the signed statement, shards, signing keys and endorsements, as data.
//! * [`pins`] remembers, per machine, which vault keys and states were seen.
//! * [`git`] treats git as the database: raw tree reads, atomic commits, locking, upstreams.
//! * [`vault`] composes them: the one trust path (snapshots), and every operation.
//! * [`check`] audits a vault; [`scan`] is the leak guard; [`hook`] installs it.
//! * [`policy`] is the owner-signed use policy of a secret (hosts, auth, methods, paths).
//! * [`broker`] uses secrets without handing them out: decision, injection, proxy, audit log.
//! * [`mcp`] is the MCP server (`agent-vault mcp`): list, opt-in reveal, requests via the broker.
//! * [`environ`] turns secrets into environment variables, env files and templates, and masks
//!   them in a program's output (`run`, `export`, `inject`, `import`).
//! * [`changeset`], [`fsutil`], [`settings`], [`time`] are small shared helpers.
//!
//! ```no_run
//! use agent_vault::{keys::{KeyChoice, KeyHome}, names::SecretPath, settings::Settings,
//!     vault::{ReadOptions, Vault}};
//! use secrecy::ExposeSecret;
//!
//! let settings = Settings::new(KeyHome::at("/home/me/.agent-vault".into()));
//! let vault = Vault::discover(std::path::Path::new("."), settings)?;
//! let path = SecretPath::parse("stripe/api-key")?;
//! let secret = vault.get(&path, &KeyChoice::Auto, &ReadOptions::default())?;
//! assert!(!secret.value.expose_secret().is_empty());
//! # Ok::<(), agent_vault::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod broker;
pub mod changeset;
pub mod crypto;
pub mod environ;
pub mod error;
pub mod format;
pub mod fsutil;
pub mod git;
pub mod hook;
pub mod integrity;
pub mod keys;
pub mod manifest;
pub mod mcp;
pub mod names;
pub mod pins;
pub mod policy;
pub mod progress;
pub mod scan;
pub mod settings;
pub mod time;
pub mod vault;

pub use error::{Error, ErrorKind, Result};
/// `check`'s audit (it lives with the vault, whose snapshots it reads).
pub use vault::audit as check;
