use super::*;
use crate::integrity::{KeyChange, StatementVersion, VaultId, key_change_message};
use crate::keys::Identities;
use std::collections::BTreeMap;

const LOCATION: &str = "/repo";

fn statement(key: &SigningKey, vault: VaultId, seq: u64) -> Statement {
    Statement {
        version: StatementVersion::V2,
        vault: Some(vault),
        verify_key: key.verify_key(),
        seq,
        key_changes: Vec::new(),
        owners: BTreeMap::new(),
        files: BTreeMap::new(),
        shards: BTreeMap::new(),
    }
}

fn pins(vault: VaultId, key: &SigningKey, seq: u64) -> PinState {
    let dir = tempfile::tempdir().unwrap();
    let pins = Pins::new(&crate::keys::KeyHome::at(dir.path().to_path_buf()));
    pins.record(&PinUpdate::Vault {
        vault: vault.to_string(),
        location: LOCATION.into(),
        pin: Pin {
            verify_key: key.verify_key().to_string(),
            seq,
        },
    })
    .unwrap();
    pins.state(LOCATION).unwrap()
}

fn owner() -> (Identities, age::x25519::Identity) {
    let identity = age::x25519::Identity::generate();
    let ids = Identities {
        identities: vec![identity.clone()],
        origin: "test".into(),
        comments: Vec::new(),
        warnings: Vec::new(),
    };
    (ids, identity)
}

#[test]
fn no_anchor_no_pin_is_first_use_for_readers_and_refused_for_owners() {
    let key = SigningKey::generate().unwrap();
    let s = statement(&key, VaultId::generate().unwrap(), 3);
    let j = judge(&s, &PinState::default(), &[], None, false, LOCATION).unwrap();
    assert!(j.tofu);
    assert!(matches!(
        judge(&s, &PinState::default(), &[], None, true, LOCATION),
        Err(Problem::Unconfirmed { .. })
    ));
}

#[test]
fn anchors_are_enforced_and_chains_followed() {
    let (k1, k2, other) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let vault = VaultId::generate().unwrap();
    let mut s = statement(&k2, vault, 5);
    let none = PinState::default();
    assert!(judge(&s, &none, &[k2.verify_key()], None, false, LOCATION).is_ok_and(|j| !j.tofu));
    assert!(matches!(
        judge(&s, &none, &[k1.verify_key()], None, false, LOCATION),
        Err(Problem::WrongSigner { .. })
    ));
    assert!(matches!(
        judge(&s, &none, &[other.verify_key()], None, true, LOCATION),
        Err(Problem::WrongSigner { .. })
    ));
    s.key_changes.push(KeyChange {
        seq: 4,
        from: k1.verify_key(),
        signature: k1.sign(&key_change_message(
            &vault,
            4,
            &k1.verify_key(),
            &k2.verify_key(),
        )),
    });
    assert!(judge(&s, &none, &[k1.verify_key()], None, false, LOCATION).is_ok());
}

#[test]
fn pins_never_move_backwards_or_to_an_unvouched_key() {
    let (k1, k2) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let vault = VaultId::generate().unwrap();
    let pinned = pins(vault, &k1, 10);
    // Same key: equal or newer is fine, older is a rollback.
    assert!(
        judge(
            &statement(&k1, vault, 10),
            &pinned,
            &[],
            None,
            false,
            LOCATION
        )
        .is_ok()
    );
    assert!(
        judge(
            &statement(&k1, vault, 11),
            &pinned,
            &[],
            None,
            false,
            LOCATION
        )
        .is_ok()
    );
    assert_eq!(
        judge(
            &statement(&k1, vault, 9),
            &pinned,
            &[],
            None,
            false,
            LOCATION
        )
        .err(),
        Some(Problem::Rollback { seq: 9, seen: 10 })
    );
    // Another key: refused, also when a key file names both (any older state is a
    // rollback whatever key signed it) ...
    assert!(matches!(
        judge(
            &statement(&k2, vault, 11),
            &pinned,
            &[],
            None,
            false,
            LOCATION
        ),
        Err(Problem::WrongSigner { .. })
    ));
    assert_eq!(
        judge(
            &statement(&k2, vault, 10),
            &pinned,
            &[k1.verify_key(), k2.verify_key()],
            None,
            false,
            LOCATION
        )
        .err(),
        Some(Problem::Rollback { seq: 10, seen: 10 })
    );
    // ... unless an anchor names it and it is newer.
    assert!(
        judge(
            &statement(&k2, vault, 11),
            &pinned,
            &[k2.verify_key()],
            None,
            false,
            LOCATION
        )
        .is_ok()
    );
    // A location holds one vault.
    let another = VaultId::generate().unwrap();
    assert!(matches!(
        judge(
            &statement(&k1, another, 50),
            &pinned,
            &[k1.verify_key()],
            None,
            false,
            LOCATION
        ),
        Err(Problem::OtherVault { .. })
    ));
    let mut v1 = statement(&k1, vault, 50);
    v1.version = StatementVersion::V1;
    v1.vault = None;
    assert_eq!(
        judge(&v1, &pinned, &[], None, false, LOCATION).err(),
        Some(Problem::Downgrade)
    );
}

