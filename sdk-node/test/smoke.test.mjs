// Consumer smoke test: `npm pack` the package, install the tarball into a fresh project, and
// use it as a user would: import it (ESM and types), read a secret from a CLI-made vault.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";

import { ORIGINAL_ENV, SDK_DIR, makeVault, tempDir } from "./helpers.mjs";

function run(cmd, args, cwd, env = ORIGINAL_ENV) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

it("installs from the packed tarball and works when imported", () => {
  const dir = tempDir("av-node-smoke-");
  // npm uses the real HOME for its cache; the vault and its keys stay hermetic.
  // dist/ is committed and checked by dist.test.mjs: skip the prepack check here.
  run("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", dir], SDK_DIR);
  const [tarball] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack made no tarball");
  const listing = run("tar", ["-tzf", join(dir, tarball)], dir);
  assert.match(listing, /package\/dist\/index\.js/);
  assert.match(listing, /package\/dist\/index\.d\.ts/);
  assert.doesNotMatch(listing, /package\/(src|test|node_modules)\//);

  const project = join(dir, "consumer");
  run("mkdir", ["-p", project], dir);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--silent", join(dir, tarball)], project);

  const v = makeVault({ secrets: { "stripe/api-key": "from-the-tarball" } });
  writeFileSync(
    join(project, "main.mjs"),
    `import { Vault, SecretNotFoundError, AgentVaultError } from "agent-vault";
const vault = new Vault({ repoPath: process.argv[2], agent: "bot", autoPull: false });
console.log(await vault.get("stripe/api-key"));
try { await vault.get("stripe/missing"); } catch (e) {
  console.log(e instanceof SecretNotFoundError && e instanceof AgentVaultError ? "typed " + e.code : "untyped");
}
`,
  );
  const out = run("node", ["main.mjs", v.repo], project, { ...ORIGINAL_ENV, ...v.env, AGENT_VAULT_KEY: "" });
  assert.equal(out, "from-the-tarball\ntyped 3\n");

  // The type declarations resolve for a TypeScript consumer.
  writeFileSync(
    join(project, "check.ts"),
    `import { Vault, NotAuthorizedError, type SecretInfo } from "agent-vault";
const vault = new Vault({ repoPath: ".", keyPath: "k", autoPull: false });
export const value: Promise<string> = vault.get("a/b");
export const bytes: Promise<Uint8Array> = vault.getBytes("a/b");
export const list: Promise<SecretInfo[]> = vault.listSecrets("a");
export const code: number = new NotAuthorizedError("x").code;
`,
  );
  run(
    "node",
    [join(SDK_DIR, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "--typeRoots", join(SDK_DIR, "node_modules/@types"), "check.ts"],
    project,
  );
});

it("installs from a checkout's folder with no build step and no dependencies", () => {
  // What `npm install ./sdk-node` sees on a fresh clone: the committed files, no node_modules.
  const dir = tempDir("av-node-link-");
  const checkout = join(dir, "sdk-node");
  for (const f of ["package.json", "README.md", "dist"]) cpSync(join(SDK_DIR, f), join(checkout, f), { recursive: true });
  const project = join(dir, "app");
  run("mkdir", ["-p", project], dir);
  run("npm", ["init", "-y"], project);
  run("npm", ["install", "--no-audit", "--no-fund", "--offline", "--silent", checkout], project);
  // Nothing but the SDK: its build and test tools are devDependencies, never installed for a user.
  assert.deepEqual(readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith(".")), ["agent-vault"]);
  const installed = JSON.parse(readFileSync(join(project, "node_modules", "agent-vault", "package.json"), "utf8"));
  assert.equal(installed.license, "MIT OR Apache-2.0");
  assert.deepEqual(installed.dependencies ?? {}, {});
  const v = makeVault({ secrets: { "stripe/api-key": "from-the-folder" } });
  const out = run(
    "node",
    ["-e", `import("agent-vault").then(async (m) => console.log(typeof m.Vault, await new m.Vault({ repoPath: process.argv[1], agent: "bot", autoPull: false }).get("stripe/api-key")))`, v.repo],
    project,
    { ...ORIGINAL_ENV, ...v.env, AGENT_VAULT_KEY: "" },
  );
  assert.equal(out, "function from-the-folder\n");
});
