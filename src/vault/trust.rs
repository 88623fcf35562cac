//! The one trust path: which commit to read, which signed statement to believe, what this
//! machine remembers (pins), and the construction of every [`Snapshot`]. Readers, owner
//! commands and `sign` all decide here, with one set of rules (docs/format.md, "What a reader
//! checks"):
//!
//! * the statement must be signed by a key the caller's anchors name or that the key-change
//!   chain leads to from one of them (anchors: `--verify-key`, `AGENT_VAULT_VERIFY_KEY`, the
//!   key file's comments; with none, an owner endorsement made with the identity in use);
//! * a pin never moves backwards (the sequence number), to another vault (the location's
//!   identity), or to a key nobody vouched for;
//! * readers with nothing to go on trust on first use, loudly; owner commands never do.

use age::x25519;

use super::Vault;
use super::snapshot::{Mode, Snapshot, cap_for};
use crate::error::{IntegrityError, Problem};
use crate::git::RawTree;
use crate::git::tree::Entry;
use crate::git::upstream::Freshness;
use crate::integrity::{SIGNING_KEY_PATH, SigningKey, Statement, VerifyKey, endorsement_tag};
use crate::keys::Identities;
use crate::pins::{Pin, PinState, PinUpdate, Pins};
use crate::{Error, Result};

const VERIFIED_FILE: &str = "agent-vault.verified";

/// Whether a statement was accepted on first use (no anchor, no pin, no endorsement).
pub(super) struct Judgement {
    pub tofu: bool,
    pub update: PinUpdate,
}

/// The owner's view of HEAD: a snapshot of the whole vault and, for a signed vault, the
/// statement and the signing key confirmed as the owner's.
pub(super) struct OwnerView<'v> {
    pub snapshot: Snapshot<'v>,
    pub signing: Option<(Statement, SigningKey)>,
    pub notes: Vec<String>,
}

impl Vault {
    /// The verify keys the caller names: the explicit one, else `AGENT_VAULT_VERIFY_KEY`,
    /// else the `# agent-vault verify-key:` comments of the identities in use.
    pub(super) fn anchors(
        &self,
        explicit: Option<VerifyKey>,
        identities: Option<&Identities>,
    ) -> Result<Vec<VerifyKey>> {
        if let Some(key) = explicit {
            return Ok(vec![key]);
        }
        if let Some(env) = self
            .settings
            .verify_key_env
            .as_deref()
            .filter(|v| !v.trim().is_empty())
        {
            return Ok(vec![env.parse().map_err(|_| {
                Error::Invalid(
                    "AGENT_VAULT_VERIFY_KEY is not a vault verify key (expected ed25519:<base64>, as printed by `agent-vault verify`)".into(),
                )
            })?]);
        }
        match identities {
            Some(identities) => identities.verify_key_comments(),
            None => Ok(Vec::new()),
        }
    }

    /// The commit readers read: the upstream's when it is ahead (fetched first unless
    /// offline), else HEAD's. Returns its vault tree and warnings.
    pub(super) fn reader_tree(&self, offline: bool) -> Result<(RawTree<'_>, Vec<String>)> {
        let mut warnings = Vec::new();
        use git2::RepositoryState as State;
        let operation = match self.repo.repo().state() {
            State::Clean => None,
            State::Merge => Some("merge"),
            State::Revert | State::RevertSequence => Some("revert"),
            State::CherryPick | State::CherryPickSequence => Some("cherry-pick"),
            State::Rebase | State::RebaseInteractive | State::RebaseMerge => Some("rebase"),
            _ => Some("git operation"),
        };
        if let Some(operation) = operation {
            warnings.push(format!(
                "a {operation} is in progress in this clone: the vault is read as HEAD holds it; finish the {operation}, review the result with `agent-vault verify`, then the owner re-signs with `agent-vault sign`"
            ));
        }
        let (freshness, fetch_warning) = self
            .repo
            .fetch_upstream(offline, self.settings.fetch_timeout);
        warnings.extend(fetch_warning);
        match freshness {
            Freshness::Ahead { commit, label } => {
                match RawTree::open(self.repo.repo(), commit, label.clone()) {
                    Ok(Some(tree)) => return Ok((tree, warnings)),
                    Ok(None) => {
                        warnings.push(format!("{label} has no vault any more; reading HEAD"))
                    }
                    Err(e @ Error::Integrity(_)) => return Err(e),
                    Err(e) => warnings.push(format!(
                        "cannot read the upstream state ({e}); reading HEAD"
                    )),
                }
            }
            Freshness::Diverged(why) => warnings.push(why),
            Freshness::LocalOnly | Freshness::UpToDate => {}
        }
        let tree = self
            .repo
            .head_tree()?
            .ok_or_else(|| Error::VaultNotFound(self.repo.workdir().to_path_buf()))?;
        Ok((tree, warnings))
    }

