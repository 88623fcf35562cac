//! Identity and recipient files, where keys live on this machine, and which key a command
//! decrypts with.
//!
//! Keys live under `AGENT_VAULT_HOME` (default `~/.agent-vault`): `owner.key` and
//! `agents/<name>.key`, written 0600 in 0700 folders. Identity files use the `age-keygen`
//! format: `#` comment lines, blank lines and one or more `AGE-SECRET-KEY-1…` lines.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use age::x25519;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::fsutil::{self, CappedReadError};
use crate::names::AgentName;
use crate::{Error, Result};

/// Environment variable naming the folder that holds keys (read by the CLI).
pub const HOME_ENV: &str = "AGENT_VAULT_HOME";
/// Environment variable holding a key file's path or a raw `AGE-SECRET-KEY-…` (read by the CLI).
pub const KEY_ENV: &str = "AGENT_VAULT_KEY";
/// Environment variable holding the owner key (its file's path or its text) for owners without
/// `owner.key` in their key home, such as a CI job that rotates secrets (read by the CLI).
pub const OWNER_KEY_ENV: &str = "AGENT_VAULT_OWNER_KEY";

/// The largest identity file read (a path to `/dev/zero` is an error, not an endless read).
pub const MAX_KEY_FILE: u64 = 1 << 20;
const SECRET_KEY_PREFIX: &str = "AGE-SECRET-KEY-";

/// The folder holding this user's keys (`$AGENT_VAULT_HOME`, default `~/.agent-vault`), seen
/// from one vault: agent keys are kept per vault identity (`agents/<vault id>/NAME.key`), so
/// two vaults can each have a `deploy-bot`; the 0.1/0.2 place, `agents/NAME.key`, is still read.
#[derive(Debug, Clone)]
pub struct KeyHome {
    root: PathBuf,
    /// The identity of the vault at hand (32 hex characters), when it has one.
    vault: Option<String>,
    /// `AGENT_VAULT_OWNER_KEY`: when set, the owner key (instead of `owner.key`).
    owner_env: KeyEnv,
}

impl KeyHome {
    /// A key home at an explicit folder.
    pub fn at(root: PathBuf) -> Self {
        KeyHome {
            root,
            vault: None,
            owner_env: KeyEnv::Unset,
        }
    }

    /// This key home with the owner key given by `AGENT_VAULT_OWNER_KEY` (when `env` is set:
    /// never a fallback to `owner.key`, never written anywhere).
    pub fn with_owner_key(mut self, env: KeyEnv) -> Self {
        self.owner_env = env;
        self
    }

    /// Whether the owner key comes from `AGENT_VAULT_OWNER_KEY` rather than `owner.key`.
    pub fn owner_key_from_env(&self) -> bool {
        !matches!(self.owner_env, KeyEnv::Unset)
    }

    /// This key home, seen from the vault with identity `vault` (`None`: unsigned, or signed
    /// before vaults had identities).
    pub fn for_vault(mut self, vault: Option<String>) -> Self {
        self.vault = vault;
        self
    }

