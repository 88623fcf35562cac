// End-to-end tests of the Node SDK against vaults written by the real agent-vault CLI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it, before } from "node:test";

import {
  AgentVaultError,
  FormatError,
  IntegrityError,
  InvalidInputError,
  KeyNotFoundError,
  NotAuthorizedError,
  SecretNotFoundError,
  Vault,
  VaultError,
  VaultNotFoundError,
} from "../dist/index.js";
import {
  BASE_ENV,
  SDK_DIR,
  cli,
  commitAndSign,
  commitVault,
  loggingGit,
  git,
  makeVault,
  setSecret,
  tempDir,
  unsign,
} from "./helpers.mjs";

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const TEXT = "sk_live_not-a-real-key-\u00e9\u4e2d";

/**
 * Readers of a clone of `v` on "another machine": their own key home, reading with `keyPath`
 * (default the owner's key). Each call makes a Vault with `extra` options and `extraEnv`.
 */
function cloneReader(v, clone, keyPath = v.ownerKey) {
  const home = tempDir("av-node-clone-home-");
  return (extra = {}, extraEnv = {}) =>
    new Vault({
      repoPath: clone,
      keyPath,
      autoPull: false,
      env: { ...BASE_ENV, AGENT_VAULT_HOME: home, ...extraEnv },
      onWarning: () => {},
      ...extra,
    });
}

/** Options for a vault at `v` with an isolated environment (`extraEnv` on top). */
function opts(v, extra = {}, extraEnv = {}) {
  return { repoPath: v.repo, env: { ...BASE_ENV, ...v.env, ...extraEnv }, autoPull: false, onWarning: () => {}, ...extra };
}

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
  assert.equal(error.name, Class.name);
  return error;
}

/** CLI `list --json` converted to the SDK's field names. */
function cliList(v, args = []) {
  return JSON.parse(v.av(["list", "--json", "--offline", ...args]).stdout.toString()).map((s) => ({
    path: s.path,
    name: s.path,
    group: s.group,
    created: s.created,
    rotated: s.rotated,
    expires: s.expires,
    authorizedAgents: s.authorized_agents,
    extraAgents: s.extra_agents,
    expired: s.expired,
  }));
}

