//! One change in progress: the lock, the owner's verified view of HEAD, the files to commit,
//! and the recipients secrets are encrypted to. [`Change::commit`] checks the new files with
//! the leak guard, re-signs (sequence number + 1, the owner's endorsement refreshed), commits
//! them as one commit and remembers the new state.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use age::x25519;
use rayon::prelude::*;
use secrecy::ExposeSecret;

use super::read::decrypt;
use super::restate::{self, Header};
use super::snapshot::{SecretFiles, Snapshot};
use super::{Outcome, Vault};
use crate::changeset::ChangeSet;
use crate::crypto;
use crate::error::Problem;
use crate::format::{
    MANIFEST_PATH, SecretMetaFile, VAULT_DIR, agent_public_key_path, secret_enc_path,
    secret_meta_path,
};
use crate::git::{CommitMessage, VaultLock};
use crate::integrity::{KEY_FILE_COMMENT, SigningKey, Statement, VAULT_COMMENT, endorsement_tag};
use crate::keys::{self, Identities};
use crate::manifest::Manifest;
use crate::names::{AgentName, SecretPath};
use crate::progress::ProgressGuard;
use crate::{Error, Result};

/// A change being prepared. See the module docs.
pub(super) struct Change<'v> {
    pub vault: &'v Vault,
    lock: VaultLock,
    pub snapshot: Snapshot<'v>,
    pub manifest: Manifest,
    pub owners: Vec<x25519::Recipient>,
    pub owner: Identities,
    pub files: ChangeSet,
    /// Agent keys that change in this operation (recover-agent).
    pub agent_keys: HashMap<String, x25519::Recipient>,
    reencrypted: Vec<String>,
    /// The trusted statement and the key to sign the next one; `None` for an unsigned vault.
    pub signing: Option<(Statement, SigningKey)>,
    pub notes: Vec<String>,
}

impl Vault {
    /// Takes the vault lock and refuses a vault whose files differ from HEAD.
    pub(super) fn lock_clean(&self) -> Result<VaultLock> {
        let lock = self.repo.lock(self.settings.lock_timeout)?;
        let dirty = self.repo.dirty_vault_paths()?;
        if !dirty.is_empty() {
            return Err(Error::Dirty(dirty));
        }
        Ok(lock)
    }

    /// Refuses to change a vault whose upstream holds vault changes HEAD lacks (fetched first
    /// unless offline); returns notes for the user.
    pub(super) fn check_base(&self) -> Result<Vec<String>> {
        self.repo
            .check_writer_base(self.settings.offline, self.settings.fetch_timeout)
    }