    /// The identity of the vault this key home is seen from.
    pub fn vault(&self) -> Option<&str> {
        self.vault.as_deref()
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the owner's identity lives.
    pub fn owner_key_path(&self) -> PathBuf {
        self.root.join("owner.key")
    }

    /// Where an agent's key for this vault is read from: `agents/<vault id>/NAME.key` when it
    /// exists, else `agents/NAME.key` (where agent-vault 0.2 kept every vault's agent keys),
    /// else the agent's key of another vault, if this machine has one (the first by folder
    /// name) — its verify-key and vault lines then say what is wrong: a key of another vault,
    /// or a vault whose statement was removed or replaced, rather than "key not found" — else
    /// where [`Self::new_agent_key_path`] would write it.
    pub fn agent_key_path(&self, agent: &AgentName) -> PathBuf {
        let per_vault = self.new_agent_key_path(agent);
        let legacy = self.legacy_agent_key_path(agent);
        if per_vault.exists() {
            return per_vault;
        }
        if legacy.exists() {
            return legacy;
        }
        let mut found: Vec<PathBuf> = fs::read_dir(self.root.join("agents"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path().join(format!("{agent}.key")))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.into_iter().next().unwrap_or(per_vault)
    }

    /// Where a new key of an agent of this vault is written: `agents/<vault id>/NAME.key`, or
    /// `agents/NAME.key` for a vault without an identity.
    pub fn new_agent_key_path(&self, agent: &AgentName) -> PathBuf {
        match &self.vault {
            Some(vault) => self
                .root
                .join("agents")
                .join(vault)
                .join(format!("{agent}.key")),
            None => self.legacy_agent_key_path(agent),
        }
    }

    /// The one place for every vault's agent keys before they were kept per vault.
    pub fn legacy_agent_key_path(&self, agent: &AgentName) -> PathBuf {
        self.root.join("agents").join(format!("{agent}.key"))
    }
}

/// The value of `AGENT_VAULT_KEY` (or `AGENT_VAULT_OWNER_KEY`) as the caller found it.
#[derive(Debug, Default, Clone)]
pub enum KeyEnv {
    /// Not set: the owner key is the fallback.
    #[default]
    Unset,
    /// Set (possibly to an empty string, which is an error when used, never a fallback).
    Set(SecretString),
    /// Set, but not valid UTF-8 (an error when used; the value is never shown).
    NotUnicode,
}

/// Which identity a reading command should use.
#[derive(Debug, Clone, Default)]
pub enum KeyChoice {
    /// `AGENT_VAULT_KEY` if set, else the owner key.
    #[default]
    Auto,
    /// An identity file given explicitly (`--key`).
    Path(PathBuf),
    /// An agent's identity at its default path (`--agent`).
    Agent(AgentName),
}

/// Identities loaded from one place, with a description of that place for messages.
pub struct Identities {
    /// The identities, in file order.
    pub identities: Vec<x25519::Identity>,
    /// Where they came from, e.g. `key file /home/me/.agent-vault/owner.key`.
    pub origin: String,
    /// The file's comment lines, without the leading `#` (never secret).
    pub comments: Vec<String>,
    /// Things the user should fix about the file (other users can read it).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("count", &self.identities.len())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// The recipients matching these identities.
    pub fn recipients(&self) -> Vec<x25519::Recipient> {
        self.identities.iter().map(|i| i.to_public()).collect()
    }

    /// Whether any identity here matches one of `recipients`.
    pub fn matches_any(&self, recipients: &[x25519::Recipient]) -> bool {
        let ours: Vec<String> = self.recipients().iter().map(|r| r.to_string()).collect();
        recipients.iter().any(|r| ours.contains(&r.to_string()))
    }

    /// The vault identities named by `# agent-vault vault: …` comments (written with the key
    /// of an agent of a vault that has one). Malformed ones are ignored.
    pub fn vault_comments(&self) -> Vec<String> {
        self.comments
            .iter()
            .filter_map(|c| c.strip_prefix(crate::integrity::VAULT_COMMENT))
            .map(|id| id.trim().to_owned())
            .filter(|id| crate::integrity::VaultId::parse(id).is_some())
            .collect()
    }

    /// The verify keys named by `# agent-vault verify-key: …` comments (one per vault the key
    /// is used with). A malformed one is invalid input.
    pub fn verify_key_comments(&self) -> Result<Vec<crate::integrity::VerifyKey>> {
        self.comments
            .iter()
            .filter_map(|c| c.strip_prefix(crate::integrity::KEY_FILE_COMMENT))
            .map(|key| key.trim().parse())
            .collect()
    }
}

/// Parses identity-file text. `origin` names the source in errors; the key itself is never
/// echoed, nor is any other line (it may be a mangled key).
pub fn parse_identities(text: &str, origin: &str) -> Result<Identities> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut identities = Vec::new();
    let mut comments = Vec::new();
    let bad = |reason: String| Error::BadKey {
        origin: origin.to_owned(),
        reason,
    };
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            comments.push(comment.trim().to_owned());
            continue;
        }
        let number = number + 1;
        if starts_with_key_prefix(line) {
            // Bech32 is case-insensitive: a key lowercased on the way (`tr A-Z a-z`, a
            // config system) is still the key.
            let upper = Zeroizing::new(line.to_ascii_uppercase());
            let identity = upper
                .parse::<x25519::Identity>()
                .map_err(|_| bad(format!("line {number} is not a valid age identity")))?;
            identities.push(identity);
        } else if line.starts_with("AGE-PLUGIN-") {
            return Err(bad(format!(
                "line {number} is an age plugin identity, which agent-vault does not support; use an X25519 key from age-keygen"
            )));
        } else if line.starts_with("-----BEGIN") || line.starts_with("ssh-") {
            return Err(bad(format!(
                "line {number} looks like an SSH or PEM key; agent-vault uses age X25519 keys (AGE-SECRET-KEY-1…, made by age-keygen or `agent-vault add-agent`)"
            )));
        } else {
            return Err(bad(format!(
                "line {number} is neither a comment nor an AGE-SECRET-KEY-1… identity"
            )));
        }
    }
    if identities.is_empty() {
        return Err(bad("it holds no AGE-SECRET-KEY-1… identity".into()));
    }
    Ok(Identities {
        identities,
        origin: origin.to_owned(),
        comments,
        warnings: Vec::new(),
    })
}