describe("a vault written by the CLI", () => {
  let v;
  before(() => {
    v = makeVault({
      secrets: { "stripe/api-key": TEXT, "stripe/bin": ALL_BYTES, "a/b/c/d": "deep", top: "single" },
    });
    setSecret(v.av, "stripe/old", "stale", ["--expires", "2020-01-01"]);
    setSecret(v.av, "big/blob", Buffer.alloc(1 << 20, 0x5a));
  });

  it("gives the owner every value, exactly", async () => {
    const vault = new Vault(opts(v));
    assert.equal(await vault.get("stripe/api-key"), TEXT);
    assert.deepEqual(Buffer.from(await vault.getBytes("stripe/bin")), ALL_BYTES);
    assert.equal(await vault.get("a/b/c/d"), "deep");
    assert.equal(await vault.get("top"), "single");
    const big = await vault.getBytes("big/blob");
    assert.equal(big.length, 1 << 20);
    assert.ok(Buffer.from(big).every((b) => b === 0x5a));
    assert.equal(cli(["--vault", v.repo, "get", "a/b/c/d"], { env: v.env }).stdout.toString(), "deep");
  });

  it("finds an agent's key by keyPath, agent, key, and AGENT_VAULT_KEY as path or text", async () => {
    const keyFile = readFileSync(v.agentKey("bot"), "utf8");
    const keyLine = keyFile.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"));
    const ways = [
      opts(v, { keyPath: v.agentKey("bot") }),
      opts(v, { agent: "bot" }),
      opts(v, { key: keyFile }),
      opts(v, {}, { AGENT_VAULT_KEY: v.agentKey("bot") }),
      opts(v, {}, { AGENT_VAULT_KEY: `\n  ${keyLine}\n` }),
    ];
    for (const o of ways) {
      const vault = new Vault(o);
      assert.equal(await vault.get("stripe/api-key"), TEXT);
      // The bot is not granted `a`: proves the bot's key, not the owner's, was used.
      await rejects(vault.get("a/b/c/d"), NotAuthorizedError, 4);
    }
  });

  it("never echoes AGENT_VAULT_KEY text that is not a key (it is taken as a path, as in the CLI)", async () => {
    const keyFile = readFileSync(v.agentKey("bot"), "utf8");
    const keyLine = keyFile.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"));
    // Mangled key material (no line starts with the key): neither a path nor key text.
    const mangled = `export KEY=${keyLine}\n`;
    const e = await rejects(new Vault(opts(v, {}, { AGENT_VAULT_KEY: mangled })).get("top"), KeyNotFoundError, 3);
    assert.ok(!e.message.includes(keyLine.slice(16, 40)), e.message);
    assert.match(e.message, /AGENT_VAULT_KEY/);
  });

  it("reads AGENT_VAULT_KEY from process.env when no env option is given", async () => {
    const saved = { ...process.env };
    try {
      process.env.AGENT_VAULT_HOME = v.home;
      process.env.AGENT_VAULT_KEY = v.agentKey("bot");
      const vault = new Vault({ repoPath: v.repo, autoPull: false });
      assert.equal(await vault.get("stripe/api-key"), TEXT);
      await rejects(vault.get("top"), NotAuthorizedError, 4);
    } finally {
      process.env = saved;
    }
  });

  it("accepts an age-keygen file with comments and two keys", async () => {
    const other = spawnSync("age-keygen", [], { encoding: "utf8" }).stdout;
    assert.match(other, /AGE-SECRET-KEY-1/);
    const path = join(tempDir(), "two.key");
    writeFileSync(path, `# a comment\n\n${other}\n# the bot\n${readFileSync(v.agentKey("bot"), "utf8")}`, { mode: 0o600 });
    assert.equal(await new Vault(opts(v, { keyPath: path })).get("stripe/api-key"), TEXT);
  });

  it("refuses an agent without access, naming the key but not the value", async () => {
    const e = await rejects(new Vault(opts(v, { agent: "ci" })).get("stripe/api-key"), NotAuthorizedError, 4);
    assert.match(e.message, /ci\.key/);
    assert.match(e.message, /agent-vault grant/);
    assert.ok(!e.message.includes(TEXT));
  });

  it("reports a named but missing key without falling back to the owner key", async () => {
    const missing = join(v.dir, "nope.key");
    for (const o of [opts(v, { keyPath: missing }), opts(v, { agent: "ghost" })]) {
      const e = await rejects(new Vault(o).get("top"), KeyNotFoundError, 3);
      assert.match(e.message, /does not exist/);
    }
    // AGENT_VAULT_KEY set (even empty) never falls back, and is never echoed (it may be mangled key material).
    for (const value of [missing, ""]) {
      const e = await rejects(new Vault(opts(v, {}, { AGENT_VAULT_KEY: value })).get("top"), KeyNotFoundError, 3);
      assert.match(e.message, /AGENT_VAULT_KEY/);
      if (value) assert.ok(!e.message.includes(value), e.message);
    }
    const e = await rejects(
      new Vault(opts(v, {}, { AGENT_VAULT_HOME: join(v.dir, "empty-home") })).get("top"),
      KeyNotFoundError,
      3,
    );
    assert.match(e.message, /owner key/);
  });

  it("rejects a malformed key without echoing it", async () => {
    const e = await rejects(new Vault(opts(v, { key: "AGE-SECRET-KEY-1HUNTER2HUNTER2" })).get("top"), FormatError, 1);
    assert.ok(!e.message.includes("HUNTER2"), e.message);
    const e2 = await rejects(new Vault(opts(v, { key: "hunter2-password" })).get("top"), FormatError, 1);
    assert.ok(!e2.message.includes("hunter2"), e2.message);
  });

  it("lists secrets, groups and agents exactly as the CLI does", async () => {
    const vault = new Vault(opts(v));
    const listed = await vault.listSecrets();
    assert.deepEqual(listed, cliList(v));
    assert.deepEqual(await vault.listSecrets("stripe"), cliList(v, ["--group", "stripe"]));
    const old = listed.find((s) => s.path === "stripe/old");
    assert.equal(old.expired, true);
    assert.equal(listed.find((s) => s.path === "stripe/api-key").expired, false);
    assert.deepEqual(listed.find((s) => s.path === "stripe/api-key").authorizedAgents, ["bot"]);
    assert.deepEqual(await vault.listGroups(), ["a", "big", "default", "stripe"]);
    const agents = JSON.parse(v.av(["list-agents", "--json"]).stdout.toString()).map((a) => ({
      name: a.name,
      groups: a.groups,
      publicKey: a.public_key,
      escrow: a.escrow,
    }));
    assert.deepEqual(await vault.listAgents(), agents);
    await rejects(vault.listSecrets("nosuch"), SecretNotFoundError, 3);
    assert.equal(cli(["--vault", v.repo, "list", "--group", "nosuch"], { env: v.env, check: false }).code, 3);
    await rejects(vault.listSecrets("Bad Group"), InvalidInputError, 2);
  });

  it("keeps 0.1.0's `name` next to `path` in listings, so its scripts run unchanged (issue 18)", async () => {
    const listed = await new Vault(opts(v)).listSecrets();
    assert.ok(listed.length > 3);
    for (const s of listed) assert.equal(s.name, s.path);
    assert.deepEqual(JSON.parse(JSON.stringify(listed)).map((s) => s.name), listed.map((s) => s.path));
  });

  it("accepts 0.1.0's names: keyStr (with a deprecation warning), Date accessors and VaultError (issue 12)", async () => {
    const keyFile = readFileSync(v.agentKey("bot"), "utf8");
    const warnings = [];
    const old = new Vault(opts(v, { keyStr: keyFile, onWarning: (w) => warnings.push(w) }));
    assert.equal(await old.get("stripe/api-key"), TEXT);
    await rejects(old.get("a/b/c/d"), NotAuthorizedError, 4);
    assert.equal(warnings.filter((w) => /keyStr option is deprecated.*use key/.test(w)).length, 1, warnings.join("\n"));
    assert.ok(!warnings.join("").includes(keyFile.split("\n").find((l) => l.startsWith("AGE-"))));
    assert.throws(() => new Vault({ key: keyFile, keyStr: keyFile }), InvalidInputError);
    assert.throws(() => new Vault({ keyPath: "/k", keyStr: keyFile }), InvalidInputError);
    const listed = await new Vault(opts(v)).listSecrets();
    const oldOne = listed.find((s) => s.path === "stripe/old");
    assert.ok(oldOne.createdAt instanceof Date);
    assert.equal(oldOne.createdAt.getTime(), Date.parse(oldOne.created));
    assert.equal(oldOne.rotatedAt.getTime(), Date.parse(oldOne.rotated));
    assert.equal(oldOne.expiresAt.toISOString(), "2020-01-01T00:00:00.000Z");
    assert.equal(listed.find((s) => s.path === "top").expiresAt, null);
    // Accessors only: JSON and comparisons see exactly the fields `list --json` has.
    assert.ok(!("createdAt" in JSON.parse(JSON.stringify(oldOne))));
    // 0.1.0's root error class, under its old name: every error the SDK throws is one.
    assert.equal(VaultError, AgentVaultError);
    await assert.rejects(old.get("nope/missing"), (e) => e instanceof VaultError && e.code === 3);
  });

  it("still returns an expired secret, with a warning", async () => {
    const warnings = [];
    const vault = new Vault(opts(v, { onWarning: (w) => warnings.push(w) }));
    assert.equal(await vault.get("stripe/old"), "stale");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /expired on 2020-01-01/);
    assert.ok(!warnings[0].includes("stale"));
  });

  it("refuses a binary value through get() but returns it through getBytes()", async () => {
    const vault = new Vault(opts(v));
    const e = await rejects(vault.get("stripe/bin"), FormatError, 1);
    assert.match(e.message, /not UTF-8.*getBytes/);
  });

  it("reports missing secrets and invalid paths with the CLI's codes", async () => {
    const vault = new Vault(opts(v));
    await rejects(vault.get("stripe/nope"), SecretNotFoundError, 3);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/nope"], { env: v.env, check: false }).code, 3);
    for (const bad of ["../x", "/abs", "a//b", "a/", "", "x.enc", "a/../../etc/passwd", "-rf"]) {
      await rejects(vault.get(bad), InvalidInputError, 2);
    }
    assert.equal(cli(["--vault", v.repo, "get", "../x"], { env: v.env, check: false }).code, 2);
    // Validation comes before looking for the vault.
    await rejects(new Vault({ repoPath: "/nonexistent/x" }).get("../x"), InvalidInputError, 2);
  });

  it("never writes to the repository", async () => {
    const head = git(["rev-parse", "HEAD"], { cwd: v.repo });
    const vault = new Vault(opts(v, { autoPull: true }));
    await vault.get("top");
    await vault.listSecrets();
    await vault.listAgents();
    assert.equal(git(["status", "--porcelain", "--ignored"], { cwd: v.repo }), "");
    assert.equal(git(["rev-parse", "HEAD"], { cwd: v.repo }), head);
  });
});

