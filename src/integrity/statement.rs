//! The signed statement: its model, its canonical text, its signature and the key-change
//! chain by which an old signing key vouches for a new one.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Digest256, SigningKey, VaultId, VerifyKey, parse_digest, shard::is_shard_name};
use crate::error::Problem;

const HEADER_V1: &str = "agent-vault-statement v1";
const HEADER_V2: &str = "agent-vault-statement v2";
const CONFLICT_MARKERS: [&str; 2] = ["<<<<<<< ", ">>>>>>> "];

/// The statement's format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementVersion {
    /// Written by agent-vault 0.2: no identity, chain or endorsements.
    V1,
    /// The current format.
    V2,
}

/// One change of signing key: `from` handed the vault to the next key at `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// Sequence number of the first statement signed by the next key.
    pub seq: u64,
    /// The key that signed `signature` and handed over.
    pub from: VerifyKey,
    /// `from`'s signature over [`key_change_message`].
    pub signature: [u8; 64],
}

/// The signed statement of a vault state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its format.
    pub version: StatementVersion,
    /// The vault's identity (version 2).
    pub vault: Option<VaultId>,
    /// The key that signed it.
    pub verify_key: VerifyKey,
    /// Increases by one with every owner operation, across key changes too.
    pub seq: u64,
    /// Every change of signing key, oldest first.
    pub key_changes: Vec<KeyChange>,
    /// Owner endorsements of `verify_key`: owner recipient (`age1…`) → tag.
    pub owners: BTreeMap<String, Digest256>,
    /// SHA-256 of every policy file, keyed by path relative to `.agent-vault/`.
    pub files: BTreeMap<String, Digest256>,
    /// SHA-256 of every non-empty shard file, keyed by shard name (`00`…`ff`).
    pub shards: BTreeMap<String, Digest256>,
}

/// The bytes an old key signs to hand the vault over to a new one.
pub fn key_change_message(vault: &VaultId, seq: u64, from: &VerifyKey, to: &VerifyKey) -> Vec<u8> {
    format!("agent-vault key-change v1\nvault {vault}\nseq {seq}\nfrom {from}\nto {to}\n")
        .into_bytes()
}

impl Statement {
    /// The canonical body: every line before the signature.
    pub fn body(&self) -> String {
        let mut body = String::new();
        let mut line = |parts: &[&str]| {
            body.push_str(&parts.join(" "));
            body.push('\n');
        };
        match (self.version, &self.vault) {
            (StatementVersion::V2, Some(vault)) => {
                line(&[HEADER_V2]);
                line(&["vault", &vault.to_string()]);
            }
            _ => line(&[HEADER_V1]),
        }
        line(&["verify-key", &self.verify_key.to_string()]);
        line(&["seq", &self.seq.to_string()]);
        for change in &self.key_changes {
            line(&[
                "key-change",
                &change.seq.to_string(),
                &change.from.to_string(),
                &BASE64.encode(change.signature),
            ]);
        }
        for (recipient, tag) in &self.owners {
            line(&["owner", recipient, &hex::encode(tag)]);
        }
        for (path, digest) in &self.files {
            line(&["file", &hex::encode(digest), path]);
        }
        for (shard, digest) in &self.shards {
            line(&["shard", &hex::encode(digest), shard]);
        }
        body
    }

