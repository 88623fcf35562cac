//! The read path: `get`, `list`, `list-agents`, `verify`, and the secret values the leak guard
//! looks for. Every byte comes from a snapshot built by the trust module.

use rayon::prelude::*;
use secrecy::SecretSlice;

use super::audit::{self as check, Finding, Severity};
use super::snapshot::{SecretFiles, Snapshot};
use super::{AgentInfo, ReadOptions, SecretInfo, SecretValue, Vault, VerifyReport};
use crate::crypto::{self, DecryptFailure};
use crate::format::{SecretMetaFile, agent_escrow_path, secret_enc_path, secret_meta_path};
use crate::hook::HookStatus;
use crate::keys::{self, Identities, KeyChoice};
use crate::names::{GroupName, SecretPath};
use crate::settings::KeyEnv;
use crate::{Error, Result, time};

/// What `check` found: findings about the vault (integrity ones first) and this machine.
pub struct Audit {
    /// Everything found, errors first.
    pub findings: Vec<Finding>,
    /// Warnings from reading (stale upstream, first use, …).
    pub warnings: Vec<String>,
    /// Whether the vault is not what its owner signed.
    pub tampered: bool,
}

/// The values of the secrets the keys at hand can read, for the leak guard (in memory only).
pub struct KnownValues {
    /// Secret path → value.
    pub values: Vec<(String, SecretSlice<u8>)>,
    /// Secrets none of the keys can read.
    pub unreadable: usize,
    /// Things worth telling the user (never values).
    pub notes: Vec<String>,
}

impl Vault {
    /// Decrypts one secret with the chosen key, from the newest verified state.
    pub fn get(
        &self,
        path: &SecretPath,
        key: &KeyChoice,
        options: &ReadOptions,
    ) -> Result<SecretValue> {
        let identities = keys::load(key, self.home(), &self.settings.key_env)?;
        let (snapshot, mut warnings) = self.open_for_reader(
            options.offline,
            options.verify_key,
            Some(&identities),
            false,
        )?;
        warnings.splice(0..0, identities.warnings.iter().cloned());
        snapshot.config()?;
        let SecretFiles { enc, meta } = snapshot.secret(path)?;
        let Some(ciphertext) = enc else {
            return Err(Error::SecretNotFound(path.to_string()));
        };
        let meta = match meta {
            Some(bytes) => Some(SecretMetaFile::parse(
                &secret_meta_path(path.as_str()),
                &bytes,
            )?),
            None => None,
        };
        let info = meta.as_ref().map(|m| secret_info(path.as_str(), m));
        let own_stanza = meta
            .as_ref()
            .and_then(|m| own_stanza_from_end(&snapshot, m, &identities));
        let value = decrypt_hinted(
            &secret_enc_path(path.as_str()),
            &ciphertext,
            &identities,
            path.as_str(),
            own_stanza,
        )
        .map_err(|e| {
            explain_denied(
                e,
                &snapshot,
                &identities,
                info.as_ref().map(|i| i.group.as_str()),
            )
        })?;
        if let Some(info) = &info
            && info.expired
        {
            warnings.push(format!(
                "secret '{path}' expired on {}; ask the owner to rotate it",
                info.expires.as_deref().unwrap_or("?")
            ));
        }
        Ok(SecretValue {
            value,
            info,
            warnings,
        })
    }

    /// Lists secrets (optionally of one group) with their metadata, from the newest state,
    /// verified as a whole.
    pub fn list(
        &self,
        group: Option<&GroupName>,
        options: &ReadOptions,
    ) -> Result<(Vec<SecretInfo>, Vec<String>)> {
        let identities = self.listing_identities();
        let (snapshot, warnings) = self.open_for_reader(
            options.offline,
            options.verify_key,
            identities.as_ref(),
            true,
        )?;
        let infos = list_secrets(&snapshot, group)?;
        Ok((infos, warnings))
    }

    /// Lists agents with their groups.
    pub fn list_agents(&self, options: &ReadOptions) -> Result<(Vec<AgentInfo>, Vec<String>)> {
        let identities = self.listing_identities();
        let (snapshot, warnings) = self.open_for_reader(
            options.offline,
            options.verify_key,
            identities.as_ref(),
            true,
        )?;
        let manifest = snapshot.manifest()?;
        let agents = manifest
            .agents()
            .into_iter()
            .map(|agent| {
                let public_key = snapshot
                    .agent_recipient(&agent.name)
                    .ok()
                    .flatten()
                    .map(|r| r.to_string());
                let mut groups = agent.groups.clone();
                groups.sort();
                AgentInfo {
                    name: agent.name.clone(),
                    groups,
                    public_key,
                    escrow: snapshot
                        .policy_file(super::snapshot::rel(&agent_escrow_path(&agent.name)))
                        .is_some(),
                }
            })
            .collect();
        Ok((agents, warnings))
    }

