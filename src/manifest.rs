//! The access-control policy: which agents exist, which groups each is granted, and which
//! secrets each group holds. A thin domain layer over [`ManifestFile`].

use std::collections::BTreeSet;

use crate::format::{
    AgentEntry, Extra, FORMAT_VERSION, GroupEntry, MANIFEST_PATH, ManifestFile, OwnerEntry,
};
use crate::names::{AgentName, GroupName, SecretPath};
use crate::{Error, Result};

/// The parsed manifest with the operations the vault performs on it.
#[derive(Debug, Clone)]
pub struct Manifest {
    file: ManifestFile,
}

impl Manifest {
    /// The manifest of a new vault with one owner whose recipient is in `owner.pub`.
    pub fn new(owner_name: &str) -> Self {
        Manifest {
            file: ManifestFile {
                version: FORMAT_VERSION,
                owners: vec![OwnerEntry {
                    name: owner_name.to_owned(),
                    public_key: "owner.pub".into(),
                    extra: Extra::new(),
                }],
                agents: Vec::new(),
                groups: Vec::new(),
                extra: Extra::new(),
            },
        }
    }

    /// Parses `manifest.yaml` and validates every name in it: agent, group and secret names
    /// become file paths, so a hostile manifest must not be able to point outside the vault.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let file = ManifestFile::parse(bytes)?;
        let invalid = |e: Error| {
            Error::corrupt(
                MANIFEST_PATH,
                format!("{e}; fix the manifest or restore it from git history"),
            )
        };
        for agent in &file.agents {
            AgentName::parse(&agent.name).map_err(invalid)?;
            for group in &agent.groups {
                GroupName::parse(group).map_err(invalid)?;
            }
        }
        for group in &file.groups {
            GroupName::parse(&group.name).map_err(invalid)?;
            for secret in &group.secrets {
                SecretPath::parse(secret).map_err(invalid)?;
            }
        }
        Ok(Manifest { file })
    }

    /// Serializes deterministically.
    pub fn to_yaml(&self) -> Vec<u8> {
        self.file.to_yaml()
    }

    /// The on-disk form.
    pub fn file(&self) -> &ManifestFile {
        &self.file
    }

    /// The owners' `public_key` entries: a file name inside `.agent-vault/` (normally
    /// `owner.pub`) or an inline `age1…` recipient.
    pub fn owner_key_refs(&self) -> Vec<&str> {
        self.file
            .owners
            .iter()
            .map(|o| o.public_key.as_str())
            .collect()
    }

    /// Every registered agent, sorted by name.
    pub fn agents(&self) -> Vec<&AgentEntry> {
        let mut agents: Vec<&AgentEntry> = self.file.agents.iter().collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        agents
    }

    /// One agent.
    pub fn agent(&self, name: &str) -> Option<&AgentEntry> {
        self.file.agents.iter().find(|a| a.name == name)
    }

    /// Registers an agent with no groups. Returns false if it already exists.
    pub fn add_agent(&mut self, name: &str) -> bool {
        if self.agent(name).is_some() {
            return false;
        }
        self.file.agents.push(AgentEntry {
            name: name.to_owned(),
            groups: Vec::new(),
            extra: Extra::new(),
        });
        true
    }

    /// Removes an agent. Returns the groups it had.
    pub fn remove_agent(&mut self, name: &str) -> Option<Vec<String>> {
        let index = self.file.agents.iter().position(|a| a.name == name)?;
        Some(self.file.agents.remove(index).groups)
    }

    /// Agents granted `group`, sorted.
    pub fn agents_in_group(&self, group: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .file
            .agents
            .iter()
            .filter(|a| a.groups.iter().any(|g| g == group))
            .map(|a| a.name.clone())
            .collect();
        names.sort();
        names
    }

    /// Every group name: those listed and those any agent is granted, sorted.
    pub fn group_names(&self) -> Vec<String> {
        let mut names: BTreeSet<String> = self.file.groups.iter().map(|g| g.name.clone()).collect();
        for agent in &self.file.agents {
            names.extend(agent.groups.iter().cloned());
        }
        names.into_iter().collect()
    }

    /// Whether a group is listed or granted.
    pub fn has_group(&self, group: &str) -> bool {
        self.file.groups.iter().any(|g| g.name == group)
            || self
                .file
                .agents
                .iter()
                .any(|a| a.groups.iter().any(|g| g == group))
    }

    /// The secrets listed in a group, sorted.
    pub fn group_secrets(&self, group: &str) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .file
            .groups
            .iter()
            .filter(|g| g.name == group)
            .flat_map(|g| g.secrets.iter().cloned())
            .collect();
        secrets.sort();
        secrets.dedup();
        secrets
    }

    /// Every secret listed in any group, with its group, sorted by path.
    pub fn all_secrets(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .file
            .groups
            .iter()
            .flat_map(|g| g.secrets.iter().map(move |s| (s.clone(), g.name.clone())))
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The group listing `secret`, if any.
    pub fn group_of(&self, secret: &str) -> Option<&str> {
        self.file
            .groups
            .iter()
            .find(|g| g.secrets.iter().any(|s| s == secret))
            .map(|g| g.name.as_str())
    }

    /// Grants `group` to `agent`. Returns false if it already had it.
    pub fn grant(&mut self, agent: &str, group: &str) -> bool {
        let Some(entry) = self.file.agents.iter_mut().find(|a| a.name == agent) else {
            return false;
        };
        if entry.groups.iter().any(|g| g == group) {
            return false;
        }
        entry.groups.push(group.to_owned());
        self.ensure_group(group);
        true
    }

    /// Revokes `group` from `agent`. Returns false if it did not have it.
    pub fn revoke(&mut self, agent: &str, group: &str) -> bool {
        let Some(entry) = self.file.agents.iter_mut().find(|a| a.name == agent) else {
            return false;
        };
        let before = entry.groups.len();
        entry.groups.retain(|g| g != group);
        entry.groups.len() != before
    }

    fn ensure_group(&mut self, group: &str) -> &mut GroupEntry {
        let index = match self.file.groups.iter().position(|g| g.name == group) {
            Some(i) => i,
            None => {
                self.file.groups.push(GroupEntry {
                    name: group.to_owned(),
                    secrets: Vec::new(),
                    extra: Extra::new(),
                });
                self.file.groups.len() - 1
            }
        };
        &mut self.file.groups[index]
    }

    /// Lists `secret` in `group` (and in no other group).
    pub fn put_secret(&mut self, secret: &str, group: &str) {
        for g in &mut self.file.groups {
            if g.name != group {
                g.secrets.retain(|s| s != secret);
            }
        }
        let entry = self.ensure_group(group);
        if !entry.secrets.iter().any(|s| s == secret) {
            entry.secrets.push(secret.to_owned());
        }
    }

    /// Removes `secret` from every group. Groups stay, even when empty.
    pub fn remove_secret(&mut self, secret: &str) {
        for g in &mut self.file.groups {
            g.secrets.retain(|s| s != secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_in_a_manifest_are_refused() {
        for text in [
            "version: 1\nagents:\n- name: ../../x\n",
            "version: 1\nagents:\n- name: bot\n  groups: ['../g']\n",
            "version: 1\ngroups:\n- name: g\n  secrets: ['../../etc/passwd']\n",
            "version: 1\ngroups:\n- name: G\n",
        ] {
            let err = Manifest::parse(text.as_bytes()).unwrap_err();
            assert!(matches!(err, Error::Corrupt { .. }), "{text}: {err}");
        }
    }

    #[test]
    fn grant_revoke_and_membership() {
        let mut m = Manifest::new("me");
        assert!(m.add_agent("bot"));
        assert!(!m.add_agent("bot"));
        m.put_secret("stripe/key", "stripe");
        assert!(m.grant("bot", "stripe"));
        assert!(!m.grant("bot", "stripe"));
        assert_eq!(m.agents_in_group("stripe"), vec!["bot"]);
        m.put_secret("stripe/key", "billing");
        assert_eq!(m.group_of("stripe/key"), Some("billing"));
        assert!(m.group_secrets("stripe").is_empty());
        assert!(m.revoke("bot", "stripe"));
        assert!(m.agents_in_group("stripe").is_empty());
        assert_eq!(m.remove_agent("bot"), Some(vec![]));
    }
}
