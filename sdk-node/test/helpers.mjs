// Shared test helpers: a hermetic environment, the real agent-vault CLI, real git repos.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = resolve(SDK_DIR, "..");

/** A fresh temp dir, removed at process exit. */
const TEMP_DIRS = [];
process.on("exit", () => {
  for (const dir of TEMP_DIRS) rmSync(dir, { recursive: true, force: true });
});
export function tempDir(prefix = "av-node-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  TEMP_DIRS.push(dir);
  return dir;
}

const HERMETIC_ROOT = tempDir("av-node-env-");
// cargo and rustup live under the real HOME: builds use the environment we started with.
export const ORIGINAL_ENV = { ...process.env };

/** The environment every test process runs in: no user config, a fixed git identity. */
export const BASE_ENV = {
  PATH: process.env.PATH,
  HOME: join(HERMETIC_ROOT, "home"),
  AGENT_VAULT_HOME: join(HERMETIC_ROOT, "av-home"),
  XDG_CACHE_HOME: join(HERMETIC_ROOT, "cache"),
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_SYSTEM: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Test Owner",
  GIT_AUTHOR_EMAIL: "owner@example.com",
  GIT_COMMITTER_NAME: "Test Owner",
  GIT_COMMITTER_EMAIL: "owner@example.com",
  LANG: "C",
};
mkdirSync(BASE_ENV.HOME, { recursive: true });

// The SDK's own git processes inherit process.env: make it hermetic too.
for (const key of Object.keys(process.env)) {
  if (key.startsWith("AGENT_VAULT_") && key !== "AGENT_VAULT_BIN") delete process.env[key];
  if (key.startsWith("GIT_")) delete process.env[key];
}
Object.assign(process.env, BASE_ENV);

