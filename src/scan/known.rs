//! Finding the vault's own secret values in content about to be committed.
//!
//! Every secret the available key can read is decrypted in memory (never written anywhere)
//! and all values are matched in one pass over the content, however many there are: a
//! multi-pattern filter on the first 8 bytes of every value (hashed bitmaps of fixed size,
//! so the cost per byte of content is the same for 1 secret as for 1,000), then an exact
//! comparison where the filter hits. Findings name the secret's path, never its value, and
//! the values held for matching are zeroized when the matcher is dropped.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretSlice};
use zeroize::Zeroizing;

use crate::Error;

/// Values shorter than this are not matched: they would match by chance.
pub const MIN_SECRET_LEN: usize = 8;

/// log2 of each filter's size in bits: 2^18 bits = 32 KiB, whatever the number of secrets.
const FILTER_LOG2: u32 = 18;

fn filter_slot(window: u64) -> usize {
    (window.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FILTER_LOG2)) as usize
}

/// A second, independent slot (checked only when the first bit is set), so the exact lookup
/// runs about as rarely for 1,000 secrets as for one.
fn filter_slot2(window: u64) -> usize {
    (window.wrapping_mul(0xC2B2_AE3D_27D4_EB4F).rotate_left(29) as usize) & ((1 << FILTER_LOG2) - 1)
}

fn window(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
}

/// A matcher for a set of secret values.
pub struct KnownSecrets {
    /// One bit per hashed 8-byte prefix (two hashes: a Bloom filter with k = 2).
    filter: Box<[u64]>,
    filter2: Box<[u64]>,
    /// Prefix → indexes into `patterns`.
    by_prefix: HashMap<u64, Vec<usize>>,
    /// The values (and trimmed variants), zeroized on drop.
    patterns: Vec<Zeroizing<Vec<u8>>>,
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
            .field("patterns", &self.patterns.len())
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl KnownSecrets {
    /// Builds the matcher from `(secret path, value)` pairs. Each value is matched as stored
    /// and, when different, with surrounding whitespace (a trailing newline) trimmed.
    pub fn new(secrets: &[(String, SecretSlice<u8>)]) -> Self {
        let mut matcher = KnownSecrets {
            filter: vec![0u64; (1usize << FILTER_LOG2) / 64].into_boxed_slice(),
            filter2: vec![0u64; (1usize << FILTER_LOG2) / 64].into_boxed_slice(),
            by_prefix: HashMap::new(),
            patterns: Vec::new(),
            owners: Vec::new(),
            total: secrets.len(),
            too_short: Vec::new(),
        };
        for (path, value) in secrets {
            let value = value.expose_secret();
            let mut any = false;
            for candidate in [value, value.trim_ascii()] {
                if candidate.len() < MIN_SECRET_LEN {
                    continue;
                }
                any = true;
                let prefix = window(candidate);
                let slots = matcher.by_prefix.entry(prefix).or_default();
                let existing = slots
                    .iter()
                    .copied()
                    .find(|&i| matcher.patterns[i].as_slice() == candidate);
                let index = match existing {
                    Some(i) => i,
                    None => {
                        matcher.patterns.push(Zeroizing::new(candidate.to_vec()));
                        matcher.owners.push(Vec::new());
                        let i = matcher.patterns.len() - 1;
                        slots.push(i);
                        let slot = filter_slot(prefix);
                        matcher.filter[slot / 64] |= 1 << (slot % 64);
                        let slot = filter_slot2(prefix);
                        matcher.filter2[slot / 64] |= 1 << (slot % 64);
                        i
                    }
                };
                if !matcher.owners[index].contains(path) {
                    matcher.owners[index].push(path.clone());
                }
            }
            if !any {
                matcher.too_short.push(path.clone());
            }
        }
        matcher
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
        let mut out = Vec::new();
        if self.patterns.is_empty() {
            return out;
        }
        for (at, w) in bytes.windows(8).enumerate() {
            let w = window(w);
            let slot = filter_slot(w);
            if self.filter[slot / 64] & (1 << (slot % 64)) == 0 {
                continue;
            }
            let slot = filter_slot2(w);
            if self.filter2[slot / 64] & (1 << (slot % 64)) == 0 {
                continue;
            }
            let Some(candidates) = self.by_prefix.get(&w) else {
                continue;
            };
            for &i in candidates {
                if bytes[at..].starts_with(&self.patterns[i]) {
                    out.push((at, self.owners[i].as_slice()));
                }
            }
        }
        out
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
