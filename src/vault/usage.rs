//! "Use, don't retrieve", the vault's side: a secret's owner-signed use policy (`policy`), and
//! the policy and value read together from one verified state for the broker.

use super::read::{decrypt, secret_info};
use super::snapshot::SecretFiles;
use super::{Outcome, ReadOptions, SecretValue, Vault};
use crate::format::{SecretMetaFile, secret_enc_path, secret_meta_path};
use crate::git::CommitMessage;
use crate::keys::{self, KeyChoice};
use crate::names::SecretPath;
use crate::policy::UsePolicy;
use crate::{Error, Result};

impl Vault {
    /// Replaces a secret's use policy (or, with `None`, removes it). Only the owner, signed
    /// like every change: a pusher cannot widen it.
    pub fn set_policy(&self, path: &SecretPath, policy: Option<&UsePolicy>) -> Result<Outcome> {
        let mut change = self.begin()?;
        let meta_path = secret_meta_path(path.as_str());
        let Some(mut meta) = change.read_meta(path.as_str())? else {
            return Err(Error::SecretNotFound(path.to_string()));
        };
        let value = policy
            .map(|p| {
                p.validate().map_err(|e| Error::Invalid(e.to_string()))?;
                serde_yaml::to_value(p).map_err(|e| Error::Invalid(e.to_string()))
            })
            .transpose()?;
        if meta.policy == value {
            return Ok(Outcome::unchanged(format!(
                "the use policy of '{path}' is already that; nothing changed"
            )));
        }
        let verb = if value.is_some() { "set" } else { "clear" };
        meta.policy = value;
        change.files.put(meta_path, meta.to_yaml());
        change.commit(
            CommitMessage::new("policy", format!("{verb} the use policy of {path}"))
                .trailer("Secret", path),
        )
    }

    /// A secret's use policy from the newest verified state, without decrypting anything.
    /// `key` only decides which anchors (the key file's verify-key lines) apply.
    pub fn use_policy(
        &self,
        path: &SecretPath,
        key: &KeyChoice,
        options: &ReadOptions,
    ) -> Result<(Option<UsePolicy>, Vec<String>)> {
        let identities = keys::load(key, self.home(), &self.settings.key_env)?;
        let (snapshot, warnings) = self.open_for_reader(
            options.offline,
            options.verify_key,
            Some(&identities),
            false,
        )?;
        let SecretFiles { enc, meta } = snapshot.secret(path)?;
        if enc.is_none() {
            return Err(Error::SecretNotFound(path.to_string()));
        }
        let policy = match meta {
            Some(bytes) => {
                let meta_path = secret_meta_path(path.as_str());
                SecretMetaFile::parse(&meta_path, &bytes)?.use_policy(&meta_path)?
            }
            None => None,
        };
        Ok((policy, warnings))
    }

    /// A secret's value and use policy, read together from one verified state.
    pub fn credential(
        &self,
        path: &SecretPath,
        key: &KeyChoice,
        options: &ReadOptions,
    ) -> Result<(SecretValue, Option<UsePolicy>)> {
        let identities = keys::load(key, self.home(), &self.settings.key_env)?;
        let (snapshot, warnings) = self.open_for_reader(
            options.offline,
            options.verify_key,
            Some(&identities),
            false,
        )?;
        let SecretFiles { enc, meta } = snapshot.secret(path)?;
        let Some(ciphertext) = enc else {
            return Err(Error::SecretNotFound(path.to_string()));
        };
        let meta_path = secret_meta_path(path.as_str());
        let meta = meta
            .map(|bytes| SecretMetaFile::parse(&meta_path, &bytes))
            .transpose()?;
        let policy = match &meta {
            Some(meta) => meta.use_policy(&meta_path)?,
            None => None,
        };
        let value = decrypt(
            &secret_enc_path(path.as_str()),
            &ciphertext,
            &identities,
            path.as_str(),
        )?;
        Ok((
            SecretValue {
                value,
                info: meta.map(|m| secret_info(path.as_str(), &m)),
                warnings,
            },
            policy,
        ))
    }
}
