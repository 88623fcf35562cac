//! `check`: an audit of a vault's health that needs no private key. It reports expired and
//! soon-expiring secrets, agents without access, orphaned and missing files, disagreement
//! between the manifest and the metadata, recipient drift, unparsable files and key files
//! that others can read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::crypto;
use crate::format::{self, AGENTS_DIR, CONFIG_PATH, ConfigFile, MANIFEST_PATH, SecretMetaFile};
use crate::git::Source;
use crate::keys::{self, KeyHome};
use crate::manifest::Manifest;
use crate::names::{AgentName, GroupName, SecretPath};
use crate::time;
use crate::vault::{read_all_metas, read_owner_recipients};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; `check --strict` fails on it.
    Warning,
    /// Something is wrong; `check` fails.
    Error,
}

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier of the kind of problem, e.g. `expired`.
    pub code: &'static str,
    /// The secret, agent or file concerned.
    pub subject: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Runs every check over `source`. `soon` is how far ahead expiry counts as "soon".
pub fn run(
    source: &Source<'_>,
    home: &KeyHome,
    now: DateTime<Utc>,
    soon: chrono::Duration,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |severity, code, subject: &str, message: String| {
        findings.push(Finding {
            severity,
            code,
            subject: subject.to_owned(),
            message,
        })
    };
    match source.read(CONFIG_PATH) {
        Ok(Some(bytes)) => {
            if let Err(e) = ConfigFile::parse(&bytes) {
                add(Severity::Error, "unparsable", CONFIG_PATH, e.to_string());
            }
        }
        Ok(None) => add(
            Severity::Error,
            "missing-file",
            CONFIG_PATH,
            "the vault config is missing; restore it from git history".into(),
        ),
        Err(e) => add(Severity::Error, "unreadable", CONFIG_PATH, e.to_string()),
    }
    let manifest = match source.read(MANIFEST_PATH).and_then(|b| {
        b.ok_or_else(|| {
            crate::Error::corrupt(
                MANIFEST_PATH,
                "the manifest is missing; restore it from git history",
            )
        })
        .and_then(|b| Manifest::parse(&b))
    }) {
        Ok(m) => m,
        Err(e) => {
            add(Severity::Error, "unparsable", MANIFEST_PATH, e.to_string());
            check_key_permissions(home, &mut add);
            return findings;
        }
    };
    let owners = match read_owner_recipients(source, &manifest) {
        Ok(o) => o.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        Err(e) => {
            add(Severity::Error, "unparsable", "owner.pub", e.to_string());
            Vec::new()
        }
    };

    // Agents: names, keys, access.
    let mut agent_keys: BTreeMap<String, String> = BTreeMap::new();
    let registered: BTreeSet<String> = manifest.agents().iter().map(|a| a.name.clone()).collect();
    for agent in manifest.agents() {
        if AgentName::parse(&agent.name).is_err() {
            add(
                Severity::Error,
                "invalid-name",
                &agent.name,
                "agent name is not valid; remove it from the manifest".into(),
            );
            continue;
        }
        for group in &agent.groups {
            if GroupName::parse(group).is_err() {
                add(
                    Severity::Error,
                    "invalid-name",
                    &agent.name,
                    format!(
                        "granted group '{}' has an invalid name",
                        group.escape_debug()
                    ),
                );
            }
        }
        let key_path = format::agent_public_key_path(&agent.name);
        match source.read(&key_path) {
            Ok(Some(bytes)) => {
                match keys::parse_recipient(&String::from_utf8_lossy(&bytes), &key_path) {
                    Ok(r) => {
                        agent_keys.insert(agent.name.clone(), r.to_string());
                    }
                    Err(e) => add(Severity::Error, "unparsable", &key_path, e.to_string()),
                }
            }
            Ok(None) => add(
                Severity::Error,
                "missing-file",
                &key_path,
                format!(
                    "agent '{}' has no public key; restore it from git history or remove the agent",
                    agent.name
                ),
            ),
            Err(e) => add(Severity::Error, "unreadable", &key_path, e.to_string()),
        }
    }

    let metas = match read_all_metas(source) {
        Ok(m) => m,
        Err(e) => {
            add(
                Severity::Error,
                "unreadable",
                format::SECRETS_DIR,
                e.to_string(),
            );
            BTreeMap::new()
        }
    };
    let mut agents_with_access: BTreeSet<String> = BTreeSet::new();
    for agent in manifest.agents() {
        if agent
            .groups
            .iter()
            .any(|g| !manifest.group_secrets(g).is_empty())
        {
            agents_with_access.insert(agent.name.clone());
        }
    }

    // Secrets listed in the manifest.
    let listed = manifest.all_secrets();
    let listed_paths: BTreeSet<&str> = listed.iter().map(|(p, _)| p.as_str()).collect();
    for (path, group) in &listed {
        if SecretPath::parse(path).is_err() {
            add(
                Severity::Error,
                "invalid-name",
                path,
                "secret path is not valid; remove it from the manifest".into(),
            );
            continue;
        }
        let enc_path = format::secret_enc_path(path);
        match source.read(&enc_path) {
            Ok(Some(bytes)) if !crypto::looks_like_age(&bytes) => add(
                Severity::Error,
                "unparsable",
                &enc_path,
                "not an age ciphertext; restore it from git history or set the secret again".into(),
            ),
            Ok(Some(_)) => {}
            Ok(None) => add(
                Severity::Error,
                "missing-file",
                path,
                format!(
                    "the manifest lists '{path}' but {enc_path} is missing; set it again or `agent-vault rm {path}`"
                ),
            ),
            Err(e) => add(Severity::Error, "unreadable", &enc_path, e.to_string()),
        }
        let meta = match metas.get(path.as_str()) {
            Some(Ok(meta)) => meta,
            Some(Err(e)) => {
                add(
                    Severity::Error,
                    "unparsable",
                    &format::secret_meta_path(path),
                    e.to_string(),
                );
                continue;
            }
            None => {
                add(
                    Severity::Error,
                    "missing-file",
                    path,
                    format!(
                        "metadata {} is missing; set the secret again",
                        format::secret_meta_path(path)
                    ),
                );
                continue;
            }
        };
        check_meta(
            path,
            group,
            meta,
            &manifest,
            &owners,
            &agent_keys,
            &registered,
            now,
            soon,
            &mut add,
        );
        for extra in &meta.extra_agents {
            agents_with_access.insert(extra.clone());
        }
    }

    // Files nobody lists.
    for (secret, meta) in &metas {
        if !listed_paths.contains(secret.as_str()) && meta.is_ok() {
            add(
                Severity::Warning,
                "orphaned",
                secret,
                format!(
                    "{} is not listed in the manifest; `agent-vault set {secret}` to adopt it or delete the files",
                    format::secret_meta_path(secret)
                ),
            );
        }
    }
    if let Ok(files) = source.list_files(format::SECRETS_DIR) {
        let prefix = format!("{}/", format::SECRETS_DIR);
        for file in files {
            let Some(rest) = file.strip_prefix(&prefix) else {
                continue;
            };
            if let Some(secret) = rest.strip_suffix(format::ENC_SUFFIX) {
                if !listed_paths.contains(secret) && !metas.contains_key(secret) {
                    add(
                        Severity::Warning,
                        "orphaned",
                        secret,
                        format!(
                            "{file} has no metadata and is not in the manifest; delete it or set the secret again"
                        ),
                    );
                }
            } else if !rest.ends_with(format::META_SUFFIX) && !rest.ends_with("/.gitkeep") {
                add(
                    Severity::Warning,
                    "stray-file",
                    &file,
                    "not a vault file; move it out of .agent-vault/secrets/".into(),
                );
            }
        }
    }
    if let Ok(files) = source.list_files(AGENTS_DIR) {
        for file in files {
            let name = file
                .trim_start_matches(AGENTS_DIR)
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            if !registered.contains(name) {
                add(
                    Severity::Warning,
                    "orphaned",
                    &file,
                    format!(
                        "agent '{name}' is not in the manifest; delete {AGENTS_DIR}/{name}/ or add the agent again"
                    ),
                );
            }
        }
    }
    for agent in &registered {
        if !agents_with_access.contains(agent) {
            add(
                Severity::Warning,
                "no-access",
                agent,
                format!(
                    "agent '{agent}' cannot read any secret; `agent-vault grant {agent} <group>` or `agent-vault remove-agent {agent}`"
                ),
            );
        }
    }
    check_key_permissions(home, &mut add);
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.subject.cmp(&b.subject)));
    findings
}

