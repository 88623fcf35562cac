//! `check`: an audit of a vault's health that needs no private key. It reports expired and
//! soon-expiring secrets, agents without access, orphaned and missing files, disagreement
//! between the manifest and the metadata, recipient drift, unparsable files and key files
//! that others can read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::snapshot::{SecretFiles, Snapshot};
use crate::crypto;
use crate::error::escape;
use crate::format::{self, AGENTS_DIR, CONFIG_PATH, MANIFEST_PATH, SecretMetaFile};
use crate::keys::KeyHome;
use crate::manifest::Manifest;
use crate::time;

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

/// Collects findings; the closure form keeps each check short.
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, severity: Severity, code: &'static str, subject: &str, message: String) {
        self.0.push(Finding {
            severity,
            code,
            subject: subject.to_owned(),
            message,
        });
    }
}

/// What the per-secret checks need to know about the vault.
struct Context<'a> {
    manifest: &'a Manifest,
    owners: Vec<String>,
    agent_keys: BTreeMap<String, String>,
    registered: BTreeSet<String>,
    now: DateTime<Utc>,
    soon: chrono::Duration,
    /// The vault has no signature (made by agent-vault 0.1.0 or by hand).
    unsigned: bool,
}

/// Runs every check over a snapshot of the whole vault (its secrets loaded). `soon` is how far
/// ahead expiry counts as "soon". Needs no key.
pub fn run(
    snapshot: &Snapshot<'_>,
    home: &KeyHome,
    now: DateTime<Utc>,
    soon: chrono::Duration,
) -> Vec<Finding> {
    let mut findings = Findings(Vec::new());
    if let Err(e) = snapshot.config() {
        findings.add(Severity::Error, "unparsable", CONFIG_PATH, e.to_string());
    }
    let manifest = match snapshot.manifest() {
        Ok(m) => m,
        Err(e) => {
            findings.add(Severity::Error, "unparsable", MANIFEST_PATH, e.to_string());
            check_local_files(home, &mut findings);
            return sorted(findings);
        }
    };
    let owners = match snapshot.owner_recipients(&manifest) {
        Ok(o) => o.iter().map(ToString::to_string).collect(),
        Err(e) => {
            findings.add(Severity::Error, "unparsable", "owner.pub", e.to_string());
            Vec::new()
        }
    };
    let registered: BTreeSet<String> = manifest.agents().iter().map(|a| a.name.clone()).collect();
    let agent_keys = check_agents(snapshot, &manifest, &mut findings);
    let context = Context {
        manifest: &manifest,
        owners,
        agent_keys,
        registered,
        now,
        soon,
        unsigned: snapshot.statement().is_none(),
    };
    let empty = BTreeMap::new();
    let all = snapshot.all_secrets().unwrap_or(&empty);
    let with_access = check_listed_secrets(all, &context, &mut findings);
    check_orphans(snapshot, all, &context, &mut findings);
    for agent in &context.registered {
        if !with_access.contains(agent) {
            findings.add(
                Severity::Warning,
                "no-access",
                agent,
                format!(
                    "agent '{agent}' cannot read any secret; `agent-vault grant {agent} <group>` or `agent-vault remove-agent {agent}`"
                ),
            );
        }
    }
    check_local_files(home, &mut findings);
    sorted(findings)
}

fn sorted(findings: Findings) -> Vec<Finding> {
    let mut findings = findings.0;
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.subject.cmp(&b.subject)));
    findings
}

/// Agent names, granted group names and public keys; returns the parsed keys.
fn check_agents(
    snapshot: &Snapshot<'_>,
    manifest: &Manifest,
    findings: &mut Findings,
) -> BTreeMap<String, String> {
    let mut agent_keys = BTreeMap::new();
    for agent in manifest.agents() {
        let key_path = format::agent_public_key_path(&agent.name);
        match snapshot.agent_recipient(&agent.name) {
            Ok(Some(r)) => {
                agent_keys.insert(agent.name.clone(), r.to_string());
            }
            Ok(None) => findings.add(
                Severity::Error,
                "missing-file",
                &key_path,
                format!(
                    "agent '{}' has no public key; restore it from git history or remove the agent",
                    agent.name
                ),
            ),
            Err(e) => findings.add(Severity::Error, "unparsable", &key_path, e.to_string()),
        }
    }
    agent_keys
}

