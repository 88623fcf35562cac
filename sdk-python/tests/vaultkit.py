"""A small writer of signed vaults, for tests that need exact control of the bytes: statements
of version 1 and 2 (with ``key-change`` and ``owner`` lines), shards, pins. It follows
docs/format.md independently of the SDK's reader (no SDK module is imported), so a test that
reads what it writes checks the reader against the spec, and a test that bends one byte checks
a refusal. Vaults made by the real CLI are in conftest.py's ``World``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pyrage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyrage import x25519


def verify_key(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def endorsement(identity: str, vault: str, key: str) -> str:
    """The ``owner`` line's tag, computed as docs/format.md says."""
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"agent-vault owner endorsement v1").derive(
        identity.upper().encode()
    )
    message = f"agent-vault endorsement v1\nvault {vault}\nverify-key {key}\n".encode()
    return hmac.new(k, message, hashlib.sha256).hexdigest()


def shard_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).digest()[:1].hex()


@dataclass
class KeyChange:
    seq: int
    previous: str
    signature: str


def statement(
    *,
    signer: Ed25519PrivateKey,
    seq: int,
    files: Dict[str, bytes],
    shards: Dict[str, bytes],
    version: int = 2,
    vault: str = "0" * 32,
    key_changes: Sequence[KeyChange] = (),
    owners: Sequence[Tuple[str, str]] = (),
) -> bytes:
    """A statement signed by ``signer``; ``files``/``shards`` map names to file contents."""
    lines = [f"agent-vault-statement v{version}\n"]
    if version == 2:
        lines.append(f"vault {vault}\n")
    lines += [f"verify-key {verify_key(signer)}\n", f"seq {seq}\n"]
    lines += [f"key-change {c.seq} {c.previous} {c.signature}\n" for c in key_changes]
    lines += [f"owner {r} {t}\n" for r, t in sorted(owners)]
    lines += [f"file {hashlib.sha256(files[n]).hexdigest()} {n}\n" for n in sorted(files, key=str.encode)]
    lines += [f"shard {hashlib.sha256(shards[n]).hexdigest()} {n}\n" for n in sorted(shards)]
    body = "".join(lines).encode()
    return body + f"signature {b64(signer.sign(body))}\n".encode()


def key_change(previous: Ed25519PrivateKey, following: str, vault: str, seq: int) -> KeyChange:
    message = (
        f"agent-vault key-change v1\nvault {vault}\nseq {seq}\nfrom {verify_key(previous)}\nto {following}\n"
    ).encode()
    return KeyChange(seq, verify_key(previous), b64(previous.sign(message)))


def git(repo: Path, *args: str, stdin: bytes = b"") -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    assert proc.returncode == 0, f"git {args} failed: {proc.stderr.decode()}"
    return proc.stdout.decode()


@dataclass
class Agent:
    name: str
    identity: x25519.Identity
    groups: List[str] = field(default_factory=list)

    @property
    def recipient(self) -> str:
        return str(self.identity.to_public())


