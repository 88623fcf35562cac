"""The read-only :class:`Vault`."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from types import TracebackType
from typing import List, Optional, Type, Union

import pyrage

from ._age import header_problem
from ._errors import (
    AgentVaultError,
    FormatError,
    InvalidInputError,
    NotAuthorizedError,
    SecretNotFoundError,
    VaultNotFoundError,
)
from ._format import (
    AgentInfo,
    Manifest,
    SecretInfo,
    check_config,
    parse_meta,
    utc_now,
)
from ._git import LocalRepo, ObjectReader, RemoteRepo, is_remote_url, offline
from ._keys import Identities, KeyText, _wipe, key_home, load_identities
from ._names import check_name, check_secret_path, check_stored_secret_path, escaped
from ._pins import Pins
from ._statement import parse_verify_key
from ._tree import VaultTree
from ._trust import Reader, Snapshot, open_secret, open_vault

VERIFY_KEY_ENV = "AGENT_VAULT_VERIFY_KEY"

logger = logging.getLogger("agent_vault")

PathLike = Union[str, "os.PathLike[str]"]


def _peek_vault_id(tree: VaultTree) -> Optional[str]:
    """The vault identity the statement names, unverified: it only picks which of this user's
    own agent key files to use (docs/format.md, "Key discovery"); that file's anchors then
    verify the vault."""
    try:
        entry = tree.lookup("integrity/statement")
        data = tree.read([entry]).get(entry.rel) if entry is not None else None
    except Exception:  # best effort: the verified read finds, and reports, any problem again
        return None
    lines = (data or b"").split(b"\n", 2)
    if len(lines) < 2 or lines[0] != b"agent-vault-statement v2" or not lines[1].startswith(b"vault "):
        return None
    vault = lines[1][len(b"vault "):].decode("ascii", "replace")
    return vault if len(vault) == 32 and all(c in "0123456789abcdef" for c in vault) else None


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

    The vault is read from git objects only, never from the working tree: the tree of HEAD, or
    of the upstream commit when it strictly descends from HEAD. So a file only present, edited
    or symlinked in a checkout is not part of the vault, and ignore rules and
    ``.gitattributes`` play no part.

    The key is, in order: ``key`` (identity text) or ``key_path`` (an age-keygen identity file),
    ``agent`` (``$AGENT_VAULT_HOME/agents/<vault id>/NAME.key``, else ``agents/NAME.key``), ``AGENT_VAULT_KEY`` when set (identity text
    or a file path; set but empty or unusable is an error, never a fallback), then the owner key
    ``$AGENT_VAULT_HOME/owner.key``. A named key that is missing is an error. Keys are only
    needed by :meth:`get`/:meth:`get_bytes`; listings need none.

    With ``auto_pull`` (the default), every call reads the newest state: the upstream branch is
    fetched first (nothing in the clone changes), and a refused decryption is retried once after
    a refresh, since access may just have been granted. With ``auto_pull=False`` nothing is
    fetched, but the last fetched upstream commit is still read when it is ahead of HEAD (so a
    state already read is never seen to go back). ``AGENT_VAULT_OFFLINE=1`` (read when the Vault
    is created) means ``auto_pull=False``, as for the CLI.

    Signed vaults are verified before anything is parsed or decrypted (docs/format.md,
    "Integrity"). The vault must be signed by ``verify_key`` (``ed25519:…``, as printed by
    ``agent-vault verify``), else ``AGENT_VAULT_VERIFY_KEY``, else a key named by a
    ``# agent-vault verify-key:`` comment of the key file in use — or by a later key that one
    handed over to (``sign --new-key``). ``$AGENT_VAULT_HOME/pins.json`` remembers, per vault,
    the key trusted and the highest signed state seen, so a rollback, another vault copied into
    this location, or a key nobody vouched for raises :class:`IntegrityError`. With no anchor
    and no pin, a key the owner endorsed (the owner's own key in use) is accepted, and any
    other is trusted on first use with a warning (logger ``agent_vault``). Unsigned vaults are
    read with a warning, unless a verify key is expected. The only file the SDK writes is
    ``pins.json``; a pin that cannot be written is a warning.

    Nothing is ever written to the vault, and plaintext is never written anywhere. Use it as a
    context manager (or call :meth:`close`) to overwrite the in-memory copy of ``key`` and end
    the ``git cat-file`` process it reads objects through.
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
        key_str: Optional[KeyText] = None,
    ) -> None:
        self._closed = False
        self._objects: Optional[ObjectReader] = None
        if key_str is not None:
            warnings.warn("Vault(key_str=...) is now Vault(key=...)", DeprecationWarning, stacklevel=2)
            if key is not None:
                raise InvalidInputError("give either key or key_str (its old name), not both")
            key = key_str
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
        self._local: Optional[LocalRepo] = None
        self._remote: Optional[RemoteRepo] = None
        repo = _path_text(repo_path, "repo_path must be a path or a git URL string")
        self.repo_path = repo
        if is_remote_url(repo):
            self._remote = RemoteRepo(repo)
            self._location = repo  # pins of remote vaults: the URL as given
            self._open_remote()
        else:
            start = Path(repo).expanduser()
            local = LocalRepo.discover(start)
            if local is None:
                raise VaultNotFoundError(f"no vault found in {start} or its parents: {_NO_VAULT_HINT}")
            self._local = local
            self._location = local.location
            self._objects = ObjectReader(local.git_dir)
            self._tree(fetch=False)  # VaultNotFoundError now rather than at the first call

    # ----- opening --------------------------------------------------------------------------

    def _open_remote(self) -> None:
        remote = self._remote
        assert remote is not None
        remote.ensure_clone()
        self._objects = ObjectReader(str(remote.git_dir))
        try:
            self._tree(fetch=False)
        except VaultNotFoundError:
            if not (self._auto_pull and not remote.just_cloned):
                raise
            remote.refresh()  # the cached clone may predate the vault
            self._tree(fetch=False)
            remote.just_cloned = True  # the next read needs no second fetch

    def _tree(self, fetch: bool) -> VaultTree:
        """The ``.agent-vault`` tree of the state to read (fetched first when ``fetch``)."""
        assert self._objects is not None
        if self._remote is not None:
            if fetch and not self._remote.just_cloned:
                self._remote.refresh()
            self._remote.just_cloned = False
            state = self._remote.state()
            where = self._remote.shown
        else:
            assert self._local is not None
            found = self._local.state(fetch=fetch)
            where = self._local.workdir or self._local.git_dir
            if found is None:
                raise VaultNotFoundError(f"no vault found in {where}: the repository has no commits; {_NO_VAULT_HINT}")
            state = found
        try:
            tree = VaultTree(self._objects, state.commit, state.label)
        except VaultNotFoundError:
            self._objects.close()  # a long-lived cat-file may not see objects fetched since
            tree = VaultTree(self._objects, state.commit, state.label)
        if tree.root is None:
            raise VaultNotFoundError(f"no vault found in {where} ({state.label} has no .agent-vault/): {_NO_VAULT_HINT}")
        return tree

    def _fresh_tree(self, refresh: bool = False) -> VaultTree:
        return self._tree(fetch=self._auto_pull or refresh)

    # ----- trust ----------------------------------------------------------------------------

    def _anchors(self, comment_keys: List[str]) -> List[str]:
        """The anchor keys A: the explicit key, AGENT_VAULT_VERIFY_KEY, or the key file's
        ``# agent-vault verify-key:`` comments — the first that gives any."""
        if self._verify_key is not None:
            return [self._verify_key]
        env = os.environ.get(VERIFY_KEY_ENV, "")
        if env.strip():
            return [parse_verify_key(env, VERIFY_KEY_ENV)]
        return list(dict.fromkeys(
            parse_verify_key(k, "a `# agent-vault verify-key:` comment of the key file")
            for k in comment_keys
        ))

    def _reader(self, identities: Optional[Identities]) -> Reader:
        return Reader(
            location=self._location,
            pins=Pins(key_home()),
            anchors=self._anchors(identities.verify_keys if identities is not None else []),
            identities=list(identities.endorsers) if identities is not None else [],
        )

    def _optional_identities(self, tree: VaultTree) -> Optional[Identities]:
        """The identities a listing may use as anchors and for endorsements: those ``get``
        would use, when they load; a listing never needs them."""
        try:
            return load_identities(self._key_path, self._key, self._agent, _peek_vault_id(tree))
        except AgentVaultError:
            return None

    # ----- reading --------------------------------------------------------------------------

    def get_bytes(self, path: str) -> bytes:
        """The secret's exact bytes.

        Raises InvalidInputError (bad path), VaultNotFoundError, KeyNotFoundError,
        IntegrityError (the vault is not what its owner signed), SecretNotFoundError,
        NotAuthorizedError (after one refresh-and-retry when auto_pull is on) or FormatError.
        """
        if self._closed:
            raise InvalidInputError("this Vault was closed; create a new one to read again")
        secret = check_secret_path(path)
        try:
            return self._decrypt(self._fresh_tree(), secret)
        except NotAuthorizedError:
            if not self._auto_pull:
                raise
            logger.info("access to '%s' refused; refreshing once in case it was just granted", secret)
            return self._decrypt(self._fresh_tree(refresh=True), secret)

    def get(self, path: str) -> str:
        """The secret as text; FormatError if it is not UTF-8 (use :meth:`get_bytes` for binary)."""
        value = self.get_bytes(path)
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(
                f"secret '{path}' is not UTF-8 text ({len(value)} bytes); read it with get_bytes()"
            ) from None

    def _decrypt(self, tree: VaultTree, secret: str) -> bytes:
        # The CLI's order: vault exists, key loads, anchors parse, the vault verifies (tree,
        # signature, pins, the secret's files), the secret exists, its .meta parses, decryption.
        identities = load_identities(self._key_path, self._key, self._agent, _peek_vault_id(tree))
        try:
            snapshot = open_secret(tree, self._reader(identities), secret)
            self._check_config(snapshot)
            enc_name, meta_name = f"secrets/{secret}.enc", f"secrets/{secret}.meta"
            ciphertext = snapshot.file(enc_name)
            if ciphertext is None:
                raise SecretNotFoundError(
                    f"secret '{secret}' not found: `agent-vault list` (or list_secrets()) shows the stored secrets"
                )
            meta_bytes = snapshot.file(meta_name)
            info = parse_meta(f".agent-vault/{meta_name}", secret, meta_bytes, utc_now()) if meta_bytes is not None else None
            problem = header_problem(ciphertext)
            if problem is not None:
                raise FormatError(
                    f".agent-vault/{enc_name}: {problem}, so it is refused before decryption; restore "
                    f"it from git history or set the secret again"
                )
            try:
                value: bytes = pyrage.decrypt(ciphertext, identities.identities)
            except pyrage.DecryptError as e:
                if "no matching keys" in str(e).lower():
                    raise NotAuthorizedError(
                        f"access denied: {identities.origin} cannot decrypt '{secret}'; ask the vault "
                        "owner to run `agent-vault grant <agent> <group>`"
                    ) from None
                raise FormatError(
                    f".agent-vault/{enc_name}: not a valid age ciphertext; restore it from git "
                    f"history (`git log -- .agent-vault/{enc_name}`) or set the secret again"
                ) from None
        finally:
            identities.wipe()
        if info is not None and info.expired:
            logger.warning(
                "secret '%s' expired on %s; ask the owner to rotate it (`agent-vault set %s --expires …`)",
                secret, escaped(info.expires or ""), secret,
            )
        return value

    def _check_config(self, snapshot: Snapshot) -> None:
        config = snapshot.file("config.yaml")
        if config is None:
            raise VaultNotFoundError(
                f"no vault found in {self.repo_path} ({snapshot.label} has no .agent-vault/config.yaml): "
                f"{_NO_VAULT_HINT}"
            )
        check_config(config)

    def _snapshot(self) -> Snapshot:
        """The whole vault, verified: for listings (no key needed)."""
        tree = self._fresh_tree()
        identities = self._optional_identities(tree)
        try:
            snapshot = open_vault(tree, self._reader(identities))
        finally:
            if identities is not None:
                identities.wipe()
        self._check_config(snapshot)
        return snapshot

    @staticmethod
    def _manifest(snapshot: Snapshot) -> Manifest:
        data = snapshot.file("manifest.yaml")
        if data is None:
            raise FormatError(
                f".agent-vault/manifest.yaml: missing from {snapshot.label}; restore it from git history"
            )
        return Manifest.parse(data)

    def list_secrets(self, group: Optional[str] = None) -> List[SecretInfo]:
        """Every secret (or one group's) with its metadata, sorted by path. Needs no key."""
        if group is not None:
            check_name("group name", group)
        snapshot = self._snapshot()  # listings need no key, so a closed Vault may still list
        manifest = self._manifest(snapshot)
        if group is not None and not manifest.has_group(group):
            raise SecretNotFoundError(
                f"group '{group}' not found: list_groups() (or `agent-vault list`) shows the groups in use"
            )
        now = utc_now()
        out = []
        for path, listed in manifest.all_secrets():
            if group is not None and listed != group:
                continue
            check_stored_secret_path(path, ".agent-vault/manifest.yaml")
            meta_name = f"secrets/{path}.meta"
            data = snapshot.file(meta_name)
            if data is None:
                out.append(SecretInfo(path, listed, None, None, None, (), False))
            else:
                out.append(parse_meta(f".agent-vault/{meta_name}", path, data, now))
        return out

    def list_groups(self) -> List[str]:
        """Every group listed in the manifest or granted to an agent, sorted. Needs no key."""
        return self._manifest(self._snapshot()).group_names()

    def list_agents(self) -> List[AgentInfo]:
        """Every registered agent with its groups and public key, sorted by name. Needs no key."""
        snapshot = self._snapshot()
        out = []
        for name, groups in self._manifest(snapshot).sorted_agents():
            public = snapshot.file(f"agents/{name}/public.key")
            out.append(
                AgentInfo(
                    name=name,
                    groups=tuple(sorted(groups)),
                    public_key=escaped(public.decode("utf-8", "replace").strip()) if public is not None else None,
                    escrow=snapshot.file(f"agents/{name}/private.key.escrow") is not None,
                )
            )
        return out

    def pull(self) -> None:
        """Fetches the newest state now (agent-vault 0.1.0's name; deprecated: with
        ``auto_pull`` every call already reads the newest state)."""
        warnings.warn("Vault.pull() is deprecated: every call reads the newest state with auto_pull",
                      DeprecationWarning, stacklevel=2)
        self._tree(fetch=True)

    def reload(self) -> None:
        """Like :meth:`pull` (agent-vault 0.1.0's other name for it; deprecated)."""
        warnings.warn("Vault.reload() is deprecated: every call reads the newest state with auto_pull",
                      DeprecationWarning, stacklevel=2)
        self._tree(fetch=True)

    # ----- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Overwrites the in-memory copy of ``key`` (the vault cannot decrypt with it
        afterwards) and ends the ``git cat-file`` process."""
        self._closed = True
        if self._key is not None:
            _wipe(self._key)
            self._key = None
        if self._objects is not None:
            self._objects.close()

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


_NO_VAULT_HINT = "run `agent-vault init` there, or pass the folder of a repository that has one"
