// A hostile repository (issue 9): vaults built and attacked with only what a repository writer
// has — public files, stock age, an Ed25519 key of their own, git plumbing and loose objects
// written by hand — read through the public API. Every attack must be refused (or, for trust on
// first use, announced), nothing decrypted from it, nothing of it printed.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { AgentVaultError, FormatError, IntegrityError, KeyNotFoundError, Vault, VaultNotFoundError } from "../dist/index.js";
import {
  ageEncrypt,
  ageKeygen,
  buildVault,
  commitFiles,
  commitTree,
  commitVaultTree,
  lsTree,
  mktree,
  newRepo,
  signFiles,
  signer,
  writeObject,
} from "./forge.mjs";
import { BASE_ENV, cli, git, tempDir } from "./helpers.mjs";

const ESC = "\x1b";
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;
const IDENTITY = /AGE-SECRET-KEY-1[02-9ac-hj-np-z]{20,}/i;

/** A signed vault committed in a new repository, with key files for the owner and `bot`. */
function setup({ secrets = { "stripe/a": { value: "value-a" }, "stripe/b": { value: "value-b" }, top: { value: "top" } }, agents = { bot: ["stripe"] } } = {}) {
  const built = buildVault({ secrets, agents });
  const genuine = signer();
  const { files, vault } = signFiles(built.files, { by: genuine, seq: 3, owners: [built.owner] });
  const repo = newRepo();
  commitFiles(repo, files);
  const keys = tempDir("av-keys-");
  const ownerKey = join(keys, "owner.key");
  writeFileSync(ownerKey, built.owner.file, { mode: 0o600 });
  const botKey = join(keys, "bot.key");
  writeFileSync(botKey, `# agent-vault agent key for 'bot'\n# agent-vault verify-key: ${genuine.key}\n${built.agentKeys.bot.identity}\n`, { mode: 0o600 });
  return { ...built, files, vault, genuine, repo, ownerKey, botKey };
}