/// Whether `line` starts with `AGE-SECRET-KEY-`, in either case.
fn starts_with_key_prefix(line: &str) -> bool {
    line.get(..SECRET_KEY_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SECRET_KEY_PREFIX))
}

/// Reads an identity file (at most [`MAX_KEY_FILE`] bytes). A missing file is
/// [`Error::KeyNotFound`], never a fallback; `hint` says what to do about it.
pub fn read_identity_file(path: &Path, hint: &str) -> Result<Identities> {
    let origin = format!("key file {}", path.display());
    let text = match fsutil::read_capped(path, MAX_KEY_FILE) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(CappedReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::KeyNotFound(format!(
                "{} does not exist; {hint}",
                path.display()
            )));
        }
        Err(CappedReadError::Io(e)) => {
            return Err(Error::io(
                format!("cannot read key file {}", path.display()),
                e,
            ));
        }
        Err(CappedReadError::TooLarge) => {
            return Err(Error::BadKey {
                origin,
                reason: "it is larger than 1 MiB, so it is not a key file".into(),
            });
        }
    };
    let text = std::str::from_utf8(&text).map_err(|_| Error::BadKey {
        origin: origin.clone(),
        reason: "it is not UTF-8 text".into(),
    })?;
    let mut identities = parse_identities(text, &origin)?;
    identities.warnings.extend(exposed_warning(path));
    Ok(identities)
}

