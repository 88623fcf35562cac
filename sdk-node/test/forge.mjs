// What a repository writer has, and nothing more: stock `age`/`age-keygen`, an Ed25519 library
// (node:crypto), git plumbing and loose objects written by hand. Used to build vaults (signed
// with keys the test chooses) and to attack vaults the CLI made.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, createHmac, generateKeyPairSync, hkdfSync, randomBytes, sign } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { deflateSync } from "node:zlib";

import { BASE_ENV, git, tempDir } from "./helpers.mjs";

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** A fresh age key pair from stock age-keygen. */
export function ageKeygen() {
  const r = spawnSync("age-keygen", [], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const identity = r.stdout.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"));
  const recipient = /public key: (age1\S+)/.exec(r.stdout + r.stderr)[1];
  return { identity, recipient, file: r.stdout };
}

/** Encrypts with stock age to `recipients` (armored with `armor`). */
export function ageEncrypt(plaintext, recipients, { armor = false } = {}) {
  const r = spawnSync("age", [...(armor ? ["-a"] : []), ...recipients.flatMap((x) => ["-r", x])], { input: plaintext });
  assert.equal(r.status, 0, r.stderr?.toString());
  return r.stdout;
}

/** An Ed25519 signing key: `key` is its `ed25519:<base64>` verify key. */
export function signer() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(12);
  return { key: `ed25519:${raw.toString("base64")}`, sign: (msg) => sign(null, Buffer.from(msg), privateKey) };
}

/** The endorsement tag an owner identity makes for (vault id, verify key), as docs/format.md says. */
export function endorsement(identity, vault, verifyKey) {
  const k = Buffer.from(hkdfSync("sha256", Buffer.from(identity.toUpperCase()), Buffer.alloc(0), "agent-vault owner endorsement v1", 32));
  return createHmac("sha256", k).update(`agent-vault endorsement v1\nvault ${vault}\nverify-key ${verifyKey}\n`).digest("hex");
}

const cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const shardOf = (secret) => sha256(Buffer.from(secret)).slice(0, 2);

/**
 * The shard files and the statement for `files` (Map rel → Buffer under .agent-vault/).
 * `version` 1 or 2; `keyChanges`: [{ seq, from: signer }] oldest first, the chain ending at
 * `by`; `owners`: [{ identity, recipient }] to endorse `by`.
 */
export function signFiles(files, { by, seq, vault = randomBytes(16).toString("hex"), version = 2, keyChanges = [], owners = [], body = (b) => b }) {
  const out = new Map([...files].filter(([rel]) => !rel.startsWith("integrity/")));
  const secrets = new Map();
  for (const [rel, bytes] of out) {
    const m = /^secrets\/(.+)\.(enc|meta)$/.exec(rel);
    if (!m) continue;
    const entry = secrets.get(m[1]) ?? ["0".repeat(64), "0".repeat(64)];
    entry[m[2] === "enc" ? 0 : 1] = sha256(bytes);
    secrets.set(m[1], entry);
  }
  const shards = new Map();
  for (const path of [...secrets.keys()].sort(cmp)) {
    const [e, mt] = secrets.get(path);
    const name = shardOf(path);
    shards.set(name, (shards.get(name) ?? "") + `${e} ${mt} ${path}\n`);
  }
  for (const [name, text] of shards) out.set(`integrity/shards/${name}`, Buffer.from(text));
  let text = `agent-vault-statement v${version}\n`;
  if (version === 2) text += `vault ${vault}\n`;
  text += `verify-key ${by.key}\nseq ${seq}\n`;
  keyChanges.forEach((change, i) => {
    const to = (keyChanges[i + 1]?.from ?? by).key;
    const msg = `agent-vault key-change v1\nvault ${vault}\nseq ${change.seq}\nfrom ${change.from.key}\nto ${to}\n`;
    text += `key-change ${change.seq} ${change.from.key} ${change.from.sign(msg).toString("base64")}\n`;
  });
  for (const o of [...owners].sort((a, b) => cmp(a.recipient, b.recipient))) {
    text += `owner ${o.recipient} ${endorsement(o.identity, vault, by.key)}\n`;
  }
  for (const rel of [...out.keys()].filter((r) => !r.startsWith("secrets/") && !r.startsWith("integrity/")).sort(cmp)) {
    text += `file ${sha256(out.get(rel))} ${rel}\n`;
  }
  for (const name of [...shards.keys()].sort()) text += `shard ${sha256(Buffer.from(shards.get(name)))} ${name}\n`;
  text = body(text);
  out.set("integrity/statement", Buffer.from(`${text}signature ${by.sign(text).toString("base64")}\n`));
  return { files: out, vault };
}

