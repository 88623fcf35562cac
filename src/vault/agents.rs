//! Agents: `add-agent`, `remove-agent`, `recover-agent` (a new key after a loss or leak) and
//! `restore-agent` (the current key, from escrow).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretSlice};

use super::read::decrypt;
use super::snapshot::{Snapshot, rel};
use super::{AddAgentOutcome, Outcome, Vault};
use crate::format::{agent_escrow_path, agent_public_key_path};
use crate::git::CommitMessage;
use crate::keys::{self, Identities};
use crate::names::AgentName;
use crate::{Error, Result, crypto};

impl Vault {
    /// Registers an agent: generates its key (written to `key_out` or its default path, and
    /// escrowed to the owner) or records a public key made elsewhere.
    pub fn add_agent(
        &self,
        name: &AgentName,
        key_out: Option<&Path>,
        public_key: Option<&str>,
    ) -> Result<AddAgentOutcome> {
        let mut change = self.begin()?;
        if change.manifest.agent(name.as_str()).is_some() {
            return Err(Error::AlreadyExists {
                what: format!("agent '{name}'"),
                hint: "pick another name, or `agent-vault recover-agent` to give it a new key"
                    .into(),
            });
        }
        let mut written_key = None;
        let recipient = match public_key {
            Some(text) => keys::parse_recipient(text, "--public-key")?,
            None => {
                let key_path = key_out
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| self.home().new_agent_key_path(name));
                let key = keys::generate(&change.key_file_header(name));
                let escrow = crypto::encrypt(key.file_text.as_bytes(), &change.owners)?;
                keys::write_key_file(
                    &key_path,
                    key.file_text.as_bytes(),
                    "choose another path with --key-out, or remove the old file if it is no longer needed",
                )?;
                written_key = Some(key_path);
                change.files.put(agent_escrow_path(name.as_str()), escrow);
                key.recipient
            }
        };
        change.files.put(
            agent_public_key_path(name.as_str()),
            format!("{recipient}\n").into_bytes(),
        );
        change.manifest.add_agent(name.as_str());
        change.put_manifest();
        let message =
            CommitMessage::new("add-agent", format!("add agent {name}")).trailer("Agent", name);
        let verify_key = change.signing.as_ref().map(|(s, _)| s.verify_key);
        match change.commit(message) {
            Ok(outcome) => Ok(AddAgentOutcome {
                public_key: recipient.to_string(),
                key_path: written_key,
                commit: outcome.commit,
                verify_key,
            }),
            Err(e) => {
                if let Some(path) = written_key {
                    let _ = std::fs::remove_file(path);
                }
                Err(e)
            }
        }
    }

    /// Removes an agent and re-encrypts every secret it could read without its key.
    pub fn remove_agent(&self, name: &AgentName) -> Result<Outcome> {
        let mut change = self.begin()?;
        let agent = name.as_str();
        let Some(groups) = change.manifest.remove_agent(agent) else {
            return Err(Error::AgentNotFound(name.to_string()));
        };
        // Every secret whose ciphertext may include the agent: its groups, and any secret
        // naming it as an extra or authorized agent.
        let mut affected: BTreeSet<String> = groups
            .iter()
            .flat_map(|g| change.manifest.group_secrets(g))
            .collect();
        for (path, _) in change.manifest.all_secrets() {
            if affected.contains(&path) {
                continue;
            }
            if let Some(meta) = change.read_meta(&path)?
                && meta
                    .authorized_agents
                    .iter()
                    .chain(&meta.extra_agents)
                    .any(|a| a == agent)
            {
                affected.insert(path);
            }
        }
        let old_key = change.snapshot.agent_recipient(agent).ok().flatten();
        change.files.delete(agent_public_key_path(agent));
        change.files.delete(agent_escrow_path(agent));
        change.put_manifest();
        let affected: Vec<String> = affected.into_iter().collect();
        change.reencrypt(&affected, Some(agent))?;
        let message = CommitMessage::new("remove-agent", format!("remove agent {name}"))
            .trailer("Agent", name);
        let mut outcome = change.commit(message)?;
        outcome.rotate = affected;
        if let Some(old_key) = old_key {
            outcome
                .notes
                .extend(self.retire_key_files(name, &old_key, "removed").0);
        }
        Ok(outcome)
    }

    /// Gives an agent a new key (after its key was lost or exposed), escrows it, and
    /// re-encrypts every secret it reads for the new key.
    pub fn recover_agent(
        &self,
        name: &AgentName,
        key_out: Option<&Path>,
    ) -> Result<(Outcome, PathBuf)> {
        let mut change = self.begin()?;
        let agent = name.as_str();
        if change.manifest.agent(agent).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        // Opening the escrow proves the old key was ours to recover.
        open_escrow(&change.snapshot, name, &change.owner)?;
        let old_key = change.snapshot.agent_recipient(agent).ok().flatten();
        let key_path = key_out
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.home().new_agent_key_path(name));
        let key = keys::generate(&change.key_file_header(name));
        let escrow = crypto::encrypt(key.file_text.as_bytes(), &change.owners)?;
        change.files.put(agent_escrow_path(agent), escrow);
        change.files.put(
            agent_public_key_path(agent),
            format!("{}\n", key.recipient).into_bytes(),
        );
        change
            .agent_keys
            .insert(agent.to_owned(), key.recipient.clone());
        let mut affected = Vec::new();
        for (path, _) in change.manifest.all_secrets() {
            if let Some(meta) = change.read_meta(&path)?
                && meta.authorized_agents.iter().any(|a| a == agent)
            {
                affected.push(path);
            }
        }
        change.reencrypt_forced(&affected)?;
        // The new key goes where the old one was read from: move the old one aside first (and
        // back if this fails).
        let (notes, moved) = match (&old_key, key_out) {
            (Some(old_key), None) => self.retire_key_files(name, old_key, "replaced"),
            _ => (Vec::new(), Vec::new()),
        };
        let undo = |moved: &[(PathBuf, PathBuf)]| {
            for (from, to) in moved {
                let _ = std::fs::rename(to, from);
            }
        };
        if let Err(e) = keys::write_key_file(
            &key_path,
            key.file_text.as_bytes(),
            "move the old key file away first (it is replaced by this recovery), or choose another path with --key-out",
        ) {
            undo(&moved);
            return Err(e);
        }
        let message = CommitMessage::new("recover-agent", format!("give agent {name} a new key"))
            .trailer("Agent", name);
        match change.commit(message) {
            Ok(mut outcome) => {
                outcome.rotate = affected;
                outcome.notes.extend(notes);
                Ok((outcome, key_path))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&key_path);
                undo(&moved);
                Err(e)
            }
        }
    }

    /// Writes an agent's current key, from escrow, to a new file at `to`.
    pub fn restore_agent(&self, name: &AgentName, to: &Path) -> Result<()> {
        let owner = keys::load_owner(self.home())?;
        let view = self.open_for_owner(&owner)?;
        let manifest = view.snapshot.manifest()?;
        if manifest.agent(name.as_str()).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        let owners = view.snapshot.owner_recipients(&manifest)?;
        if !owner.matches_any(&owners) {
            return Err(super::change::not_owner(&owner, &owners));
        }
        let key = open_escrow(&view.snapshot, name, &owner)?;
        keys::write_key_file(
            to,
            key.expose_secret(),
            "choose a path that does not exist yet",
        )
    }
}