    /// A reader's snapshot: the newest state, its statement judged against the anchors and
    /// pins, its policy files (and with `whole`, every secret) verified. Records the pin.
    pub(super) fn open_for_reader(
        &self,
        offline: bool,
        explicit: Option<VerifyKey>,
        identities: Option<&Identities>,
        whole: bool,
    ) -> Result<(Snapshot<'_>, Vec<String>)> {
        let (tree, mut warnings) = self.reader_tree(offline)?;
        let (snapshot, problems, judgement) =
            self.judge_tree(tree, explicit, identities, whole, false, &mut warnings)?;
        if !problems.is_empty() {
            return Err(Error::Integrity(IntegrityError { problems }));
        }
        if let Some(judgement) = judgement {
            self.remember(&judgement, &mut warnings);
        }
        Ok((snapshot, warnings))
    }

    /// Like [`Vault::open_for_reader`] over the whole vault, but differences from the
    /// statement are returned instead of failing (for `verify` and `check`).
    pub(super) fn open_for_report(
        &self,
        offline: bool,
        explicit: Option<VerifyKey>,
        identities: Option<&Identities>,
    ) -> Result<(Snapshot<'_>, Vec<Problem>, Vec<String>)> {
        let (tree, mut warnings) = self.reader_tree(offline)?;
        let (snapshot, problems, judgement) =
            self.judge_tree(tree, explicit, identities, true, false, &mut warnings)?;
        if problems.is_empty()
            && let Some(judgement) = judgement
        {
            self.remember(&judgement, &mut warnings);
        }
        Ok((snapshot, problems, warnings))
    }

