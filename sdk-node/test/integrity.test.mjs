// Signature verification against vaults signed by the real CLI and attacked with an
// attacker's means only: stock `age`/`age-keygen`, file edits and git commits.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import {
  AgentVaultError,
  FormatError,
  IntegrityError,
  InvalidInputError,
  SecretNotFoundError,
  Vault,
} from "../dist/index.js";
import { BASE_ENV, cli, commitVault, git, makeVault, setSecret, tempDir, unsign } from "./helpers.mjs";

const VAULT = ".agent-vault";

async function rejects(promise, Class, code) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${Class.name}, but the call succeeded`);
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${error?.name}: ${error?.message}`);
  assert.ok(error instanceof AgentVaultError);
  assert.equal(error.code, code);
  return error;
}

/** A reader: the `bot` agent (its key file names the verify key) with `v`'s key home. */
function reader(v, extra = {}, env = {}) {
  return new Vault({
    repoPath: v.repo,
    agent: "bot",
    autoPull: false,
    env: { ...BASE_ENV, ...v.env, ...env },
    onWarning: () => {},
    ...extra,
  });
}

function ownerReader(v, home, warnings = []) {
  return new Vault({
    repoPath: v.repo,
    keyPath: v.ownerKey,
    autoPull: false,
    env: { ...BASE_ENV, AGENT_VAULT_HOME: home },
    onWarning: (m) => warnings.push(m),
  });
}

function fresh() {
  return makeVault({ secrets: { "stripe/a": "value-a", "stripe/b": "value-b", "ops/c": "value-c" } });
}

