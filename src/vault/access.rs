//! Who reads which group: `grant` and `revoke`, each re-encrypting exactly the group's
//! secrets whose recipients change.

use super::{Outcome, Vault};
use crate::git::CommitMessage;
use crate::names::{AgentName, GroupName};
use crate::{Error, Result};

impl Vault {
    /// Grants a group to an agent and re-encrypts the group's secrets for it.
    pub fn grant(&self, name: &AgentName, group: &GroupName) -> Result<Outcome> {
        let mut change = self.begin()?;
        if change.manifest.agent(name.as_str()).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        let mut notes = Vec::new();
        if !change.manifest.has_group(group.as_str()) {
            notes.push(format!(
                "group '{group}' has no secrets yet; secrets set in it later will be readable by '{name}'"
            ));
        }
        if !change.manifest.grant(name.as_str(), group.as_str()) {
            return Ok(Outcome::unchanged(format!(
                "agent '{name}' already has access to group '{group}'; nothing changed"
            )));
        }
        change.put_manifest();
        let secrets = change.manifest.group_secrets(group.as_str());
        change.reencrypt(&secrets, None)?;
        let message = CommitMessage::new("grant", format!("grant {name} access to {group}"))
            .trailer("Agent", name)
            .trailer("Group", group);
        let mut outcome = change.commit(message)?;
        outcome.notes.splice(0..0, notes);
        Ok(outcome)
    }

    /// Revokes a group from an agent and re-encrypts the group's secrets without it.
    pub fn revoke(&self, name: &AgentName, group: &GroupName) -> Result<Outcome> {
        let mut change = self.begin()?;
        if change.manifest.agent(name.as_str()).is_none() {
            return Err(Error::AgentNotFound(name.to_string()));
        }
        if !change.manifest.revoke(name.as_str(), group.as_str()) {
            return Ok(Outcome::unchanged(format!(
                "agent '{name}' has no access to group '{group}'; nothing changed"
            )));
        }
        change.put_manifest();
        let secrets = change.manifest.group_secrets(group.as_str());
        change.reencrypt(&secrets, None)?;
        // Secrets it still reads as an extra agent were not taken away.
        let mut rotate = Vec::new();
        for path in &secrets {
            let still = change
                .staged_meta(path)?
                .is_some_and(|m| m.authorized_agents.iter().any(|a| a == name.as_str()));
            if !still {
                rotate.push(path.clone());
            }
        }
        let message = CommitMessage::new("revoke", format!("revoke {name} access to {group}"))
            .trailer("Agent", name)
            .trailer("Group", group);
        let mut outcome = change.commit(message)?;
        outcome.rotate = rotate;
        Ok(outcome)
    }
}
