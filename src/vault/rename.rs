//! Moving a secret to a new path (`mv`): one commit that removes the old files and adds the
//! new ones, keeping the metadata (creation and rotation times, expiry, extra agents, use
//! policy, variable name). The ciphertext is kept byte for byte when the group stays — an age
//! file does not name its path — and re-encrypted for the new group's readers only when the
//! group changes. The commit records the old path (`Agent-Vault-From`), so `log` follows it.

use secrecy::ExposeSecret;

use super::change::{Change, recipient_strings};
use super::read::decrypt;
use super::{Outcome, Vault};
use crate::format::{SecretMetaFile, secret_enc_path, secret_meta_path};
use crate::git::CommitMessage;
use crate::names::{GroupName, SecretPath};
use crate::{Error, Result, crypto};

impl Vault {
    /// Moves secret `from` to `to`, into `group` if given (else it keeps its group).
    pub fn move_secret(
        &self,
        from: &SecretPath,
        to: &SecretPath,
        group: Option<&GroupName>,
    ) -> Result<Outcome> {
        if from == to {
            return Err(Error::Invalid(format!(
                "'{from}' and '{to}' are the same path; nothing to move"
            )));
        }
        let mut change = self.begin()?;
        let files = change.secret_files(from.as_str())?;
        let listed = change.manifest.group_of(from.as_str()).map(str::to_owned);
        let (Some(ciphertext), Some(meta_bytes)) = (files.enc, files.meta) else {
            if listed.is_none() {
                return Err(Error::SecretNotFound(from.to_string()));
            }
            return Err(Error::corrupt(
                secret_enc_path(from.as_str()),
                format!(
                    "secret '{from}' is listed but its files are incomplete; run `agent-vault check`"
                ),
            ));
        };
        let target = change.secret_files(to.as_str())?;
        if target.enc.is_some()
            || target.meta.is_some()
            || change.manifest.group_of(to.as_str()).is_some()
        {
            return Err(Error::AlreadyExists {
                what: format!("secret '{to}'"),
                hint: format!("remove it first (`agent-vault rm {to}`) or choose another path"),
            });
        }
        let mut meta = SecretMetaFile::parse(&secret_meta_path(from.as_str()), &meta_bytes)?;
        let old_group = listed.unwrap_or_else(|| meta.group.clone());
        let new_group = group.map_or_else(|| old_group.clone(), ToString::to_string);
        let mut notes = Vec::new();
        let ciphertext = if new_group == old_group {
            if let Ok(default) = to.default_group()
                && group.is_none()
                && default.as_str() != old_group
            {
                notes.push(format!(
                    "'{to}' stays in group '{old_group}' with the same readers; pass --group {default} to move it into that group"
                ));
            }
            ciphertext
        } else {
            notes.push(format!(
                "re-encrypted for the readers of group '{new_group}'"
            ));
            reencrypt_for(&mut change, from, &ciphertext, &new_group, &mut meta)?
        };
        meta.name = to.to_string();
        meta.group = new_group.clone();
        change.files.delete(secret_enc_path(from.as_str()));
        change.files.delete(secret_meta_path(from.as_str()));
        change.files.put(secret_enc_path(to.as_str()), ciphertext);
        change
            .files
            .put(secret_meta_path(to.as_str()), meta.to_yaml());
        change.manifest.remove_secret(from.as_str());
        change.manifest.put_secret(to.as_str(), &new_group);
        change.put_manifest();
        let message = CommitMessage::new("mv", format!("move secret {from} to {to}"))
            .trailer("Secret", to)
            .trailer("From", from)
            .trailer("Group", &new_group);
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(notes);
        Ok(outcome)
    }
}

/// The value of `from` encrypted for the readers of `group` (and the secret's extra agents),
/// with `meta`'s recipients updated.
fn reencrypt_for(
    change: &mut Change<'_>,
    from: &SecretPath,
    ciphertext: &[u8],
    group: &str,
    meta: &mut SecretMetaFile,
) -> Result<Vec<u8>> {
    let (recipients, agents) = change.recipients_for(group, &meta.extra_agents)?;
    let value = decrypt(
        &secret_enc_path(from.as_str()),
        ciphertext,
        &change.owner,
        from.as_str(),
    )?;
    meta.authorized_agents = agents;
    meta.recipients = Some(crypto::recipients_fingerprint(&recipient_strings(
        &recipients,
    )));
    Ok(crypto::encrypt(value.expose_secret(), &recipients)?)
}
