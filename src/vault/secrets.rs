//! Storing and deleting secrets: `set` and `rm`, and the staging of one stored value that
//! `import`, `edit` and `generate` share.

use secrecy::{ExposeSecret, SecretSlice};

use super::change::{Change, recipient_strings};
use super::{EnvChange, Expiry, Outcome, SetOptions, Vault};
use crate::format::{SecretMetaFile, secret_enc_path, secret_meta_path};
use crate::git::CommitMessage;
use crate::names::SecretPath;
use crate::{Error, Result, crypto, time};

/// The largest value `set` stores: secrets are keys and passwords, not files to archive.
pub const MAX_VALUE: usize = 16 << 20;

impl Vault {
    /// Stores a secret (new or rotated).
    pub fn set(
        &self,
        path: &SecretPath,
        value: &SecretSlice<u8>,
        options: &SetOptions,
    ) -> Result<Outcome> {
        check_size(value)?;
        let mut change = self.begin()?;
        let staged = change.stage_set(path, value, options)?;
        let verb = if staged.existed { "rotate" } else { "add" };
        let message = CommitMessage::new("set", format!("{verb} secret {path}"))
            .trailer("Secret", path)
            .trailer("Group", &staged.group);
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(staged.notes);
        Ok(outcome)
    }
}

/// What [`Change::stage_set`] staged: whether the secret existed, its group, notes for the user.
pub(super) struct Staged {
    pub existed: bool,
    pub group: String,
    pub notes: Vec<String>,
}

impl Change<'_> {
    /// Stages storing `value` at `path`: the ciphertext for the secret's recipients, its
    /// metadata (creation time kept, rotation time now) and the manifest. `set`, `import`,
    /// `edit` and `generate` share it.
    pub(super) fn stage_set(
        &mut self,
        path: &SecretPath,
        value: &SecretSlice<u8>,
        options: &SetOptions,
    ) -> Result<Staged> {
        check_size(value)?;
        let change = self;
        let existing = change.read_meta(path.as_str())?;
        let group = match (&options.group, &existing) {
            (Some(g), _) => g.to_string(),
            (None, Some(meta)) => change
                .manifest
                .group_of(path.as_str())
                .unwrap_or(&meta.group)
                .to_owned(),
            (None, None) => path.default_group()?.to_string(),
        };
        let extra_agents: Vec<String> = match (&options.agents, &existing) {
            (Some(agents), _) => {
                for agent in agents {
                    if change.manifest.agent(agent.as_str()).is_none() {
                        return Err(Error::AgentNotFound(agent.to_string()));
                    }
                }
                agents.iter().map(ToString::to_string).collect()
            }
            (None, Some(meta)) => meta.extra_agents.clone(),
            (None, None) => Vec::new(),
        };
        let mut notes = Vec::new();
        let mut meta = updated_meta(path, existing.clone(), &group, extra_agents);
        notes.extend(apply_expiry_and_env(&mut meta, options));
        change.manifest.put_secret(path.as_str(), &group);
        let (recipients, agents) = change.recipients_for(&group, &meta.extra_agents)?;
        meta.authorized_agents = agents;
        meta.recipients = Some(crypto::recipients_fingerprint(&recipient_strings(
            &recipients,
        )));
        let ciphertext = crypto::encrypt(value.expose_secret(), &recipients)?;
        change.files.put(secret_enc_path(path.as_str()), ciphertext);
        change
            .files
            .put(secret_meta_path(path.as_str()), meta.to_yaml());
        change.put_manifest();
        Ok(Staged {
            existed: existing.is_some(),
            group,
            notes,
        })
    }
}

impl Vault {
    /// Deletes a secret.
    pub fn remove_secret(&self, path: &SecretPath) -> Result<Outcome> {
        let mut change = self.begin()?;
        let files = change.secret_files(path.as_str())?;
        if files.enc.is_none()
            && files.meta.is_none()
            && change.manifest.group_of(path.as_str()).is_none()
        {
            return Err(Error::SecretNotFound(path.to_string()));
        }
        change.files.delete(secret_enc_path(path.as_str()));
        change.files.delete(secret_meta_path(path.as_str()));
        change.manifest.remove_secret(path.as_str());
        change.put_manifest();
        change.commit(
            CommitMessage::new("rm", format!("remove secret {path}")).trailer("Secret", path),
        )
    }
}

/// The metadata of a secret being stored: the existing one updated (unknown fields, creation
/// time and policy kept), or a new one.
fn updated_meta(
    path: &SecretPath,
    existing: Option<SecretMetaFile>,
    group: &str,
    extra_agents: Vec<String>,
) -> SecretMetaFile {
    let now = time::format(time::now());
    let mut meta = existing.unwrap_or_else(|| SecretMetaFile {
        name: path.to_string(),
        group: group.to_owned(),
        created: now.clone(),
        rotated: None,
        expires: None,
        authorized_agents: Vec::new(),
        extra_agents: Vec::new(),
        recipients: None,
        policy: None,
        extra: Default::default(),
    });
    meta.name = path.to_string();
    meta.group = group.to_owned();
    meta.rotated = Some(now);
    meta.extra_agents = extra_agents;
    meta
}

/// Applies `--expires` and `--env`/`--no-env` to `meta`; returns a note when a kept expiry has
/// already passed.
fn apply_expiry_and_env(meta: &mut SecretMetaFile, options: &SetOptions) -> Option<String> {
    match &options.env {
        Some(EnvChange::Set(name)) => meta.set_env_name(Some(name.as_str())),
        Some(EnvChange::Remove) => meta.set_env_name(None),
        None => {}
    }
    match options.expires {
        Some(Expiry::At(expires)) => meta.expires = Some(time::format(expires)),
        Some(Expiry::Never) => meta.expires = None,
        None => {
            if let Some(kept) = meta.expires.as_deref().and_then(time::parse_stored)
                && kept <= time::now()
            {
                return Some(format!(
                    "kept the expiry {} which has already passed; pass --expires to set a new one (or --expires never)",
                    time::format(kept)
                ));
            }
        }
    }
    None
}

/// Refuses values larger than [`MAX_VALUE`].
pub(super) fn check_size(value: &SecretSlice<u8>) -> Result<()> {
    if value.expose_secret().len() > MAX_VALUE {
        return Err(Error::Invalid(format!(
            "the value is larger than {} MiB; agent-vault stores secrets, not files (keep large files elsewhere and store their key here)",
            MAX_VALUE >> 20
        )));
    }
    Ok(())
}