#[allow(clippy::too_many_arguments)]
fn check_meta(
    path: &str,
    group: &str,
    meta: &SecretMetaFile,
    manifest: &Manifest,
    owners: &[String],
    agent_keys: &BTreeMap<String, String>,
    registered: &BTreeSet<String>,
    now: DateTime<Utc>,
    soon: chrono::Duration,
    add: &mut impl FnMut(Severity, &'static str, &str, String),
) {
    if meta.name != path {
        add(
            Severity::Error,
            "disagreement",
            path,
            format!(
                "its metadata names it '{}'; set the secret again",
                meta.name.escape_debug()
            ),
        );
    }
    if meta.group != group {
        add(
            Severity::Error,
            "disagreement",
            path,
            format!(
                "the manifest lists it in group '{group}' but its metadata says '{}'; set it again with --group",
                meta.group
            ),
        );
    }
    match meta.expires.as_deref().map(|e| (e, time::parse_stored(e))) {
        Some((raw, None)) => add(
            Severity::Error,
            "unparsable",
            path,
            format!(
                "expiry '{}' is not a date; set it again with --expires",
                raw.escape_debug()
            ),
        ),
        Some((_, Some(t))) if t <= now => add(
            Severity::Error,
            "expired",
            path,
            format!(
                "expired on {}; rotate it: `agent-vault set {path} --expires …`",
                time::format(t)
            ),
        ),
        Some((_, Some(t))) if t <= now + soon => add(
            Severity::Warning,
            "expiring",
            path,
            format!("expires on {}; rotate it soon", time::format(t)),
        ),
        _ => {}
    }
    for extra in &meta.extra_agents {
        if !registered.contains(extra) {
            add(
                Severity::Error,
                "disagreement",
                path,
                format!(
                    "extra agent '{extra}' is not registered; set the secret again with --agents"
                ),
            );
        }
    }
    let mut expected: BTreeSet<String> = manifest.agents_in_group(group).into_iter().collect();
    expected.extend(
        meta.extra_agents
            .iter()
            .filter(|a| registered.contains(*a))
            .cloned(),
    );
    let recorded: BTreeSet<String> = meta.authorized_agents.iter().cloned().collect();
    if expected != recorded {
        add(
            Severity::Error,
            "disagreement",
            path,
            format!(
                "encrypted for agents [{}] but the manifest grants [{}]; run `agent-vault grant`/`revoke` for the group, or set the secret again",
                recorded.iter().cloned().collect::<Vec<_>>().join(", "),
                expected.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        return;
    }
    if owners.is_empty() {
        return;
    }
    let mut recipients: Vec<String> = owners.to_vec();
    recipients.extend(expected.iter().filter_map(|a| agent_keys.get(a).cloned()));
    let fingerprint = crypto::recipients_fingerprint(&recipients);
    match &meta.recipients {
        None => add(Severity::Warning, "no-fingerprint", path, "no recipient fingerprint recorded (written by an older tool), so key drift cannot be checked; `agent-vault set` of this secret (or any grant or revoke that changes who can read it) records one".into()),
        Some(recorded) if *recorded != fingerprint => add(Severity::Error, "recipient-drift", path, "its ciphertext was made for a different set of keys than the manifest and public keys name; set it again or re-run the grant".into()),
        Some(_) => {}
    }
}

fn check_key_permissions(
    home: &KeyHome,
    add: &mut impl FnMut(Severity, &'static str, &str, String),
) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![home.owner_key_path()];
        if let Ok(entries) = std::fs::read_dir(home.root().join("agents")) {
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "key")),
            );
        }
        for file in files {
            let Ok(metadata) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let shown = file.display().to_string();
                add(
                    Severity::Error,
                    "key-permissions",
                    &shown,
                    format!(
                        "key file is readable by others (mode {mode:o}); run `chmod 600 {}`",
                        shell_quote(&file)
                    ),
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (home, add);
}

fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