    /// The file's bytes: the body and its signature line by `key`.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        debug_assert_eq!(key.verify_key(), self.verify_key);
        let body = self.body();
        let signature = key.sign(body.as_bytes());
        format!("{body}signature {}\n", BASE64.encode(signature)).into_bytes()
    }

    /// Parses a statement in canonical form and checks its signature against the key it
    /// names. Whether that key is the *right* one is the trust module's decision.
    pub fn parse_and_verify(bytes: &[u8]) -> Result<Self, Problem> {
        let bad = |why: &str| Problem::BadStatement {
            why: why.to_owned(),
        };
        let text = std::str::from_utf8(bytes).map_err(|_| bad("is not text"))?;
        if text
            .split('\n')
            .any(|l| CONFLICT_MARKERS.iter().any(|m| l.starts_with(m)))
        {
            return Err(Problem::ConflictMarkers);
        }
        let split = text
            .rfind("\nsignature ")
            .map(|i| i + 1)
            .ok_or_else(|| bad("has no signature"))?;
        let (body, signature_line) = text.split_at(split);
        let signature_b64 = signature_line["signature ".len()..]
            .strip_suffix('\n')
            .ok_or_else(|| bad("has text after its signature"))?;
        if signature_b64.contains('\n') {
            return Err(bad("has text after its signature"));
        }
        let signature: [u8; 64] = BASE64
            .decode(signature_b64)
            .ok()
            .filter(|b| BASE64.encode(b) == signature_b64)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("has a malformed signature"))?;
        let statement = Self::parse_body(body).map_err(bad)?;
        if statement.body() != body {
            return Err(bad("is not in canonical form"));
        }
        if !statement.verify_key.verify(body.as_bytes(), &signature) {
            return Err(bad(
                "has a signature that does not match its contents (forged or edited)",
            ));
        }
        Ok(statement)
    }

    /// Parses the body's lines (canonical form is checked by re-serializing).
    fn parse_body(body: &str) -> Result<Self, &'static str> {
        let mut lines = body.split_terminator('\n').peekable();
        let version = match lines.next() {
            Some(HEADER_V1) => StatementVersion::V1,
            Some(HEADER_V2) => StatementVersion::V2,
            _ => return Err("is not an agent-vault statement (v1 or v2)"),
        };
        let vault = match version {
            StatementVersion::V2 => Some(
                lines
                    .next()
                    .and_then(|l| l.strip_prefix("vault "))
                    .and_then(VaultId::parse)
                    .ok_or("names no vault identity")?,
            ),
            StatementVersion::V1 => None,
        };
        let verify_key = lines
            .next()
            .and_then(|l| l.strip_prefix("verify-key "))
            .and_then(VerifyKey::parse_canonical)
            .ok_or("names no valid verify key")?;
        let seq: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("seq "))
            .and_then(|s| s.parse().ok())
            .filter(|s| *s >= 1)
            .ok_or("has no valid sequence number")?;
        let mut statement = Statement {
            version,
            vault,
            verify_key,
            seq,
            key_changes: Vec::new(),
            owners: BTreeMap::new(),
            files: BTreeMap::new(),
            shards: BTreeMap::new(),
        };
        for line in lines {
            let (kind, rest) = line.split_once(' ').ok_or("has a malformed line")?;
            match kind {
                "key-change" if version == StatementVersion::V2 => {
                    let change = parse_key_change(rest).ok_or("has a malformed key-change line")?;
                    let last = statement.key_changes.last().map_or(0, |c| c.seq);
                    if change.seq <= last || change.seq > seq {
                        return Err("has key changes out of order");
                    }
                    statement.key_changes.push(change);
                }
                "owner" if version == StatementVersion::V2 => {
                    let (recipient, tag) = rest.split_once(' ').ok_or("has a malformed line")?;
                    let tag = parse_digest(tag).ok_or("has a malformed owner line")?;
                    let valid = recipient
                        .parse::<age::x25519::Recipient>()
                        .is_ok_and(|r| r.to_string() == recipient);
                    if !valid {
                        return Err("has a malformed owner line");
                    }
                    statement.owners.insert(recipient.to_owned(), tag);
                }
                "file" | "shard" => {
                    let (digest, name) = rest.split_once(' ').ok_or("has a malformed line")?;
                    let digest = parse_digest(digest).ok_or("has a malformed digest")?;
                    if kind == "file" {
                        if name.is_empty() || name.chars().any(char::is_control) {
                            return Err("names a file badly");
                        }
                        statement.files.insert(name.to_owned(), digest);
                    } else {
                        if !is_shard_name(name) {
                            return Err("names a shard badly");
                        }
                        statement.shards.insert(name.to_owned(), digest);
                    }
                }
                _ => return Err("has a line it should not have"),
            }
        }
        Ok(statement)
    }

    /// Whether the key-change chain leads from `from` to this statement's key, every link
    /// signed by the key it hands over from. A key reaches itself.
    pub fn chain_reaches(&self, from: &VerifyKey) -> bool {
        if *from == self.verify_key {
            return true;
        }
        let Some(vault) = &self.vault else {
            return false;
        };
        let links = &self.key_changes;
        (0..links.len())
            .filter(|&start| links[start].from == *from)
            .any(|start| {
                (start..links.len()).all(|i| {
                    let to = links.get(i + 1).map_or(&self.verify_key, |next| &next.from);
                    let message = key_change_message(vault, links[i].seq, &links[i].from, to);
                    links[i].from.verify(&message, &links[i].signature)
                })
            })
    }
}

