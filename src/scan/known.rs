//! Finding the vault's own secret values in content about to be committed.
//!
//! Every secret the available key can read is decrypted in memory (never written anywhere)
//! and all values go into one Aho-Corasick automaton, so the content is read once however
//! many secrets there are. Findings name the secret's path, never its value.

use std::collections::HashMap;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretSlice};

use crate::crypto::{self, DecryptFailure};
use crate::format::secret_enc_path;
use crate::keys::{self, KeyChoice, KeyHome};
use crate::vault::{ReadOptions, Vault};
use crate::{Error, Result};

/// Values shorter than this are not matched: they would match by chance.
pub const MIN_SECRET_LEN: usize = 8;

/// A matcher for a set of secret values.
pub struct KnownSecrets {
    matcher: Option<AhoCorasick>,
    /// For each pattern, the secret paths that hold it.
    owners: Vec<Vec<String>>,
    /// Secrets given, including those too short to match.
    total: usize,
    /// Secrets skipped for being shorter than [`MIN_SECRET_LEN`].
    too_short: Vec<String>,
}

impl std::fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownSecrets")
            .field("patterns", &self.owners.len())
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl KnownSecrets {
    /// Builds the matcher from `(secret path, value)` pairs. Each value is matched as stored
    /// and, when different, with surrounding whitespace (a trailing newline) trimmed.
    pub fn new(secrets: &[(String, SecretSlice<u8>)]) -> Self {
        // Borrowed from `secrets`: no copy of a value is made here (the automaton keeps its own).
        let mut index: HashMap<&[u8], usize> = HashMap::new();
        let mut patterns: Vec<&[u8]> = Vec::new();
        let mut owners: Vec<Vec<String>> = Vec::new();
        let mut too_short = Vec::new();
        for (path, value) in secrets {
            let value = value.expose_secret();
            let trimmed = value.trim_ascii();
            let mut any = false;
            for candidate in [value, trimmed] {
                if candidate.len() < MIN_SECRET_LEN {
                    continue;
                }
                any = true;
                let slot = match index.get(candidate) {
                    Some(&slot) => slot,
                    None => {
                        patterns.push(candidate);
                        owners.push(Vec::new());
                        index.insert(candidate, patterns.len() - 1);
                        patterns.len() - 1
                    }
                };
                if !owners[slot].contains(path) {
                    owners[slot].push(path.clone());
                }
            }
            if !any {
                too_short.push(path.clone());
            }
        }
        // A DFA without a prefilter: the cost per byte of content does not depend on how many
        // secrets there are (a prefilter would make one secret faster than a thousand).
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .prefilter(false)
                .build(&patterns)
                .or_else(|_| AhoCorasick::new(&patterns))
                .expect("an Aho-Corasick automaton over byte strings builds")
        });
        KnownSecrets {
            matcher,
            owners,
            total: secrets.len(),
            too_short,
        }
    }

    /// How many secrets were given.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Secrets not matched because their values are shorter than [`MIN_SECRET_LEN`].
    pub fn too_short(&self) -> &[String] {
        &self.too_short
    }

    /// Every occurrence in `bytes`: `(byte offset, secret paths holding that value)`.
    pub fn find<'s>(&'s self, bytes: &[u8]) -> Vec<(usize, &'s [String])> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        matcher
            .find_overlapping_iter(bytes)
            .map(|m| (m.start(), self.owners[m.pattern().as_usize()].as_slice()))
            .collect()
    }
}

/// Why the known-secret check could not run.
#[derive(Debug)]
pub enum Unavailable {
    /// There is no vault in the repository.
    NoVault,
    /// No key is available (or it is unusable); the error says which and why.
    NoKey(Error),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::NoVault => f.write_str("there is no vault in this repository"),
            Unavailable::NoKey(e) => write!(f, "{e}"),
        }
    }
}

/// What loading the vault's secrets found.
pub struct Loaded {
    /// The matcher.
    pub secrets: KnownSecrets,
    /// Secrets the key cannot read.
    pub unreadable: usize,
    /// Problems worth telling the user (never containing values).
    pub notes: Vec<String>,
}

/// Decrypts, in memory, every secret of the vault containing `start` that the key chosen by
/// `AGENT_VAULT_KEY` or the owner key can read.
pub fn load(start: &Path, home: KeyHome) -> Result<std::result::Result<Loaded, Unavailable>> {
    let vault = match Vault::discover(start, home.clone()) {
        Ok(vault) => vault,
        Err(Error::VaultNotFound(_)) => return Ok(Err(Unavailable::NoVault)),
        Err(e) => return Err(e),
    };
    let identities = match keys::load(&KeyChoice::Auto, &home) {
        Ok(identities) => identities,
        Err(e @ (Error::KeyNotFound(_) | Error::BadKey { .. })) => {
            return Ok(Err(Unavailable::NoKey(e)));
        }
        Err(e) => return Err(e),
    };
    let (infos, _) = vault.list(None, &ReadOptions { offline: true })?;
    let worktree = vault.repo().worktree();
    let head = match vault.repo().head_commit()? {
        Some(head) => Some(vault.repo().commit_source(head, "HEAD".into())?),
        None => None,
    };
    let mut ciphertexts = Vec::with_capacity(infos.len());
    for info in &infos {
        let enc = secret_enc_path(&info.path);
        let mut bytes = worktree.read(&enc)?;
        if bytes.is_none() {
            if let Some(head) = &head {
                bytes = head.read(&enc)?;
            }
        }
        if let Some(bytes) = bytes {
            ciphertexts.push((info.path.clone(), bytes));
        }
    }
    let results: Vec<(String, std::result::Result<SecretSlice<u8>, DecryptFailure>)> = ciphertexts
        .par_iter()
        .map(|(path, bytes)| (path.clone(), crypto::decrypt(bytes, &identities.identities)))
        .collect();
    let mut readable = Vec::new();
    let mut unreadable = 0;
    let mut notes = Vec::new();
    for (path, result) in results {
        match result {
            Ok(value) => readable.push((path, value)),
            Err(DecryptFailure::NotARecipient) => unreadable += 1,
            Err(DecryptFailure::Malformed(why)) => notes.push(format!(
                "secret '{path}' cannot be decrypted ({why}); not checked"
            )),
        }
    }
    Ok(Ok(Loaded {
        secrets: KnownSecrets::new(&readable),
        unreadable,
        notes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(path: &str, value: &[u8]) -> (String, SecretSlice<u8>) {
        (path.to_owned(), SecretSlice::from(value.to_vec()))
    }

    #[test]
    fn finds_values_and_skips_short_ones() {
        let known = KnownSecrets::new(&[
            secret("a/long", b"s3cr3t-value-123\n"),
            secret("a/dup", b"s3cr3t-value-123"),
            secret("b/short", b"1234567"),
        ]);
        assert_eq!(known.too_short(), ["b/short".to_owned()]);
        let found = known.find(b"x=1234567\npassword = s3cr3t-value-123 # eh\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 21);
        assert_eq!(found[0].1, ["a/long".to_owned(), "a/dup".to_owned()]);
        assert!(known.find(b"nothing here").is_empty());
    }
}