/// The secrets the manifest lists: files present, metadata parsable and consistent. Returns
/// the agents that can read at least one secret.
fn check_listed_secrets(
    all: &BTreeMap<String, SecretFiles>,
    context: &Context<'_>,
    findings: &mut Findings,
) -> BTreeSet<String> {
    let manifest = context.manifest;
    let mut with_access: BTreeSet<String> = manifest
        .agents()
        .iter()
        .filter(|a| {
            a.groups
                .iter()
                .any(|g| !manifest.group_secrets(g).is_empty())
        })
        .map(|a| a.name.clone())
        .collect();
    for (path, group) in &manifest.all_secrets() {
        let enc_path = format::secret_enc_path(path);
        let files = all.get(path.as_str()).cloned().unwrap_or_default();
        match &files.enc {
            Some(bytes) if !crypto::looks_like_age(bytes) => findings.add(
                Severity::Error,
                "unparsable",
                &enc_path,
                "not an age ciphertext; restore it from git history or set the secret again".into(),
            ),
            Some(_) => {}
            None => findings.add(
                Severity::Error,
                "missing-file",
                path,
                format!(
                    "the manifest lists '{path}' but {enc_path} is missing; set it again or `agent-vault rm {path}`"
                ),
            ),
        }
        let meta_path = format::secret_meta_path(path);
        let meta = match files
            .meta
            .as_deref()
            .map(|b| SecretMetaFile::parse(&meta_path, b))
        {
            Some(Ok(meta)) => meta,
            Some(Err(e)) => {
                findings.add(Severity::Error, "unparsable", &meta_path, e.to_string());
                continue;
            }
            None => {
                findings.add(
                    Severity::Error,
                    "missing-file",
                    path,
                    format!("metadata {meta_path} is missing; set the secret again"),
                );
                continue;
            }
        };
        check_meta(path, group, &meta, context, findings);
        with_access.extend(meta.extra_agents.iter().cloned());
    }
    with_access
}

/// Files nobody lists: secrets outside the manifest, folders of unregistered agents.
fn check_orphans(
    snapshot: &Snapshot<'_>,
    all: &BTreeMap<String, SecretFiles>,
    context: &Context<'_>,
    findings: &mut Findings,
) {
    let listed: BTreeSet<String> = context
        .manifest
        .all_secrets()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for (secret, files) in all {
        if listed.contains(secret) {
            continue;
        }
        let what = if files.meta.is_some() {
            format::secret_meta_path(secret)
        } else {
            format::secret_enc_path(secret)
        };
        findings.add(
            Severity::Warning,
            "orphaned",
            secret,
            format!("{what} is not listed in the manifest; `agent-vault set {secret}` to adopt it or delete the files"),
        );
    }
    for name in snapshot.policy_files().keys() {
        let Some(agent) = name
            .strip_prefix("agents/")
            .and_then(|r| r.split('/').next())
        else {
            continue;
        };
        if !context.registered.contains(agent) {
            findings.add(
                Severity::Warning,
                "orphaned",
                &format!("{AGENTS_DIR}/{}", escape(agent)),
                format!(
                    "agent '{}' is not in the manifest; delete {AGENTS_DIR}/{}/ or add the agent again",
                    escape(agent),
                    escape(agent)
                ),
            );
        }
    }
}

/// One secret's metadata against the manifest, the keys and the clock.
fn check_meta(
    path: &str,
    group: &str,
    meta: &SecretMetaFile,
    context: &Context<'_>,
    findings: &mut Findings,
) {
    if meta.name != path {
        findings.add(
            Severity::Error,
            "disagreement",
            path,
            format!(
                "its metadata names it '{}'; set the secret again",
                escape(&meta.name)
            ),
        );
    }
    if meta.group != group {
        findings.add(
            Severity::Error,
            "disagreement",
            path,
            format!(
                "the manifest lists it in group '{group}' but its metadata says '{}'; set it again with --group",
                escape(&meta.group)
            ),
        );
    }
    check_expiry(path, meta, context, findings);
    if let Some(expected) = check_agents_of(path, group, meta, context, findings) {
        check_fingerprint(path, meta, &expected, context, findings);
    }
}

/// Expired, soon expiring, or an expiry that is not a date.
fn check_expiry(path: &str, meta: &SecretMetaFile, context: &Context<'_>, findings: &mut Findings) {
    match meta.expires.as_deref().map(|e| (e, time::parse_stored(e))) {
        Some((raw, None)) => findings.add(
            Severity::Error,
            "unparsable",
            path,
            format!(
                "expiry '{}' is not a date; set it again with --expires",
                escape(raw)
            ),
        ),
        Some((_, Some(t))) if t <= context.now => findings.add(
            Severity::Error,
            "expired",
            path,
            format!(
                "expired on {}; rotate it: `agent-vault set {path} --expires …`",
                time::format(t)
            ),
        ),
        Some((_, Some(t))) if t <= context.now + context.soon => findings.add(
            Severity::Warning,
            "expiring",
            path,
            format!("expires on {}; rotate it soon", time::format(t)),
        ),
        _ => {}
    }
}