    /// Checks the whole vault against its signed statement, as a reader would (with the
    /// pinned or given verify key). Returns the statement and every difference found.
    pub fn verify(&self, options: &ReadOptions) -> Result<VerifyReport> {
        let identities = self.listing_identities();
        let (snapshot, problems, mut warnings) =
            self.open_for_report(options.offline, options.verify_key, identities.as_ref())?;
        warnings.extend(self.uncommitted_warning()?);
        Ok(VerifyReport {
            statement: snapshot.statement().cloned(),
            problems,
            warnings,
        })
    }

    /// Audits the vault without decrypting anything: its signature first; only a vault that
    /// verifies (or is unsigned) has its contents checked — tampered files are never parsed.
    /// Then this machine: key and pin file permissions, the leak guard of this clone.
    pub fn audit(&self, soon: chrono::Duration) -> Result<Audit> {
        let home = self.home();
        let integrity = |message: String| Finding {
            severity: Severity::Error,
            code: "integrity",
            subject: crate::format::VAULT_DIR.into(),
            message,
        };
        let mut findings = Vec::new();
        let mut warnings = Vec::new();
        let mut tampered = false;
        let identities = self.listing_identities();
        match self.open_for_report(true, None, identities.as_ref()) {
            Ok((snapshot, problems, read_warnings)) => {
                warnings = read_warnings;
                warnings.extend(self.uncommitted_warning()?);
                if snapshot.statement().is_none() {
                    findings.push(Finding {
                        severity: Severity::Warning,
                        code: "unsigned",
                        subject: crate::format::VAULT_DIR.into(),
                        message: "the vault is unsigned; review it and run `agent-vault sign`"
                            .into(),
                    });
                }
                if problems.is_empty() {
                    findings.extend(check::run(&snapshot, home, time::now(), soon));
                } else {
                    tampered = true;
                    findings.extend(problems.iter().map(|p| integrity(p.to_string())));
                    findings.extend(check::local_files(home));
                }
            }
            Err(Error::Integrity(e)) => {
                tampered = true;
                findings.extend(e.problems.iter().map(|p| integrity(p.to_string())));
                findings.extend(check::local_files(home));
            }
            Err(e) => return Err(e),
        }
        let hook = crate::hook::status(self.repo.repo(), self.repo.git_env());
        let unguarded = match &hook {
            HookStatus::Missing(_) => Some("this clone has no pre-commit hook, so nothing stops a private key or a secret value from being committed here; run `agent-vault hook install`".to_owned()),
            HookStatus::Foreign(p) => Some(format!("{} is another tool's pre-commit hook and agent-vault's leak guard does not run; `agent-vault hook install` chains it", p.display())),
            HookStatus::Outdated(_) => Some("the pre-commit hook is from an older agent-vault; run `agent-vault hook install` to update it".to_owned()),
            HookStatus::Installed(_) | HookStatus::InstalledChained(..) => None,
        };
        if let Some(message) = unguarded {
            findings.push(Finding {
                severity: Severity::Warning,
                code: "no-leak-guard",
                subject: "pre-commit hook".into(),
                message,
            });
        }
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.subject.cmp(&b.subject)));
        Ok(Audit {
            findings,
            warnings,
            tampered,
        })
    }

    /// The key `get` would use, when there is one: listings need no key, but its anchors (the
    /// key file's verify-key lines) and, for the owner key, its endorsement say which signing
    /// key to expect — so a listing never trusts on first use what a `get` would refuse.
    fn listing_identities(&self) -> Option<Identities> {
        keys::load(&KeyChoice::Auto, self.home(), &self.settings.key_env).ok()
    }

    /// A warning when `.agent-vault/` in the working tree or index differs from HEAD: such
    /// changes are not part of the vault (readers read git) until committed and signed.
    fn uncommitted_warning(&self) -> Result<Option<String>> {
        let dirty = self.repo.dirty_vault_paths()?;
        Ok((!dirty.is_empty()).then(|| {
            format!(
                "uncommitted changes in {} are not part of the vault until they are committed (and signed by the owner); readers see what git holds",
                dirty.join(", ")
            )
        }))
    }

    /// Decrypts, in memory, every secret of HEAD that the keys at hand can read: the key the
    /// environment names and the owner key. The leak guard needs no trust in the vault — a
    /// tampered vault's values are still matched (with a note), since matching only ever
    /// blocks a commit and reveals nothing.
    pub fn known_values(&self) -> Result<std::result::Result<KnownValues, Error>> {
        let mut notes = Vec::new();
        let from_env = !matches!(self.settings.key_env, KeyEnv::Unset);
        let mut loaded = vec![keys::load(
            &KeyChoice::Auto,
            self.home(),
            &self.settings.key_env,
        )];
        if from_env {
            loaded.push(keys::load_owner(self.home()));
        }
        let mut identities: Option<Identities> = None;
        let mut first_error = None;
        for result in loaded {
            match result {
                Ok(found) => match &mut identities {
                    Some(all) => all.identities.extend(found.identities),
                    None => identities = Some(found),
                },
                Err(e @ (Error::KeyNotFound(_) | Error::BadKey { .. })) => {
                    if from_env && first_error.is_none() && identities.is_none() {
                        notes.push(format!("{e}; checking with the owner key instead"));
                    }
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        let Some(identities) = identities else {
            return Ok(Err(first_error.expect("one load was attempted")));
        };
        let snapshot = match self.open_for_reader(true, None, Some(&identities), true) {
            Ok((snapshot, _)) => snapshot,
            Err(Error::Integrity(e)) => {
                notes.push(format!(
                    "the vault is not what its owner signed ({e}); its values are matched anyway"
                ));
                self.open_unverified()?
            }
            Err(e) => return Err(e),
        };
        let all = snapshot.all_secrets().cloned().unwrap_or_default();
        let results: Vec<(String, std::result::Result<SecretSlice<u8>, DecryptFailure>)> = all
            .into_par_iter()
            .filter_map(|(path, files)| Some((path, files.enc?)))
            .map(|(path, enc)| {
                let value = crypto::decrypt(&enc, &identities.identities);
                (path, value)
            })
            .collect();
        let mut values = Vec::new();
        let mut unreadable = 0;
        for (path, result) in results {
            match result {
                Ok(value) => values.push((path, value)),
                Err(DecryptFailure::NotARecipient) => unreadable += 1,
                Err(DecryptFailure::Malformed(why)) => notes.push(format!(
                    "secret '{path}' cannot be decrypted ({why}); not checked"
                )),
            }
        }
        Ok(Ok(KnownValues {
            values,
            unreadable,
            notes,
        }))
    }
}

/// The metadata of every secret the manifest lists (of one group), parsed in parallel.
pub(super) fn list_secrets(
    snapshot: &Snapshot<'_>,
    group: Option<&GroupName>,
) -> Result<Vec<SecretInfo>> {
    let manifest = snapshot.manifest()?;
    if let Some(group) = group
        && !manifest.has_group(group.as_str())
    {
        return Err(Error::GroupNotFound(group.to_string()));
    }
    let all = snapshot.all_secrets();
    let wanted: Vec<(String, String)> = manifest
        .all_secrets()
        .into_iter()
        .filter(|(_, g)| group.is_none_or(|w| w.as_str() == g))
        .collect();
    wanted
        .into_par_iter()
        .map(|(path, listed_group)| {
            let meta = all
                .and_then(|a| a.get(&path))
                .and_then(|f| f.meta.as_deref());
            Ok(match meta {
                Some(bytes) => secret_info(
                    &path,
                    &SecretMetaFile::parse(&secret_meta_path(&path), bytes)?,
                ),
                None => SecretInfo {
                    path,
                    group: listed_group,
                    created: None,
                    rotated: None,
                    expires: None,
                    authorized_agents: Vec::new(),
                    extra_agents: Vec::new(),
                    expired: false,
                    policy: None,
                },
            })
        })
        .collect()
}

/// Where the reader's own stanza should be, counted from the end of the header: writers put
/// the owners' stanzas first and then the authorized agents' in name order, so an agent with a
/// hundred co-recipients tries its own first instead of all of them.
fn own_stanza_from_end(
    snapshot: &Snapshot<'_>,
    meta: &SecretMetaFile,
    identities: &Identities,
) -> Option<usize> {
    let agents = &meta.authorized_agents;
    if agents.is_empty() {
        return None;
    }
    let mine: Vec<String> = identities
        .identities
        .iter()
        .map(|i| i.to_public().to_string())
        .collect();
    agents
        .iter()
        .position(|agent| {
            matches!(snapshot.agent_recipient(agent), Ok(Some(r)) if mine.contains(&r.to_string()))
        })
        .map(|i| agents.len() - i)
}

/// Decrypts a vault file with `identities`; `what` names it in errors.
pub(super) fn decrypt(
    file: &str,
    ciphertext: &[u8],
    identities: &Identities,
    what: &str,
) -> Result<SecretSlice<u8>> {
    decrypt_hinted(file, ciphertext, identities, what, None)
}

/// [`decrypt`], trying the stanza `own_from_end` places from the end of the header first.
fn decrypt_hinted(
    file: &str,
    ciphertext: &[u8],
    identities: &Identities,
    what: &str,
    own_from_end: Option<usize>,
) -> Result<SecretSlice<u8>> {
    crypto::decrypt_hinted(ciphertext, &identities.identities, own_from_end).map_err(|e| match e {
        DecryptFailure::NotARecipient => Error::AccessDenied {
            what: what.to_owned(),
            key: identities.origin.clone(),
            denied: None,
        },
        DecryptFailure::Malformed(reason) => Error::corrupt(
            file,
            format!("{reason}; restore it from git history (`git log -- {file}`) or set the secret again"),
        ),
    })
}

/// A secret's metadata as `list` reports it.
pub(super) fn secret_info(path: &str, meta: &SecretMetaFile) -> SecretInfo {
    let expired = meta
        .expires
        .as_deref()
        .and_then(time::parse_stored)
        .is_some_and(|t| t <= time::now());
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    SecretInfo {
        path: path.to_owned(),
        group: meta.group.clone(),
        created: non_empty(&meta.created),
        rotated: meta.rotated.clone(),
        expires: meta.expires.clone(),
        authorized_agents: meta.authorized_agents.clone(),
        extra_agents: meta.extra_agents.clone(),
        expired,
        // A policy this version cannot read is shown as none; using it is refused with the
        // reason (`Vault::use_policy`).
        policy: meta.use_policy(path).ok().flatten(),
    }
}

/// Adds to an access-denied error what the verified vault says about it: the secret's group
/// and which of its agents (if any) the key belongs to.
pub(super) fn explain_denied(
    error: Error,
    snapshot: &Snapshot<'_>,
    identities: &Identities,
    group: Option<&str>,
) -> Error {
    let (Error::AccessDenied { what, key, .. }, Some(group)) = (&error, group) else {
        return error;
    };
    let Ok(manifest) = snapshot.manifest() else {
        return error;
    };
    let agent = manifest.agents().into_iter().find_map(|agent| {
        let recipient = snapshot.agent_recipient(&agent.name).ok().flatten()?;
        identities
            .matches_any(std::slice::from_ref(&recipient))
            .then(|| agent.name.clone())
    });
    Error::AccessDenied {
        what: what.clone(),
        key: key.clone(),
        denied: Some(crate::error::Denied {
            group: group.to_owned(),
            agent,
        }),
    }
}

impl Vault {
    /// The secret, group and agent names of the newest verified state as last fetched: for
    /// suggestions and shell completion. Never fetches, never trusts on first use silently
    /// (nothing is recorded: a state this machine has no anchor or pin for is read as a
    /// listing would read it, but not remembered), prints nothing.
    pub fn names(&self) -> Result<Names> {
        let identities = self.listing_identities();
        let (tree, mut warnings) = self.reader_tree(true)?;
        let (snapshot, problems, _) =
            self.judge_quietly(tree, identities.as_ref(), &mut warnings)?;
        if !problems.is_empty() {
            return Err(Error::Integrity(crate::error::IntegrityError { problems }));
        }
        let manifest = snapshot.manifest()?;
        Ok(Names {
            secrets: manifest.all_secrets(),
            groups: manifest.group_names(),
            agents: manifest
                .agents()
                .into_iter()
                .map(|a| a.name.clone())
                .collect(),
        })
    }
}

/// What [`Vault::names`] returns: names only, never values.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Secret paths with their groups, sorted by path.
    pub secrets: Vec<(String, String)>,
    /// Groups (also those only named in grants).
    pub groups: Vec<String>,
    /// Registered agents.
    pub agents: Vec<String>,
}
