//! Shard files: for the secrets whose path hashes to one prefix, the digests of their `.enc`
//! and `.meta` files.

use std::collections::BTreeMap;

use super::{Digest256, parse_digest, sha256};
use crate::names::SecretPath;

/// One shard: secret path → (SHA-256 of `.enc`, SHA-256 of `.meta`); all zeros for a file that
/// is missing (a half-present secret is signed as such, so `check` reports it as missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shard(pub BTreeMap<String, (Digest256, Digest256)>);

/// The shard a secret belongs to: the hex of the first byte of SHA-256 of its path.
pub fn shard_name(secret: &str) -> String {
    hex::encode(&sha256(secret.as_bytes())[..1])
}

/// Whether `name` is a shard name: two lowercase hex digits.
pub(crate) fn is_shard_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Shard {
    /// Serializes: one `<enc sha256> <meta sha256> <path>` line per secret, by path.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for (path, (enc, meta)) in &self.0 {
            out.push_str(&hex::encode(enc));
            out.push(' ');
            out.push_str(&hex::encode(meta));
            out.push(' ');
            out.push_str(path);
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Parses shard `name`'s bytes; `Err` with the reason when they are not in canonical form
    /// or list a path that is not a valid secret path of this shard.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Self, &'static str> {
        let text = std::str::from_utf8(bytes).map_err(|_| "is not text")?;
        let mut shard = BTreeMap::new();
        for line in text.split_terminator('\n') {
            let mut parts = line.splitn(3, ' ');
            let enc = parts.next().and_then(parse_digest);
            let meta = parts.next().and_then(parse_digest);
            let (Some(enc), Some(meta), Some(path)) = (enc, meta, parts.next()) else {
                return Err("has a malformed line");
            };
            if SecretPath::parse(path).is_err() || shard_name(path) != name {
                return Err("lists a path that does not belong in it");
            }
            shard.insert(path.to_owned(), (enc, meta));
        }
        let shard = Shard(shard);
        if shard.to_bytes() != bytes {
            return Err("is not in canonical form");
        }
        Ok(shard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_round_trip_canonically_and_refuse_anything_else() {
        let (a, b) = ("stripe/api-key", "db/url");
        // The format's test vectors (first byte of SHA-256 of the path, in lowercase hex).
        assert_eq!(shard_name(a), "25");
        assert_eq!(shard_name(b), "6d");
        let mut shard = Shard::default();
        shard.0.insert(a.into(), (sha256(b"1"), sha256(b"2")));
        let bytes = shard.to_bytes();
        assert_eq!(Shard::parse(&shard_name(a), &bytes).unwrap(), shard);
        // Wrong shard for the path, reordered lines, uppercase hex, missing newline.
        assert!(Shard::parse("zz", &bytes).is_err());
        let upper = String::from_utf8(bytes.clone()).unwrap().to_uppercase();
        assert!(Shard::parse(&shard_name(a), upper.as_bytes()).is_err());
        assert!(Shard::parse(&shard_name(a), &bytes[..bytes.len() - 1]).is_err());
        let mut two = shard.clone();
        two.0.insert(b.into(), (sha256(b"3"), sha256(b"4")));
        assert!(Shard::parse(&shard_name(a), &two.to_bytes()).is_err());
        assert!(is_shard_name("0a") && !is_shard_name("0A") && !is_shard_name("abc"));
    }
}