/** A reader with a fresh (or given) key home; collects warnings. */
function reader(repo, options = {}, env = {}) {
  const warnings = [];
  const home = env.AGENT_VAULT_HOME ?? tempDir("av-home-");
  const vault = new Vault({
    repoPath: repo,
    autoPull: false,
    env: { ...BASE_ENV, AGENT_VAULT_HOME: home, ...env },
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  return { vault, warnings, home };
}

/** Awaits a rejection of class `Class` and checks that its message is safe to print. */
async function refused(promise, Class, never = []) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${Class.name}, but the call succeeded`);
  assert.ok(error instanceof Class && error instanceof AgentVaultError, `expected ${Class.name}, got ${error?.name}: ${error?.message}`);
  assertSafe(error.message, never);
  return error;
}

function assertSafe(message, never = []) {
  assert.ok(!CONTROL.test(message), `a control character in: ${JSON.stringify(message)}`);
  assert.ok(!IDENTITY.test(message), `an identity in: ${message}`);
  for (const s of never) assert.ok(!message.includes(s), `${s} in: ${message}`);
}

/** Commits `files` re-signed by `by` (what a pusher does with a key of their own). */
function resign(v, files, by, seq, extra = {}) {
  const { files: out } = signFiles(files, { by, seq, vault: v.vault, ...extra });
  commitFiles(v.repo, out, "re-signed");
  return out;
}

describe("hostile: the vault tree (read from git objects only)", () => {
  it("refuses a .meta replaced by a symlink, for get and for listings", async () => {
    const v = setup();
    commitVaultTree(v.repo, (entries) => {
      const secrets = entries.find((e) => e.name.toString() === "secrets");
      const stripe = lsTree(v.repo, secrets.oid).find((e) => e.name.toString() === "stripe");
      const link = writeObject(v.repo, "blob", Buffer.from("../../../../etc/passwd"));
      const inner = lsTree(v.repo, stripe.oid).map((e) => (e.name.toString() === "a.meta" ? { mode: "120000", name: "a.meta", oid: link } : e));
      const newSecrets = lsTree(v.repo, secrets.oid).map((e) => (e.name.toString() === "stripe" ? { ...e, oid: mktree(v.repo, inner) } : e));
      return entries.map((e) => (e.name.toString() === "secrets" ? { ...e, oid: mktree(v.repo, newSecrets) } : e));
    });
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
    assert.match(e.message, /secrets\/stripe\/a\.meta: is a symbolic link/);
    await refused(reader(v.repo, { keyPath: v.botKey }).vault.listSecrets(), IntegrityError);
  });

  it("refuses config.yaml as a symlink to /dev/zero or to a private key: fast, and prints no key", async () => {
    const v = setup();
    for (const target of ["/dev/zero", v.ownerKey]) {
      commitVaultTree(v.repo, (entries) =>
        entries.map((e) => (e.name.toString() === "config.yaml" ? { mode: "120000", name: "config.yaml", oid: writeObject(v.repo, "blob", Buffer.from(target)) } : e)),
      );
      // Also in the working tree, where an old reader would have followed it.
      git(["checkout", "-f", "HEAD"], { cwd: v.repo });
      const started = Date.now();
      for (const call of [(x) => x.get("stripe/a"), (x) => x.listSecrets(), (x) => x.listGroups()]) {
        const r = reader(v.repo, { keyPath: v.ownerKey });
        await refused(call(r.vault), IntegrityError, [v.owner.identity]);
        for (const w of r.warnings) assertSafe(w, [v.owner.identity]);
      }
      assert.ok(Date.now() - started < 5000);
    }
  });

  it("refuses executable files, submodules, and a .agent-vault that is not a folder", async () => {
    const v = setup();
    const blob = writeObject(v.repo, "blob", Buffer.from("x\n"));
    for (const [mode, word] of [["100755", "executable"], ["160000", "submodule"], ["100664", "mode 100664"]]) {
      commitVaultTree(v.repo, (entries) => [
        ...entries.filter((e) => e.name.toString() !== "extra"),
        { mode, name: "extra", oid: mode === "160000" ? git(["rev-parse", "HEAD"], { cwd: v.repo }) : blob },
      ]);
      const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
      assert.match(e.message, new RegExp(word));
    }
    const root = lsTree(v.repo, "HEAD^{tree}").filter((e) => e.name.toString() !== ".agent-vault");
    commitTree(v.repo, mktree(v.repo, [...root, { mode: "120000", name: ".agent-vault", oid: writeObject(v.repo, "blob", Buffer.from("/tmp")) }]));
    await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
    commitTree(v.repo, mktree(v.repo, root));
    await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), VaultNotFoundError);
  });

  it("refuses bad names: not UTF-8, control characters (escaped in the message), `..`", async () => {
    const v = setup();
    const blob = writeObject(v.repo, "blob", Buffer.from("x\n"));
    const cases = [
      [Buffer.from([0x61, 0xff, 0x62]), /not valid UTF-8/],
      [Buffer.from(`${ESC}[31mred`), /\\u\{1b\}\[31mred/],
      [Buffer.from(".."), /named `\.` or `\.\.`/],
      [Buffer.from("a".repeat(256)), /1 to 255 bytes/],
    ];
    const base = git(["rev-parse", "HEAD"], { cwd: v.repo });
    for (const [name, pattern] of cases) {
      git(["update-ref", "HEAD", base], { cwd: v.repo });
      commitVaultTree(v.repo, (entries) => [...entries, { mode: "100644", name, oid: blob }]);
      const e = await refused(reader(v.repo).vault.listSecrets(), IntegrityError);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes(ESC));
    }
  });

  it("refuses a tree git itself calls broken: unsorted, or with a name twice (a lookup and a walk would disagree)", async () => {
    const v = setup();
    const base = git(["rev-parse", "HEAD"], { cwd: v.repo });
    commitVaultTree(v.repo, (entries) => [...entries].reverse(), "unsorted", { keepOrder: true });
    assert.match((await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError)).message, /not sorted/);
    git(["update-ref", "HEAD", base], { cwd: v.repo });
    // The genuine ciphertext and an attacker's under one name, in git's order.
    const evil = writeObject(v.repo, "blob", ageEncrypt("attacker-value", [v.owner.recipient, v.agentKeys.bot.recipient]));
    commitVaultTree(v.repo, (entries) => {
      const secrets = entries.find((e) => e.name.toString() === "secrets");
      const stripe = lsTree(v.repo, secrets.oid).find((e) => e.name.toString() === "stripe");
      const inner = lsTree(v.repo, stripe.oid).flatMap((e) => (e.name.toString() === "a.enc" ? [{ ...e, oid: evil }, e] : [e]));
      const newSecrets = lsTree(v.repo, secrets.oid).map((e) => (e.name.toString() === "stripe" ? { ...e, oid: mktree(v.repo, inner, { keepOrder: true }) } : e));
      return entries.map((e) => (e.name.toString() === "secrets" ? { ...e, oid: mktree(v.repo, newSecrets) } : e));
    });
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError, ["attacker-value"]);
    assert.match(e.message, /two entries named a\.enc/);
    await refused(reader(v.repo).vault.listSecrets(), IntegrityError);
  });

  it("refuses stray files under secrets/ and integrity/, and a folder where the statement belongs", async () => {
    const v = setup();
    for (const rel of ["secrets/README", "secrets/bad name.enc", "integrity/notes", "integrity/shards/zz", "integrity/statement/x"]) {
      const files = new Map(v.files);
      if (rel === "integrity/statement/x") files.delete("integrity/statement");
      files.set(rel, Buffer.from("x"));
      commitFiles(v.repo, files);
      const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
      assert.ok(e.message.includes(".agent-vault/"), e.message);
    }
  });

  it("walks iteratively: a tree 1,000 levels deep is refused at level 129, never recursed", async () => {
    const v = setup();
    let oid = mktree(v.repo, [{ mode: "100644", name: "f", oid: writeObject(v.repo, "blob", Buffer.from("x")) }]);
    for (let i = 0; i < 1_000; i++) oid = mktree(v.repo, [{ mode: "40000", name: "d", oid }]);
    commitVaultTree(v.repo, (entries) => [...entries, { mode: "40000", name: "agents-deep", oid }]);
    const started = Date.now();
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
    assert.match(e.message, /more than 128 levels deep/);
    await refused(reader(v.repo).vault.listSecrets(), IntegrityError);
    assert.ok(Date.now() - started < 10_000);
  });

  it("allows exactly 128 levels and refuses 129 (an unsigned vault: the rules still apply)", async () => {
    const v = setup();
    const files = new Map([...v.files].filter(([rel]) => !rel.startsWith("integrity/")));
    commitFiles(v.repo, files);
    const chain = (levels) => {
      let oid = mktree(v.repo, [{ mode: "100644", name: "f", oid: writeObject(v.repo, "blob", Buffer.from("x")) }]);
      for (let i = 1; i < levels - 1; i++) oid = mktree(v.repo, [{ mode: "40000", name: "d", oid }]);
      return oid;
    };
    // `deep` (level 1) + d… + f: `levels` path components in all.
    const base = git(["rev-parse", "HEAD"], { cwd: v.repo });
    commitVaultTree(v.repo, (entries) => [...entries, { mode: "40000", name: "deep", oid: chain(128) }]);
    const ok = reader(v.repo, { keyPath: v.ownerKey });
    assert.equal(await ok.vault.get("stripe/a"), "value-a");
    assert.match(ok.warnings.join("\n"), /unsigned/);
    git(["reset", "-q", "--hard", base], { cwd: v.repo });
    commitVaultTree(v.repo, (entries) => [...entries, { mode: "40000", name: "deep", oid: chain(129) }]);
    await refused(reader(v.repo, { keyPath: v.ownerKey }).vault.get("stripe/a"), IntegrityError);
  });

  it("counts entries: more than 1,000,000 (one small tree shared 1,000 times) is refused", async () => {
    const v = setup();
    const blob = writeObject(v.repo, "blob", Buffer.from("x"));
    const wide = mktree(v.repo, Array.from({ length: 1001 }, (_, i) => ({ mode: "100644", name: `f${String(i).padStart(4, "0")}`, oid: blob })));
    const bomb = mktree(v.repo, Array.from({ length: 1000 }, (_, i) => ({ mode: "40000", name: `d${String(i).padStart(4, "0")}`, oid: wide })));
    commitVaultTree(v.repo, (entries) => [...entries, { mode: "40000", name: "agents-bomb", oid: bomb }]);
    const e = await refused(reader(v.repo).vault.listSecrets(), IntegrityError);
    assert.match(e.message, /more than 1000000 entries/);
  });

  it("refuses an over-cap blob on its header size, before inflating it (70 MiB .enc, 2 MiB config)", async () => {
    const v = setup();
    const huge = writeObject(v.repo, "blob", Buffer.alloc(70 << 20, 0x41));
    commitVaultTree(v.repo, (entries) => {
      const secrets = entries.find((e) => e.name.toString() === "secrets");
      const stripe = lsTree(v.repo, secrets.oid).find((e) => e.name.toString() === "stripe");
      const inner = lsTree(v.repo, stripe.oid).map((e) => (e.name.toString() === "a.enc" ? { ...e, oid: huge } : e));
      const newSecrets = lsTree(v.repo, secrets.oid).map((e) => (e.name.toString() === "stripe" ? { ...e, oid: mktree(v.repo, inner) } : e));
      return entries.map((e) => (e.name.toString() === "secrets" ? { ...e, oid: mktree(v.repo, newSecrets) } : e));
    });
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
    assert.match(e.message, /73400320 bytes, more than the 67108864/);
    await refused(reader(v.repo).vault.listSecrets(), IntegrityError);
    assert.ok(Date.now() - started < 5000);
    assert.ok(process.memoryUsage().rss - before < 40 << 20, "the blob was not read into memory");
    const files = new Map(v.files);
    files.set("config.yaml", Buffer.alloc(2 << 20, 0x20));
    resign(v, files, v.genuine, 4);
    await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
  });

  it("a signed vault without config.yaml is damaged (FormatError, as the CLI), not 'no vault'", async () => {
    const v = setup();
    const files = new Map(v.files);
    files.delete("config.yaml");
    resign(v, files, v.genuine, 4);
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), FormatError);
    assert.match(e.message, /config\.yaml: missing/);
    await refused(reader(v.repo).vault.listSecrets(), FormatError);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/a", "--key", v.botKey, "--offline"], { env: { AGENT_VAULT_HOME: tempDir() }, check: false }).code, 1);
  });

  it("reads HEAD's objects, not the working tree: uncommitted edits and untracked files play no part", async () => {
    const v = setup();
    writeFileSync(join(v.repo, ".agent-vault/secrets/stripe/a.enc"), ageEncrypt("working-tree", [v.owner.recipient]));
    writeFileSync(join(v.repo, ".agent-vault/agents/extra.key"), "untracked\n");
    const r = reader(v.repo, { keyPath: v.botKey });
    assert.equal(await r.vault.get("stripe/a"), "value-a");
    assert.equal((await r.vault.listSecrets()).length, 3);
    assert.deepEqual(r.warnings, []);
  });

  it("verifies tracked files that a .gitignore matches, and reads a secret named like an ignore rule", async () => {
    const v = setup({ secrets: { "stripe/a": { value: "value-a" }, "tls/private": { value: "pem" } }, agents: { bot: ["stripe", "tls"] } });
    const files = new Map(v.files);
    files.set(".gitignore", Buffer.from("*.key\n**/private.*\n"));
    const signedFiles = resign(v, files, v.genuine, 4);
    const r = reader(v.repo, { keyPath: v.botKey });
    assert.equal(await r.vault.get("tls/private"), "pem");
    assert.deepEqual(r.warnings, []);
    // A tracked file the vault's own .gitignore matches is still part of the signed state.
    const forced = new Map(signedFiles);
    forced.set("agents/bot/extra.key", Buffer.from("planted\n"));
    commitFiles(v.repo, forced, "planted");
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.listSecrets(), IntegrityError);
    assert.match(e.message, /agents\/bot\/extra\.key was added/);
  });
});

describe("hostile: trust (re-signed, rolled back, swapped vaults)", () => {
  it("a vault re-signed by the attacker with seq 2^64-1, a swapped agent key and a substituted secret", async () => {
    const v = setup();
    const attacker = signer();
    const mallory = ageKeygen();
    const files = new Map(v.files);
    files.set("agents/bot/public.key", Buffer.from(`${mallory.recipient}\n`));
    files.set("secrets/stripe/a.enc", ageEncrypt("attacker-value", [v.owner.recipient, v.agentKeys.bot.recipient]));
    // The genuine pin, made by reading the genuine state first (no anchor: owner endorsed).
    const pinnedHome = tempDir("av-home-");
    assert.equal(await reader(v.repo, { keyPath: v.ownerKey }, { AGENT_VAULT_HOME: pinnedHome }).vault.get("stripe/a"), "value-a");
    const pinsBefore = readFileSync(join(pinnedHome, "pins.json"), "utf8");
    resign(v, files, attacker, "18446744073709551615");

    // Anchored by the key file comment: refused.
    await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError, ["attacker-value"]);
    // Pinned to the genuine key, no anchor: refused, and the pin is unchanged.
    const bare = join(tempDir(), "bot-no-comment.key");
    writeFileSync(bare, `${v.agentKeys.bot.identity}\n`);
    await refused(reader(v.repo, { keyPath: bare }, { AGENT_VAULT_HOME: pinnedHome }).vault.get("stripe/a"), IntegrityError);
    await refused(reader(v.repo, {}, { AGENT_VAULT_HOME: pinnedHome }).vault.listSecrets(), IntegrityError);
    assert.equal(readFileSync(join(pinnedHome, "pins.json"), "utf8"), pinsBefore);
    // No anchor, fresh home (the CI recipe without the verify key): read, but never silently.
    const fresh = reader(v.repo, { keyPath: bare });
    assert.equal(await fresh.vault.get("stripe/a"), "attacker-value");
    assert.equal(fresh.warnings.length, 1);
    assert.match(fresh.warnings[0], /first use/);
    assert.ok(fresh.warnings[0].includes(attacker.key) && fresh.warnings[0].includes("AGENT_VAULT_VERIFY_KEY"));
    const pins = JSON.parse(readFileSync(join(fresh.home, "pins.json"), "utf8").replace(/"seq": (\d+)/g, '"seq": "$1"'));
    assert.deepEqual(pins.vaults[v.vault], { verify_key: attacker.key, seq: "18446744073709551615" });
    // The owner's identity does not endorse the attacker's key: the owner is warned too.
    const owner = reader(v.repo, { keyPath: v.ownerKey });
    await owner.vault.get("top");
    assert.match(owner.warnings.join("\n"), /first use/);
  });

  it("a rollback across a signing-key change, read with a key file that lists both verify keys", async () => {
    const v = setup();
    const old = git(["rev-parse", "HEAD"], { cwd: v.repo });
    const next = signer();
    const changed = new Map(v.files);
    changed.set("secrets/stripe/a.enc", ageEncrypt("rotated", [v.owner.recipient, v.agentKeys.bot.recipient]));
    resign(v, changed, next, 5, { keyChanges: [{ seq: 5, from: v.genuine }] });
    const both = join(tempDir(), "bot.key");
    writeFileSync(both, `# agent-vault verify-key: ${v.genuine.key}\n# agent-vault verify-key: ${next.key}\n${v.agentKeys.bot.identity}\n`);
    const home = tempDir("av-home-");
    assert.equal(await reader(v.repo, { keyPath: both }, { AGENT_VAULT_HOME: home }).vault.get("stripe/a"), "rotated");
    // The pusher restores the tree from before the key change (validly signed by the old key).
    git(["checkout", old, "--", ".agent-vault"], { cwd: v.repo });
    git(["commit", "-q", "--no-verify", "-m", "roll back"], { cwd: v.repo });
    const e = await refused(reader(v.repo, { keyPath: both }, { AGENT_VAULT_HOME: home }).vault.get("stripe/a"), IntegrityError, ["value-a"]);
    assert.match(e.message, /rollback/);
  });

  it("follows a legitimate key change with only the OLD verify key in the key file, silently", async () => {
    const v = setup();
    const next = signer();
    const changed = new Map(v.files);
    changed.set("secrets/stripe/a.enc", ageEncrypt("after-change", [v.owner.recipient, v.agentKeys.bot.recipient]));
    resign(v, changed, next, 4, { keyChanges: [{ seq: 4, from: v.genuine }], owners: [v.owner] });
    const r = reader(v.repo, { keyPath: v.botKey });
    assert.equal(await r.vault.get("stripe/a"), "after-change");
    assert.deepEqual(r.warnings, []);
    // A chain link signed by someone else is not followed.
    const forged = signer();
    resign(v, changed, forged, 5, { keyChanges: [{ seq: 4, from: signer() }] });
    await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
  });

  it("another vault copied over a pinned location, and a version-1 statement at a version-2 location", async () => {
    const prod = setup();
    const staging = setup();
    const key = join(tempDir(), "bot.key");
    writeFileSync(key, `# agent-vault verify-key: ${prod.genuine.key}\n# agent-vault verify-key: ${staging.genuine.key}\n${prod.agentKeys.bot.identity}\n`);
    const home = tempDir("av-home-");
    assert.equal(await reader(prod.repo, { keyPath: key }, { AGENT_VAULT_HOME: home }).vault.get("stripe/a"), "value-a");
    commitFiles(prod.repo, staging.files, "staging's files");
    const e = await refused(reader(prod.repo, { keyPath: key }, { AGENT_VAULT_HOME: home }).vault.get("stripe/a"), IntegrityError);
    assert.match(e.message, /another vault/);

    const attacker = signer();
    const v1 = signFiles(prod.files, { by: attacker, seq: 99, version: 1 });
    commitFiles(prod.repo, v1.files, "downgrade");
    await refused(reader(prod.repo, {}, { AGENT_VAULT_HOME: home }).vault.listSecrets(), IntegrityError);
  });

  it("the owner on a fresh machine: endorsed, no warning, pinned", async () => {
    const v = setup();
    const r = reader(v.repo, { keyPath: v.ownerKey });
    assert.equal(await r.vault.get("top"), "top");
    assert.deepEqual(r.warnings, []);
    const pins = JSON.parse(readFileSync(join(r.home, "pins.json"), "utf8"));
    assert.deepEqual(pins.vaults[v.vault], { verify_key: v.genuine.key, seq: 3 });
  });

  it("conflict markers in the statement name the merge fix", async () => {
    const v = setup();
    const files = new Map(v.files);
    files.set("integrity/statement", Buffer.concat([Buffer.from("<<<<<<< HEAD\n"), v.files.get("integrity/statement"), Buffer.from("=======\n>>>>>>> theirs\n")]));
    commitFiles(v.repo, files);
    const e = await refused(reader(v.repo, { keyPath: v.botKey }).vault.get("stripe/a"), IntegrityError);
    assert.match(e.message, /conflict markers.*agent-vault sign/s);
  });
});