fn parse_key_change(rest: &str) -> Option<KeyChange> {
    let mut parts = rest.split(' ');
    let seq: u64 = parts.next()?.parse().ok()?;
    let from = VerifyKey::parse_canonical(parts.next()?)?;
    let signature: [u8; 64] = BASE64.decode(parts.next()?).ok()?.try_into().ok()?;
    parts.next().is_none().then_some(KeyChange {
        seq,
        from,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::sha256;

    fn statement(key: &SigningKey) -> Statement {
        Statement {
            version: StatementVersion::V2,
            vault: Some(VaultId::parse("00112233445566778899aabbccddeeff").unwrap()),
            verify_key: key.verify_key(),
            seq: 7,
            key_changes: Vec::new(),
            owners: [(
                "age17akmcdepwyxha5mwf5lsvvsp6gkue3upts5aq3u80htu4g9kjdvs7mr5ud".to_owned(),
                sha256(b"tag"),
            )]
            .into(),
            files: [("manifest.yaml".to_owned(), sha256(b"m"))].into(),
            shards: [("0a".to_owned(), sha256(b"s"))].into(),
        }
    }

    fn refused(text: &str) -> bool {
        Statement::parse_and_verify(text.as_bytes()).is_err()
    }

    #[test]
    fn statement_round_trips_and_detects_tampering() {
        let key = SigningKey::generate().unwrap();
        let signed = statement(&key).sign(&key);
        assert_eq!(
            Statement::parse_and_verify(&signed).unwrap(),
            statement(&key)
        );
        let text = String::from_utf8(signed).unwrap();
        for forged in [
            text.replace("seq 7", "seq 8"),
            text.replace("seq 7", "seq 07"),
            text.replace("seq 7", "seq 18446744073709551616"),
            text.replace(&hex::encode(sha256(b"m")), &hex::encode(sha256(b"x"))),
            text.replace(
                &hex::encode(sha256(b"m")),
                &hex::encode(sha256(b"m")).to_uppercase(),
            ),
            text[..text.len() - 10].to_owned(),
            text.replace("\nsignature ", "\nsignature A"),
            text.replace("\nsignature ", "\n signature "),
            format!("{text}extra\n"),
            text.replace("file ", "file  "),
            text.replace("vault 0011", "vault 1011"),
            text.replace("owner age17akm", "owner age17AKM"),
            text.replace("owner age17akmc", "owner age17akmd"),
            text.replace("agent-vault-statement v2", "agent-vault-statement v3"),
        ] {
            assert!(refused(&forged), "{forged}");
        }
        // Line order and duplicates are not canonical even when correctly signed.
        let key2 = SigningKey::generate().unwrap();
        let mut s = statement(&key2);
        s.shards.insert("0b".into(), sha256(b"t"));
        let good = String::from_utf8(s.sign(&key2)).unwrap();
        let body = good.rsplit_once("signature ").unwrap().0;
        for reordered in [
            body.replace("shard ", "shardX ")
                .replacen("shardX ", "shard ", 1),
            {
                let mut lines: Vec<&str> = body.lines().collect();
                let n = lines.len();
                lines.swap(n - 1, n - 2);
                lines.join("\n") + "\n"
            },
        ] {
            let sig = BASE64.encode(key2.sign(reordered.as_bytes()));
            assert!(refused(&format!("{reordered}signature {sig}\n")));
        }
    }

    #[test]
    fn conflict_markers_are_named() {
        assert_eq!(
            Statement::parse_and_verify(b"<<<<<<< HEAD\nx\n"),
            Err(Problem::ConflictMarkers)
        );
    }

    #[test]
    fn key_change_chain_is_followed_only_with_valid_links() {
        let (k1, k2, k3) = (
            SigningKey::generate().unwrap(),
            SigningKey::generate().unwrap(),
            SigningKey::generate().unwrap(),
        );
        let vault = VaultId::generate().unwrap();
        let link = |from: &SigningKey, to: &SigningKey, seq| KeyChange {
            seq,
            from: from.verify_key(),
            signature: from.sign(&key_change_message(
                &vault,
                seq,
                &from.verify_key(),
                &to.verify_key(),
            )),
        };
        let mut s = statement(&k3);
        s.vault = Some(vault);
        s.seq = 9;
        s.key_changes = vec![link(&k1, &k2, 3), link(&k2, &k3, 6)];
        let parsed = Statement::parse_and_verify(&s.sign(&k3)).unwrap();
        assert!(parsed.chain_reaches(&k1.verify_key()));
        assert!(parsed.chain_reaches(&k2.verify_key()));
        assert!(parsed.chain_reaches(&k3.verify_key()));
        let stranger = SigningKey::generate().unwrap();
        assert!(!parsed.chain_reaches(&stranger.verify_key()));
        // A link signed by the wrong key breaks the chain from before it.
        let mut forged = s.clone();
        forged.key_changes[0] = KeyChange {
            from: k1.verify_key(),
            ..link(&stranger, &k2, 3)
        };
        let parsed = Statement::parse_and_verify(&forged.sign(&k3)).unwrap();
        assert!(!parsed.chain_reaches(&k1.verify_key()));
        assert!(parsed.chain_reaches(&k2.verify_key()));
        // Out-of-order or future links are not canonical; a link at the statement's own
        // sequence number is the newest possible.
        let mut late = s.clone();
        late.key_changes = vec![link(&k2, &k3, 10)];
        assert!(Statement::parse_and_verify(&late.sign(&k3)).is_err());
        let mut now = s.clone();
        now.key_changes = vec![link(&k2, &k3, 9)];
        assert!(Statement::parse_and_verify(&now.sign(&k3)).is_ok());
    }

    #[test]
    fn file_lines_must_name_a_file() {
        let key = SigningKey::generate().unwrap();
        let body = statement(&key).body();
        let digest = hex::encode(sha256(b"m"));
        for bad in ["", "manifest\u{1}.yaml"] {
            let forged = body.replace(
                &format!("file {digest} manifest.yaml"),
                &format!("file {digest} {bad}"),
            );
            assert_ne!(forged, body);
            let sig = BASE64.encode(key.sign(forged.as_bytes()));
            assert!(refused(&format!("{forged}signature {sig}\n")), "{bad:?}");
        }
    }

    #[test]
    fn the_key_change_message_is_the_formats_exact_bytes() {
        let vault = VaultId::parse("00112233445566778899aabbccddeeff").unwrap();
        let (from, to) = (
            SigningKey::generate().unwrap().verify_key(),
            SigningKey::generate().unwrap().verify_key(),
        );
        assert_eq!(
            String::from_utf8(key_change_message(&vault, 5, &from, &to)).unwrap(),
            format!(
                "agent-vault key-change v1\nvault 00112233445566778899aabbccddeeff\nseq 5\nfrom {from}\nto {to}\n"
            )
        );
    }

    #[test]
    fn version_1_statements_have_no_key_changes_or_owners() {
        let key = SigningKey::generate().unwrap();
        let old = SigningKey::generate().unwrap();
        let mut s = statement(&key);
        s.version = StatementVersion::V1;
        s.vault = None;
        s.owners.clear();
        let body = s.body();
        let (head, tail) = body.split_once("\nseq 7\n").unwrap();
        let change = format!(
            "key-change 3 {} {}",
            old.verify_key(),
            BASE64.encode([0u8; 64])
        );
        let owner = format!(
            "owner age17akmcdepwyxha5mwf5lsvvsp6gkue3upts5aq3u80htu4g9kjdvs7mr5ud {}",
            hex::encode(sha256(b"tag"))
        );
        for extra in [change, owner] {
            let forged = format!("{head}\nseq 7\n{extra}\n{tail}");
            let sig = BASE64.encode(key.sign(forged.as_bytes()));
            assert!(refused(&format!("{forged}signature {sig}\n")), "{extra}");
        }
    }

    #[test]
    fn version_1_statements_still_parse() {
        let key = SigningKey::generate().unwrap();
        let mut s = statement(&key);
        s.version = StatementVersion::V1;
        s.vault = None;
        s.owners.clear();
        let parsed = Statement::parse_and_verify(&s.sign(&key)).unwrap();
        assert_eq!(parsed.version, StatementVersion::V1);
        assert!(
            parsed
                .body()
                .starts_with("agent-vault-statement v1\nverify-key ")
        );
    }
}
