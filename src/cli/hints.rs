//! What to do next, for the library's errors: the library says what went wrong (as data), the
//! CLI says which command or flag helps.

use agent_vault::Error;
use agent_vault::error::{Denied, Problem};
use agent_vault::vault::Names;

use super::suggest;

/// A hint line for `error`, if there is one. `reader` tells a reading command (which takes
/// `--key`, `--agent`, `AGENT_VAULT_KEY`) from an owner command (which takes the owner key).
/// `names` gives the vault's verified names, for "did you mean" (asked only for a name that
/// was not found).
pub fn hint(
    error: &anyhow::Error,
    reader: bool,
    names: impl FnOnce() -> Option<Names>,
) -> Option<String> {
    let error = error.chain().find_map(|e| e.downcast_ref::<Error>())?;
    let near = |find: &dyn Fn(&Names) -> Option<String>| names().and_then(|n| find(&n));
    let text = match error {
        Error::VaultNotFound(_) => {
            "run `agent-vault init` there to create one, or pass --vault DIR".into()
        }
        Error::SecretNotFound(path) => near(&|n| suggest::secret(path, n))
            .unwrap_or_else(|| "`agent-vault list` shows the stored secrets".into()),
        Error::AgentNotFound(agent) => near(&|n| suggest::name(agent, &n.agents))
            .unwrap_or_else(|| "`agent-vault list-agents` shows the registered agents".into()),
        Error::GroupNotFound(group) => near(&|n| suggest::name(group, &n.groups))
            .unwrap_or_else(|| "`agent-vault list` shows the groups in use".into()),
        Error::AccessDenied { denied, .. } => denied_hint(denied.as_ref()),
        Error::NotOwner { .. } => {
            "use the owner's machine, set AGENT_VAULT_HOME to the folder holding the owner's owner.key, or set AGENT_VAULT_OWNER_KEY to the owner key".into()
        }
        Error::KeyNotFound(message) if message.contains("has no owner key") => {
            if reader {
                "pass --key FILE or --agent NAME, or set AGENT_VAULT_KEY (a key file's path or the key itself)".into()
            } else {
                "owner commands use $AGENT_VAULT_HOME/owner.key: set AGENT_VAULT_HOME to the folder holding it, set AGENT_VAULT_OWNER_KEY to the owner key (its file's path or its text, e.g. from a CI secret), or run them on the owner's machine".into()
            }
        }
        Error::Integrity(e) => integrity_hint(&e.problems),
        Error::Busy { .. } => "retry when it finishes, or raise AGENT_VAULT_LOCK_TIMEOUT".into(),
        _ => return None,
    };
    Some(text)
}

fn integrity_hint(problems: &[Problem]) -> String {
    let first = problems.first();
    match first {
        Some(Problem::ConflictMarkers) => "finish the merge (resolve the other files; for the statement and shards take either side, e.g. `git checkout --theirs .agent-vault/integrity`), commit it, review the result with `agent-vault verify`, then re-sign with `agent-vault sign`".into(),
        Some(Problem::Rollback { .. }) => "if you moved to an older commit yourself (checkout, reset, revert), return to the newest state (`git pull`, `git checkout <branch>`); if the owner reverted on purpose, the owner re-signs with `agent-vault sign`. Otherwise someone restored old files to undo a rotation or revocation: ask the owner to run `agent-vault verify`".into(),
        Some(Problem::WrongSigner { .. }) => "do not trust its contents; ask the owner to run `agent-vault verify`. (If this key is also used with another vault, add that vault's `# agent-vault verify-key: …` line, which its owner's `add-agent` prints, to the key file, or set AGENT_VAULT_VERIFY_KEY)".into(),
        Some(Problem::Unconfirmed { .. }) => "if you trust this state (compare its key with `agent-vault verify` on a machine that knows the vault), run the command again with AGENT_VAULT_VERIFY_KEY set to that key; to replace the signing key after reviewing the vault, run `agent-vault sign --new-key`".into(),
        Some(Problem::OtherVault { .. } | Problem::Downgrade) => "do not trust its contents. If you replaced this repository on purpose, remove its entry under \"locations\" in $AGENT_VAULT_HOME/pins.json".into(),
        Some(Problem::SignatureRemoved { .. }) => "do not trust its contents; the owner reviews the history (`git log -p -- .agent-vault`) and restores the signature or re-signs with `agent-vault sign`".into(),
        Some(Problem::SigningKeyReplaced { .. }) => "restore .agent-vault/signing.key.age from git history; if you replaced the signing key yourself, run `agent-vault sign --new-key`".into(),
        _ => "nothing was changed or decrypted. Review the differences (`agent-vault verify`, `git log -p -- .agent-vault`); if they are legitimate (e.g. a merge of two owners' changes), the owner re-signs with `agent-vault sign`".into(),
    }
}

fn denied_hint(denied: Option<&Denied>) -> String {
    match denied {
        Some(Denied {
            group,
            agent: Some(agent),
        }) => format!(
            "if '{agent}' should read it, the vault owner runs `agent-vault grant {agent} {group}`"
        ),
        Some(Denied { agent: None, .. }) => "this key belongs to no agent of this vault (a removed agent's key, or a key of another vault?); `agent-vault list-agents` shows its agents: use the key of one that was granted the secret's group".into(),
        None => "if this agent should read it, the vault owner runs `agent-vault grant <agent> <group>` (`agent-vault list` shows each secret's group)".into(),
    }
}