    /// Starts a change: lock, clean check, a base not behind the upstream's vault, the owner's verified view of HEAD.
    pub(super) fn begin(&self) -> Result<Change<'_>> {
        let lock = self.lock_clean()?;
        let base_notes = self.check_base()?;
        let owner = keys::load_owner(self.home())?;
        let view = match self.open_for_owner(&owner) {
            Ok(view) => view,
            Err(e @ Error::Integrity(_)) if is_unconfirmed(&e) => {
                // Someone else's vault is not "unconfirmed", it is not ours: say so.
                let snapshot = self.open_unverified()?;
                if let Ok(manifest) = snapshot.manifest()
                    && let Ok(owners) = snapshot.owner_recipients(&manifest)
                    && !owner.matches_any(&owners)
                {
                    return Err(not_owner(&owner, &owners));
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        view.snapshot.config()?;
        let manifest = view.snapshot.manifest()?;
        let owners = view.snapshot.owner_recipients(&manifest)?;
        if !owner.matches_any(&owners) {
            return Err(not_owner(&owner, &owners));
        }
        // A change would write `secrets/P.*` and leave 0.1.0's `secrets/default/P.*` (still
        // encrypted to whoever had it) behind; `sign` moves them first.
        let legacy = view.snapshot.legacy_secrets();
        if let Some(first) = legacy.first() {
            return Err(Error::RepoState(format!(
                "this vault is in agent-vault 0.1.0's layout ({} secret(s) stored under {VAULT_DIR}/secrets/default/, such as '{}'), and a change now would leave those old files behind; review the vault, run `agent-vault sign` to adopt it (it moves them), then run this command again",
                legacy.len(),
                crate::error::escape(first)
            )));
        }
        let mut notes = owner.warnings.clone();
        notes.extend(base_notes);
        notes.extend(view.notes);
        Ok(Change {
            vault: self,
            lock,
            snapshot: view.snapshot,
            manifest,
            owners,
            owner,
            files: ChangeSet::new(),
            agent_keys: HashMap::new(),
            reencrypted: Vec::new(),
            signing: view.signing,
            notes,
        })
    }
}

fn is_unconfirmed(e: &Error) -> bool {
    e.problems()
        .iter()
        .any(|p| matches!(p, Problem::Unconfirmed { .. }))
}

/// The error for an owner key that is not one of the vault's owners.
pub(super) fn not_owner(owner: &Identities, owners: &[x25519::Recipient]) -> Error {
    Error::NotOwner {
        key: owner.origin.clone(),
        vault_owner: owners
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The owner endorsements for a statement signed by `key`: ours recomputed for every owner
/// identity at hand, other owners' kept from `previous` when the vault and key are unchanged.
pub(super) fn endorsements(
    owner: &Identities,
    owners: &[x25519::Recipient],
    vault: &crate::integrity::VaultId,
    key: &crate::integrity::VerifyKey,
    previous: Option<&Statement>,
) -> BTreeMap<String, crate::integrity::Digest256> {
    let owners = recipient_strings(owners);
    let mut tags: BTreeMap<String, _> = previous
        .filter(|p| p.verify_key == *key && p.vault.as_ref() == Some(vault))
        .map(|p| p.owners.clone())
        .unwrap_or_default();
    tags.retain(|recipient, _| owners.contains(recipient));
    for identity in &owner.identities {
        let recipient = identity.to_public().to_string();
        if owners.contains(&recipient) {
            tags.insert(recipient, endorsement_tag(identity, vault, key));
        }
    }
    tags
}

/// The recipients' `age1…` strings.
pub(super) fn recipient_strings(recipients: &[x25519::Recipient]) -> Vec<String> {
    recipients.iter().map(ToString::to_string).collect()
}

impl Change<'_> {
    /// The comment lines of a new agent key file: who it is for and, for a signed vault, the
    /// verify key the agent should trust.
    pub fn key_file_header(&self, name: &AgentName) -> Vec<String> {
        let mut header = vec![format!("agent-vault agent key for '{name}'")];
        if let Some((statement, _)) = &self.signing {
            header.push(format!("{KEY_FILE_COMMENT} {}", statement.verify_key));
            if let Some(vault) = &statement.vault {
                header.push(format!("{VAULT_COMMENT} {vault}"));
            }
        }
        header
    }

    /// A secret's files in HEAD (verified).
    pub fn secret_files(&self, secret: &str) -> Result<SecretFiles> {
        match SecretPath::parse(secret) {
            Ok(path) => self.snapshot.secret(&path),
            Err(_) => Ok(SecretFiles::default()),
        }
    }

    /// A secret's metadata in HEAD.
    pub fn read_meta(&self, secret: &str) -> Result<Option<SecretMetaFile>> {
        let meta_path = secret_meta_path(secret);
        match self.secret_files(secret)?.meta {
            Some(bytes) => SecretMetaFile::parse(&meta_path, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The metadata as it will be after this change.
    pub fn staged_meta(&self, secret: &str) -> Result<Option<SecretMetaFile>> {
        let meta_path = secret_meta_path(secret);
        match self.files.get(&meta_path) {
            Some(Some(bytes)) => SecretMetaFile::parse(&meta_path, bytes).map(Some),
            Some(None) => Ok(None),
            None => self.read_meta(secret),
        }
    }

    /// Stages the manifest as it is now.
    pub fn put_manifest(&mut self) {
        self.files.put(MANIFEST_PATH, self.manifest.to_yaml());
    }

    fn agent_recipient(&mut self, agent: &str) -> Result<x25519::Recipient> {
        if let Some(r) = self.agent_keys.get(agent) {
            return Ok(r.clone());
        }
        let recipient = self.snapshot.agent_recipient(agent)?.ok_or_else(|| {
            Error::corrupt(
                agent_public_key_path(agent),
                format!("agent '{agent}' is in the manifest but its public key is missing; restore it from git history or remove the agent"),
            )
        })?;
        self.agent_keys.insert(agent.to_owned(), recipient.clone());
        Ok(recipient)
    }

    /// The recipients of a secret in `group` with `extra` agents: owners first, then agents
    /// in name order. Also returns the agent names.
    pub fn recipients_for(
        &mut self,
        group: &str,
        extra: &[String],
    ) -> Result<(Vec<x25519::Recipient>, Vec<String>)> {
        let mut agents: BTreeSet<String> =
            self.manifest.agents_in_group(group).into_iter().collect();
        agents.extend(
            extra
                .iter()
                .filter(|a| self.manifest.agent(a).is_some())
                .cloned(),
        );
        let mut recipients = self.owners.clone();
        for agent in &agents {
            recipients.push(self.agent_recipient(agent)?);
        }
        Ok((recipients, agents.into_iter().collect()))
    }

    /// Re-encrypts `secrets` for their current recipients, skipping those whose recorded
    /// recipient set is already right. `dropped_agent` is removed from extra grants.
    pub fn reencrypt(&mut self, secrets: &[String], dropped_agent: Option<&str>) -> Result<()> {
        self.reencrypt_where(secrets, dropped_agent, false)
    }

    /// Re-encrypts `secrets` even if the recorded recipient set looks right (a key changed).
    pub fn reencrypt_forced(&mut self, secrets: &[String]) -> Result<()> {
        self.reencrypt_where(secrets, None, true)
    }

    fn reencrypt_where(
        &mut self,
        secrets: &[String],
        dropped_agent: Option<&str>,
        force: bool,
    ) -> Result<()> {
        struct Job {
            path: String,
            enc_path: String,
            meta_path: String,
            ciphertext: Vec<u8>,
            meta: SecretMetaFile,
            recipients: Vec<x25519::Recipient>,
            rewrap: Option<RewrapPlan>,
        }
        let mut jobs = Vec::new();
        for path in secrets {
            let meta_path = secret_meta_path(path);
            let enc_path = secret_enc_path(path);
            let files = self.secret_files(path)?;
            let missing = |what: &str, file: &str| {
                Error::corrupt(
                    file,
                    format!(
                        "secret '{path}' is listed in the manifest but its {what} is missing; run `agent-vault check`"
                    ),
                )
            };
            let mut meta = match files.meta {
                Some(bytes) => SecretMetaFile::parse(&meta_path, &bytes)?,
                None => return Err(missing("metadata", &meta_path)),
            };
            let ciphertext = files.enc.ok_or_else(|| missing("ciphertext", &enc_path))?;
            if let Some(dropped) = dropped_agent {
                meta.extra_agents.retain(|a| a != dropped);
            }
            let group = self
                .manifest
                .group_of(path)
                .unwrap_or(&meta.group)
                .to_owned();
            let (recipients, agents) = self.recipients_for(&group, &meta.extra_agents)?;
            let fingerprint = crypto::recipients_fingerprint(&recipient_strings(&recipients));
            if !force
                && meta.recipients.as_deref() == Some(fingerprint.as_str())
                && meta.authorized_agents == agents
            {
                continue;
            }
            let rewrap = if force {
                None
            } else {
                plan_rewrap(&meta, self.owners.len(), &recipients, &agents)
            };
            meta.authorized_agents = agents;
            meta.recipients = Some(fingerprint);
            jobs.push(Job {
                path: path.clone(),
                enc_path,
                meta_path,
                ciphertext,
                meta,
                recipients,
                rewrap,
            });
        }
        let owner = &self.owner;
        let progress = self
            .vault
            .settings
            .progress
            .start("re-encrypting", jobs.len() as u64);
        let progress = &progress;
        let results: Vec<Result<(Job, Vec<u8>)>> = jobs
            .into_par_iter()
            .map(|mut job| {
                let _step = Step(progress);
                // The old ciphertext is dropped as soon as its replacement exists.
                let old = std::mem::take(&mut job.ciphertext);
                if let Some(plan) = &job.rewrap {
                    let added: Vec<(usize, &x25519::Recipient)> = plan
                        .added
                        .iter()
                        .map(|&i| (i, &job.recipients[i]))
                        .collect();
                    // Anything unexpected in the file falls back to a full re-encryption,
                    // which reports it properly.
                    if let Ok(ciphertext) =
                        crypto::add_recipients(&old, &owner.identities, plan.old_count, &added)
                    {
                        return Ok((job, ciphertext));
                    }
                }
                let plaintext = decrypt(&job.enc_path, &old, owner, &job.path)?;
                let ciphertext = crypto::encrypt(plaintext.expose_secret(), &job.recipients)?;
                Ok((job, ciphertext))
            })
            .collect();
        for result in results {
            let (job, ciphertext) = result?;
            self.reencrypted.push(job.path);
            self.files.put(job.enc_path, ciphertext);
            self.files.put(job.meta_path, job.meta.to_yaml());
        }
        Ok(())
    }

    /// Checks, re-signs and commits the staged files as one commit.
    pub fn commit(mut self, message: CommitMessage) -> Result<Outcome> {
        if self.files.is_empty() {
            return Ok(Outcome {
                notes: self.notes,
                ..Outcome::default()
            });
        }
        check_leaks(&self.files)?;
        let mut signed = None;
        if let Some((statement, key)) = &self.signing {
            let seq = statement.seq.checked_add(1).ok_or_else(|| {
                Error::integrity(Problem::BadStatement {
                    why: "has the largest possible sequence number".into(),
                })
            })?;
            let vault = match statement.vault {
                Some(vault) => vault,
                None => crate::integrity::VaultId::generate()?,
            };
            let header = Header {
                vault,
                seq,
                key_changes: statement.key_changes.clone(),
                owners: endorsements(
                    &self.owner,
                    &self.owners,
                    &vault,
                    &statement.verify_key,
                    Some(statement),
                ),
            };
            let (files, new_statement) = restate::restate(
                Some(&self.snapshot),
                Some(statement),
                &self.files,
                header,
                key,
            )?;
            self.files.extend(files);
            signed = Some(new_statement);
        }
        let commit = self.vault.repo.commit(&self.lock, &self.files, &message)?;
        if let (Some(_), Some(statement)) = (commit, &signed) {
            self.notes.extend(self.vault.signed_committed(statement)?);
        }
        Ok(Outcome {
            commit,
            reencrypted: self.reencrypted,
            notes: self.notes,
            ..Outcome::default()
        })
    }
}

/// The leak guard on every commit agent-vault makes: no private key material in any file,
/// only age ciphertexts in `secrets/*.enc`, no key files.
pub fn check_leaks(files: &ChangeSet) -> Result<()> {
    crate::scan::check_commit(
        files
            .iter()
            .filter_map(|(path, bytes)| Some((path, bytes?))),
    )
    .map_err(Error::Leak)
}

/// How a secret gains recipients without a new file key: which stanzas to add, and how many
/// the file must hold now.
struct RewrapPlan {
    /// Indices, in the new recipient order, of the recipients to add.
    added: Vec<usize>,
    /// The number of X25519 stanzas the current file must have.
    old_count: usize,
}

/// A re-wrap plan when the new recipients (owners, then `agents` in name order) are the
/// recorded ones plus some agents: the recorded fingerprint must be exactly that of the new
/// set minus the added agents, so no current recipient is one we meant to drop. `None` means
/// re-encrypt.
fn plan_rewrap(
    meta: &SecretMetaFile,
    owner_count: usize,
    recipients: &[x25519::Recipient],
    agents: &[String],
) -> Option<RewrapPlan> {
    let recorded = meta.recipients.as_deref()?;
    let added: Vec<usize> = agents
        .iter()
        .enumerate()
        .filter(|(_, a)| !meta.authorized_agents.contains(a))
        .map(|(i, _)| owner_count + i)
        .collect();
    if added.is_empty() || agents.len() - added.len() != meta.authorized_agents.len() {
        return None;
    }
    let kept: Vec<String> = recipients
        .iter()
        .enumerate()
        .filter(|(i, _)| !added.contains(i))
        .map(|(_, r)| r.to_string())
        .collect();
    (crypto::recipients_fingerprint(&kept) == recorded).then_some(RewrapPlan {
        old_count: kept.len(),
        added,
    })
}

/// One step of work in progress, reported when it ends (whichever way it ends).
struct Step<'p, 'h>(&'p ProgressGuard<'h>);

impl Drop for Step<'_, '_> {
    fn drop(&mut self) {
        self.0.advance(1);
    }
}
