//! What `run`, `export` and `inject` share: which key reads (`--key`, `--agent`, the
//! environment, the owner key), how the state is read (`--offline`, `--verify-key`), which
//! secrets (`--group`, `--secret PATH[=NAME]`), and how they become variables.

use std::path::PathBuf;
use std::str::FromStr;

use agent_vault::environ::{Binding, EnvName, NameSource, check_collisions};
use agent_vault::keys::KeyChoice;
use agent_vault::names::{AgentName, GroupName, SecretPath};
use agent_vault::vault::{Bulk, ReadOptions, Selection, Vault};

use super::{falsey, output};

/// The key and the state to read with, as `get` takes them.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Decrypt with this identity file.
    #[arg(long, value_name = "FILE", conflicts_with = "agent")]
    key: Option<PathBuf>,
    /// Decrypt with this agent's key of this vault, $AGENT_VAULT_HOME/agents/<vault id>/NAME.key
    /// (or agents/NAME.key, where agent-vault 0.2 kept it).
    #[arg(long, value_name = "NAME", add = super::complete::agents())]
    agent: Option<AgentName>,
    /// Do not fetch the upstream branch first.
    #[arg(long, env = "AGENT_VAULT_OFFLINE", value_parser = falsey())]
    offline: bool,
    /// The vault's verify key (ed25519:…), as printed by `agent-vault verify`; default:
    /// AGENT_VAULT_VERIFY_KEY, the key file's `# agent-vault verify-key:` line, or the key
    /// pinned on first use.
    #[arg(long, value_name = "KEY")]
    verify_key: Option<agent_vault::integrity::VerifyKey>,
}

/// `--secret PATH[=NAME]`.
#[derive(Debug, Clone)]
pub struct SecretArg {
    pub path: SecretPath,
    pub name: Option<EnvName>,
}

impl FromStr for SecretArg {
    type Err = agent_vault::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (path, name) = match s.split_once('=') {
            Some((path, name)) => (path, Some(EnvName::parse(name)?)),
            None => (s, None),
        };
        Ok(SecretArg {
            path: SecretPath::parse(path)?,
            name,
        })
    }
}

/// Which secrets: whole groups and single secrets.
#[derive(Debug, clap::Args)]
pub struct SelectArgs {
    /// Every secret of this group (repeatable).
    #[arg(long = "group", value_name = "GROUP", add = super::complete::groups())]
    pub groups: Vec<GroupName>,
    /// This secret, as variable NAME if given (repeatable).
    #[arg(long = "secret", value_name = "PATH[=NAME]", add = super::complete::secrets())]
    pub secrets: Vec<SecretArg>,
}

impl SelectArgs {
    /// The selection, with `extra` secrets (references) added.
    pub fn selection(&self, extra: impl IntoIterator<Item = SecretPath>) -> Selection {
        let mut secrets: Vec<SecretPath> = self.secrets.iter().map(|s| s.path.clone()).collect();
        secrets.extend(extra);
        Selection {
            groups: self.groups.clone(),
            secrets,
        }
    }

    /// The variables the secrets read become: explicit names, then for secrets selected by
    /// group or by `--secret PATH` their recorded or derived name, plus the `references`
    /// (variable → secret). Two secrets for one variable is an error naming both.
    pub fn bindings(
        &self,
        bulk: &Bulk,
        references: &[(EnvName, SecretPath)],
    ) -> anyhow::Result<Vec<Binding>> {
        let mut bindings = Vec::new();
        for arg in &self.secrets {
            if let Some(name) = &arg.name {
                bindings.push(Binding {
                    name: name.clone(),
                    path: arg.path.clone(),
                    source: NameSource::Explicit,
                });
            }
        }
        for secret in &bulk.secrets {
            let unnamed = self
                .secrets
                .iter()
                .any(|a| a.path == secret.path && a.name.is_none());
            let named = self
                .secrets
                .iter()
                .any(|a| a.path == secret.path && a.name.is_some());
            if unnamed || (secret.via_group && !named) {
                bindings.push(Binding::default_for(&secret.path, secret.env.as_deref())?);
            }
        }
        bindings.extend(references.iter().map(|(name, path)| Binding {
            name: name.clone(),
            path: path.clone(),
            source: NameSource::Reference,
        }));
        Ok(check_collisions(bindings)?)
    }
}

impl ReadArgs {
    /// The key to decrypt with.
    pub fn key(&self) -> KeyChoice {
        match (&self.key, &self.agent) {
            (Some(path), _) => KeyChoice::Path(path.clone()),
            (None, Some(agent)) => KeyChoice::Agent(agent.clone()),
            (None, None) => KeyChoice::Auto,
        }
    }

    /// How to read the state.
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            offline: self.offline,
            verify_key: self.verify_key,
        }
    }

    /// Reads the selection in one pass, printing the warnings.
    pub fn read(&self, vault: &Vault, selection: &Selection) -> anyhow::Result<Bulk> {
        let bulk = vault.get_many(selection, &self.key(), &self.options())?;
        for warning in &bulk.warnings {
            output::warn(warning);
        }
        Ok(bulk)
    }
}

/// The value of the secret at `path` in `bulk` (sorted by path; every bound secret was read).
pub fn value_of<'b>(bulk: &'b Bulk, path: &SecretPath) -> Option<&'b [u8]> {
    use secrecy::ExposeSecret;
    let i = bulk.secrets.binary_search_by(|s| s.path.cmp(path)).ok()?;
    Some(bulk.secrets[i].value.expose_secret())
}
