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
import warnings as _warnings
from typing import Any as _Any

from ._format import AgentInfo, SecretInfo
from ._vault import Vault

__version__ = "0.2.0"

# Names of agent-vault 0.1.0's SDK, kept so an agent's code runs unchanged (with a warning).
_RENAMED = {
    "VaultError": ("AgentVaultError", AgentVaultError),
    "ManifestError": ("FormatError", FormatError),
    "SecretMetadata": ("SecretInfo", SecretInfo),
}


def __getattr__(name: str) -> _Any:
    if name in _RENAMED:
        new, value = _RENAMED[name]
        _warnings.warn(f"agent_vault.{name} is now agent_vault.{new}", DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module 'agent_vault' has no attribute {name!r}")

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
