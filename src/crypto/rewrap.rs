//! Adding recipients to an age file without touching its payload ("re-wrap").
//!
//! An age file is a header — the version line, one stanza per recipient, each wrapping the same
//! 16-byte file key, and a MAC keyed from that file key — followed by the payload, which is
//! encrypted under a key derived from the file key and the payload's own nonce only. So a holder
//! of the file key can add a stanza for one more recipient and recompute the header MAC, and the
//! result is a valid age file for the old recipients and the new one, readable by any age
//! implementation; the payload bytes stay as they were.
//!
//! Why this is safe (docs/format.md, "Granting by re-wrapping"): the file key stays the same, so
//! everyone who could read the old file can read the new one — but re-wrapping is used only when
//! the old recipients are all still recipients (the caller checks the recorded recipient
//! fingerprint and the stanza count), and the old file stays in git history anyway. The header
//! MAC is verified with the recovered file key before anything is added: only someone who knew
//! the file key could have written the stanzas we keep. Removing a recipient always needs a new
//! file key, so revocation re-encrypts.

use age::x25519;
use age_core::format::{FileKey, Stanza};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD_NO_PAD;
use hmac::{KeyInit as _, Mac as _};
use secrecy::ExposeSecret as _;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{DecryptFailure, MAX_HEADER, MAX_STANZAS};

const VERSION_LINE: &[u8] = b"age-encryption.org/v1\n";
const X25519_TAG: &str = "X25519";
/// The length of the header MAC, base64 without padding.
const MAC_B64_LEN: usize = 43;

/// A binary age file split at its stanzas, as read by [`parse`].
pub(crate) struct Parsed<'a> {
    /// The exact bytes of each stanza, in file order.
    spans: Vec<&'a [u8]>,
    /// The stanzas, decoded.
    pub(crate) stanzas: Vec<Stanza>,
    /// The bytes the MAC covers: everything up to and including `---`.
    authenticated: &'a [u8],
    /// The MAC as written.
    mac: [u8; 32],
    /// Everything after the header: the payload nonce and the encrypted chunks.
    payload: &'a [u8],
}

/// Splits a binary age file into its stanzas, MAC and payload. Refuses armor, more than
/// [`MAX_STANZAS`] stanzas and headers larger than [`MAX_HEADER`].
pub(crate) fn parse(file: &[u8]) -> Result<Parsed<'_>, DecryptFailure> {
    let bad = |why: &str| DecryptFailure::Malformed(format!("the age header {why}"));
    if !file.starts_with(VERSION_LINE) {
        return Err(bad("is not a binary age v1 header"));
    }
    let mut at = VERSION_LINE.len();
    let mut spans = Vec::new();
    let mut stanzas = Vec::new();
    loop {
        if at > MAX_HEADER {
            return Err(bad("is too large"));
        }
        let rest = &file[at..];
        if rest.starts_with(b"-> ") {
            if stanzas.len() == MAX_STANZAS {
                return Err(bad("has too many recipient stanzas"));
            }
            let Ok((after, stanza)) = age_core::format::read::age_stanza(rest) else {
                return Err(bad("has a malformed recipient stanza"));
            };
            let len = rest.len() - after.len();
            spans.push(&rest[..len]);
            stanzas.push(Stanza::from(stanza));
            at += len;
        } else if rest.starts_with(b"--- ") {
            break;
        } else {
            return Err(bad("is malformed"));
        }
    }
    let authenticated = &file[..at + 3];
    let mac_start = at + 4;
    let mac_line = file
        .get(mac_start..mac_start + MAC_B64_LEN + 1)
        .filter(|line| line.ends_with(b"\n"))
        .ok_or_else(|| bad("has a malformed MAC line"))?;
    let mut mac = [0u8; 32];
    match BASE64_STANDARD_NO_PAD.decode_slice(&mac_line[..MAC_B64_LEN], &mut mac) {
        Ok(32) => {}
        _ => return Err(bad("has a malformed MAC")),
    }
    if spans.is_empty() {
        return Err(bad("has no recipient stanza"));
    }
    Ok(Parsed {
        spans,
        stanzas,
        authenticated,
        mac,
        payload: &file[mac_start + MAC_B64_LEN + 1..],
    })
}

/// The header MAC: HMAC-SHA-256 keyed with HKDF-SHA-256(file key, salt "", info "header").
fn header_mac(file_key: &FileKey, authenticated: &[u8]) -> hmac::Hmac<Sha256> {
    let key = Zeroizing::new(age_core::primitives::hkdf(
        &[],
        b"header",
        file_key.expose_secret(),
    ));
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key.as_ref()).expect("any key length");
    mac.update(authenticated);
    mac
}

