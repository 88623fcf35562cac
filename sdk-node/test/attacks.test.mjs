// Attacks on vaults made by the real CLI that the shared conformance contract cannot express:
// moving parts (an upstream fetched ahead, a URL clone), the working tree next to HEAD, and the
// CLI and the SDK writing the same pins.json at once. The CLI is checked side by side.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, symlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { IntegrityError, Vault } from "../dist/index.js";
import { ageKeygen, commitFiles, headFiles, signFiles, signer, statementFields } from "./forge.mjs";
import { BASE_ENV, cli, cliBin, git, makeVault, setSecret, tempDir } from "./helpers.mjs";

function reader(repoPath, keyPath, home, extra = {}) {
  const warnings = [];
  const vault = new Vault({ repoPath, keyPath, autoPull: false, env: { ...BASE_ENV, AGENT_VAULT_HOME: home }, onWarning: (m) => warnings.push(m), ...extra });
  return { vault, warnings };
}

async function refused(promise) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof IntegrityError && error.code === 5, `expected IntegrityError, got ${error?.name}: ${error?.message}`);
  return error;
}

/** The pusher's re-signed state: the CLI vault's files, `edit`ed, signed by a key of their own. */
function pushResigned(v, edit, seq = "18446744073709551615") {
  const files = headFiles(v.repo);
  const { vault } = statementFields(files.get("integrity/statement"));
  edit(files);
  const attacker = signer();
  const { files: out } = signFiles(files, { by: attacker, seq, vault });
  commitFiles(v.repo, out, "looks like a normal update");
  return attacker;
}

describe("attacks on CLI-made vaults", () => {
  it("an upstream fetched ahead of HEAD but re-signed by the attacker is refused, with no fallback to HEAD", async () => {
    const v = makeVault({ secrets: { "stripe/a": "genuine" } });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const clone = join(v.dir, "clone");
    git(["clone", "-q", bare, clone]);
    // The pusher works in the origin's history: a new commit there, fetched by the reader.
    const mallory = ageKeygen();
    pushResigned(v, (files) => files.set("agents/bot/public.key", Buffer.from(`${mallory.recipient}\n`)));
    const branch = git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: v.repo });
    git(["push", "-q", bare, `HEAD:refs/heads/${branch}`], { cwd: v.repo });
    git(["fetch", "-q"], { cwd: clone });
    assert.notEqual(git(["rev-parse", "HEAD"], { cwd: clone }), git(["rev-parse", "@{upstream}"], { cwd: clone }));
    const home = tempDir("av-node-home-");
    await refused(reader(clone, v.agentKey("bot"), home).vault.get("stripe/a"));
    assert.equal(cli(["--vault", clone, "get", "stripe/a", "--key", v.agentKey("bot"), "--offline"], { env: { AGENT_VAULT_HOME: home }, check: false }).code, 5);
  });

  it("a URL whose vault has config.yaml as a symlink is refused, and the clone's checkout plays no part", async () => {
    const v = makeVault({ secrets: { "stripe/a": "genuine" } });
    rmSync(join(v.repo, ".agent-vault/config.yaml"));
    symlinkSync("/dev/zero", join(v.repo, ".agent-vault/config.yaml"));
    git(["add", "-A", ".agent-vault"], { cwd: v.repo });
    git(["commit", "-q", "--no-verify", "-m", "symlink"], { cwd: v.repo });
    const bare = join(v.dir, "origin.git");
    git(["clone", "-q", "--bare", v.repo, bare]);
    const started = Date.now();
    await refused(reader(`file://${bare}`, v.agentKey("bot"), tempDir(), { cacheDir: join(v.dir, "cache") }).vault.get("stripe/a"));
    assert.ok(Date.now() - started < 10_000);
  });

  it("the working tree is not read: a symlinked .meta or an edit there changes nothing, for the SDK and the CLI", async () => {
    const v = makeVault({ secrets: { "stripe/a": "genuine" } });
    const meta = join(v.repo, ".agent-vault/secrets/stripe/a.meta");
    rmSync(meta);
    symlinkSync(v.ownerKey, meta);
    writeFileSync(join(v.repo, ".agent-vault/config.yaml"), `version: "\x1b[31m"\n`);
    const r = reader(v.repo, v.agentKey("bot"), v.home);
    assert.equal(await r.vault.get("stripe/a"), "genuine");
    assert.equal((await r.vault.listSecrets()).length, 1);
    assert.deepEqual(r.warnings, []);
    assert.equal(cli(["--vault", v.repo, "get", "stripe/a", "--agent", "bot"], { env: v.env }).stdout.toString(), "genuine");
  });

  it("the owner's next command refuses a vault re-signed by the attacker that the SDK refuses too", async () => {
    const v = makeVault({ secrets: { "stripe/a": "genuine" } });
    const mallory = ageKeygen();
    pushResigned(v, (files) => files.set("agents/bot/public.key", Buffer.from(`${mallory.recipient}\n`)));
    await refused(reader(v.repo, v.agentKey("bot"), tempDir()).vault.get("stripe/a"));
    await refused(reader(v.repo, v.ownerKey, v.home).vault.listSecrets());
    const set = cli(["--vault", v.repo, "set", "stripe/a", "--from-file", "-"], { env: v.env, input: "new-value", check: false });
    assert.equal(set.code, 5, set.stderr);
  });

  it("the CLI and the SDK write pins.json at once without losing each other's pins (one lock protocol)", async () => {
    const a = makeVault({ secrets: { "stripe/a": "a" } });
    const b = makeVault({ secrets: { "stripe/b": "b" } });
    const home = tempDir("av-node-shared-home-");
    const idOf = (v) => statementFields(readFileSync(join(v.repo, ".agent-vault/integrity/statement"))).vault;
    const cliReads = Array.from({ length: 6 }, () =>
      new Promise((resolve, reject) => {
        const child = spawn(cliBin(), ["--vault", b.repo, "get", "stripe/b", "--key", b.ownerKey, "--offline"], {
          env: { ...BASE_ENV, AGENT_VAULT_HOME: home },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("close", (code) => (code === 0 && out === "b" ? resolve() : reject(new Error(`CLI get exit ${code}, printed ${out.length} bytes`))));
      }),
    );
    const sdkReads = Array.from({ length: 6 }, async () => {
      const { vault } = reader(a.repo, a.ownerKey, home);
      assert.equal(await vault.get("stripe/a"), "a");
      vault.close();
    });
    await Promise.all([...cliReads, ...sdkReads]);
    const pins = JSON.parse(readFileSync(join(home, "pins.json"), "utf8"));
    assert.equal(pins.version, 2);
    assert.ok(pins.vaults[idOf(a)], "the SDK's pin was lost");
    assert.ok(pins.vaults[idOf(b)], "the CLI's pin was lost");
    // A rotation pinned by the CLI is then enforced by the SDK, and the other way round.
    setSecret(b.av, "stripe/b", "b2");
    cli(["--vault", b.repo, "get", "stripe/b", "--key", b.ownerKey], { env: { AGENT_VAULT_HOME: home } });
    git(["reset", "-q", "--hard", "HEAD~1"], { cwd: b.repo });
    await refused(reader(b.repo, b.ownerKey, home).vault.get("stripe/b"));
  });
});