function verifyKeyOf(v) {
  const line = readFileSync(join(v.repo, VAULT, "integrity/statement"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("verify-key "));
  return line.slice("verify-key ".length);
}

function vaultIdOf(v) {
  const line = readFileSync(join(v.repo, VAULT, "integrity/statement"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("vault "));
  return line.slice("vault ".length);
}

function seqOf(v) {
  const line = readFileSync(join(v.repo, VAULT, "integrity/statement"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("seq "));
  return Number(line.slice(4));
}

/** Encrypts with stock age to the given recipients (what anyone with push access can do). */
function ageEncrypt(plaintext, recipients) {
  const r = spawnSync("age", recipients.flatMap((x) => ["-r", x]), { input: plaintext });
  assert.equal(r.status, 0, r.stderr?.toString());
  return r.stdout;
}

function recipientsOf(v, agents) {
  const owner = readFileSync(join(v.repo, VAULT, "owner.pub"), "utf8").trim().split("\n").filter((l) => l.startsWith("age1"));
  return [...owner, ...agents.map((a) => readFileSync(join(v.repo, VAULT, "agents", a, "public.key"), "utf8").trim())];
}

function cliGet(v, path, args = [], env = {}) {
  return cli(["--vault", v.repo, "get", path, "--agent", "bot", "--offline", ...args], { env: { ...v.env, ...env }, check: false });
}

describe("integrity: a signed vault", () => {
  it("reads and lists an untouched vault, and pins its key and sequence number", async () => {
    const v = fresh();
    const vault = reader(v);
    assert.equal(await vault.get("stripe/a"), "value-a");
    assert.deepEqual((await vault.listSecrets()).map((s) => s.path), ["ops/c", "stripe/a", "stripe/b"]);
    assert.deepEqual(await vault.listGroups(), ["ops", "stripe"]);
    assert.deepEqual((await vault.listAgents()).map((a) => a.name), ["bot", "ci"]);
    const pins = JSON.parse(readFileSync(join(v.home, "pins.json"), "utf8"));
    assert.equal(pins.version, 2);
    assert.equal(pins.locations[realpathSync(v.repo)], vaultIdOf(v));
    assert.deepEqual(pins.vaults[vaultIdOf(v)], { verify_key: verifyKeyOf(v), seq: seqOf(v) });

    // The owner on a fresh machine: its own endorsement anchors the key (no warning), pinned.
    const home = tempDir();
    const warnings = [];
    assert.equal(await ownerReader(v, home, warnings).get("ops/c"), "value-c");
    assert.deepEqual(warnings, []);
    const own = JSON.parse(readFileSync(join(home, "pins.json"), "utf8"));
    assert.deepEqual(own, {
      version: 2,
      vaults: { [vaultIdOf(v)]: { verify_key: verifyKeyOf(v), seq: seqOf(v) } },
      locations: { [realpathSync(v.repo)]: vaultIdOf(v) },
      legacy: {},
    });
    // An agent key without a verify-key comment, on a fresh machine: trusted on first use, loudly.
    const bare = join(tempDir(), "bot.key");
    writeFileSync(bare, readFileSync(v.agentKey("bot"), "utf8").split("\n").filter((l) => !l.includes("verify-key")).join("\n"));
    const tofu = [];
    const agent = new Vault({ repoPath: v.repo, keyPath: bare, autoPull: false, env: { ...BASE_ENV, AGENT_VAULT_HOME: tempDir() }, onWarning: (m) => tofu.push(m) });
    assert.equal(await agent.get("stripe/a"), "value-a");
    assert.equal(tofu.length, 1);
    assert.match(tofu[0], /first use/);
    assert.ok(tofu[0].includes(verifyKeyOf(v)) && tofu[0].includes("AGENT_VAULT_VERIFY_KEY"));
  });

  it("refuses a ciphertext substituted with stock age", async () => {
    const v = fresh();
    const enc = join(v.repo, VAULT, "secrets/stripe/a.enc");
    writeFileSync(enc, ageEncrypt("attacker-chosen", recipientsOf(v, ["bot"])));
    commitVault(v.repo, "rotate stripe/a");
    const e = await rejects(reader(v).get("stripe/a"), IntegrityError, 5);
    assert.match(e.message, /ciphertext of 'stripe\/a'/);
    assert.match(e.message, /agent-vault verify/);
    assert.ok(!e.message.includes("attacker-chosen"));
    assert.equal(cliGet(v, "stripe/a").code, 5);
    // Listings check the whole vault.
    const l = await rejects(reader(v).listSecrets(), IntegrityError, 5);
    assert.match(l.message, /stripe\/a/);
    // Other secrets of the same vault still read (their shard and files are intact) unless
    // they share the tampered secret's shard, which is what `get` checks.
    assert.equal(await reader(v).get("stripe/b"), "value-b");
  });

  it("refuses a dropped-in secret and a deleted one (not 'not found')", async () => {
    const v = fresh();
    writeFileSync(join(v.repo, VAULT, "secrets/stripe/new.enc"), ageEncrypt("dropped", recipientsOf(v, ["bot"])));
    writeFileSync(join(v.repo, VAULT, "secrets/stripe/new.meta"), readFileSync(join(v.repo, VAULT, "secrets/stripe/a.meta")));
    rmSync(join(v.repo, VAULT, "secrets/stripe/b.enc"));
    rmSync(join(v.repo, VAULT, "secrets/stripe/b.meta"));
    commitVault(v.repo);
    assert.match((await rejects(reader(v).get("stripe/new"), IntegrityError, 5)).message, /added after/);
    assert.match((await rejects(reader(v).get("stripe/b"), IntegrityError, 5)).message, /deleted after/);
    assert.equal(cliGet(v, "stripe/b").code, 5);
    // A secret that never existed is still "not found".
    await rejects(reader(v).get("stripe/never"), SecretNotFoundError, 3);
    assert.equal(cliGet(v, "stripe/never").code, 3);
  });

  it("refuses a manifest edit that grants an agent, and a swapped agent public key", async () => {
    const v = fresh();
    const manifest = join(v.repo, VAULT, "manifest.yaml");
    const text = readFileSync(manifest, "utf8");
    writeFileSync(manifest, text.replace("- name: ci\n  groups: []", "- name: ci\n  groups:\n  - ops\n  - stripe"));
    assert.notEqual(readFileSync(manifest, "utf8"), text);
    commitVault(v.repo);
    assert.match((await rejects(reader(v).get("stripe/a"), IntegrityError, 5)).message, /manifest\.yaml was changed/);
    await rejects(reader(v).listSecrets(), IntegrityError, 5);
    await rejects(reader(v).listAgents(), IntegrityError, 5);
    assert.equal(cliGet(v, "stripe/a").code, 5);

    const w = fresh();
    const keygen = spawnSync("age-keygen", [], { encoding: "utf8" });
    const attackerPublic = /public key: (age1\S+)/.exec(keygen.stderr + keygen.stdout)[1];
    writeFileSync(join(w.repo, VAULT, "agents/bot/public.key"), `${attackerPublic}\n`);
    commitVault(w.repo);
    assert.match((await rejects(reader(w).get("stripe/a"), IntegrityError, 5)).message, /agents\/bot\/public\.key/);
    assert.equal(cliGet(w, "stripe/a").code, 5);
    // A new agent folder dropped in is caught too.
    git(["revert", "--no-edit", "HEAD"], { cwd: w.repo });
    mkdirSync(join(w.repo, VAULT, "agents/mallory"));
    writeFileSync(join(w.repo, VAULT, "agents/mallory/public.key"), `${attackerPublic}\n`);
    commitVault(w.repo);
    assert.match((await rejects(reader(w).get("stripe/a"), IntegrityError, 5)).message, /was added/);
  });

  it("refuses an edited .meta and a forged or truncated statement", async () => {
    const v = fresh();
    const meta = join(v.repo, VAULT, "secrets/ops/c.meta");
    writeFileSync(meta, readFileSync(meta, "utf8").replace(/expires:.*\n/, "") + "expires: 2999-01-01T00:00:00Z\n");
    commitVault(v.repo);
    assert.match((await rejects(reader(v).get("ops/c"), IntegrityError, 5)).message, /metadata of 'ops\/c'/);

    const w = fresh();
    const statement = join(w.repo, VAULT, "integrity/statement");
    const signed = readFileSync(statement, "utf8");
    writeFileSync(statement, signed.replace(/^seq (\d+)$/m, (_, n) => `seq ${Number(n) + 100}`));
    commitVault(w.repo);
    assert.match((await rejects(reader(w).get("stripe/a"), IntegrityError, 5)).message, /signature that does not match/);
    assert.equal(cliGet(w, "stripe/a").code, 5);
    writeFileSync(statement, signed.slice(0, signed.length - 20));
    commitVault(w.repo);
    await rejects(reader(w).get("stripe/a"), IntegrityError, 5);
    writeFileSync(statement, `${signed}extra\n`);
    commitVault(w.repo);
    assert.match((await rejects(reader(w).listSecrets(), IntegrityError, 5)).message, /after its signature/);
  });

  it("refuses a rollback to an older signed state once a newer one was read (pins)", async () => {
    const v = fresh();
    const before = git(["rev-parse", "HEAD"], { cwd: v.repo });
    const vault = reader(v);
    assert.equal(await vault.get("stripe/a"), "value-a");
    setSecret(v.av, "stripe/a", "rotated-a");
    assert.equal(await vault.get("stripe/a"), "rotated-a");
    const newest = seqOf(v);

    // Whole-vault rollback: every file as it was, validly signed by the owner back then.
    git(["checkout", before, "--", VAULT], { cwd: v.repo });
    commitVault(v.repo, "roll back");
    assert.ok(seqOf(v) < newest);
    const e = await rejects(vault.get("stripe/a"), IntegrityError, 5);
    assert.match(e.message, /rollback/);
    assert.match(e.message, new RegExp(`already seen state ${newest}`));
    await rejects(reader(v).listSecrets(), IntegrityError, 5);
    assert.equal(cliGet(v, "stripe/a").code, 5);
    // The pin was not lowered by the failed reads.
    const pins = JSON.parse(readFileSync(join(v.home, "pins.json"), "utf8"));
    assert.equal(pins.vaults[vaultIdOf(v)].seq, newest);
    // A machine that never saw the newer state cannot tell: that is what pins are for.
    assert.equal(await ownerReader(v, tempDir()).get("stripe/a"), "value-a");

    // Rolling back one secret's files (old .enc/.meta from history) fails its shard.
    const w = fresh();
    const old = git(["rev-parse", "HEAD"], { cwd: w.repo });
    setSecret(w.av, "stripe/b", "rotated-b");
    git(["checkout", old, "--", `${VAULT}/secrets/stripe/b.enc`, `${VAULT}/secrets/stripe/b.meta`], { cwd: w.repo });
    commitVault(w.repo, "roll back one secret");
    assert.match((await rejects(ownerReader(w, tempDir()).get("stripe/b"), IntegrityError, 5)).message, /rolled back/);
  });

  it("refuses a removed statement when the key file names the verify key, else warns", async () => {
    const v = fresh();
    rmSync(join(v.repo, VAULT, "integrity"), { recursive: true });
    commitVault(v.repo, "remove the signature");
    // Fresh key home (no pin): the bot's key file comment is the anchor.
    const home = tempDir();
    const bot = new Vault({ repoPath: v.repo, keyPath: v.agentKey("bot"), autoPull: false, env: { ...BASE_ENV, AGENT_VAULT_HOME: home } });
    const e = await rejects(bot.get("stripe/a"), IntegrityError, 5);
    assert.match(e.message, /no signature/);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/a", "--key", v.agentKey("bot"), "--offline"], { env: { AGENT_VAULT_HOME: home }, check: false }).code, 5);
    // The owner's machine has a pin: refused too.
    await rejects(reader(v, { agent: undefined, keyPath: v.ownerKey }).listSecrets(), IntegrityError, 5);
    // No anchor at all (owner key without comment, empty key home): unsigned, with a warning.
    const warnings = [];
    const vault = ownerReader(v, tempDir(), warnings);
    assert.equal(await vault.get("stripe/a"), "value-a");
    assert.equal(await vault.get("stripe/b"), "value-b");
    assert.equal(warnings.length, 1, "warned once per Vault");
    assert.match(warnings[0], /unsigned/);
    assert.match(warnings[0], /agent-vault sign/);
  });

  it("warns about an unsigned vault via onWarning and reads it", async () => {
    const v = fresh();
    unsign(v);
    const warnings = [];
    const vault = new Vault({ repoPath: v.repo, keyPath: v.ownerKey, autoPull: false, env: { ...BASE_ENV, ...v.env }, onWarning: (m) => warnings.push(m) });
    assert.equal(await vault.get("ops/c"), "value-c");
    assert.deepEqual((await vault.listSecrets()).map((s) => s.path), ["ops/c", "stripe/a", "stripe/b"]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /unsigned/);
    assert.ok(!existsSync(join(v.repo, VAULT, "integrity")));
  });

  it("checks an explicit verifyKey and AGENT_VAULT_VERIFY_KEY", async () => {
    const v = fresh();
    const other = makeVault({ agents: {} });
    const right = verifyKeyOf(v);
    const wrong = verifyKeyOf(other);
    assert.notEqual(right, wrong);
    const home = tempDir();
    const owner = (extra, env = {}) =>
      new Vault({ repoPath: v.repo, keyPath: v.ownerKey, autoPull: false, env: { ...BASE_ENV, AGENT_VAULT_HOME: home, ...env }, ...extra });
    const e = await rejects(owner({ verifyKey: wrong }).get("stripe/a"), IntegrityError, 5);
    assert.match(e.message, /was expected/);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/a", "--key", v.ownerKey, "--verify-key", wrong, "--offline"], { env: { AGENT_VAULT_HOME: home }, check: false }).code, 5);
    await rejects(owner({ verifyKey: wrong }).listSecrets(), IntegrityError, 5);
    await rejects(owner({}, { AGENT_VAULT_VERIFY_KEY: wrong }).get("stripe/a"), IntegrityError, 5);
    // The bot's key file names the right key, but an explicit one wins.
    await rejects(reader(v, { verifyKey: wrong }).get("stripe/a"), IntegrityError, 5);
    assert.equal(await owner({ verifyKey: right }).get("stripe/a"), "value-a");
    assert.equal(await owner({}, { AGENT_VAULT_VERIFY_KEY: right }).get("stripe/a"), "value-a");
    // The wrong key did not get pinned by the failed reads: the pin is the right one.
    const pins = JSON.parse(readFileSync(join(home, "pins.json"), "utf8"));
    assert.equal(pins.vaults[vaultIdOf(v)].verify_key, right);

    assert.throws(() => new Vault({ repoPath: v.repo, verifyKey: "ed25519:AAAA" }), InvalidInputError);
    assert.throws(() => new Vault({ repoPath: v.repo, verifyKey: right.replace("ed25519:", "") }), InvalidInputError);
    await rejects(owner({}, { AGENT_VAULT_VERIFY_KEY: "not-a-key" }).get("stripe/a"), InvalidInputError, 2);
  });

  it("refuses a statement re-signed by another key (copied from another CLI-signed vault)", async () => {
    const v = fresh();
    const other = makeVault({ agents: {} });
    // The attacker copies a valid statement (signed by a key they control) in place.
    writeFileSync(join(v.repo, VAULT, "integrity/statement"), readFileSync(join(other.repo, VAULT, "integrity/statement")));
    commitVault(v.repo);
    // This machine pinned this location's vault: the copied statement names another vault.
    const e = await rejects(reader(v).get("stripe/a"), IntegrityError, 5);
    assert.match(e.message, /another vault/);
    assert.equal(cliGet(v, "stripe/a").code, 5);
    // A fresh machine with the agent's key file (its verify-key comment): the wrong signer.
    const w = new Vault({ repoPath: v.repo, keyPath: v.agentKey("bot"), autoPull: false, env: { ...BASE_ENV, AGENT_VAULT_HOME: tempDir() } });
    assert.match((await rejects(w.get("stripe/a"), IntegrityError, 5)).message, /signed by .* but .* was expected/);
  });

  it("reads HEAD's consistent state when the working tree is mid-update (as the CLI)", async () => {
    const v = fresh();
    // An uncommitted change in the working tree: get falls back to HEAD, which verifies.
    writeFileSync(join(v.repo, VAULT, "secrets/stripe/a.enc"), ageEncrypt("half-written", recipientsOf(v, ["bot"])));
    assert.equal(await reader(v).get("stripe/a"), "value-a");
    assert.equal(cliGet(v, "stripe/a").stdout.toString(), "value-a");
  });
});

describe("integrity: byte order marks", () => {
  it("refuses a statement with a BOM prepended, as the CLI does", async () => {
    const v = fresh();
    const path = join(v.repo, VAULT, "integrity/statement");
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(path)]));
    commitVault(v.repo, "prepend a BOM to the statement");
    await rejects(reader(v).get("stripe/a"), IntegrityError, 5);
    await rejects(reader(v).listSecrets(), IntegrityError, 5);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/a"], { env: v.env, check: false }).code, 5);
  });
});

