// The shared conformance suite: vaults built by conformance/build_vaults.py with the real CLI
// (which checks the CLI's own answers), replayed here through the Node SDK exactly as
// conformance/README.md (contract version 2) says: a fresh copy of the case's key home, the
// case's environment only, warnings, pins, messages and time checked.
//
// AGENT_VAULT_CONFORMANCE_CASES=<dir> uses cases already built there (its cases.json) instead
// of running the builder.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import * as sdk from "../dist/index.js";
import { BASE_ENV, ORIGINAL_ENV, REPO_ROOT, cliBin, tempDir } from "./helpers.mjs";

const BUILDER = join(REPO_ROOT, "conformance", "build_vaults.py");
// Read from the environment as it was before helpers.mjs removed every AGENT_VAULT_* variable.
const PREBUILT = ORIGINAL_ENV.AGENT_VAULT_CONFORMANCE_CASES;

/** JSON with every `"seq": N` read as the string "N" (sequence numbers can exceed 2^53). */
function parseExact(text) {
  return JSON.parse(text.replace(/("seq"\s*:\s*)(\d+)/g, '$1"$2"'));
}

function loadCases() {
  let dir = PREBUILT;
  if (!dir) {
    dir = join(tempDir("av-node-conf-"), "vaults");
    const r = spawnSync("python3", [BUILDER, "--cli", cliBin(), "--out", dir], {
      env: { ...BASE_ENV },
      encoding: "utf8",
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(`build_vaults.py failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const file = parseExact(readFileSync(join(dir, "cases.json"), "utf8"));
  assert.ok(file.version >= 2, `cases.json version ${file.version}: this runner follows contract version 2`);
  return file.cases;
}

/** The SDK's result in the JSON form of cases.json. */
function asJson(op, result) {
  if (op === "list_secrets") {
    return result.map((s) => ({
      path: s.path,
      group: s.group,
      created: s.created,
      rotated: s.rotated,
      expires: s.expires,
      authorized_agents: s.authorizedAgents,
      expired: s.expired,
    }));
  }
  if (op === "list_agents") {
    return result.map((a) => ({ name: a.name, groups: a.groups, public_key: a.publicKey, escrow: a.escrow }));
  }
  return result;
}

/** A fresh copy of the case's key home: contents, file and folder modes, symlinks as symlinks. */
function copyHome(source) {
  assert.ok(statSync(source).isDirectory(), `the case's AGENT_VAULT_HOME ${source} is not a folder`);
  const target = join(tempDir("av-node-case-"), "agent-vault-home");
  cpSync(source, target, { recursive: true, verbatimSymlinks: true });
  const modes = (from, to) => {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      if (entry.isDirectory()) modes(join(from, entry.name), join(to, entry.name));
    }
    chmodSync(to, statSync(from).mode & 0o7777);
  };
  modes(source, target);
  return target;
}

/** Restores write permission on the copy and deletes it. */
function removeHome(home) {
  const walk = (dir) => {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  if (existsSync(home)) walk(home);
  rmSync(home, { recursive: true, force: true });
}

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;
const IDENTITY = /AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{20}/i;

/** No control character, no age identity, none of the case's never_printed strings. */
function assertClean(text, c, what) {
  assert.ok(!CONTROL.test(text), `${what} holds a raw control character: ${JSON.stringify(text)}`);
  assert.ok(!IDENTITY.test(text), `${what} holds an age identity`);
  for (const s of c.expect.never_printed ?? []) assert.ok(!text.includes(s), `${what} holds a string it must never print`);
}

function checkPins(home, expected) {
  const file = join(home, "pins.json");
  assert.ok(existsSync(file), "pins.json was not written");
  const doc = parseExact(readFileSync(file, "utf8"));
  assert.equal(doc.version, 2);
  for (const [table, entries] of Object.entries(expected)) {
    const got = doc[table] ?? {};
    for (const [name, want] of Object.entries(entries)) {
      if (want === null) assert.ok(!(name in got), `pins.json ${table}[${name}] should be absent`);
      else assert.deepEqual(got[name], want, `pins.json ${table}[${name}]`);
    }
  }
}

function open(c, env, warnings) {
  return new sdk.Vault({
    repoPath: c.repo,
    ...(c.key_path !== null ? { keyPath: c.key_path } : {}),
    ...(c.key !== null ? { key: c.key } : {}),
    ...(c.agent !== null ? { agent: c.agent } : {}),
    ...(c.verify_key != null ? { verifyKey: c.verify_key } : {}),
    autoPull: c.auto_pull,
    // Exactly the case's environment: no stray AGENT_VAULT_KEY from outside.
    env,
    onWarning: (m) => warnings.push(m),
  });
}

async function call(vault, c) {
  switch (c.op) {
    case "get":
      return vault.getBytes(c.path);
    case "list_secrets":
      return vault.listSecrets(c.group ?? undefined);
    case "list_groups":
      return vault.listGroups();
    case "list_agents":
      return vault.listAgents();
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

async function runCase(c) {
  const home = copyHome(c.env.AGENT_VAULT_HOME);
  const env = { ...c.env, AGENT_VAULT_HOME: home };
  const warnings = [];
  const vaults = [];
  try {
    let result;
    let error;
    const started = performance.now();
    try {
      // Construction and call are judged together.
      const vault = open(c, env, warnings);
      vaults.push(vault);
      result = await call(vault, c);
    } catch (e) {
      error = e;
    }
    const seconds = (performance.now() - started) / 1000;
    if (c.max_seconds !== undefined) assert.ok(seconds <= c.max_seconds, `took ${seconds.toFixed(1)} s, more than ${c.max_seconds}`);
    if (!c.expect.ok) {
      assert.ok(error, `expected ${c.expect.error}, but the call succeeded`);
      const Class = sdk[c.expect.error];
      assert.ok(Class, `the SDK has no error class ${c.expect.error}`);
      assert.ok(error instanceof Class, `expected ${c.expect.error}, got ${error.name}: ${error.message}`);
      assert.ok(error instanceof sdk.AgentVaultError);
      assert.equal(error.code, c.expect.code);
      assertClean(error.message, c, "the error message");
      for (const wanted of c.expect.message_contains ?? []) {
        assert.ok(error.message.includes(wanted), `${JSON.stringify(wanted)} not in ${JSON.stringify(error.message)}`);
      }
    } else {
      if (error) throw error;
      if (c.op === "get") {
        const expected = Buffer.from(c.expect.value_b64, "base64");
        assert.ok(Buffer.from(result).equals(expected), "value differs");
        const text = open(c, env, warnings);
        vaults.push(text);
        if (c.expect.utf8 === false) {
          await assert.rejects(text.get(c.path), (e) => e instanceof sdk.FormatError && e.code === 1 && /getBytes/.test(e.message));
        } else {
          assert.equal(await text.get(c.path), expected.toString("utf8"));
        }
      } else {
        assert.deepEqual(asJson(c.op, result), c.expect.result);
      }
    }
    for (const w of warnings) assertClean(w, c, "a warning");
    for (const wanted of c.expect.warnings ?? []) {
      assert.ok(warnings.some((w) => w.includes(wanted)), `no warning says ${JSON.stringify(wanted)}: ${JSON.stringify(warnings)}`);
    }
    if (c.expect.no_warnings) assert.deepEqual(warnings, []);
    if (c.expect_pins) checkPins(home, c.expect_pins);
  } finally {
    for (const v of vaults) v.close();
    removeHome(home);
  }
}

const enabled = PREBUILT ? existsSync(join(PREBUILT, "cases.json")) : existsSync(BUILDER);
// Under CI nothing may be skipped: a missing builder fails the suite instead.
const ci = Boolean(process.env.CI) && !["0", "false"].includes(process.env.CI);
describe("conformance (conformance/build_vaults.py)", { skip: !enabled && !ci && `${PREBUILT ?? BUILDER} is missing` }, () => {
  const cases = enabled || ci ? loadCases() : [];

  it("has cases", () => assert.ok(cases.length >= 20, `only ${cases.length} cases`));

  for (const c of cases) it(c.name, () => runCase(c));
});