describe("byte order marks (U+FEFF), as the CLI and the Python SDK", () => {
  it("keeps a leading BOM in a value: get() returns it, getBytes() the exact bytes", async () => {
    const value = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("bom-value")]);
    const v = makeVault({ secrets: { "stripe/bom": value } });
    const vault = new Vault(opts(v));
    assert.equal(await vault.get("stripe/bom"), "\ufeffbom-value");
    assert.deepEqual(Buffer.from(await vault.getBytes("stripe/bom")), value);
    assert.deepEqual(v.av(["get", "stripe/bom"]).stdout, value);
  });

  it("reads a key file that starts with a BOM, like the CLI", async () => {
    const v = makeVault({ secrets: { "stripe/api-key": "x" } });
    const keyFile = join(v.dir, "bom.key");
    writeFileSync(keyFile, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(v.agentKey("bot"))]));
    assert.equal(await new Vault(opts(v, { keyPath: keyFile })).get("stripe/api-key"), "x");
    const text = `\ufeff${readFileSync(v.agentKey("bot"), "utf8")}`;
    assert.equal(await new Vault(opts(v, { key: text })).get("stripe/api-key"), "x");
    const r = cli(["--vault", v.repo, "get", "stripe/api-key"], { env: { ...v.env, AGENT_VAULT_KEY: keyFile } });
    assert.equal(r.stdout.toString(), "x");
    // A BOM anywhere else is not white space: the line is not a key.
    const inner = join(v.dir, "inner-bom.key");
    writeFileSync(inner, `# comment\n\ufeff${readFileSync(v.agentKey("bot"), "utf8")}`);
    await rejects(new Vault(opts(v, { keyPath: inner })).get("stripe/api-key"), FormatError, 1);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/api-key", "--key", inner], { env: v.env, check: false }).code, 1);
  });
});