describe("hostile: keys and pins", () => {
  it("AGENT_VAULT_KEY: a lowercased key works and is never echoed; set but empty is 'key not found'", async () => {
    const v = setup();
    const lower = v.agentKeys.bot.identity.toLowerCase();
    const r = reader(v.repo, {}, { AGENT_VAULT_KEY: lower, AGENT_VAULT_VERIFY_KEY: v.genuine.key });
    assert.equal(await r.vault.get("stripe/a"), "value-a");
    const denied = await refused(r.vault.get("top"), AgentVaultError);
    assert.ok(!denied.message.toLowerCase().includes(lower.slice(16, 40)));
    const home = tempDir("av-home-");
    writeFileSync(join(home, "owner.key"), v.owner.file);
    await refused(reader(v.repo, {}, { AGENT_VAULT_HOME: home, AGENT_VAULT_KEY: "" }).vault.get("top"), KeyNotFoundError);
  });

  it("a corrupt or newer pins.json is an error and is left untouched; a held lock is a warning", async () => {
    const v = setup();
    for (const text of ["{corrupt", '{"version": 3, "vaults": {}}']) {
      const home = tempDir("av-home-");
      writeFileSync(join(home, "pins.json"), text);
      await refused(reader(v.repo, { keyPath: v.botKey }, { AGENT_VAULT_HOME: home }).vault.get("stripe/a"), FormatError);
      assert.equal(readFileSync(join(home, "pins.json"), "utf8"), text);
    }
    const home = tempDir("av-home-");
    writeFileSync(join(home, "pins.json.lock"), "");
    const r = reader(v.repo, { keyPath: v.botKey }, { AGENT_VAULT_HOME: home });
    assert.equal(await r.vault.get("stripe/a"), "value-a");
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /pins\.json/);
    // A key home that cannot be created (its parent is missing): the read goes on, with a warning.
    const gone = reader(v.repo, { keyPath: v.botKey }, { AGENT_VAULT_HOME: join(tempDir(), "no", "home") });
    assert.equal(await gone.vault.get("stripe/a"), "value-a");
    assert.match(gone.warnings.join("\n"), /pins\.json/);
  });

  it("an unsigned vault whose ciphertext has 8,000 stanzas is a FormatError, fast", async () => {
    const v = setup();
    const files = new Map([...v.files].filter(([rel]) => !rel.startsWith("integrity/")));
    const real = ageEncrypt("x", [v.owner.recipient]).toString("latin1").split("\n");
    const stanza = real.slice(1, 3).join("\n");
    files.set("secrets/top.enc", Buffer.from([real[0], ...Array(8000).fill(stanza), ...real.slice(3)].join("\n"), "latin1"));
    commitFiles(v.repo, files);
    const started = Date.now();
    const e = await refused(reader(v.repo, { keyPath: v.ownerKey }).vault.get("top"), FormatError);
    assert.match(e.message, /more than 4096 recipient stanzas/);
    assert.ok(Date.now() - started < 3000);
  });
});
