//! What to do next, for the library's errors: the library says what went wrong (as data), the
//! CLI says which command or flag helps.

use agent_vault::Error;
use agent_vault::error::Problem;

/// A hint line for `error`, if there is one. `reader` tells a reading command (which takes
/// `--key`, `--agent`, `AGENT_VAULT_KEY`) from an owner command (which takes the owner key).
pub fn hint(error: &anyhow::Error, reader: bool) -> Option<String> {
    let error = error.chain().find_map(|e| e.downcast_ref::<Error>())?;
    let text = match error {
        Error::VaultNotFound(_) => {
            "run `agent-vault init` there to create one, or pass --vault DIR".into()
        }
        Error::SecretNotFound(_) => "`agent-vault list` shows the stored secrets".into(),
        Error::AgentNotFound(_) => "`agent-vault list-agents` shows the registered agents".into(),
        Error::GroupNotFound(_) => "`agent-vault list` shows the groups in use".into(),
        Error::AccessDenied { .. } => {
            "if this agent should read it, the vault owner runs `agent-vault grant <agent> <group>` (`agent-vault list` shows each secret's group)".into()
        }
        Error::NotOwner { .. } => {
            "use the owner's machine, or set AGENT_VAULT_HOME to the folder holding the owner's owner.key".into()
        }
        Error::KeyNotFound(message) if message.contains("has no owner key") => {
            if reader {
                "pass --key FILE or --agent NAME, or set AGENT_VAULT_KEY (a key file's path or the key itself)".into()
            } else {
                "owner commands use $AGENT_VAULT_HOME/owner.key: set AGENT_VAULT_HOME to the folder holding it, or run them on the owner's machine".into()
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
