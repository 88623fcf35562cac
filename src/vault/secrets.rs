//! Storing and deleting secrets: `set` and `rm`.

use secrecy::{ExposeSecret, SecretSlice};

use super::change::recipient_strings;
use super::{Expiry, Outcome, SetOptions, Vault};
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
        if value.expose_secret().len() > MAX_VALUE {
            return Err(Error::Invalid(format!(
                "the value is larger than {} MiB; agent-vault stores secrets, not files (keep large files elsewhere and store their key here)",
                MAX_VALUE >> 20
            )));
        }
        let mut change = self.begin()?;
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
        apply_expiry(&mut meta, options.expires, &mut notes);
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
        let verb = if existing.is_some() { "rotate" } else { "add" };
        let message = CommitMessage::new("set", format!("{verb} secret {path}"))
            .trailer("Secret", path)
            .trailer("Group", &group);
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(notes);
        Ok(outcome)
    }

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

/// Sets, removes or keeps the expiry; a kept expiry that has passed is worth a note.
fn apply_expiry(meta: &mut SecretMetaFile, expires: Option<Expiry>, notes: &mut Vec<String>) {
    match expires {
        Some(Expiry::At(at)) => meta.expires = Some(time::format(at)),
        Some(Expiry::Never) => meta.expires = None,
        None => {
            if let Some(kept) = meta.expires.as_deref().and_then(time::parse_stored)
                && kept <= time::now()
            {
                notes.push(format!(
                    "kept the expiry {} which has already passed; pass --expires to set a new one (or --expires never)",
                    time::format(kept)
                ));
            }
        }
    }
}