let cliPath = null;
/** The agent-vault binary: $AGENT_VAULT_BIN, else built with `cargo build` at the repo root. */
export function cliBin() {
  if (cliPath) return cliPath;
  if (process.env.AGENT_VAULT_BIN) {
    cliPath = resolve(process.env.AGENT_VAULT_BIN);
  } else {
    const build = spawnSync("cargo", ["build", "--quiet"], {
      cwd: REPO_ROOT,
      env: ORIGINAL_ENV,
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (build.status !== 0) throw new Error("cargo build failed; set AGENT_VAULT_BIN to an agent-vault binary");
    cliPath = join(REPO_ROOT, "target", "debug", "agent-vault");
  }
  if (!existsSync(cliPath)) throw new Error(`agent-vault binary not found at ${cliPath}`);
  return cliPath;
}

/** Runs the CLI; values go through stdin, never argv. */
export function cli(args, { env = {}, input, cwd, check = true } = {}) {
  const r = spawnSync(cliBin(), args, {
    cwd,
    env: { ...BASE_ENV, ...env },
    input: input ?? "",
    maxBuffer: 1 << 26,
  });
  if (check && r.status !== 0) {
    throw new Error(`agent-vault ${args.join(" ")} failed (${r.status}): ${r.stderr.toString()}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs git; throws on failure. */
export function git(args, { cwd, env = {}, check = true } = {}) {
  const r = spawnSync("git", args, { cwd, env: { ...BASE_ENV, ...env }, maxBuffer: 1 << 26 });
  if (check && r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/**
 * A fresh vault made by the CLI: an owner key home, agents `bot` (granted `stripe`) and `ci`
 * (no grants), and secrets. Returns paths and an `av(args, opts)` runner bound to it.
 */
export function makeVault({ secrets = {}, agents = { bot: ["stripe"], ci: [] } } = {}) {
  const dir = tempDir();
  const repo = join(dir, "repo");
  const home = join(dir, "av-home");
  const env = { AGENT_VAULT_HOME: home };
  const av = (args, opts = {}) => cli(["--vault", repo, ...args], { ...opts, env: { ...env, ...(opts.env ?? {}) } });
  cli(["init", repo, "--owner-name", "Test Owner"], { env });
  for (const name of Object.keys(agents)) av(["add-agent", name]);
  for (const [path, value] of Object.entries(secrets)) setSecret(av, path, value);
  for (const [name, groups] of Object.entries(agents)) for (const g of groups) av(["grant", name, g]);
  return {
    dir,
    repo,
    home,
    env,
    av,
    ownerKey: join(home, "owner.key"),
    agentKey: (name) => agentKeyFile(home, repo, name),
  };
}

/** Stores a value (string or bytes) with its exact bytes, passed on stdin (`--from-file -`). */
export function setSecret(av, path, value, extra = []) {
  av(["set", path, "--from-file", "-", ...extra], { input: typeof value === "string" ? Buffer.from(value) : value });
}

/**
 * A directory holding a `git` that logs `<command>|$GIT_TERMINAL_PROMPT|$GIT_SSH_COMMAND|$AGENT_VAULT_KEY`
 * (or `unset`) for every call, then runs the real git. Put it first on PATH.
 */
export function loggingGit() {
  const realGit = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
  const dir = tempDir("av-node-gitlog-");
  const log = join(dir, "log");
  writeFileSync(
    join(dir, "git"),
    `#!/bin/sh\necho "$1|$GIT_TERMINAL_PROMPT|$GIT_SSH_COMMAND|\${AGENT_VAULT_KEY-unset}" | head -c 300 | tr -d '\\n' >> '${log}'\necho >> '${log}'\nexec '${realGit}' "$@"\n`,
    { mode: 0o755 },
  );
  return { dir, lines: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []) };
}

/** Commits everything under .agent-vault/ as-is (what an attacker with push access can do). */
export function commitVault(repo, message = "edit the vault by hand") {
  git(["add", "-A", ".agent-vault"], { cwd: repo });
  // --no-verify: the leak-guard hook rightly objects to a garbage .enc; this is damage on purpose.
  git(["commit", "-q", "--no-verify", "-m", message], { cwd: repo });
}

/** The owner adopts hand-made damage: commit it, then `agent-vault sign` after "review". */
export function commitAndSign(v) {
  commitVault(v.repo, "damage the vault by hand");
  // `sign` refuses while `check` reports errors; this damage is deliberate.
  v.av(["sign", "--force"]);
}

/**
 * Makes `v` a genuinely unsigned vault (like one made by agent-vault 0.1.0): deletes the
 * statement, shards and signing key, commits, and removes the owner's pin for it.
 */
export function unsign(v) {
  rmSync(join(v.repo, ".agent-vault", "integrity"), { recursive: true, force: true });
  rmSync(join(v.repo, ".agent-vault", "signing.key.age"), { force: true });
  commitVault(v.repo, "unsign the vault");
  const pins = join(v.home, "pins.json");
  if (existsSync(pins)) {
    // Forget this location (pins version 2: its vault id and legacy pin; version 1: its entry).
    const data = JSON.parse(readFileSync(pins, "utf8"));
    const location = realpathSync(v.repo);
    for (const table of ["vaults", "locations", "legacy"]) delete data[table]?.[location];
    writeFileSync(pins, JSON.stringify(data));
  }
}

/**
 * The key file `add-agent NAME` wrote for the vault in `repo`: agent keys are kept per vault,
 * `agents/<vault id>/NAME.key` (the id from the vault's statement), else `agents/NAME.key`.
 */
export function agentKeyFile(home, repo, name) {
  let id = null;
  try {
    const statement = readFileSync(join(repo, ".agent-vault", "integrity", "statement"), "latin1");
    id = statement.split("\n")[1]?.match(/^vault ([0-9a-f]{32})$/)?.[1] ?? null;
  } catch {}
  const perVault = id && join(home, "agents", id, `${name}.key`);
  if (perVault && existsSync(perVault)) return perVault;
  // The statement was changed by the test: the agent's only key of any vault.
  let folders = [];
  try {
    folders = readdirSync(join(home, "agents")).sort();
  } catch {}
  const any = folders.map((f) => join(home, "agents", f, `${name}.key`)).find((p) => existsSync(p));
  return any ?? join(home, "agents", `${name}.key`);
}