class Kit:
    """A vault in a new git repository, written file by file and signed on :meth:`commit`."""

    def __init__(self, repo: Path, *, signed: bool = True, version: int = 2) -> None:
        self.repo = repo
        repo.mkdir(parents=True)
        git(repo, "init", "--quiet", "-b", "main")
        self.owner = x25519.Identity.generate()
        self.signer = Ed25519PrivateKey.generate()
        self.vault = os.urandom(16).hex()
        self.seq = 0
        self.version = version
        self.signed = signed
        self.endorse = True
        self.key_changes: List[KeyChange] = []
        self.agents: Dict[str, Agent] = {}
        self.secrets: Dict[str, Tuple[str, bytes, bytes]] = {}  # path -> (group, enc, meta)
        self.extra: Dict[str, bytes] = {}  # more policy files

    # ----- content ------------------------------------------------------------------------

    @property
    def owner_recipient(self) -> str:
        return str(self.owner.to_public())

    @property
    def key(self) -> str:
        return verify_key(self.signer)

    def add_agent(self, name: str, *groups: str) -> Agent:
        agent = Agent(name, x25519.Identity.generate(), sorted(groups))
        self.agents[name] = agent
        return agent

    def set(self, path: str, value: bytes, group: Optional[str] = None, armor: bool = False) -> None:
        group = group or (path.split("/")[0] if "/" in path else "default")
        agents = sorted(a.name for a in self.agents.values() if group in a.groups)
        recipients = [self.owner.to_public()] + [self.agents[a].identity.to_public() for a in agents]
        if armor:  # the stock age CLI, as a user of agent-vault 0.1.0 could have written it
            argv = ["age", "-e", "-a"] + [a for r in recipients for a in ("-r", str(r))]
            enc = subprocess.run(argv, input=value, stdout=subprocess.PIPE, check=True).stdout
        else:
            enc = pyrage.encrypt(value, recipients)
        meta = (
            f"name: {path}\ngroup: {group}\ncreated: 2026-01-01T00:00:00Z\nrotated: 2026-01-01T00:00:00Z\n"
            + ("authorized_agents:\n" + "".join(f"- {a}\n" for a in agents) if agents else "authorized_agents: []\n")
        ).encode()
        self.secrets[path] = (group, enc, meta)

    def policy_files(self) -> Dict[str, bytes]:
        groups: Dict[str, List[str]] = {}
        for path, (group, _, _) in self.secrets.items():
            groups.setdefault(group, []).append(path)
        manifest = "version: 1\nowners:\n- name: Kit Owner\n  public_key: owner.pub\nagents:"
        manifest += "".join(
            f"\n- name: {a.name}\n  groups:" + "".join(f"\n  - {g}" for g in a.groups) if a.groups
            else f"\n- name: {a.name}\n  groups: []"
            for a in sorted(self.agents.values(), key=lambda a: a.name)
        ) if self.agents else " []"
        manifest += "\ngroups:" + ("".join(
            f"\n- name: {g}\n  secrets:" + "".join(f"\n  - {s}" for s in sorted(groups[g]))
            for g in sorted(groups)
        ) if groups else " []") + "\n"
        files = {
            "config.yaml": b"version: 1\nencryption:\n  format: age\n",
            "owner.pub": (self.owner_recipient + "\n").encode(),
            "manifest.yaml": manifest.encode(),
        }
        for agent in self.agents.values():
            files[f"agents/{agent.name}/public.key"] = (agent.recipient + "\n").encode()
        if self.signed:
            files["signing.key.age"] = b"age-encryption.org/v1\n(not a real escrow in tests)\n"
        files.update(self.extra)
        return files

    def shard_files(self) -> Dict[str, bytes]:
        shards: Dict[str, List[str]] = {}
        for path, (_, enc, meta) in self.secrets.items():
            line = f"{hashlib.sha256(enc).hexdigest()} {hashlib.sha256(meta).hexdigest()} {path}\n"
            shards.setdefault(shard_of(path), []).append(line)
        return {name: "".join(sorted(lines, key=lambda l: l.split(" ", 2)[2].encode())).encode()
                for name, lines in shards.items()}

    def tree_files(self) -> Dict[str, bytes]:
        """Every file of ``.agent-vault/`` after signing (relative paths)."""
        files = dict(self.policy_files())
        for path, (_, enc, meta) in self.secrets.items():
            files[f"secrets/{path}.enc"] = enc
            files[f"secrets/{path}.meta"] = meta
        if self.signed:
            shards = self.shard_files()
            for name, data in shards.items():
                files[f"integrity/shards/{name}"] = data
            owners = [(self.owner_recipient, endorsement(str(self.owner), self.vault, self.key))] if self.endorse else []
            files["integrity/statement"] = statement(
                signer=self.signer, seq=self.seq, files=self.policy_files(), shards=shards,
                version=self.version, vault=self.vault, key_changes=self.key_changes,
                owners=owners if self.version == 2 else (),
            )
        return files

    def new_key(self) -> None:
        """``sign --new-key``: the next statement is signed by a new key, vouched for by the old."""
        following = Ed25519PrivateKey.generate()
        self.key_changes.append(key_change(self.signer, verify_key(following), self.vault, self.seq + 1))
        self.signer = following

    def commit(self, message: str = "change") -> str:
        """Signs (seq + 1) and commits exactly the vault files; returns the commit id."""
        self.seq += 1
        vault = self.repo / ".agent-vault"
        if vault.exists():
            shutil.rmtree(vault)
        for rel, data in self.tree_files().items():
            target = vault / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git(self.repo, "add", "-A", "-f", ".agent-vault")
        git(self.repo, "-c", "user.name=Kit", "-c", "user.email=kit@test.invalid", "commit", "--quiet",
            "--allow-empty", "-m", message)
        return git(self.repo, "rev-parse", "HEAD").strip()

    def key_file(self, agent: Optional[str] = None, verify_keys: Sequence[str] = ()) -> str:
        """An identity file as ``add-agent`` writes it, naming ``verify_keys`` (default: now)."""
        identity = self.agents[agent].identity if agent else self.owner
        comments = "".join(f"# agent-vault verify-key: {k}\n" for k in (verify_keys or [self.key]))
        return f"# agent-vault agent key\n# public key: {identity.to_public()}\n{comments}{identity}\n"