/// Writes one stanza in the canonical encoding: `-> tag args…`, then the body in base64
/// without padding, wrapped at 64 columns, the last line always short (empty if need be).
fn write_stanza(stanza: &Stanza, out: &mut Vec<u8>) {
    out.extend_from_slice(b"->");
    for word in std::iter::once(&stanza.tag).chain(&stanza.args) {
        out.push(b' ');
        out.extend_from_slice(word.as_bytes());
    }
    out.push(b'\n');
    let body = BASE64_STANDARD_NO_PAD.encode(&stanza.body);
    for line in body.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    if body.len().is_multiple_of(64) {
        out.push(b'\n');
    }
}

/// Whether a stanza is age's "grease": a random stanza every age encryptor adds so that readers
/// keep ignoring unknown stanza types. It wraps nothing.
fn is_grease(stanza: &Stanza) -> bool {
    stanza.tag.ends_with("-grease")
}

/// Returns `file` with one X25519 stanza added for each of `added` (recipient, index among the
/// X25519 stanzas of the result), the header MAC recomputed and the payload unchanged.
///
/// The file key is recovered with `identities`. Refused unless the file holds exactly
/// `expected` X25519 stanzas and nothing else but grease — the caller's proof that every old
/// recipient is one it meant to keep.
pub fn add_recipients(
    file: &[u8],
    identities: &[x25519::Identity],
    expected: usize,
    added: &[(usize, &x25519::Recipient)],
) -> Result<Vec<u8>, DecryptFailure> {
    let parsed = parse(file)?;
    let (wrapping, grease): (Vec<usize>, Vec<usize>) =
        (0..parsed.stanzas.len()).partition(|&i| !is_grease(&parsed.stanzas[i]));
    if wrapping
        .iter()
        .any(|&i| parsed.stanzas[i].tag != X25519_TAG)
    {
        return Err(DecryptFailure::Malformed(
            "the age header has a stanza that is not X25519".into(),
        ));
    }
    if wrapping.len() != expected {
        return Err(DecryptFailure::Malformed(format!(
            "the age header has {} recipient stanzas, not the {expected} recorded",
            wrapping.len()
        )));
    }
    let file_key = identities
        .iter()
        .find_map(|identity| age::Identity::unwrap_stanzas(identity, &parsed.stanzas))
        .ok_or(DecryptFailure::NotARecipient)?
        .map_err(|e| DecryptFailure::Malformed(e.to_string()))?;
    header_mac(&file_key, parsed.authenticated)
        .verify_slice(&parsed.mac)
        .map_err(|_| DecryptFailure::Malformed("the age header's MAC does not match".into()))?;

    let total = wrapping.len() + added.len();
    let mut new_stanzas: Vec<Option<Stanza>> = (0..total).map(|_| None).collect();
    for (index, recipient) in added {
        let slot = new_stanzas
            .get_mut(*index)
            .filter(|slot| slot.is_none())
            .ok_or_else(|| {
                DecryptFailure::Malformed("a new stanza's position is out of range".into())
            })?;
        let (mut stanzas, _) = age::Recipient::wrap_file_key(*recipient, &file_key)
            .map_err(|e| DecryptFailure::Malformed(e.to_string()))?;
        *slot = stanzas.pop();
    }
    let mut out = Vec::with_capacity(file.len() + 100 * added.len());
    out.extend_from_slice(VERSION_LINE);
    let mut old = wrapping.iter().map(|&i| parsed.spans[i]);
    for slot in &new_stanzas {
        match slot {
            Some(stanza) => write_stanza(stanza, &mut out),
            None => out.extend_from_slice(old.next().expect("old stanzas fill the other slots")),
        }
    }
    for &i in &grease {
        out.extend_from_slice(parsed.spans[i]);
    }
    out.extend_from_slice(b"---");
    let mac = header_mac(&file_key, &out).finalize().into_bytes();
    out.push(b' ');
    out.extend_from_slice(BASE64_STANDARD_NO_PAD.encode(mac).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(parsed.payload);
    Ok(out)
}

/// An identity that tries one stanza first: writers put owners' stanzas first and then the
/// authorized agents' in name order, so an agent knows where its own is, and a file with a
/// hundred recipients costs it one Diffie-Hellman, not a hundred.
pub(crate) struct OwnStanzaFirst<'a> {
    pub(crate) identity: &'a x25519::Identity,
    /// The position of the expected stanza among the non-grease ones, counted from the end
    /// (the grease stanza age writes comes last).
    pub(crate) from_end: usize,
}

