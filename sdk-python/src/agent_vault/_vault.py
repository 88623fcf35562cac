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
    IntegrityError,
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
from ._git import LocalRepo, RemoteRepo, Source, WorktreeSource, is_remote_url, offline
from ._integrity import (
    STATEMENT_PATH,
    VERIFY_HINT,
    VERIFY_KEY_ENV,
    Pin,
    Pins,
    Statement,
    parse_and_verify,
    parse_verify_key,
    rollback_error,
    verify_all,
    verify_get,
)
from ._keys import KeyText, _wipe, key_home, load_identities
from ._names import check_name, check_secret_path, check_stored_secret_path

logger = logging.getLogger("agent_vault")

PathLike = Union[str, "os.PathLike[str]"]


def _path_text(value: object, problem: str) -> str:
    """``value`` as a ``str`` path, or InvalidInputError (never a bare TypeError)."""
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidInputError(f"{problem}, not {type(value).__name__}")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise InvalidInputError(f"{problem}, not {type(text).__name__}")
    return text


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
    been granted. With ``auto_pull=False`` nothing is fetched; a local vault whose branch has an
    upstream is still read from the last fetched upstream commit when it is ahead of HEAD (so a
    state already read is never seen to go back), and without an upstream no git process is
    started. ``AGENT_VAULT_OFFLINE=1`` (read when the Vault is created) means ``auto_pull=False``,
    as for the CLI.

    Signed vaults are verified before anything is trusted (docs/format.md, "Integrity"): the
    vault must be signed by ``verify_key`` (``ed25519:…``, as printed by ``agent-vault verify``),
    else ``AGENT_VAULT_VERIFY_KEY``, else a ``# agent-vault verify-key:`` comment of the key file in
    use (``get`` only), else the key pinned in ``$AGENT_VAULT_HOME/pins.json``; with none of these
    the first key seen is pinned (trust on first use). A signed state older than one already seen
    (a rollback), or any file that differs from what the owner signed, raises
    :class:`IntegrityError`. ``get`` checks the policy files and the secret's own files; listings
    check the whole vault. Unsigned vaults are read with a warning (logger ``agent_vault``), unless
    a verify key is expected. The only file the SDK writes is ``pins.json``.

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
        verify_key: Optional[str] = None,
        auto_pull: bool = True,
    ) -> None:
        if key is not None and key_path is not None:
            raise InvalidInputError("give either key or key_path, not both")
        if agent is not None and (key is not None or key_path is not None):
            raise InvalidInputError("give either agent or an explicit key (key / key_path), not both")
        if key is not None and not isinstance(key, (str, bytes, bytearray)):
            raise InvalidInputError("key must be identity text (str or bytes), e.g. the contents of an age-keygen file")
        self._agent = check_name("agent name", agent) if agent is not None else None
        self._key_path = (
            Path(_path_text(key_path, "key_path must be a path (str or os.PathLike)")).expanduser()
            if key_path is not None
            else None
        )
        self._key: Optional[bytearray] = (
            bytearray(key.encode("utf-8") if isinstance(key, str) else key) if key is not None else None
        )
        if verify_key is not None and not isinstance(verify_key, str):
            raise InvalidInputError("verify_key must be a string like 'ed25519:<base64>'")
        self._verify_key = (
            parse_verify_key(verify_key, "the verify_key argument") if verify_key is not None else None
        )
        self._auto_pull = bool(auto_pull) and not offline()
        self._closed = False
        self._local: Optional[LocalRepo] = None
        self._remote: Optional[RemoteRepo] = None
        repo = _path_text(repo_path, "repo_path must be a path or a git URL string")
        self.repo_path = repo
        if is_remote_url(repo):
            self._remote = RemoteRepo(repo)
            self._open_remote()
            self._location = repo  # pins of remote vaults: the URL as given
        else:
            self._open_local(Path(repo).expanduser())
            assert self._local is not None
            self._location = os.path.realpath(self._local.workdir)

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
        return self._local.fresh_source(fetch=self._auto_pull or refresh)

    # ----- reading --------------------------------------------------------------------------

    def get_bytes(self, path: str) -> bytes:
        """The secret's exact bytes.

        Raises InvalidInputError (bad path), SecretNotFoundError, KeyNotFoundError,
        IntegrityError (the vault is not what its owner signed), NotAuthorizedError (after one
        refresh-and-retry when auto_pull is on) or FormatError.
        """
        if self._closed:
            raise InvalidInputError("this Vault was closed; create a new one to read again")
        secret = check_secret_path(path)
        try:
            return self._decrypt_checked(self._source(), secret)
        except NotAuthorizedError:
            if not self._auto_pull:
                raise
            logger.info("access to %r refused; refreshing once in case it was just granted", secret)
            return self._decrypt_checked(self._source(refresh=True), secret)

    def _decrypt_checked(self, source: Source, secret: str) -> bytes:
        try:
            return self._decrypt(source, secret)
        except IntegrityError:
            # A writer may be updating the working tree right now, mixing two signed states;
            # HEAD's tree is consistent: if it verifies, it is the truth (as the CLI does).
            if not isinstance(source, WorktreeSource) or self._local is None:
                raise
            head = self._local.head_source()
            if head is None:
                raise
            return self._decrypt(head, secret)

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
        # The CLI's order: vault exists, key loads, signature and the secret's files verify,
        # the secret exists, its .meta parses, then decryption.
        enc, meta = secret_enc_path(secret), secret_meta_path(secret)
        files = source.read_many([CONFIG_PATH, enc, meta, STATEMENT_PATH])
        if files[CONFIG_PATH] is None:
            raise VaultNotFoundError(
                f"no vault found in {self.repo_path} ({source.label}): run `agent-vault init` there"
            )
        identities = load_identities(self._key_path, self._key, self._agent)
        ciphertext, meta_bytes = files[enc], files[meta]
        try:
            statement = self._trust(files[STATEMENT_PATH], identities.verify_keys)
            if statement is not None:
                verify_get(source, statement, secret, ciphertext, meta_bytes)
            if ciphertext is None:
                raise SecretNotFoundError(
                    f"secret '{secret}' not found: `agent-vault list` (or list_secrets()) shows the stored secrets"
                )
            info = parse_meta(meta, secret, meta_bytes, utc_now()) if meta_bytes is not None else None
        except BaseException:
            identities.identities.clear()
            raise
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

    # ----- integrity ------------------------------------------------------------------------

    def _expected_keys(self, comment_keys: Optional[List[str]]) -> List[str]:
        """The anchor from the explicit key, AGENT_VAULT_VERIFY_KEY or the key file's comments."""
        if self._verify_key is not None:
            return [self._verify_key]
        env = os.environ.get(VERIFY_KEY_ENV, "")
        if env.strip():
            return [parse_verify_key(env, VERIFY_KEY_ENV)]
        return [
            parse_verify_key(k, "a `# agent-vault verify-key:` comment of the key file")
            for k in comment_keys or []
        ]

    def _trust(self, statement_bytes: Optional[bytes], comment_keys: Optional[List[str]]) -> Optional[Statement]:
        """Steps 1-3 of the reader's procedure: the verified statement, or None (unsigned)."""
        pins = Pins(key_home())
        pin = pins.get(self._location)
        expected = self._expected_keys(comment_keys)
        if not expected and pin is not None:
            expected = [pin.verify_key]
        if statement_bytes is None:
            if expected:
                raise IntegrityError(
                    f"integrity failure: this vault should be signed by {' or '.join(expected)} but "
                    "has no signature; someone with push access removed it. Do not trust its "
                    f"contents; {VERIFY_HINT}"
                )
            logger.warning(
                "vault %s is unsigned, so tampering by anyone with push access would go unnoticed; "
                "ask the owner to run `agent-vault sign`", self.repo_path,
            )
            return None
        statement = parse_and_verify(statement_bytes)
        if expected and statement.verify_key not in expected:
            raise IntegrityError(
                f"integrity failure: this vault is signed by {statement.verify_key} but "
                f"{' or '.join(expected)} was expected; someone may have replaced the signing key. "
                f"Do not trust its contents; {VERIFY_HINT}"
            )
        same_key = pin is not None and pin.verify_key == statement.verify_key
        if pin is not None and same_key and statement.seq < pin.seq:
            raise rollback_error(statement, pin)
        if pin is None or not same_key or pin.seq < statement.seq:
            pins.record(self._location, Pin(statement.verify_key, statement.seq))
        return statement

    def _verified_source(self) -> Source:
        """The state to list, after checking the whole vault against its statement."""
        source = self._source()
        statement = self._trust(source.read(STATEMENT_PATH), None)
        if statement is not None:
            verify_all(source, statement)
        return source

    def _manifest(self, source: Source) -> Manifest:
        data = source.read(MANIFEST_PATH)
        if data is None:
            raise FormatError(f"{MANIFEST_PATH}: missing from the {source.label}; restore it from git history")
        return Manifest.parse(data)

    def list_secrets(self, group: Optional[str] = None) -> List[SecretInfo]:
        """Every secret (or one group's) with its metadata, sorted by path. Needs no key."""
        if group is not None:
            check_name("group name", group)
        source = self._verified_source()  # listings need no key, so a closed Vault may still list
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
        return self._manifest(self._verified_source()).group_names()

    def list_agents(self) -> List[AgentInfo]:
        """Every registered agent with its groups and public key, sorted by name. Needs no key."""
        source = self._verified_source()
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
