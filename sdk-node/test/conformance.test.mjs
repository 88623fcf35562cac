// The shared conformance suite: vaults built by <repo>/conformance/build_vaults.py with the
// real CLI (which checks the CLI's own answers), replayed here through the Node SDK.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import * as sdk from "../dist/index.js";
import { BASE_ENV, REPO_ROOT, cliBin, tempDir } from "./helpers.mjs";

const BUILDER = join(REPO_ROOT, "conformance", "build_vaults.py");

function loadCases() {
  const out = join(tempDir("av-node-conf-"), "vaults");
  const r = spawnSync("python3", [BUILDER, "--cli", cliBin(), "--out", out], {
    env: { ...BASE_ENV },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`build_vaults.py failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(readFileSync(join(out, "cases.json"), "utf8")).cases;
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

async function run(c) {
  const vault = new sdk.Vault({
    repoPath: c.repo,
    ...(c.key_path !== null ? { keyPath: c.key_path } : {}),
    ...(c.key !== null ? { key: c.key } : {}),
    ...(c.agent !== null ? { agent: c.agent } : {}),
    ...(c.verify_key != null ? { verifyKey: c.verify_key } : {}),
    autoPull: c.auto_pull,
    // Exactly the case's environment: no stray AGENT_VAULT_KEY from outside.
    env: { ...c.env },
    onWarning: () => {},
  });
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

describe("conformance (conformance/build_vaults.py)", { skip: !existsSync(BUILDER) && `${BUILDER} is missing` }, () => {
  const cases = existsSync(BUILDER) ? loadCases() : [];

  it("has cases", () => assert.ok(cases.length >= 20, `only ${cases.length} cases`));

  for (const c of cases) {
    it(c.name, async () => {
      let result;
      let error;
      try {
        // Construction and call are judged together.
        result = await run(c);
      } catch (e) {
        error = e;
      }
      if (!c.expect.ok) {
        assert.ok(error, `expected ${c.expect.error}, but the call succeeded`);
        const Class = sdk[c.expect.error];
        assert.ok(Class, `the SDK has no error class ${c.expect.error}`);
        assert.ok(error instanceof Class, `expected ${c.expect.error}, got ${error.name}: ${error.message}`);
        assert.ok(error instanceof sdk.AgentVaultError);
        assert.equal(error.code, c.expect.code);
        return;
      }
      if (error) throw error;
      if (c.op === "get") {
        const expected = Buffer.from(c.expect.value_b64, "base64");
        assert.ok(Buffer.from(result).equals(expected), "value differs");
        const text = new sdk.Vault({
          repoPath: c.repo,
          ...(c.key_path !== null ? { keyPath: c.key_path } : {}),
          ...(c.key !== null ? { key: c.key } : {}),
          ...(c.agent !== null ? { agent: c.agent } : {}),
          ...(c.verify_key != null ? { verifyKey: c.verify_key } : {}),
          autoPull: c.auto_pull,
          env: { ...c.env },
          onWarning: () => {},
        });
        if (c.expect.utf8 === false) {
          await assert.rejects(text.get(c.path), (e) => e instanceof sdk.FormatError && e.code === 1 && /getBytes/.test(e.message));
        } else {
          assert.equal(await text.get(c.path), expected.toString("utf8"));
        }
        return;
      }
      assert.deepEqual(asJson(c.op, result), c.expect.result);
    });
  }
});