/**
 * A vault as the format describes it, built by hand: an owner, agents (each with groups) and
 * secrets `{ path: { value, group, agents } }`. Returns its files (unsigned) and keys.
 */
export function buildVault({ agents = { bot: ["stripe"] }, secrets = { "stripe/a": "value-a" } } = {}) {
  const owner = ageKeygen();
  const agentKeys = Object.fromEntries(Object.keys(agents).map((n) => [n, ageKeygen()]));
  const files = new Map();
  files.set("config.yaml", Buffer.from("version: 1\nencryption:\n  format: age\n"));
  files.set("owner.pub", Buffer.from(`${owner.recipient}\n`));
  const groups = new Map();
  for (const [path, s] of Object.entries(secrets)) {
    const group = s.group ?? (path.includes("/") ? path.split("/")[0] : "default");
    groups.set(group, [...(groups.get(group) ?? []), path].sort(cmp));
  }
  let manifest = "version: 1\nowners:\n- name: Owner\n  public_key: owner.pub\nagents:\n";
  for (const name of Object.keys(agents).sort(cmp)) {
    manifest += `- name: ${name}\n  groups:${agents[name].length ? "" : " []"}\n${agents[name].map((g) => `  - ${g}\n`).join("")}`;
    files.set(`agents/${name}/public.key`, Buffer.from(`${agentKeys[name].recipient}\n`));
  }
  manifest += "groups:\n";
  for (const g of [...groups.keys()].sort(cmp)) manifest += `- name: ${g}\n  secrets:\n${groups.get(g).map((p) => `  - ${p}\n`).join("")}`;
  files.set("manifest.yaml", Buffer.from(manifest));
  for (const [path, s] of Object.entries(secrets)) {
    const group = s.group ?? (path.includes("/") ? path.split("/")[0] : "default");
    const readers = Object.keys(agents).filter((a) => agents[a].includes(group)).sort(cmp);
    files.set(`secrets/${path}.enc`, ageEncrypt(s.value, [owner.recipient, ...readers.map((a) => agentKeys[a].recipient)]));
    files.set(
      `secrets/${path}.meta`,
      Buffer.from(`name: ${path}\ngroup: ${group}\ncreated: 2026-01-01T00:00:00Z\nrotated: 2026-01-01T00:00:00Z\n${s.expires ? `expires: ${s.expires}\n` : ""}authorized_agents:${readers.length ? "" : " []"}\n${readers.map((a) => `- ${a}\n`).join("")}`),
    );
  }
  return { files, owner, agentKeys };
}

/** Writes `files` as the repository's whole `.agent-vault/` and commits it (git add -f: nothing ignored). */
export function commitFiles(repo, files, message = "vault") {
  rmSync(join(repo, ".agent-vault"), { recursive: true, force: true });
  for (const [rel, bytes] of files) {
    const path = join(repo, ".agent-vault", rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  git(["add", "-A", "-f", ".agent-vault"], { cwd: repo });
  git(["commit", "-q", "--no-verify", "--allow-empty", "-m", message], { cwd: repo });
  return git(["rev-parse", "HEAD"], { cwd: repo });
}

/** A new git repository (branch main) in a temp dir. */
export function newRepo() {
  const repo = join(tempDir(), "repo");
  git(["init", "-q", "-b", "main", repo]);
  return repo;
}

/** Writes a loose object by hand (what `git hash-object -w` does) and returns its id. */
export function writeObject(repo, type, content) {
  const body = Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]);
  const oid = createHash("sha1").update(body).digest("hex");
  const dir = join(repo, ".git", "objects", oid.slice(0, 2));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, oid.slice(2)), deflateSync(body, { level: 1 }));
  return oid;
}

