//! The vault signing key (Ed25519), its public half, and the vault's identity.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey as DalekSigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::escape;
use crate::{Error, Result};

const SIGNING_KEY_PREFIX: &str = "AGENT-VAULT-SIGNING-KEY-ED25519-";

/// The public half of the vault signing key, written `ed25519:<base64>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyKey(VerifyingKey);

impl fmt::Display for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", BASE64.encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyKey({self})")
    }
}

impl VerifyKey {
    /// Parses `ed25519:<base64>` exactly as written by [`fmt::Display`] (canonical base64).
    pub fn parse_canonical(text: &str) -> Option<Self> {
        let b64 = text.strip_prefix("ed25519:")?;
        let bytes: [u8; 32] = BASE64.decode(b64).ok()?.try_into().ok()?;
        let key = VerifyingKey::from_bytes(&bytes).ok()?;
        (BASE64.encode(bytes) == b64 && !key.is_weak()).then_some(VerifyKey(key))
    }

    /// Checks a strict Ed25519 signature by this key.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

impl FromStr for VerifyKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        VerifyKey::parse_canonical(s.trim()).ok_or_else(|| {
            let shown: String = s.chars().take(80).collect();
            Error::Invalid(format!(
                "'{}' is not a vault verify key (expected ed25519:<base64>, as printed by `agent-vault verify`)",
                escape(&shown)
            ))
        })
    }
}

/// The private half of the vault signing key. Zeroized on drop.
pub struct SigningKey(DalekSigningKey);

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut())
            .map_err(|e| Error::Crypto(format!("the system random generator failed: {e}")))?;
        Ok(SigningKey(DalekSigningKey::from_bytes(&seed)))
    }

    /// Its public half.
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(self.0.verifying_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// The text stored (encrypted) in the vault: one line, zeroized on drop.
    pub fn to_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.0.to_bytes());
        Zeroizing::new(format!(
            "{SIGNING_KEY_PREFIX}{}\n",
            BASE64.encode(&seed[..])
        ))
    }

    /// Parses the text made by [`SigningKey::to_text`]; `None` if it is anything else.
    pub fn from_text(text: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(text).ok()?;
        let b64 = text.trim().strip_prefix(SIGNING_KEY_PREFIX)?;
        let seed = Zeroizing::new(BASE64.decode(b64).ok()?);
        let seed: &[u8; 32] = seed.as_slice().try_into().ok()?;
        Some(SigningKey(DalekSigningKey::from_bytes(seed)))
    }
}

/// A vault's identity: 16 random bytes chosen when it is created, written as 32 lowercase hex
/// characters. Pins are kept per identity, so one key can serve several vaults.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultId([u8; 16]);

impl VaultId {
    /// A new random identity.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Crypto(format!("the system random generator failed: {e}")))?;
        Ok(VaultId(bytes))
    }

    /// Parses exactly 32 lowercase hex characters.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 32
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(VaultId(bytes))
    }
}

impl fmt::Display for VaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for VaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_text_round_trips_and_verify_key_parses() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_text(key.to_text().as_bytes()).unwrap();
        assert_eq!(again.verify_key(), key.verify_key());
        let shown = key.verify_key().to_string();
        assert_eq!(shown.parse::<VerifyKey>().unwrap(), key.verify_key());
        assert!("ed25519:AAAA".parse::<VerifyKey>().is_err());
        assert!(SigningKey::from_text(b"AGENT-VAULT-SIGNING-KEY-ED25519-AAAA").is_none());
        let message = b"hello";
        assert!(key.verify_key().verify(message, &key.sign(message)));
        assert!(!key.verify_key().verify(b"hellp", &key.sign(message)));
    }

    #[test]
    fn weak_verify_keys_are_refused_and_debug_shows_only_public_text() {
        // The identity point (a small-order key) decodes and is canonical, but is weak.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = format!("ed25519:{}", BASE64.encode(identity));
        assert!(VerifyKey::parse_canonical(&weak).is_none());
        let key = SigningKey::generate().unwrap().verify_key();
        assert_eq!(format!("{key:?}"), format!("VerifyKey({key})"));
        let id = VaultId::generate().unwrap();
        assert_eq!(format!("{id:?}"), format!("VaultId({id})"));
    }

    #[test]
    fn vault_ids_are_lowercase_hex_of_16_bytes() {
        let id = VaultId::generate().unwrap();
        assert_eq!(VaultId::parse(&id.to_string()), Some(id));
        assert!(VaultId::parse("0123456789ABCDEF0123456789abcdef").is_none());
        assert!(VaultId::parse("00").is_none());
        assert!(VaultId::parse(&"g".repeat(32)).is_none());
    }
}