describe("broken and missing vaults", () => {
  it("reports a corrupted ciphertext and a corrupted manifest as FormatError", async () => {
    const v = makeVault({ secrets: { "stripe/a": "value-a", "stripe/b": "value-b" } });
    const enc = join(v.repo, ".agent-vault/secrets/stripe/a.enc");
    const bytes = readFileSync(enc);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(enc, bytes);
    // Damage the owner signed is not tampering: the file itself is corrupt.
    commitAndSign(v);
    const vault = new Vault(opts(v));
    const e = await rejects(vault.get("stripe/a"), FormatError, 1);
    assert.match(e.message, /stripe\/a\.enc/);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/a"], { env: v.env, check: false }).code, 1);
    writeFileSync(enc, "garbage");
    commitAndSign(v);
    await rejects(vault.get("stripe/a"), FormatError, 1);
    assert.equal(await vault.get("stripe/b"), "value-b");

    // The owner cannot sign a manifest it cannot parse: an unsigned vault shows the damage.
    unsign(v);
    writeFileSync(join(v.repo, ".agent-vault/manifest.yaml"), "version: 1\ngroups: [unclosed\n");
    commitVault(v.repo);
    const m = await rejects(new Vault(opts(v)).listSecrets(), FormatError, 1);
    assert.match(m.message, /manifest\.yaml/);
    assert.equal(cli(["--vault", v.repo, "list"], { env: v.env, check: false }).code, 1);
  });

  it("refuses a newer format version with a hint to upgrade", async () => {
    const v = makeVault({ secrets: { "stripe/a": "x" } });
    unsign(v);
    writeFileSync(join(v.repo, ".agent-vault/config.yaml"), "version: 2\nencryption:\n  format: age\n");
    commitVault(v.repo);
    const e = await rejects(new Vault(opts(v)).get("stripe/a"), FormatError, 1);
    assert.match(e.message, /upgrade/);
    await rejects(new Vault(opts(v)).listSecrets(), FormatError, 1);
  });

  it("reports VaultNotFoundError for a missing path, a plain folder and a repo without a vault", async () => {
    const dir = tempDir();
    git(["init", "-q", join(dir, "plain-repo")]);
    mkdirSync(join(dir, "folder"));
    for (const repoPath of [join(dir, "missing"), join(dir, "folder"), join(dir, "plain-repo")]) {
      await rejects(new Vault({ repoPath, autoPull: false }).get("a/b"), VaultNotFoundError, 3);
      await rejects(new Vault({ repoPath, autoPull: false }).listSecrets(), VaultNotFoundError, 3);
      assert.equal(cli(["--vault", repoPath, "get", "a/b"], { check: false }).code, 3);
    }
  });

  it("rejects conflicting options", () => {
    assert.throws(() => new Vault({ keyPath: "/k", agent: "bot" }), InvalidInputError);
    assert.throws(() => new Vault({ key: "AGE-SECRET-KEY-1X", keyPath: "/k" }), InvalidInputError);
    assert.throws(() => new Vault({ agent: "../owner" }), InvalidInputError);
    assert.throws(() => new Vault({ repoPath: "" }), InvalidInputError);
  });

  it("rejects a non-object or wrongly typed options with InvalidInputError, never a raw TypeError", () => {
    const invalid = (fn, pattern) => {
      let error;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof InvalidInputError && error.code === 2, `expected InvalidInputError, got ${error}`);
      if (pattern) assert.match(error.message, pattern);
      return error;
    };
    invalid(() => new Vault("/srv/app"), /options object.*repoPath/);
    for (const bad of [null, 5, true, ["/srv/app"], () => {}]) invalid(() => new Vault(bad));
    invalid(() => new Vault({ path: "/srv/app" }), /unknown option "path"/);
    invalid(() => new Vault({ repo_path: "/a", keypath: "/k" }), /unknown options "repo_path", "keypath"/);
    const wrong = {
      repoPath: 5,
      keyPath: 5,
      key: Buffer.from("AGE-SECRET-KEY-1X"),
      keyStr: 5,
      agent: 5,
      autoPull: "false",
      refreshIntervalMs: "5",
      cacheDir: 5,
      env: "HOME=/x",
      verifyKey: 5,
      onWarning: "console.log",
    };
    for (const [name, value] of Object.entries(wrong)) invalid(() => new Vault({ [name]: value }), new RegExp(name));
    invalid(() => new Vault({ cacheDir: "" }), /cacheDir/);
    invalid(() => new Vault({ env: [] }), /env/);
    invalid(() => new Vault({ env: { AGENT_VAULT_FETCH_TIMEOUT: 5 } }), /AGENT_VAULT_FETCH_TIMEOUT/);
    const e = invalid(() => new Vault({ key: { secret: "AGE-SECRET-KEY-1HUNTER2" } }));
    assert.ok(!e.message.includes("HUNTER2"));
    // undefined is "not given"; null is the default for the options that have one.
    new Vault({ repoPath: ".", keyPath: undefined, autoPull: undefined });
    new Vault({ refreshIntervalMs: null, cacheDir: null, env: null, onWarning: null });
    new Vault();
    new Vault({ autoPull: false, refreshIntervalMs: 0, env: { HOME: "/h", UNSET: undefined } });
  });
});