    /// Judges `tree` as a listing would (the whole vault), without recording the pin: for
    /// reads that print nothing, such as names for suggestions and completion.
    pub(super) fn judge_quietly<'v>(
        &'v self,
        tree: RawTree<'v>,
        identities: Option<&Identities>,
        warnings: &mut Vec<String>,
    ) -> Result<(Snapshot<'v>, Vec<Problem>, Option<Judgement>)> {
        self.judge_tree(tree, None, identities, true, false, warnings)
    }

    /// Reads the statement of `tree`, judges it and builds the snapshot. Returns the problems
    /// found in the contents (fatal for all but reports) and the judgement to record.
    fn judge_tree<'v>(
        &'v self,
        tree: RawTree<'v>,
        explicit: Option<VerifyKey>,
        identities: Option<&Identities>,
        whole: bool,
        owner: bool,
        warnings: &mut Vec<String>,
    ) -> Result<(Snapshot<'v>, Vec<Problem>, Option<Judgement>)> {
        let anchors = if owner {
            self.anchors(None, None)?
        } else {
            self.anchors(explicit, identities)?
        };
        let pins = Pins::new(self.home()).state(&self.location)?;
        let Some(bytes) = read_statement(&tree)? else {
            if let Some(expected) = expected_signer(&anchors, &pins) {
                return Err(Error::integrity(Problem::SignatureRemoved { expected }));
            }
            warnings.push(if owner {
                "this vault is unsigned (made by an older agent-vault?), so tampering by anyone with push access would go unnoticed; review it, then run `agent-vault sign`".into()
            } else {
                "this vault is unsigned, so tampering by anyone with push access would go unnoticed; ask the owner to run `agent-vault sign`".into()
            });
            let (mut snapshot, _) = Snapshot::build(tree, None, Mode::Unverified)?;
            if whole {
                snapshot.load_all(&self.settings.progress)?;
            }
            return Ok((snapshot, Vec::new(), None));
        };
        let statement = Statement::parse_and_verify(&bytes).map_err(Error::integrity)?;
        let judgement = judge(
            &statement,
            &pins,
            &anchors,
            identities,
            owner,
            &self.location,
        )
        .map_err(|problem| {
            let from_key_file = !owner
                && explicit.is_none()
                && self
                    .settings
                    .verify_key_env
                    .as_deref()
                    .is_none_or(|v| v.trim().is_empty());
            match (&problem, identities, &statement.vault) {
                (Problem::WrongSigner { .. }, Some(ids), Some(vault)) if from_key_file => {
                    other_vault_key(ids, &vault.to_string()).unwrap_or(Error::integrity(problem))
                }
                _ => Error::integrity(problem),
            }
        })?;
        if judgement.tofu {
            warnings.push(format!(
                "trusting this vault's signing key {} on first use on this machine: nothing vouched for it. Pin it: set AGENT_VAULT_VERIFY_KEY={0} (or keep the `# agent-vault verify-key:` line `add-agent` writes in the agent's key file)",
                statement.verify_key
            ));
        }
        let mode = if owner && self.signed_here(&tree, &statement) {
            Mode::Trusted
        } else {
            Mode::Checked
        };
        let (mut snapshot, mut problems) = Snapshot::build(tree, Some(statement), mode)?;
        if whole && mode == Mode::Checked {
            problems.extend(snapshot.load_all(&self.settings.progress)?);
        }
        Ok((snapshot, problems, Some(judgement)))
    }

    /// Records a judged statement's pin; a failure only weakens rollback protection on this
    /// machine, so it is a warning.
    pub(super) fn remember(&self, judgement: &Judgement, warnings: &mut Vec<String>) {
        if let Err(e) = Pins::new(self.home()).record(&judgement.update) {
            warnings.push(format!(
                "cannot remember this vault's signed state ({e}); rollback protection needs a writable {}: set AGENT_VAULT_HOME to a writable folder",
                self.home().root().display()
            ));
        }
    }

    /// The owner's view of HEAD, before a change: the statement judged with owner rules (no
    /// trust on first use), the whole vault verified (unless this clone signed exactly this
    /// tree itself), and the signing key decrypted and confirmed.
    pub(super) fn open_for_owner(&self, owner: &Identities) -> Result<OwnerView<'_>> {
        let tree = self
            .repo
            .head_tree()?
            .ok_or_else(|| Error::VaultNotFound(self.repo.workdir().to_path_buf()))?;
        let mut notes = Vec::new();
        let (snapshot, problems, _) =
            self.judge_tree(tree, None, Some(owner), true, true, &mut notes)?;
        if !problems.is_empty() {
            return Err(Error::Integrity(IntegrityError { problems }));
        }
        let Some(statement) = snapshot.statement().cloned() else {
            return Ok(OwnerView {
                snapshot,
                signing: None,
                notes,
            });
        };
        let key = self.signing_key(&snapshot, owner)?;
        if key.verify_key() != statement.verify_key {
            return Err(Error::integrity(Problem::SigningKeyReplaced {
                found: key.verify_key().to_string(),
                expected: statement.verify_key.to_string(),
            }));
        }
        Ok(OwnerView {
            snapshot,
            signing: Some((statement, key)),
            notes,
        })
    }

    /// Decrypts `signing.key.age` of a snapshot with the owner's identity.
    pub(super) fn signing_key(
        &self,
        snapshot: &Snapshot<'_>,
        owner: &Identities,
    ) -> Result<SigningKey> {
        let rel = super::snapshot::rel(SIGNING_KEY_PATH);
        let encrypted = snapshot.policy_file(rel).ok_or_else(|| {
            Error::corrupt(SIGNING_KEY_PATH, "is missing; restore it from git history")
        })?;
        let text =
            super::read::decrypt(SIGNING_KEY_PATH, encrypted, owner, "the vault signing key")?;
        use secrecy::ExposeSecret as _;
        SigningKey::from_text(text.expose_secret())
            .ok_or_else(|| Error::corrupt(SIGNING_KEY_PATH, "does not hold a signing key"))
    }

    /// Whether HEAD's vault tree is one this clone's owner signed itself (recorded after its
    /// commit), with this statement's identity, key and sequence number.
    fn signed_here(&self, tree: &RawTree<'_>, statement: &Statement) -> bool {
        let path = self.repo.repo().path().join(VERIFIED_FILE);
        std::fs::read_to_string(path)
            .is_ok_and(|text| text.trim() == verified_record(tree.tree_id(), statement))
    }

    /// Remembers that HEAD's vault tree is a state this owner signed: it was just written
    /// from a verified state plus this command's own changes. Best effort: a failure only
    /// costs the next command a full verification.
    pub(super) fn remember_signed_head(&self, statement: &Statement) -> Result<()> {
        let path = self.repo.repo().path().join(VERIFIED_FILE);
        if let Some(tree) = self.repo.head_tree()? {
            let record = format!("{}\n", verified_record(tree.tree_id(), statement));
            if crate::fsutil::write_atomically(
                &path,
                record.as_bytes(),
                crate::fsutil::Durability::Atomic,
                false,
            )
            .is_err()
            {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(())
    }

    /// The pin update for a statement this owner just signed and committed.
    pub(super) fn owner_pin(&self, statement: &Statement) -> PinUpdate {
        pin_update(statement, &self.location)
    }

    /// After a signed commit: remembers the tree as signed here and pins the new state.
    /// Returns a note when the pin cannot be written.
    pub(super) fn signed_committed(&self, statement: &Statement) -> Result<Option<String>> {
        self.remember_signed_head(statement)?;
        Ok(Pins::new(self.home())
            .record(&self.owner_pin(statement))
            .err()
            .map(|e| format!("cannot remember the new signed state on this machine ({e})")))
    }
}

fn verified_record(tree: git2::Oid, statement: &Statement) -> String {
    let vault = statement
        .vault
        .map_or_else(|| "-".to_owned(), |v| v.to_string());
    format!("{tree} {vault} {} {}", statement.verify_key, statement.seq)
}

/// The statement's bytes, if the tree has one.
pub(super) fn read_statement(tree: &RawTree<'_>) -> Result<Option<Vec<u8>>> {
    let rel = "integrity/statement";
    match tree.lookup(rel)? {
        Entry::Absent => Ok(None),
        Entry::Blob(oid) => tree.read(rel, oid, cap_for(rel)).map(Some),
    }
}

/// The error for a key file that names other vaults than `vault` (and whose verify keys did
/// not vouch for it): a key of another vault, not a replaced signing key.
fn other_vault_key(identities: &Identities, vault: &str) -> Option<Error> {
    let named = identities.vault_comments();
    (!named.is_empty() && !named.iter().any(|v| v == vault)).then(|| Error::OtherVaultKey {
        origin: identities.origin.clone(),
        key_vaults: named.join(", "),
        vault: vault.to_owned(),
    })
}

/// Who should have signed a vault that has no statement, if anyone says it was signed.
fn expected_signer(anchors: &[VerifyKey], pins: &PinState) -> Option<String> {
    if !anchors.is_empty() {
        return Some(
            anchors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
        );
    }
    pins.bound
        .as_ref()
        .and_then(|id| pins.vault(id))
        .or(pins.legacy.as_ref())
        .map(|pin| pin.verify_key.clone())
        .or_else(|| {
            pins.bound
                .as_ref()
                .map(|id| format!("the key of vault {id}"))
        })
}

/// Whether one of `identities` endorsed the statement's key for its vault.
pub(super) fn endorsed(identities: Option<&Identities>, statement: &Statement) -> bool {
    let (Some(identities), Some(vault)) = (identities, &statement.vault) else {
        return false;
    };
    identities
        .identities
        .iter()
        .any(|identity: &x25519::Identity| {
            statement
                .owners
                .get(&identity.to_public().to_string())
                .is_some_and(|tag| *tag == endorsement_tag(identity, vault, &statement.verify_key))
        })
}

fn pin_update(statement: &Statement, location: &str) -> PinUpdate {
    let pin = Pin {
        verify_key: statement.verify_key.to_string(),
        seq: statement.seq,
    };
    match &statement.vault {
        Some(vault) => PinUpdate::Vault {
            vault: vault.to_string(),
            location: location.to_owned(),
            pin,
        },
        None => PinUpdate::Legacy {
            location: location.to_owned(),
            pin,
        },
    }
}

/// Decides whether a (well-formed, correctly signed) statement is the one to believe.
pub(super) fn judge(
    statement: &Statement,
    pins: &PinState,
    anchors: &[VerifyKey],
    identities: Option<&Identities>,
    owner: bool,
    location: &str,
) -> std::result::Result<Judgement, Problem> {
    let id = statement.vault.map(|v| v.to_string());
    if let Some(bound) = &pins.bound {
        match &id {
            Some(id) if id != bound => {
                return Err(Problem::OtherVault {
                    found: id.clone(),
                    expected: bound.clone(),
                });
            }
            None => return Err(Problem::Downgrade),
            _ => {}
        }
    }
    let pin = match &id {
        Some(id) => pins
            .vault(id)
            .or(pins.legacy.as_ref().filter(|_| pins.bound.is_none())),
        None => pins.legacy.as_ref(),
    };
    let key = statement.verify_key;
    let found = key.to_string();
    let anchored = anchors.iter().any(|a| statement.chain_reaches(a));
    let endorsed = anchors.is_empty() && endorsed(identities, statement);
    if !anchors.is_empty() && !anchored {
        return Err(Problem::WrongSigner {
            found,
            expected: anchors.iter().map(ToString::to_string).collect(),
        });
    }
    if let Some(pin) = pin {
        if pin.verify_key == found {
            if statement.seq < pin.seq {
                return Err(Problem::Rollback {
                    seq: statement.seq,
                    seen: pin.seq,
                });
            }
        } else {
            if statement.seq <= pin.seq {
                return Err(Problem::Rollback {
                    seq: statement.seq,
                    seen: pin.seq,
                });
            }
            let from_pin = VerifyKey::parse_canonical(&pin.verify_key)
                .is_some_and(|pinned| statement.chain_reaches(&pinned));
            if !(anchored || endorsed || from_pin) {
                return Err(Problem::WrongSigner {
                    found,
                    expected: vec![pin.verify_key.clone()],
                });
            }
        }
    }
    let tofu = pin.is_none() && anchors.is_empty() && !endorsed;
    if tofu && owner {
        return Err(Problem::Unconfirmed { found });
    }
    Ok(Judgement {
        tofu,
        update: pin_update(statement, location),
    })
}

impl Vault {
    /// The identity the vault's statement names — HEAD's, else the upstream's as last fetched
    /// (never fetching) — unverified: it only says which of this user's own key files is the
    /// vault's (`KeyHome::for_vault`); the key file's anchors then verify the vault.
    pub(super) fn peek_vault_id(&self) -> Option<String> {
        let from = |tree: Option<RawTree<'_>>| -> Option<String> {
            let bytes = read_statement(&tree?).ok()??;
            let text = std::str::from_utf8(&bytes).ok()?;
            let mut lines = text.lines();
            (lines.next()? == "agent-vault-statement v2").then_some(())?;
            let id = lines.next()?.strip_prefix("vault ")?;
            crate::integrity::VaultId::parse(id).map(|id| id.to_string())
        };
        from(self.repo.head_tree().ok().flatten()).or_else(|| {
            match self
                .repo
                .fetch_upstream(true, self.settings.fetch_timeout)
                .0
            {
                Freshness::Ahead { commit, label } => from(
                    RawTree::open(self.repo.repo(), commit, label)
                        .ok()
                        .flatten(),
                ),
                _ => None,
            }
        })
    }

    /// HEAD read without any check but the structural rules and size caps — for the leak
    /// guard only, which matches a tampered vault's values too (it never reveals them).
    pub(super) fn open_unverified(&self) -> Result<Snapshot<'_>> {
        let tree = self
            .repo
            .head_tree()?
            .ok_or_else(|| Error::VaultNotFound(self.repo.workdir().to_path_buf()))?;
        let (mut snapshot, _) = Snapshot::build(tree, None, Mode::Unverified)?;
        snapshot.load_all(&self.settings.progress)?;
        Ok(snapshot)
    }
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