impl age::Identity for OwnStanzaFirst<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.identity.unwrap_stanza(stanza)
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let wrapping = stanzas.iter().filter(|s| !is_grease(s)).count();
        let first = wrapping.checked_sub(self.from_end);
        if let Some(found) = first
            .and_then(|i| stanzas.get(i))
            .and_then(|s| self.identity.unwrap_stanza(s))
        {
            return Some(found);
        }
        stanzas
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != first)
            .find_map(|(_, s)| self.identity.unwrap_stanza(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn stanza_count(file: &[u8]) -> usize {
        parse(file).unwrap().stanzas.len()
    }

    #[test]
    fn an_added_recipient_reads_and_the_payload_is_untouched() {
        let owner = x25519::Identity::generate();
        let a = x25519::Identity::generate();
        let b = x25519::Identity::generate();
        let value = vec![7u8; 200_000];
        let file = super::super::encrypt(&value, &[owner.to_public(), a.to_public()]).unwrap();
        let old = parse(&file).unwrap();
        let grown = add_recipients(
            &file,
            std::slice::from_ref(&owner),
            2,
            &[(1, &b.to_public())],
        )
        .unwrap();
        let new = parse(&grown).unwrap();
        assert_eq!(new.payload, old.payload);
        assert_eq!(new.spans[0], old.spans[0]);
        assert_eq!(new.spans[2], old.spans[1]);
        assert_eq!(new.spans[3], old.spans[2], "the grease stays last");
        assert_eq!(stanza_count(&grown), 4, "three recipients and the grease");
        assert!(is_grease(new.stanzas.last().unwrap()));
        for reader in [owner, a, b] {
            let got = super::super::decrypt(&grown, &[reader]).unwrap();
            assert_eq!(got.expose_secret(), &value[..]);
        }
    }

    #[test]
    fn stanzas_round_trip_through_the_writer() {
        let owner = x25519::Identity::generate();
        let file = super::super::encrypt(b"v", &[owner.to_public()]).unwrap();
        let parsed = parse(&file).unwrap();
        let mut out = Vec::new();
        write_stanza(&parsed.stanzas[0], &mut out);
        assert_eq!(out, parsed.spans[0]);
        for len in [0usize, 47, 48, 49, 96] {
            let stanza = Stanza {
                tag: "t".into(),
                args: vec!["a".into()],
                body: vec![1; len],
            };
            let mut out = Vec::new();
            write_stanza(&stanza, &mut out);
            let (rest, read) = age_core::format::read::age_stanza(&out).unwrap();
            assert!(rest.is_empty(), "{len}");
            assert_eq!(Stanza::from(read), stanza, "{len}");
        }
    }

    #[test]
    fn a_tampered_header_or_a_stranger_is_refused() {
        let owner = x25519::Identity::generate();
        let stranger = x25519::Identity::generate();
        let file = super::super::encrypt(b"v", &[owner.to_public()]).unwrap();
        assert!(matches!(
            add_recipients(
                &file,
                std::slice::from_ref(&stranger),
                1,
                &[(1, &stranger.to_public())]
            ),
            Err(DecryptFailure::NotARecipient)
        ));
        // A stanza added by someone without the file key breaks the MAC.
        let mut forged = Vec::from(VERSION_LINE);
        let other = super::super::encrypt(b"w", &[stranger.to_public()]).unwrap();
        forged.extend_from_slice(parse(&other).unwrap().spans[0]);
        forged.extend_from_slice(&file[VERSION_LINE.len()..]);
        assert!(matches!(
            add_recipients(&forged, std::slice::from_ref(&owner), 2, &[(2, &stranger.to_public())]),
            Err(DecryptFailure::Malformed(m)) if m.contains("MAC")
        ));
        assert!(
            add_recipients(
                b"age-encryption.org/v1\n--- x\n",
                std::slice::from_ref(&owner),
                0,
                &[]
            )
            .is_err()
        );
        assert!(
            add_recipients(
                &file,
                std::slice::from_ref(&owner),
                1,
                &[(5, &stranger.to_public())]
            )
            .is_err()
        );
        assert!(
            add_recipients(
                &file,
                std::slice::from_ref(&owner),
                2,
                &[(1, &stranger.to_public())]
            )
            .is_err(),
            "a stanza count other than the recorded one"
        );
        assert!(add_recipients(&file[..30], &[owner], 1, &[]).is_err());
    }

    #[test]
    fn the_own_stanza_is_found_wherever_it_is() {
        let ids: Vec<_> = (0..6).map(|_| x25519::Identity::generate()).collect();
        let file =
            super::super::encrypt(b"v", &ids.iter().map(|i| i.to_public()).collect::<Vec<_>>())
                .unwrap();
        for (i, id) in ids.iter().enumerate() {
            for from_end in [6 - i, 1, 9] {
                let hinted = OwnStanzaFirst {
                    identity: id,
                    from_end,
                };
                let stanzas = parse(&file).unwrap().stanzas;
                assert!(matches!(
                    age::Identity::unwrap_stanzas(&hinted, &stanzas),
                    Some(Ok(_))
                ));
            }
        }
    }
}
