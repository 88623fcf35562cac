"""Read-only Python SDK for agent-vault: age-encrypted secrets for AI agents, stored in git.

    from agent_vault import Vault

    with Vault("path/to/repo", agent="deploy-bot") as vault:
        api_key = vault.get("stripe/api-key")

See :class:`Vault` for key discovery, remote URLs and refreshing, and the error classes for what
can go wrong (each has the ``code`` the CLI exits with for the same failure).
"""

from ._errors import (
    AgentVaultError,
    FormatError,
    IntegrityError,
    InvalidInputError,
    KeyNotFoundError,
    NotAuthorizedError,
    SecretNotFoundError,
    VaultNotFoundError,
)
from ._format import AgentInfo, SecretInfo
from ._vault import Vault

__version__ = "0.2.0"

__all__ = [
    "AgentInfo",
    "AgentVaultError",
    "FormatError",
    "IntegrityError",
    "InvalidInputError",
    "KeyNotFoundError",
    "NotAuthorizedError",
    "SecretInfo",
    "SecretNotFoundError",
    "Vault",
    "VaultNotFoundError",
    "__version__",
]