#[test]
fn only_the_owners_own_endorsement_confirms_a_key() {
    let (ids, identity) = owner();
    let (stranger_ids, _) = owner();
    let key = SigningKey::generate().unwrap();
    let vault = VaultId::generate().unwrap();
    let mut s = statement(&key, vault, 2);
    s.owners.insert(
        identity.to_public().to_string(),
        endorsement_tag(&identity, &vault, &key.verify_key()),
    );
    let none = PinState::default();
    assert!(judge(&s, &none, &[], Some(&ids), true, LOCATION).is_ok_and(|j| !j.tofu));
    assert!(matches!(
        judge(&s, &none, &[], Some(&stranger_ids), true, LOCATION),
        Err(Problem::Unconfirmed { .. })
    ));
    // The genuine tag copied onto another key's statement confirms nothing.
    let forged_key = SigningKey::generate().unwrap();
    let mut forged = statement(&forged_key, vault, 3);
    forged.owners = s.owners.clone();
    assert!(matches!(
        judge(&forged, &none, &[], Some(&ids), true, LOCATION),
        Err(Problem::Unconfirmed { .. })
    ));
    // An endorsement also lets a pinned owner follow its own key change.
    let pinned = pins(vault, &forged_key, 1);
    assert!(judge(&s, &pinned, &[], Some(&ids), true, LOCATION).is_ok());
}

#[test]
fn a_legacy_location_pin_carries_over_to_the_vault_it_becomes() {
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Pins::new(&crate::keys::KeyHome::at(dir.path().to_path_buf()));
    store
        .record(&PinUpdate::Legacy {
            location: LOCATION.into(),
            pin: Pin {
                verify_key: key.verify_key().to_string(),
                seq: 7,
            },
        })
        .unwrap();
    let legacy = store.state(LOCATION).unwrap();
    let vault = VaultId::generate().unwrap();
    assert!(
        judge(
            &statement(&key, vault, 8),
            &legacy,
            &[],
            None,
            false,
            LOCATION
        )
        .is_ok()
    );
    assert!(
        judge(
            &statement(&key, vault, 6),
            &legacy,
            &[],
            None,
            false,
            LOCATION
        )
        .is_err()
    );
    assert!(
        judge(
            &statement(&other, vault, 9),
            &legacy,
            &[],
            None,
            false,
            LOCATION
        )
        .is_err()
    );
}

#[test]
fn a_key_file_naming_only_other_vaults_is_a_key_of_another_vault() {
    let (mut ids, _) = owner();
    let (this, other) = (
        VaultId::generate().unwrap().to_string(),
        VaultId::generate().unwrap().to_string(),
    );
    // No vault line: nothing to say.
    assert!(other_vault_key(&ids, &this).is_none());
    ids.comments = vec![format!("{} {other}", crate::integrity::VAULT_COMMENT)];
    match other_vault_key(&ids, &this) {
        Some(Error::OtherVaultKey {
            key_vaults, vault, ..
        }) => {
            assert_eq!(key_vaults, other);
            assert_eq!(vault, this);
        }
        other => panic!("expected OtherVaultKey, got {other:?}"),
    }
    // A key of several vaults, this one among them, is this vault's key.
    ids.comments
        .push(format!("{} {this}", crate::integrity::VAULT_COMMENT));
    assert!(other_vault_key(&ids, &this).is_none());
}

#[test]
fn the_expected_signer_of_an_unsigned_vault_comes_from_anchors_then_pins() {
    let (k1, k2) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let vault = VaultId::generate().unwrap();
    assert_eq!(expected_signer(&[], &PinState::default()), None);
    assert_eq!(
        expected_signer(&[k1.verify_key(), k2.verify_key()], &PinState::default()),
        Some(format!("{} or {}", k1.verify_key(), k2.verify_key()))
    );
    let pinned = pins(vault, &k2, 4);
    assert_eq!(
        expected_signer(&[], &pinned),
        Some(k2.verify_key().to_string())
    );
    assert_eq!(
        expected_signer(&[k1.verify_key()], &pinned),
        Some(k1.verify_key().to_string())
    );
    // A location bound to a vault whose pin is gone still says which vault.
    let mut bound_only = PinState::default();
    bound_only.bound = Some(vault.to_string());
    assert_eq!(
        expected_signer(&[], &bound_only),
        Some(format!("the key of vault {vault}"))
    );
}

#[test]
fn the_verified_record_names_tree_vault_key_and_sequence() {
    let key = SigningKey::generate().unwrap();
    let vault = VaultId::parse("00112233445566778899aabbccddeeff").unwrap();
    let tree = git2::Oid::from_str("0123456789012345678901234567890123456789").unwrap();
    let mut s = statement(&key, vault, 12);
    assert_eq!(
        verified_record(tree, &s),
        format!(
            "0123456789012345678901234567890123456789 00112233445566778899aabbccddeeff {} 12",
            key.verify_key()
        )
    );
    s.vault = None;
    assert!(verified_record(tree, &s).contains(" - "));
}
