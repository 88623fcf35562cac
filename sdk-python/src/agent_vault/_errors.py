"""The SDK's error classes.

Every error the SDK raises is an :class:`AgentVaultError`; the subclass says what went wrong and
``code`` is the ``agent-vault`` CLI's exit code for the same failure (docs/format.md). Messages
say what to do next and never contain secret values or key material.
"""

from __future__ import annotations


class AgentVaultError(Exception):
    """Root of every SDK error. Never raised directly: catch it, or branch on a subclass or ``code``."""

    code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FormatError(AgentVaultError):
    """A vault file cannot be read or parsed, a ciphertext is corrupt, a key file is malformed,
    or a value read with :meth:`Vault.get` is not UTF-8 text (use ``get_bytes``). Code 1."""

    code = 1


class InvalidInputError(AgentVaultError):
    """A bad secret path, agent or group name, or conflicting arguments. Code 2."""

    code = 2


class VaultNotFoundError(AgentVaultError):
    """No git repository with ``.agent-vault/`` at the given path or URL. Code 3."""

    code = 3


class SecretNotFoundError(AgentVaultError):
    """The secret (or, for ``list_secrets(group)``, the group) is not in the vault. Code 3."""

    code = 3


class KeyNotFoundError(AgentVaultError):
    """A named key (``key_path``, ``agent``, ``AGENT_VAULT_KEY``) is missing, or no key exists at
    all. Never a reason to try another key. Code 3."""

    code = 3


class NotAuthorizedError(AgentVaultError):
    """The key is not a recipient of the secret: access was never granted, or was revoked. Code 4."""

    code = 4


class IntegrityError(AgentVaultError):
    """The vault is not what its owner signed: a file was changed, added or removed, the signed
    statement was forged, removed or signed by another key, or an older signed state came back
    (rollback). Do not trust the vault; ask its owner to run `agent-vault verify`. Code 5."""

    code = 5