describe("integrity: the pins file cannot be written", () => {
  it("is a warning naming pins.json, and the read goes on (it only weakens rollback protection)", async () => {
    const v = fresh();
    const file = join(v.dir, "a-regular-file");
    writeFileSync(file, "not a folder\n");
    for (const home of [file, join(file, "home"), join(v.dir, "missing", "home")]) {
      const warnings = [];
      const vault = new Vault({
        repoPath: v.repo,
        keyPath: v.ownerKey,
        autoPull: false,
        env: { ...BASE_ENV, AGENT_VAULT_HOME: home },
        onWarning: (m) => warnings.push(m),
      });
      assert.equal(await vault.get("stripe/a"), "value-a");
      assert.equal(warnings.length, 1, warnings.join("\n---\n"));
      assert.ok(warnings[0].includes("pins.json"), warnings[0]);
      assert.match(warnings[0], /rollback protection/);
      // A listing uses no key (no endorsement), and nothing could be pinned: trust on first use, said.
      assert.deepEqual((await vault.listSecrets()).map((s) => s.path), ["ops/c", "stripe/a", "stripe/b"]);
      assert.equal(warnings.length, 2, warnings.join("\n---\n"));
      assert.match(warnings[1], /first use/);
    }
  });

  it("is an error when it exists but cannot be parsed, or is newer: never taken as 'no pins'", async () => {
    const v = fresh();
    for (const text of ["{", '{"version": 3}']) {
      writeFileSync(join(v.home, "pins.json"), text);
      const e = await rejects(reader(v).get("stripe/a"), FormatError, 1);
      assert.match(e.message, /pins\.json/);
      assert.equal(readFileSync(join(v.home, "pins.json"), "utf8"), text);
      assert.equal(cliGet(v, "stripe/a").code, 1);
    }
  });
});