/// A warning when other users may read the key file at `path` (any group or other bit).
fn exposed_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then(|| {
            format!(
                "key file {} can be read by other users (mode {mode:o}); run `chmod 600 {0}`",
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Loads the identities a reading command should use: `choice`, where `Auto` means the key
/// the environment names (`key_env`), else the owner key.
pub fn load(choice: &KeyChoice, home: &KeyHome, key_env: &KeyEnv) -> Result<Identities> {
    match choice {
        KeyChoice::Path(path) => read_identity_file(path, "check the --key path"),
        KeyChoice::Agent(agent) => load_agent(home, agent),
        KeyChoice::Auto => match key_env {
            KeyEnv::Unset => load_owner(home),
            set => load_env(set, KEY_ENV),
        },
    }
}

/// Loads an agent's key for the vault `home` is seen from ([`KeyHome::agent_key_path`]).
fn load_agent(home: &KeyHome, agent: &AgentName) -> Result<Identities> {
    let expected = home.new_agent_key_path(agent);
    read_identity_file(
        &home.agent_key_path(agent),
        &format!(
            "this machine has no key of agent '{agent}' (keys are looked up in {}); pass --key FILE, set {KEY_ENV}, or have the vault's owner run `agent-vault restore-agent {agent} --to {}`",
            home.root().display(),
            expected.display()
        ),
    )
}

/// Loads the identities a set key variable (`var`) names. Never echoes the value.
fn load_env(env: &KeyEnv, var: &str) -> Result<Identities> {
    match env {
        KeyEnv::Set(value) => load_key_env(value.expose_secret(), var),
        _ => Err(Error::KeyNotFound(format!(
            "{var} is set but is not valid UTF-8, so it is neither a key file's path agent-vault can use nor key text (its value is not shown, in case it is a secret)"
        ))),
    }
}

/// Loads the identities named by an `AGENT_VAULT_KEY` (or `AGENT_VAULT_OWNER_KEY`, `var`)
/// value: identity text when a line starts with `AGE-SECRET-KEY-` (any case), else a key
/// file's path. Never echoes the value.
fn load_key_env(value: &str, var: &str) -> Result<Identities> {
    // Identity text, also a whole key file with its `#` comments (as in
    // `AGENT_VAULT_KEY="$(cat bot.key)"`); never treated, or echoed, as a path.
    if value
        .lines()
        .any(|l| starts_with_key_prefix(l.trim_start()))
    {
        return parse_identities(value, &format!("the key in {var}"));
    }
    if value.trim().is_empty() {
        return Err(Error::KeyNotFound(format!(
            "{var} is set but empty (a CI secret that is not defined?); set it to a key file's path or to the key itself, or unset it"
        )));
    }
    let path = Path::new(value.trim());
    if value.contains(['\n', '\r'])
        || value.to_ascii_uppercase().contains(SECRET_KEY_PREFIX)
        || !path.exists()
    {
        let hint = if value.starts_with('~') || value.starts_with(['\'', '"']) {
            " (it starts with `~` or a quote: the shell did not expand it; write the full path)"
        } else {
            ""
        };
        // Not an existing file, and maybe key material (mangled, or a whole key file): the
        // error must not echo the value.
        return Err(Error::KeyNotFound(format!(
            "{var} is set ({} characters) but is neither an existing key file's path nor age identity text{hint}; set it to a key file's path or to the key itself (its value is not shown, in case it is a secret)",
            value.chars().count()
        )));
    }
    read_identity_file(
        path,
        &format!("{var} names a key file that is missing; fix or unset it"),
    )
}

/// Loads the owner's identity: `AGENT_VAULT_OWNER_KEY` when set, else `owner.key` of the key
/// home.
pub fn load_owner(home: &KeyHome) -> Result<Identities> {
    if home.owner_key_from_env() {
        return load_env(&home.owner_env, OWNER_KEY_ENV);
    }
    read_identity_file(&home.owner_key_path(), "this machine has no owner key")
}

/// A freshly generated identity and the text of its key file.
pub struct GeneratedKey {
    /// The identity.
    pub identity: x25519::Identity,
    /// Its public half.
    pub recipient: x25519::Recipient,
    /// The identity file text (comments plus the secret key line).
    pub file_text: Zeroizing<String>,
}

/// Generates a new X25519 identity with an `age-keygen`-style file text.
/// `header` lines are written as comments first.
pub fn generate(header: &[String]) -> GeneratedKey {
    let identity = x25519::Identity::generate();
    let recipient = identity.to_public();
    let mut text = Zeroizing::new(String::new());
    for line in header {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!(
        "# created: {}\n",
        crate::time::format(crate::time::now())
    ));
    text.push_str(&format!("# public key: {recipient}\n"));
    text.push_str(identity.to_string().expose_secret());
    text.push('\n');
    GeneratedKey {
        identity,
        recipient,
        file_text: text,
    }
}

/// Writes a key file with mode 0600, creating missing parent folders with mode 0700.
/// Never overwrites: an existing file is [`Error::AlreadyExists`].
pub fn write_key_file(path: &Path, contents: &[u8], hint: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsutil::create_private_dir(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::AlreadyExists {
                what: format!("key file {}", path.display()),
                hint: hint.to_owned(),
            });
        }
        Err(e) => {
            return Err(Error::io(
                format!("cannot create key file {}", path.display()),
                e,
            ));
        }
    };
    let written = file.write_all(contents).and_then(|_| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(Error::io(
            format!("cannot write key file {}", path.display()),
            e,
        ));
    }
    Ok(())
}

/// Parses one `age1…` recipient.
pub fn parse_recipient(text: &str, origin: &str) -> Result<x25519::Recipient> {
    text.trim()
        .parse::<x25519::Recipient>()
        .map_err(|_| Error::BadKey {
            origin: origin.to_owned(),
            reason: "not a valid age X25519 recipient (age1…)".into(),
        })
}

/// Parses a recipients file: one `age1…` per line, `#` comments and blank lines allowed.
pub fn parse_recipients_file(text: &str, origin: &str) -> Result<Vec<x25519::Recipient>> {
    let recipients = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| parse_recipient(l, origin))
        .collect::<Result<Vec<_>>>()?;
    if recipients.is_empty() {
        return Err(Error::BadKey {
            origin: origin.to_owned(),
            reason: "it holds no age1… recipient".into(),
        });
    }
    Ok(recipients)
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
