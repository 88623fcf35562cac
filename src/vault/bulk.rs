//! Many secrets in one pass. [`Vault::get_many`] is what `run`, `export` and `inject` read
//! with: one fetch, one key load, one signature check, each selected secret verified against
//! its shard (a shard hashed once however many of its secrets are read), then every ciphertext
//! decrypted in parallel. [`Vault::import`] stores many values as one commit.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretSlice};

use super::read::decrypt;
use super::snapshot::{SecretFiles, Snapshot};
use super::{EnvChange, Outcome, ReadOptions, SetOptions, Vault};
use crate::environ::EnvName;
use crate::format::{SecretMetaFile, secret_enc_path, secret_meta_path};
use crate::git::CommitMessage;
use crate::keys::{self, KeyChoice};
use crate::names::{GroupName, SecretPath};
use crate::{Error, Result, time};

/// Which secrets to read: every secret of some groups, and single secrets.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub groups: Vec<GroupName>,
    pub secrets: Vec<SecretPath>,
}

impl Selection {
    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.secrets.is_empty()
    }
}

/// One secret read by [`Vault::get_many`].
pub struct BulkSecret {
    pub path: SecretPath,
    /// The exact bytes stored (zeroized on drop).
    pub value: SecretSlice<u8>,
    /// The environment variable name recorded with `set --env`, as written (unvalidated).
    pub env: Option<String>,
    /// Whether it was selected through one of the selection's groups.
    pub via_group: bool,
}

/// What [`Vault::get_many`] read: the secrets sorted by path, and warnings (expired secrets,
/// stale upstream, first use, …).
pub struct Bulk {
    pub secrets: Vec<BulkSecret>,
    pub warnings: Vec<String>,
}

/// One value for [`Vault::import`], with the variable name to record for it.
pub struct ImportEntry {
    pub path: SecretPath,
    pub env: EnvName,
    pub value: SecretSlice<u8>,
}

/// What [`Vault::import`] did (or, for a dry run, would do), by secret path.
#[derive(Debug, Default)]
pub struct ImportPlan {
    pub added: Vec<String>,
    pub rotated: Vec<String>,
    /// Already stored with this value and name in this group: left alone.
    pub unchanged: Vec<String>,
}

impl Vault {
    /// Reads and decrypts every selected secret from the newest verified state. An unknown
    /// group or secret, or one this key cannot decrypt, is an error naming it (the first in
    /// path order); nothing is returned then.
    pub fn get_many(
        &self,
        selection: &Selection,
        key: &KeyChoice,
        options: &ReadOptions,
    ) -> Result<Bulk> {
        let identities = keys::load(key, self.home(), &self.settings.key_env)?;
        let (snapshot, mut warnings) = self.open_for_reader(
            options.offline,
            options.verify_key,
            Some(&identities),
            false,
        )?;
        snapshot.config()?;
        let mut read = Vec::new();
        for (path, via_group) in selected(&snapshot, selection)? {
            let SecretFiles { enc, meta } = snapshot.secret(&path)?;
            let ciphertext = enc.ok_or_else(|| Error::SecretNotFound(path.to_string()))?;
            let meta = meta
                .map(|bytes| SecretMetaFile::parse(&secret_meta_path(path.as_str()), &bytes))
                .transpose()?;
            read.push((path, ciphertext, meta, via_group));
        }
        let values: Vec<Result<SecretSlice<u8>>> = read
            .par_iter()
            .map(|(path, ciphertext, _, _)| {
                decrypt(
                    &secret_enc_path(path.as_str()),
                    ciphertext,
                    &identities,
                    path.as_str(),
                )
            })
            .collect();
        let mut secrets = Vec::with_capacity(read.len());
        for ((path, _, meta, via_group), value) in read.into_iter().zip(values) {
            let value = value.map_err(|e| {
                let group = meta.as_ref().map(|m| m.group.as_str());
                super::read::explain_denied(e, &snapshot, &identities, group)
            })?;
            if let Some(expires) = meta.as_ref().and_then(|m| m.expires.as_deref())
                && time::parse_stored(expires).is_some_and(|t| t <= time::now())
            {
                warnings.push(format!(
                    "secret '{path}' expired on {expires}; ask the owner to rotate it"
                ));
            }
            secrets.push(BulkSecret {
                env: meta.as_ref().and_then(|m| m.env_name().map(str::to_owned)),
                path,
                value,
                via_group,
            });
        }
        Ok(Bulk { secrets, warnings })
    }

    /// Stores every entry in `group`, recording its variable name, as one commit. A secret
    /// already holding the same value and name in that group is left alone. With `dry_run`,
    /// only the plan is computed (with the same checks) and nothing is committed.
    pub fn import(
        &self,
        entries: &[ImportEntry],
        group: &GroupName,
        dry_run: bool,
    ) -> Result<(ImportPlan, Outcome)> {
        let mut seen = BTreeSet::new();
        for entry in entries {
            if !seen.insert(&entry.path) {
                return Err(Error::Invalid(format!(
                    "secret '{}' is given twice; each secret can be imported once",
                    entry.path
                )));
            }
        }
        let mut change = self.begin()?;
        let mut plan = ImportPlan::default();
        let mut notes = Vec::new();
        for entry in entries {
            let files = change.secret_files(entry.path.as_str())?;
            let existing = change.read_meta(entry.path.as_str())?;
            if let (Some(meta), Some(ciphertext)) = (&existing, &files.enc)
                && change.manifest.group_of(entry.path.as_str()) == Some(group.as_str())
                && meta.env_name() == Some(entry.env.as_str())
            {
                let current = decrypt(
                    &secret_enc_path(entry.path.as_str()),
                    ciphertext,
                    &change.owner,
                    entry.path.as_str(),
                )?;
                if current.expose_secret() == entry.value.expose_secret() {
                    plan.unchanged.push(entry.path.to_string());
                    continue;
                }
            }
            let options = SetOptions {
                group: Some(group.clone()),
                env: Some(EnvChange::Set(entry.env.clone())),
                ..SetOptions::default()
            };
            let staged = change.stage_set(&entry.path, &entry.value, &options)?;
            notes.extend(staged.notes);
            if staged.existed {
                plan.rotated.push(entry.path.to_string());
            } else {
                plan.added.push(entry.path.to_string());
            }
        }
        if dry_run {
            return Ok((plan, Outcome::default()));
        }
        let count = plan.added.len() + plan.rotated.len();
        let mut message =
            CommitMessage::new("import", format!("import {count} secret(s) into {group}"))
                .trailer("Group", group);
        for path in plan.added.iter().chain(&plan.rotated) {
            message = message.trailer("Secret", path);
        }
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(notes);
        Ok((plan, outcome))
    }
}

/// The selected secret paths, each once, sorted, and whether a group selected them. An
/// unknown group is an error.
fn selected(snapshot: &Snapshot<'_>, selection: &Selection) -> Result<BTreeMap<SecretPath, bool>> {
    let mut paths: BTreeMap<SecretPath, bool> = selection
        .secrets
        .iter()
        .map(|p| (p.clone(), false))
        .collect();
    if selection.groups.is_empty() {
        return Ok(paths);
    }
    let manifest = snapshot.manifest()?;
    for group in &selection.groups {
        if !manifest.has_group(group.as_str()) {
            return Err(Error::GroupNotFound(group.to_string()));
        }
        for secret in manifest.group_secrets(group.as_str()) {
            paths.insert(SecretPath::parse(&secret)?, true);
        }
    }
    Ok(paths)
}