/**
 * A tree object from entries `{ mode, name (string or Buffer), oid }`, sorted as git sorts them
 * (a folder's name compared as if it ended in `/`) unless `keepOrder`.
 */
export function mktree(repo, entries, { keepOrder = false } = {}) {
  const key = (e) => Buffer.concat([Buffer.from(e.name), Buffer.from(e.mode === "40000" ? "/" : "")]);
  const ordered = keepOrder ? entries : [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
  return writeObject(
    repo,
    "tree",
    Buffer.concat(ordered.flatMap((e) => [Buffer.from(`${e.mode} `), Buffer.from(e.name), Buffer.from([0]), Buffer.from(e.oid, "hex")])),
  );
}

/** The entries of a tree (`git ls-tree -z`), names as Buffers. */
export function lsTree(repo, treeish) {
  const r = spawnSync("git", ["ls-tree", "-z", treeish], { cwd: repo, env: { ...BASE_ENV } });
  assert.equal(r.status, 0, r.stderr.toString());
  const out = [];
  let rest = r.stdout;
  while (rest.length > 0) {
    const nul = rest.indexOf(0);
    const record = rest.subarray(0, nul);
    const tab = record.indexOf(9);
    const [mode, , oid] = record.subarray(0, tab).toString().split(" ");
    out.push({ mode: mode === "040000" ? "40000" : mode, name: Buffer.from(record.subarray(tab + 1)), oid });
    rest = rest.subarray(nul + 1);
  }
  return out;
}

/**
 * Replaces HEAD's `.agent-vault` tree with `edit(entries)` (entries of the `.agent-vault` tree)
 * and commits on top of HEAD; `edit` may return new entries built with {@link mktree}.
 */
export function commitVaultTree(repo, edit, message = "hand-made tree", { keepOrder = false } = {}) {
  const root = lsTree(repo, "HEAD^{tree}");
  const vault = root.find((e) => e.name.toString() === ".agent-vault");
  const entries = edit(vault ? lsTree(repo, vault.oid) : []);
  const vaultOid = mktree(repo, entries, { keepOrder });
  const rootOid = mktree(repo, [...root.filter((e) => e.name.toString() !== ".agent-vault"), { mode: "40000", name: ".agent-vault", oid: vaultOid }]);
  return commitTree(repo, rootOid, message);
}

/** A commit of `tree` on top of HEAD; moves the branch. */
export function commitTree(repo, tree, message = "hand-made") {
  const parent = git(["rev-parse", "HEAD"], { cwd: repo });
  const who = "Mallory <m@example.com> 1700000000 +0000";
  const oid = writeObject(repo, "commit", Buffer.from(`tree ${tree}\nparent ${parent}\nauthor ${who}\ncommitter ${who}\n\n${message}\n`));
  git(["update-ref", "HEAD", oid], { cwd: repo });
  return oid;
}

/** Reads every file of HEAD's `.agent-vault/` (rel → Buffer), from git objects. */
export function headFiles(repo, commit = "HEAD") {
  const r = spawnSync("git", ["ls-tree", "-r", "-z", `${commit}:.agent-vault`], { cwd: repo, env: { ...BASE_ENV } });
  assert.equal(r.status, 0, r.stderr.toString());
  const files = new Map();
  for (const record of r.stdout.toString("latin1").split("\0").filter(Boolean)) {
    const tab = record.indexOf("\t");
    const oid = record.slice(0, tab).split(" ")[2];
    const name = Buffer.from(record.slice(tab + 1), "latin1").toString("utf8");
    files.set(name, spawnSync("git", ["cat-file", "blob", oid], { cwd: repo, maxBuffer: 1 << 28 }).stdout);
  }
  return files;
}

/** The fields of a statement (for re-signing a CLI-made vault with the attacker's key). */
export function statementFields(bytes) {
  const text = bytes.toString();
  return {
    vault: /^vault (\S+)$/m.exec(text)?.[1] ?? null,
    key: /^verify-key (\S+)$/m.exec(text)[1],
    seq: BigInt(/^seq (\d+)$/m.exec(text)[1]),
  };
}