/// The agents a secret is encrypted to against those the manifest grants; returns the
/// expected set when they agree.
fn check_agents_of(
    path: &str,
    group: &str,
    meta: &SecretMetaFile,
    context: &Context<'_>,
    findings: &mut Findings,
) -> Option<BTreeSet<String>> {
    let registered = &context.registered;
    for extra in &meta.extra_agents {
        if !registered.contains(extra) {
            findings.add(
                Severity::Error,
                "disagreement",
                path,
                format!(
                    "extra agent '{}' is not registered; set the secret again with --agents",
                    escape(extra)
                ),
            );
        }
    }
    let mut expected: BTreeSet<String> = context
        .manifest
        .agents_in_group(group)
        .into_iter()
        .collect();
    expected.extend(
        meta.extra_agents
            .iter()
            .filter(|a| registered.contains(*a))
            .cloned(),
    );
    let recorded: BTreeSet<String> = meta.authorized_agents.iter().cloned().collect();
    if expected == recorded {
        return Some(expected);
    }
    // agent-vault 0.1.0's `set --agents` added agents to `authorized_agents` without recording
    // them as extra: in an unsigned vault that is history, not drift (`sign` records them).
    let legacy_extras: BTreeSet<String> = recorded.difference(&expected).cloned().collect();
    if context.unsigned
        && meta.extra_agents.is_empty()
        && expected.is_subset(&recorded)
        && legacy_extras.iter().all(|a| registered.contains(a))
    {
        findings.add(
            Severity::Warning,
            "legacy-extra-agents",
            path,
            format!(
                "encrypted for [{}] beyond its group, as agent-vault 0.1.0's `set --agents` did; `agent-vault sign` records them as extra agents",
                legacy_extras.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        return Some(recorded);
    }
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
    findings.add(
        Severity::Error,
        "disagreement",
        path,
        format!(
            "encrypted for agents [{}] but the manifest grants [{}]; run `agent-vault grant`/`revoke` for the group, or set the secret again",
            list(&recorded),
            list(&expected)
        ),
    );
    None
}

/// The recorded recipient fingerprint against the keys the manifest and public keys name.
fn check_fingerprint(
    path: &str,
    meta: &SecretMetaFile,
    expected: &BTreeSet<String>,
    context: &Context<'_>,
    findings: &mut Findings,
) {
    if context.owners.is_empty() {
        return;
    }
    let mut recipients: Vec<String> = context.owners.clone();
    recipients.extend(
        expected
            .iter()
            .filter_map(|a| context.agent_keys.get(a).cloned()),
    );
    let fingerprint = crypto::recipients_fingerprint(&recipients);
    match &meta.recipients {
        None => findings.add(Severity::Warning, "no-fingerprint", path, "no recipient fingerprint recorded (written by an older tool), so key drift cannot be checked; `agent-vault set` of this secret (or any grant or revoke that changes who can read it) records one".into()),
        Some(recorded) if *recorded != fingerprint => findings.add(Severity::Error, "recipient-drift", path, "its ciphertext was made for a different set of keys than the manifest and public keys name; set it again or re-run the grant".into()),
        Some(_) => {}
    }
}

/// Key files, the key home and its `agents/` folder, and `pins.json` must be private to
/// this user: others who can read a key read secrets; others who can write the home or the
/// pins can swap keys or reset what this machine trusts.
pub fn local_files(home: &KeyHome) -> Vec<Finding> {
    let mut findings = Findings(Vec::new());
    check_local_files(home, &mut findings);
    findings.0
}

fn check_local_files(home: &KeyHome, findings: &mut Findings) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut keys = vec![home.owner_key_path()];
        // Agent keys: `agents/NAME.key`, `agents/<vault id>/NAME.key`, and keys moved aside
        // (`NAME.key.removed-…`), which still decrypt old ciphertexts.
        let agents = home.root().join("agents");
        let mut folders = vec![agents.clone()];
        if let Ok(entries) = std::fs::read_dir(&agents) {
            folders.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        for folder in &folders {
            if let Ok(entries) = std::fs::read_dir(folder) {
                keys.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.contains(".key"))
                }));
            }
        }
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .ok()
                .map(|m| m.permissions().mode() & 0o777)
        };
        for file in keys {
            if let Some(mode) = mode(&file)
                && mode & 0o077 != 0
            {
                findings.add(
                    Severity::Error,
                    "key-permissions",
                    &file.display().to_string(),
                    format!(
                        "key file is readable by others (mode {mode:o}); run `chmod 600 {}`",
                        shell_quote(&file)
                    ),
                );
            }
        }
        let pins = home.root().join("pins.json");
        let mut shared = vec![home.root().to_path_buf(), pins];
        shared.extend(folders);
        for path in shared {
            if let Some(mode) = mode(&path)
                && mode & 0o022 != 0
            {
                findings.add(
                    Severity::Error,
                    "home-permissions",
                    &path.display().to_string(),
                    format!(
                        "others can write it (mode {mode:o}), so they could swap keys or reset which vault keys this machine trusts; run `chmod go-w {}`",
                        shell_quote(&path)
                    ),
                );
            } else if let Some(mode) = mode(&path)
                && path.is_dir()
                && mode & 0o077 != 0
            {
                findings.add(
                    Severity::Warning,
                    "home-permissions",
                    &path.display().to_string(),
                    format!(
                        "others can list it (mode {mode:o}); run `chmod 700 {}`",
                        shell_quote(&path)
                    ),
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (home, findings);
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