describe("seed-style vaults written by stock age and plain git", () => {
  it("reads a hand-written vault and an armored ciphertext", async () => {
    const dir = tempDir();
    const repo = join(dir, "seed");
    const home = join(dir, "home");
    mkdirSync(join(repo, ".agent-vault/secrets/api"), { recursive: true });
    mkdirSync(join(home, "agents"), { recursive: true });
    const ownerKey = spawnSync("age-keygen", [], { encoding: "utf8" }).stdout;
    const botKey = spawnSync("age-keygen", [], { encoding: "utf8" }).stdout;
    writeFileSync(join(home, "owner.key"), ownerKey, { mode: 0o600 });
    writeFileSync(join(home, "agents/bot.key"), botKey, { mode: 0o600 });
    const pub = (k) => /public key: (age1\S+)/.exec(k)[1];
    const av = join(repo, ".agent-vault");
    writeFileSync(join(av, "config.yaml"), "version: 1\nencryption:\n  format: age\n");
    writeFileSync(join(av, "owner.pub"), `${pub(ownerKey)}\n`);
    writeFileSync(
      join(av, "manifest.yaml"),
      "version: 1\nowners:\n- name: seed\n  public_key: owner.pub\nagents:\n- name: bot\n  groups:\n  - default\n  - api\ngroups:\n- name: default\n  secrets:\n  - token\n- name: api\n  secrets:\n  - api/armored\n",
    );
    mkdirSync(join(av, "agents/bot"), { recursive: true });
    writeFileSync(join(av, "agents/bot/public.key"), `${pub(botKey)}\n`);
    const enc = (value, armor) =>
      spawnSync("age", [...(armor ? ["-a"] : []), "-r", pub(ownerKey), "-r", pub(botKey)], { input: value }).stdout;
    writeFileSync(join(av, "secrets/token.enc"), enc("seed-token", false));
    writeFileSync(
      join(av, "secrets/token.meta"),
      "name: token\ngroup: default\ncreated: 2025-01-01T00:00:00Z\nauthorized_agents:\n- bot\n",
    );
    const armored = enc("armored-value", true);
    assert.match(armored.toString(), /^-----BEGIN AGE ENCRYPTED FILE-----/);
    writeFileSync(join(av, "secrets/api/armored.enc"), armored);
    writeFileSync(
      join(av, "secrets/api/armored.meta"),
      "name: api/armored\ngroup: api\ncreated: 2025-01-01 10:00:00+02:00\nexpires: 2099-01-01\nauthorized_agents: [bot]\n",
    );
    git(["init", "-q", "-b", "main", repo]);
    git(["add", "-A"], { cwd: repo });
    git(["commit", "-qm", "seed vault"], { cwd: repo });
    const env = { ...BASE_ENV, AGENT_VAULT_HOME: home };
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    for (const o of [{}, { agent: "bot" }]) {
      const vault = new Vault({ repoPath: repo, env, autoPull: false, onWarning, ...o });
      assert.equal(await vault.get("token"), "seed-token");
      assert.equal(await vault.get("api/armored"), "armored-value");
    }
    // An unsigned vault is read, with the warning (given to onWarning, not printed).
    assert.ok(warnings.some((w) => /unsigned/.test(w)), warnings.join("\n"));
    assert.equal(cli(["--vault", repo, "get", "api/armored"], { env: { AGENT_VAULT_HOME: home } }).stdout.toString(), "armored-value");
    const sdkList = await new Vault({ repoPath: repo, env, autoPull: false, onWarning }).listSecrets();
    const cliOut = JSON.parse(cli(["--vault", repo, "list", "--json"], { env: { AGENT_VAULT_HOME: home } }).stdout.toString());
    assert.deepEqual(
      sdkList.map((s) => [s.path, s.group, s.created, s.rotated, s.expires, s.authorizedAgents, s.expired]),
      cliOut.map((s) => [s.path, s.group, s.created, s.rotated, s.expires, s.authorized_agents, s.expired]),
    );
  });
});