def commit_tree(repo: Path, files: Dict[str, Tuple[str, bytes]], message: str = "plumbing") -> str:
    """Replaces HEAD's ``.agent-vault`` by a tree built with git plumbing from
    ``{relative path: (mode, bytes)}`` (mode ``100644``, ``120000`` for a symlink whose bytes
    are its target, ``100755``…), commits it on HEAD and moves the branch; the working tree is
    left alone (readers read objects only)."""
    index = repo / ".git" / "kit-index"
    env = dict(os.environ, GIT_INDEX_FILE=str(index))
    if index.exists():
        index.unlink()
    for rel, (mode, data) in files.items():
        oid = subprocess.run(["git", "-C", str(repo), "hash-object", "-w", "--stdin"], input=data,
                             stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        subprocess.run(["git", "-C", str(repo), "update-index", "--add", "--cacheinfo",
                        f"{mode},{oid},.agent-vault/{rel}"], env=env, check=True)
    tree = subprocess.run(["git", "-C", str(repo), "write-tree"], env=env, stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()
    index.unlink()
    commit = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Kit", "-c", "user.email=kit@test.invalid",
         "commit-tree", tree, "-p", "HEAD", "-m", message],
        stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    git(repo, "update-ref", "HEAD", commit)
    return commit


def vault_files(kit: Kit) -> Dict[str, Tuple[str, bytes]]:
    """The kit's signed files as plumbing entries (all ``100644``)."""
    return {rel: ("100644", data) for rel, data in kit.tree_files().items()}


# ----- trees by hand: loose objects written with zlib, as an attacker can -----------------------

Spec = Dict[bytes, object]  # name -> (mode, bytes) for a file or symlink, or a nested Spec


def loose(repo: Path, kind: str, data: bytes) -> str:
    """Writes a loose object by hand (no git validation at all); returns its id."""
    import zlib

    raw = f"{kind} {len(data)}".encode() + b"\0" + data
    oid = hashlib.sha1(raw).hexdigest()
    path = repo / ".git" / "objects" / oid[:2] / oid[2:]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(zlib.compress(raw, 1))
    return oid


def tree_object(entries: Sequence[Tuple[str, bytes, str]], git_order: bool = True) -> bytes:
    """A tree object's bytes from (mode, name, hex id): in git's order (a folder's name
    compared as if followed by `/`), or as given."""
    if git_order:
        entries = sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == "40000" else b""))
    return b"".join(mode.encode() + b" " + name + b"\0" + bytes.fromhex(oid) for mode, name, oid in entries)


def tree_entries(repo: Path, oid: str) -> List[Tuple[str, bytes, str]]:
    """The raw entries (mode as written, name, id) of a tree object."""
    data = subprocess.run(["git", "-C", str(repo), "cat-file", "tree", oid], stdout=subprocess.PIPE,
                          check=True).stdout
    out, pos = [], 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        out.append((data[pos:space].decode(), data[space + 1:nul], data[nul + 1:nul + 21].hex()))
        pos = nul + 21
    return out


def write_spec(repo: Path, spec: Spec) -> str:
    entries = []
    for name in sorted(spec):
        value = spec[name]
        if isinstance(value, dict):
            entries.append(("40000", name, write_spec(repo, value)))
        else:
            assert isinstance(value, tuple)
            mode, data = value
            entries.append((str(mode), name, loose(repo, "blob", bytes(data))))
    return loose(repo, "tree", tree_object(entries))


def spec_of(files: Dict[str, bytes]) -> Spec:
    """A nested spec of regular files from {relative path: bytes}."""
    spec: Spec = {}
    for rel, data in files.items():
        *folders, name = rel.encode().split(b"/")
        here = spec
        for folder in folders:
            here = here.setdefault(folder, {})  # type: ignore[assignment]
        here[name] = ("100644", data)
    return spec


def commit_vault_tree(repo: Path, vault_tree: str, message: str = "by hand") -> str:
    """Commits HEAD's root tree with ``.agent-vault`` replaced by ``vault_tree`` (an id, or
    None-like "" to remove it) and moves the branch; the working tree is left alone."""
    listing = subprocess.run(["git", "-C", str(repo), "ls-tree", "-z", "HEAD"], stdout=subprocess.PIPE,
                             check=True).stdout
    entries = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        info, name = record.split(b"\t", 1)
        mode, _, oid = info.decode().split(" ")
        if name != b".agent-vault":
            entries.append((mode, name, oid))
    if vault_tree:
        entries.append(("40000", b".agent-vault", vault_tree))
    entries.sort(key=lambda e: e[1] + (b"/" if e[0] == "40000" else b""))
    root = loose(repo, "tree", tree_object(entries))
    commit = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Kit", "-c", "user.email=kit@test.invalid",
         "commit-tree", root, "-p", "HEAD", "-m", message],
        stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    git(repo, "update-ref", "HEAD", commit)
    return commit


def agent_key_file(home: Path, repo: Path, name: str) -> Path:
    """The key file `add-agent NAME` wrote for the vault in ``repo``: agent keys are kept per
    vault, ``agents/<vault id>/NAME.key`` (the id from the vault's statement), else
    ``agents/NAME.key``."""
    try:
        lines = (repo / ".agent-vault" / "integrity" / "statement").read_text().split("\n")
    except OSError:
        lines = []
    if len(lines) > 1 and lines[1].startswith("vault "):
        per_vault = home / "agents" / lines[1][len("vault "):] / f"{name}.key"
        if per_vault.exists():
            return per_vault
    found = sorted((home / "agents").glob(f"*/{name}.key"))
    return found[0] if found else home / "agents" / f"{name}.key"
