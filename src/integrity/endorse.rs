//! Owner endorsements: a tag that binds (vault identity, signing key) and that only the holder
//! of an owner's private key can make or check. A repository writer knows every public key,
//! so it can encrypt a signing key of its own to `owner.pub` and re-sign the vault — but it
//! cannot endorse that key, so owners never take it for theirs.
//!
//! `tag = HMAC-SHA256(k, "agent-vault endorsement v1\nvault <id>\nverify-key <key>\n")` with
//! `k = HKDF-SHA256(ikm = "AGE-SECRET-KEY-1…" (upper case), salt = "", info =
//! "agent-vault owner endorsement v1")`.

use age::x25519;
use hkdf::Hkdf;
use hmac::{KeyInit as _, Mac as _};
use secrecy::ExposeSecret;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{Digest256, VaultId, VerifyKey};

const INFO: &[u8] = b"agent-vault owner endorsement v1";

/// The endorsement tag of `identity` for `key` as the signing key of `vault`.
pub fn endorsement_tag(identity: &x25519::Identity, vault: &VaultId, key: &VerifyKey) -> Digest256 {
    let secret = identity.to_string();
    let ikm = Zeroizing::new(secret.expose_secret().to_ascii_uppercase());
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&[]), ikm.as_bytes())
        .expand(INFO, okm.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(okm.as_ref()).expect("HMAC takes keys of any length");
    mac.update(format!("agent-vault endorsement v1\nvault {vault}\nverify-key {key}\n").as_bytes());
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::SigningKey;

    #[test]
    fn tags_bind_the_owner_the_vault_and_the_key() {
        let owner = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let vault = VaultId::generate().unwrap();
        let key = SigningKey::generate().unwrap().verify_key();
        let tag = endorsement_tag(&owner, &vault, &key);
        assert_eq!(tag, endorsement_tag(&owner, &vault, &key));
        assert_ne!(tag, endorsement_tag(&other, &vault, &key));
        assert_ne!(
            tag,
            endorsement_tag(&owner, &VaultId::generate().unwrap(), &key)
        );
        let key2 = SigningKey::generate().unwrap().verify_key();
        assert_ne!(tag, endorsement_tag(&owner, &vault, &key2));
    }
}

#[cfg(test)]
mod known_answer {
    use super::*;

    /// The vector in docs/format.md, which both SDKs check too.
    #[test]
    fn endorsement_test_vector() {
        let identity: x25519::Identity =
            "AGE-SECRET-KEY-1YGULRNNJDUGVWC7KC3EFQX3WE554XG5RPXQ3H30TMURZEKYK0D2S32ZTK0"
                .parse()
                .unwrap();
        let vault = VaultId::parse("00112233445566778899aabbccddeeff").unwrap();
        let key: VerifyKey = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
            .parse()
            .unwrap();
        let tag = endorsement_tag(&identity, &vault, &key);
        assert_eq!(
            hex::encode(tag),
            "5b1636ee0c9fc4247426d0751fba66866232ab31e0c1ae9840ce02c3e9d535a5"
        );
    }
}
