//! The owner's single-secret verbs beyond `set`: `edit` (read, change in an editor, store if
//! changed — refusing to overwrite a value someone else stored meanwhile) and `generate`
//! (store a new random value, never replacing one unless asked).

use secrecy::{ExposeSecret, SecretSlice};

use super::read::decrypt;
use super::{Outcome, SetOptions, Vault};
use crate::format::secret_enc_path;
use crate::git::CommitMessage;
use crate::integrity::{Digest256, sha256};
use crate::names::SecretPath;
use crate::{Error, Result};

/// A secret being edited: its value when the edit began (`None`: a new secret) and which
/// ciphertext that was.
pub struct EditSession {
    pub path: SecretPath,
    pub value: Option<SecretSlice<u8>>,
    read_from: Option<Digest256>,
}

/// Whether storing a value may replace an existing secret's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// An existing secret is an error.
    Refuse,
    /// An existing secret is rotated.
    Allow,
}

impl Vault {
    /// Reads a secret for editing, as an owner command does (lock, clean vault, whole vault
    /// verified, the owner key). A secret that does not exist yet starts with no value. The
    /// lock is released before returning: nothing is held while the editor is open.
    pub fn edit_begin(&self, path: &SecretPath) -> Result<EditSession> {
        let change = self.begin()?;
        let files = change.secret_files(path.as_str())?;
        let (value, read_from) = match &files.enc {
            Some(ciphertext) => (
                Some(decrypt(
                    &secret_enc_path(path.as_str()),
                    ciphertext,
                    &change.owner,
                    path.as_str(),
                )?),
                Some(sha256(ciphertext)),
            ),
            None => (None, None),
        };
        Ok(EditSession {
            path: path.clone(),
            value,
            read_from,
        })
    }

    /// Stores the edited value, unless the secret changed since [`Vault::edit_begin`] (then
    /// nothing is stored: the user edits again, starting from the new value).
    pub fn edit_save(&self, session: &EditSession, value: &SecretSlice<u8>) -> Result<Outcome> {
        let path = &session.path;
        let mut change = self.begin()?;
        let now = change.secret_files(path.as_str())?.enc.map(|c| sha256(&c));
        if now != session.read_from {
            return Err(Error::RepoState(format!(
                "secret '{path}' was changed by another command while you edited it, so your edit was not stored; run `agent-vault edit {path}` again"
            )));
        }
        let staged = change.stage_set(path, value, &SetOptions::default())?;
        let verb = if staged.existed { "edit" } else { "add" };
        let message = CommitMessage::new("edit", format!("{verb} secret {path}"))
            .trailer("Secret", path)
            .trailer("Group", &staged.group);
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(staged.notes);
        Ok(outcome)
    }

    /// Stores a generated value. An existing secret is an error unless `replace` allows it.
    pub fn store_generated(
        &self,
        path: &SecretPath,
        value: &SecretSlice<u8>,
        options: &SetOptions,
        replace: Replace,
    ) -> Result<Outcome> {
        let mut change = self.begin()?;
        let exists = change.secret_files(path.as_str())?.enc.is_some()
            || change.manifest.group_of(path.as_str()).is_some();
        if exists && replace == Replace::Refuse {
            return Err(Error::AlreadyExists {
                what: format!("secret '{path}'"),
                hint: "pass --force to replace its value (the old ciphertext stays in git history), or choose another path".into(),
            });
        }
        debug_assert!(!value.expose_secret().is_empty());
        let staged = change.stage_set(path, value, options)?;
        let verb = if staged.existed { "rotate" } else { "add" };
        let message = CommitMessage::new("generate", format!("{verb} generated secret {path}"))
            .trailer("Secret", path)
            .trailer("Group", &staged.group);
        let mut outcome = change.commit(message)?;
        outcome.notes.extend(staged.notes);
        Ok(outcome)
    }
}