impl Vault {
    /// Moves this vault's key files of agent `name` on this machine — those holding `key` —
    /// aside to `NAME.key.<why>-<time>` in the same folder: a key is never silently destroyed,
    /// and the default path is free for a new key. Returns what was done, for the user, and
    /// the moves made (from, to).
    fn retire_key_files(
        &self,
        name: &AgentName,
        key: &age::x25519::Recipient,
        why: &str,
    ) -> (Vec<String>, Vec<(PathBuf, PathBuf)>) {
        let home = self.home();
        let mut paths = vec![home.new_agent_key_path(name)];
        paths.push(home.legacy_agent_key_path(name));
        paths.dedup();
        let stamp = crate::time::now().format("%Y%m%dT%H%M%SZ");
        let mut notes = Vec::new();
        let mut moved = Vec::new();
        for path in paths {
            let Ok(ids) = keys::read_identity_file(&path, "") else {
                continue;
            };
            if !ids.matches_any(std::slice::from_ref(key)) {
                continue; // another vault's agent of the same name
            }
            let aside = path.with_file_name(format!("{name}.key.{why}-{stamp}"));
            notes.push(match std::fs::rename(&path, &aside) {
                Ok(()) => {
                    let note = format!(
                        "moved the key file of '{name}' to {}: it still decrypts the old ciphertexts in git history, so delete it (`rm {0}`) unless you need it",
                        aside.display()
                    );
                    moved.push((path, aside));
                    note
                }
                Err(e) => format!(
                    "the key file of '{name}' is still at {} ({e} when moving it aside); delete it unless you need it",
                    path.display()
                ),
            });
        }
        (notes, moved)
    }
}

/// Decrypts an agent's escrowed key file with the owner's identity.
fn open_escrow(
    snapshot: &Snapshot<'_>,
    name: &AgentName,
    owner: &Identities,
) -> Result<SecretSlice<u8>> {
    let path = agent_escrow_path(name.as_str());
    let Some(escrow) = snapshot.policy_file(rel(&path)) else {
        return Err(Error::KeyNotFound(format!(
            "agent '{name}' has no escrowed key (it was registered with --public-key); its key exists only where it was made. Use `agent-vault remove-agent {name}` and `add-agent` to replace it"
        )));
    };
    decrypt(&path, escrow, owner, &format!("escrow of agent {name}"))
}