describe("git: upstreams, remote URLs, and no git when not needed", () => {
  it("reads objects through one git process per Vault, fetches only with autoPull, and never keeps Node alive", async () => {
    const v = makeVault({ secrets: { "stripe/a": "value-a", "stripe/b": "value-b" } });
    const log = loggingGit();
    const saved = process.env.PATH;
    process.env.PATH = `${log.dir}:${saved}`;
    try {
      const vault = new Vault(opts(v, { autoPull: false }));
      assert.equal(await vault.get("stripe/a"), "value-a");
      assert.equal(await vault.get("stripe/b"), "value-b");
      assert.equal((await vault.listSecrets()).length, 2);
      await vault.listAgents();
      vault.close();
      // A closed handle still works: it starts a new reader.
      assert.equal(await vault.get("stripe/a"), "value-a");
      vault.close();
    } finally {
      process.env.PATH = saved;
    }
    const commands = log.lines().map((l) => l.split("|")[0]);
    assert.equal(commands.filter((c) => c === "cat-file").length, 2, commands.join(" "));
    assert.ok(!commands.includes("fetch"), commands.join(" "));
    // No close(): the idle git process must not keep a script from exiting.
    const script = `import { Vault } from ${JSON.stringify(join(SDK_DIR, "dist", "index.js"))};
      const v = new Vault({ repoPath: ${JSON.stringify(v.repo)}, autoPull: false, onWarning: () => {} });
      process.stdout.write(await v.get("stripe/a"));`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...v.env }, encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "value-a");
    assert.ok(Date.now() - started < 10_000);
  });

  it("reads a newer upstream from git objects without touching the working tree, HEAD or index", async () => {
    const v = makeVault({ secrets: { "stripe/a": "v1" } });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const clone = join(v.dir, "clone");
    git(["clone", "-q", bare, clone]);
    // The owner pushes a new secret and a rotation from the original repo.
    git(["remote", "add", "origin", bare], { cwd: v.repo });
    setSecret(v.av, "stripe/new", "pushed-later");
    setSecret(v.av, "stripe/a", "v2");
    git(["push", "-q", "origin", "HEAD"], { cwd: v.repo });

    const head = git(["rev-parse", "HEAD"], { cwd: clone });
    const status = git(["status", "--porcelain", "--ignored"], { cwd: clone });
    // The clone's reader is another machine (its own key home): the owner's home has pinned the
    // newer state, for which the clone's stale HEAD would be a rollback (pins are per vault).
    const reader = cloneReader(v, clone);
    const offline = reader();
    await rejects(offline.get("stripe/new"), SecretNotFoundError, 3);
    assert.equal(await offline.get("stripe/a"), "v1");
    await rejects(new Vault({ ...opts(v), repoPath: clone }).get("stripe/a"), IntegrityError, 5);

    const online = reader({ autoPull: true, refreshIntervalMs: 0 });
    assert.equal(await online.get("stripe/new"), "pushed-later");
    assert.equal(await online.get("stripe/a"), "v2");
    assert.deepEqual((await online.listSecrets()).map((s) => s.path), ["stripe/a", "stripe/new"]);
    assert.equal(git(["rev-parse", "HEAD"], { cwd: clone }), head);
    assert.equal(git(["status", "--porcelain", "--ignored"], { cwd: clone }), status);
    assert.equal(existsSync(join(clone, ".agent-vault/secrets/stripe/new.enc")), false);
  });

  it("refreshes once and retries when access was just granted", async () => {
    const v = makeVault({ secrets: { "stripe/a": "granted-later" } });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    git(["remote", "add", "origin", bare], { cwd: v.repo });
    git(["fetch", "-q", "origin"], { cwd: v.repo });
    const branch = git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: v.repo });
    git(["branch", "-q", `--set-upstream-to=origin/${branch}`], { cwd: v.repo });
    const clone = join(v.dir, "clone");
    git(["clone", "-q", bare, clone]);

    const reader = cloneReader(v, clone, v.agentKey("ci"));
    const vault = reader({ autoPull: true, refreshIntervalMs: 3_600_000 });
    await rejects(vault.get("stripe/a"), NotAuthorizedError, 4);
    v.av(["grant", "ci", "stripe"]);
    git(["push", "-q", "origin", "HEAD"], { cwd: v.repo });
    // The cached state is an hour "fresh", so only the retry's forced refresh can see the grant.
    assert.equal(await vault.get("stripe/a"), "granted-later");

    // Without pulling, the fetched upstream (ahead of HEAD) is still what is read, here and on
    // another machine (its own pins).
    const elsewhere = { ...BASE_ENV, AGENT_VAULT_HOME: tempDir() };
    const noPull = () => new Vault({ repoPath: clone, keyPath: v.agentKey("ci"), env: elsewhere, autoPull: false });
    const here = () => reader();
    assert.equal(await noPull().get("stripe/a"), "granted-later");
    assert.equal(await here().get("stripe/a"), "granted-later");

    // Someone rewinds the upstream ref to the old state: on another machine, that is simply
    // the old state; on this machine, which has seen the newer signed state, a rollback.
    const branchOfClone = git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: clone });
    git(["update-ref", `refs/remotes/origin/${branchOfClone}`, "HEAD"], { cwd: clone });
    await rejects(new Vault({ repoPath: clone, keyPath: v.agentKey("ci"), env: { ...BASE_ENV, AGENT_VAULT_HOME: tempDir() }, autoPull: false }).get("stripe/a"), NotAuthorizedError, 4);
    assert.match((await rejects(here().get("stripe/a"), IntegrityError, 5)).message, /rollback/);
  });

  it("keeps reading a fetched upstream that is ahead with autoPull off or when a fetch fails (no false rollback)", async () => {
    const v = makeVault({ secrets: { "stripe/a": "v1" } });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const clone = join(v.dir, "clone");
    git(["clone", "-q", bare, clone]);
    git(["remote", "add", "origin", bare], { cwd: v.repo });
    setSecret(v.av, "stripe/a", "v2");
    git(["push", "-q", "origin", "HEAD"], { cwd: v.repo });
    const head = git(["rev-parse", "HEAD"], { cwd: clone });

    // A read with autoPull fetches, reads the upstream and pins its higher sequence number.
    const online = new Vault({ ...opts(v), repoPath: clone, autoPull: true, refreshIntervalMs: 0 });
    assert.equal(await online.get("stripe/a"), "v2");
    // A later read without pulling still reads the upstream, which is ahead of HEAD.
    const warnings = [];
    const offline = new Vault({ ...opts(v), repoPath: clone, onWarning: (m) => warnings.push(m) });
    assert.equal(await offline.get("stripe/a"), "v2");
    assert.deepEqual((await offline.listSecrets()).map((s) => s.path), ["stripe/a"]);
    assert.deepEqual(warnings, []);
    // A failed fetch warns, and reads the upstream fetched earlier.
    const moved = join(v.dir, "moved.git");
    renameSync(bare, moved);
    const failing = [];
    const unreachable = new Vault({ ...opts(v), repoPath: clone, autoPull: true, onWarning: (m) => failing.push(m) });
    assert.equal(await unreachable.get("stripe/a"), "v2");
    assert.match(failing.join("\n"), /git fetch origin` failed/);
    // Nothing in the clone changed.
    assert.equal(git(["rev-parse", "HEAD"], { cwd: clone }), head);
    assert.equal(git(["status", "--porcelain"], { cwd: clone }), "");
  });

  it("runs every git process so that it cannot prompt, and without AGENT_VAULT_* (never the key)", async () => {
    const v = makeVault({ secrets: { "stripe/a": "v1" } });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const clone = join(v.dir, "clone");
    git(["clone", "-q", bare, clone]);
    git(["remote", "add", "origin", bare], { cwd: v.repo });
    setSecret(v.av, "stripe/a", "v2");
    git(["push", "-q", "origin", "HEAD"], { cwd: v.repo });
    const log = loggingGit();
    const saved = { PATH: process.env.PATH, AGENT_VAULT_KEY: process.env.AGENT_VAULT_KEY };
    process.env.PATH = `${log.dir}:${saved.PATH}`;
    // The caller's environment holds the key: git must not inherit it.
    process.env.AGENT_VAULT_KEY = readFileSync(v.ownerKey, "utf8");
    try {
      const vault = new Vault({ ...opts(v, { autoPull: true, refreshIntervalMs: 0 }), repoPath: clone });
      assert.equal(await vault.get("stripe/a"), "v2");
      await vault.listSecrets();
      vault.close();
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.AGENT_VAULT_KEY === undefined) delete process.env.AGENT_VAULT_KEY;
      else process.env.AGENT_VAULT_KEY = saved.AGENT_VAULT_KEY;
    }
    const lines = log.lines();
    assert.ok(lines.some((l) => l.startsWith("fetch|")), lines.join("\n"));
    for (const line of lines) assert.match(line, /^[a-z-]+\|0\|ssh -o BatchMode=yes\|unset$/);
  });

  it("honours AGENT_VAULT_OFFLINE like the CLI's --offline: no fetch", async () => {
    const v = makeVault({ secrets: { "stripe/a": "v1" } });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const clone = join(v.dir, "clone");
    git(["clone", "-q", bare, clone]);
    git(["remote", "add", "origin", bare], { cwd: v.repo });
    setSecret(v.av, "stripe/a", "v2");
    git(["push", "-q", "origin", "HEAD"], { cwd: v.repo });
    const at = (value) => cloneReader(v, clone)({ autoPull: true, refreshIntervalMs: 0 }, { AGENT_VAULT_OFFLINE: value });

    const log = loggingGit();
    const saved = process.env.PATH;
    process.env.PATH = `${log.dir}:${saved}`;
    try {
      for (const value of ["1", "true", "yes"]) assert.equal(await at(value).get("stripe/a"), "v1");
    } finally {
      process.env.PATH = saved;
    }
    assert.ok(!log.lines().some((l) => l.startsWith("fetch|")), "fetched while offline");
    const cliHome = tempDir("av-node-clone-home-");
    const offlineCli = cli(["--vault", clone, "get", "stripe/a", "--key", v.ownerKey], { env: { AGENT_VAULT_HOME: cliHome, AGENT_VAULT_OFFLINE: "1" } });
    assert.equal(offlineCli.stdout.toString(), "v1");
    // A false value (as the CLI reads it) fetches.
    for (const value of ["0", "false", "off", ""]) assert.equal(await at(value).get("stripe/a"), "v2");
  });

  it("reads a URL whose clone was cached while the remote was still empty, once the vault is pushed", async () => {
    const v = makeVault({ secrets: { "stripe/a": "pushed-after-the-clone" } });
    const bare = join(v.dir, "empty.git");
    git(["init", "-q", "--bare", bare]);
    const cacheDir = join(v.dir, "cache");
    const url = `file://${bare}`;
    const reader = (autoPull) => new Vault({ ...opts(v), repoPath: url, cacheDir, autoPull, refreshIntervalMs: 0 });
    await rejects(reader(true).get("stripe/a"), VaultNotFoundError, 3);
    const branch = git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: v.repo });
    git(["push", "-q", bare, `HEAD:refs/heads/${branch}`], { cwd: v.repo });
    git(["symbolic-ref", "HEAD", `refs/heads/${branch}`], { cwd: bare });
    // Without fetching, the cached (empty) clone is all there is; with it, the vault.
    await rejects(reader(false).get("stripe/a"), VaultNotFoundError, 3);
    assert.equal(await reader(true).get("stripe/a"), "pushed-after-the-clone");
    assert.equal(await reader(false).get("stripe/a"), "pushed-after-the-clone");
  });

  it("reads a remote URL through a ciphertext-only clone in the cache directory", async () => {
    const v = makeVault({ secrets: { "stripe/a": "remote-plaintext-1", "x/y": "remote-plaintext-2" } });
    writeFileSync(join(v.repo, "README.md"), "not part of the vault\n");
    git(["add", "README.md"], { cwd: v.repo });
    git(["commit", "-qm", "readme"], { cwd: v.repo });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const cacheDir = join(v.dir, "cache");
    const url = `file://${bare}`;
    const vault = new Vault({ ...opts(v), repoPath: url, cacheDir, autoPull: true, refreshIntervalMs: 0 });
    assert.equal(await vault.get("stripe/a"), "remote-plaintext-1");
    assert.equal(await vault.get("x/y"), "remote-plaintext-2");
    assert.equal((await vault.listSecrets()).length, 2);

    // The default cache location follows XDG_CACHE_HOME.
    const xdg = join(v.dir, "xdg");
    const viaXdg = new Vault({ ...opts(v, {}, { XDG_CACHE_HOME: xdg }), repoPath: url });
    assert.equal(await viaXdg.get("stripe/a"), "remote-plaintext-1");
    assert.ok(existsSync(join(xdg, "agent-vault", "remotes")));

    // New pushes are picked up on refresh.
    git(["remote", "add", "origin", bare], { cwd: v.repo });
    setSecret(v.av, "stripe/b", "remote-plaintext-3");
    git(["push", "-q", "origin", "HEAD"], { cwd: v.repo });
    assert.equal(await vault.get("stripe/b"), "remote-plaintext-3");

    // Nothing in the cache holds a plaintext; nothing is checked out (objects are read).
    const files = [];
    const walk = (d) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(cacheDir);
    for (const f of files) {
      const content = readFileSync(f);
      for (const plain of ["remote-plaintext-1", "remote-plaintext-2", "remote-plaintext-3"]) {
        assert.ok(!content.includes(plain), `${f} contains a plaintext`);
      }
    }
    const [clone] = readdirSync(cacheDir).filter((n) => !n.startsWith("."));
    assert.deepEqual(readdirSync(join(cacheDir, clone)).sort(), [".git"]);

    // With autoPull off an existing clone is read without fetching.
    const log = loggingGit();
    const saved = process.env.PATH;
    process.env.PATH = `${log.dir}:${saved}`;
    try {
      const offline = new Vault({ ...opts(v), repoPath: url, cacheDir, autoPull: false });
      assert.equal(await offline.get("stripe/b"), "remote-plaintext-3");
    } finally {
      process.env.PATH = saved;
    }
    assert.ok(!log.lines().some((l) => /^(fetch|clone)\|/.test(l)), log.lines().join("\n"));

    await rejects(
      new Vault({ ...opts(v), repoPath: `file://${join(v.dir, "no-such.git")}`, cacheDir }).get("stripe/a"),
      VaultNotFoundError,
      3,
    );
  });
});
