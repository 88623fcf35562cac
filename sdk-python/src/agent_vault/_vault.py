"""The read-only :class:`Vault`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import List, Optional, Type, Union

import pyrage

from ._errors import (
    FormatError,
    InvalidInputError,
    NotAuthorizedError,
    SecretNotFoundError,
    VaultNotFoundError,
)
from ._format import (
    CONFIG_PATH,
    MANIFEST_PATH,
    AgentInfo,
    Manifest,
    SecretInfo,
    agent_escrow_path,
    agent_public_key_path,
    check_config,
    parse_meta,
    secret_enc_path,
    secret_meta_path,
    utc_now,
)
from ._git import LocalRepo, RemoteRepo, Source, is_remote_url
from ._keys import KeyText, _wipe, load_identities
from ._names import check_name, check_secret_path, check_stored_secret_path

logger = logging.getLogger("agent_vault")

PathLike = Union[str, "os.PathLike[str]"]


class Vault:
    """A read-only view of an agent-vault vault.

    ``repo_path`` is a folder inside a git repository holding ``.agent-vault/``, or a git URL
    (``https://…``, ``ssh://…``, ``git@host:org/repo.git``, ``file://…``), which is kept as a
    ciphertext-only bare clone under ``$XDG_CACHE_HOME/agent-vault`` (default ``~/.cache``).

    The key is, in order: ``key`` (identity text) or ``key_path`` (an age-keygen identity file),
    ``agent`` (``$AGENT_VAULT_HOME/agents/NAME.key``), ``AGENT_VAULT_KEY`` (identity text or a
    file path), then the owner key ``$AGENT_VAULT_HOME/owner.key``. A named key that is missing is
    an error. Keys are only needed by :meth:`get`/:meth:`get_bytes`; listings need none.

    With ``auto_pull`` (the default), every call reads the newest state: the upstream branch is
    fetched and read from git objects when it is ahead (the working tree, index and HEAD are never
    changed), and a refused decryption is retried once after a refresh, since access may just have
    been granted. With ``auto_pull=False`` no git process is ever started for a local vault.

    Nothing is ever written to the vault, and plaintext is never written anywhere. Use it as a
    context manager (or call :meth:`close`) to overwrite the in-memory copy of ``key``.
    """

    def __init__(
        self,
        repo_path: PathLike = ".",
        key_path: Optional[PathLike] = None,
        *,
        key: Optional[KeyText] = None,
        agent: Optional[str] = None,
        auto_pull: bool = True,
    ) -> None:
        if key is not None and key_path is not None:
            raise InvalidInputError("give either key or key_path, not both")
        if agent is not None and (key is not None or key_path is not None):
            raise InvalidInputError("give either agent or an explicit key (key / key_path), not both")
        if key is not None and not isinstance(key, (str, bytes, bytearray)):
            raise InvalidInputError("key must be identity text (str or bytes), e.g. the contents of an age-keygen file")
        self._agent = check_name("agent name", agent) if agent is not None else None
        self._key_path = Path(os.fspath(key_path)).expanduser() if key_path is not None else None
        self._key: Optional[bytearray] = (
            bytearray(key.encode("utf-8") if isinstance(key, str) else key) if key is not None else None
        )
        self._auto_pull = bool(auto_pull)
        self._closed = False
        self._local: Optional[LocalRepo] = None
        self._remote: Optional[RemoteRepo] = None
        repo = os.fspath(repo_path)
        if not isinstance(repo, str):
            raise InvalidInputError("repo_path must be a path or a git URL string")
        self.repo_path = repo
        if is_remote_url(repo):
            self._remote = RemoteRepo(repo)
            self._open_remote()
        else:
            self._open_local(Path(repo).expanduser())

    # ----- opening --------------------------------------------------------------------------

    def _open_local(self, start: Path) -> None:
        local = LocalRepo.discover(start)
        hint = "run `agent-vault init` there, or pass the folder of a repository that has one"
        if local is None:
            raise VaultNotFoundError(f"no vault found in {start} or its parents: {hint}")
        config = local.worktree().read(CONFIG_PATH)
        if config is None and not local.head_has(CONFIG_PATH):
            raise VaultNotFoundError(f"no vault found in {start} or its parents: {hint}")
        if config is not None:
            check_config(config)
        self._local = local

    def _open_remote(self) -> None:
        remote = self._remote
        assert remote is not None
        remote.ensure_clone()
        config = remote.source().read(CONFIG_PATH)
        if config is None and self._auto_pull and not remote.just_cloned:
            remote.refresh()
            remote.just_cloned = True  # the next read needs no second fetch
            config = remote.source().read(CONFIG_PATH)
        if config is None:
            raise VaultNotFoundError(
                f"no vault found in {remote.shown}: its default branch has no .agent-vault/; "
                "check the URL, or run `agent-vault init` in a clone and push it"
            )
        check_config(config)

    def _source(self, refresh: bool = False) -> Source:
        """The state to read: fetched first when auto_pull is on (or a retry asks for it)."""
        if self._remote is not None:
            if (self._auto_pull or refresh) and not (self._remote.just_cloned and not refresh):
                self._remote.refresh()
            self._remote.just_cloned = False
            return self._remote.source()
        assert self._local is not None
        if self._auto_pull or refresh:
            return self._local.fresh_source()
        return self._local.worktree()

    # ----- reading --------------------------------------------------------------------------

    def get_bytes(self, path: str) -> bytes:
        """The secret's exact bytes.

        Raises InvalidInputError (bad path), SecretNotFoundError, KeyNotFoundError,
        NotAuthorizedError (after one refresh-and-retry when auto_pull is on) or FormatError.
        """
        if self._closed:
            raise InvalidInputError("this Vault was closed; create a new one to read again")
        secret = check_secret_path(path)
        try:
            return self._decrypt(self._source(), secret)
        except NotAuthorizedError:
            if not self._auto_pull:
                raise
            logger.info("access to %r refused; refreshing once in case it was just granted", secret)
            return self._decrypt(self._source(refresh=True), secret)

    def get(self, path: str) -> str:
        """The secret as text; FormatError if it is not UTF-8 (use :meth:`get_bytes` for binary)."""
        value = self.get_bytes(path)
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(
                f"secret '{path}' is not UTF-8 text ({len(value)} bytes); read it with get_bytes()"
            ) from None

    def _decrypt(self, source: Source, secret: str) -> bytes:
        enc, meta = secret_enc_path(secret), secret_meta_path(secret)
        files = source.read_many([enc, meta])
        ciphertext = files[enc]
        if ciphertext is None:
            if source.read(CONFIG_PATH) is None:
                raise VaultNotFoundError(
                    f"no vault found in {self.repo_path} ({source.label}): run `agent-vault init` there"
                )
            raise SecretNotFoundError(
                f"secret '{secret}' not found: `agent-vault list` (or list_secrets()) shows the stored secrets"
            )
        meta_bytes = files[meta]
        info = parse_meta(meta, secret, meta_bytes, utc_now()) if meta_bytes is not None else None
        identities = load_identities(self._key_path, self._key, self._agent)
        try:
            value: bytes = pyrage.decrypt(ciphertext, identities.identities)
        except pyrage.DecryptError as e:
            if "no matching keys" in str(e).lower():
                raise NotAuthorizedError(
                    f"access denied: {identities.origin} cannot decrypt '{secret}'; ask the vault "
                    "owner to run `agent-vault grant <agent> <group>`"
                ) from None
            raise FormatError(
                f"{enc}: not a valid age ciphertext ({e}); restore it from git history "
                f"(`git log -- {enc}`) or set the secret again"
            ) from None
        finally:
            identities.identities.clear()
        if info is not None and info.expired:
            logger.warning(
                "secret '%s' expired on %s; ask the owner to rotate it (`agent-vault set %s --expires …`)",
                secret, info.expires, secret,
            )
        return value

    def _manifest(self, source: Source) -> Manifest:
        data = source.read(MANIFEST_PATH)
        if data is None:
            raise FormatError(f"{MANIFEST_PATH}: missing from the {source.label}; restore it from git history")
        return Manifest.parse(data)

    def list_secrets(self, group: Optional[str] = None) -> List[SecretInfo]:
        """Every secret (or one group's) with its metadata, sorted by path. Needs no key."""
        if group is not None:
            check_name("group name", group)
        source = self._source()  # listings need no key, so a closed Vault may still list
        manifest = self._manifest(source)
        if group is not None and not manifest.has_group(group):
            raise SecretNotFoundError(
                f"group '{group}' not found: list_groups() (or `agent-vault list`) shows the groups in use"
            )
        entries = [
            (check_stored_secret_path(path, MANIFEST_PATH), listed)
            for path, listed in manifest.all_secrets()
            if group is None or listed == group
        ]
        metas = source.read_many([secret_meta_path(path) for path, _ in entries])
        now = utc_now()
        out = []
        for path, listed in entries:
            meta_path = secret_meta_path(path)
            data = metas[meta_path]
            if data is None:
                out.append(SecretInfo(path, listed, None, None, None, (), False))
            else:
                out.append(parse_meta(meta_path, path, data, now))
        return out

    def list_groups(self) -> List[str]:
        """Every group listed in the manifest or granted to an agent, sorted. Needs no key."""
        return self._manifest(self._source()).group_names()

    def list_agents(self) -> List[AgentInfo]:
        """Every registered agent with its groups and public key, sorted by name. Needs no key."""
        source = self._source()
        agents = self._manifest(source).sorted_agents()
        files = source.read_many(
            [p for name, _ in agents for p in (agent_public_key_path(name), agent_escrow_path(name))]
        )
        out = []
        for name, groups in agents:
            public = files[agent_public_key_path(name)]
            out.append(
                AgentInfo(
                    name=name,
                    groups=tuple(sorted(groups)),
                    public_key=public.decode("utf-8", "replace").strip() if public is not None else None,
                    escrow=files[agent_escrow_path(name)] is not None,
                )
            )
        return out

    # ----- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Overwrites the in-memory copy of ``key``. The vault cannot decrypt with it afterwards."""
        self._closed = True
        if self._key is not None:
            _wipe(self._key)
            self._key = None

    def __enter__(self) -> "Vault":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Vault({self.repo_path!r}, auto_pull={self._auto_pull})"
