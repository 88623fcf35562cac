// Benchmark of the Node SDK: get latency and listing 1,000 secrets, on a vault built by the
// real CLI. Usage: npm run bench   (or: node bench/bench.mjs [N_SECRETS])
// Uses $AGENT_VAULT_BIN or <repo>/target/debug/agent-vault (run `cargo build` first).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = process.env.AGENT_VAULT_BIN ?? join(sdkDir, "..", "target", "debug", "agent-vault");
if (!existsSync(bin)) {
  console.error(`agent-vault binary not found at ${bin}: run \`cargo build\` or set AGENT_VAULT_BIN`);
  process.exit(1);
}
const count = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), "av-node-bench-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const env = {
  PATH: process.env.PATH,
  HOME: dir,
  AGENT_VAULT_HOME: join(dir, "av-home"),
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_SYSTEM: "/dev/null",
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};
for (const k of Object.keys(process.env)) if (k.startsWith("AGENT_VAULT_") || k.startsWith("GIT_")) delete process.env[k];
Object.assign(process.env, env);
const repo = join(dir, "repo");
const sh = (cmd, args, input = "") => {
  const r = spawnSync(cmd, args, { env, input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.toString();
};

let t = performance.now();
sh(bin, ["init", repo]);
for (let i = 0; i < count; i++) {
  sh(bin, ["--vault", repo, "set", `group${i % 10}/secret-${String(i).padStart(4, "0")}`, "--from-file", "-"], `value-${i}-${"x".repeat(32)}`);
}
console.log(`built a vault with ${count} secrets via the CLI in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const stats = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, min ${s[0].toFixed(2)} ms (n=${s.length})`;
};
async function measure(n, fn) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

t = performance.now();
const { Vault } = await import(join(sdkDir, "dist", "index.js"));
console.log(`import agent-vault (age-encryption is loaded lazily): ${(performance.now() - t).toFixed(1)} ms`);

const vault = new Vault({ repoPath: repo, autoPull: false });
t = performance.now();
await vault.get("group0/secret-0000");
console.log(`first get (loads age-encryption, reads the key):      ${(performance.now() - t).toFixed(1)} ms`);
const name = (i) => `group${i % 10}/secret-${String(i % count).padStart(4, "0")}`;
console.log(`get, warm, autoPull=false:                  ${stats(await measure(300, (i) => vault.get(name(i))))}`);
const pulling = new Vault({ repoPath: repo, autoPull: true, refreshIntervalMs: 0 });
await pulling.get(name(0));
console.log(`get, warm, autoPull=true, no upstream:      ${stats(await measure(300, (i) => pulling.get(name(i))))}`);
console.log(`listSecrets() of ${count}:                  ${stats(await measure(20, () => vault.listSecrets()))}`);
console.log(`listSecrets("group3") of ${count / 10}:              ${stats(await measure(20, () => vault.listSecrets("group3")))}`);

// A clone whose upstream is fetched before every read (refreshIntervalMs: 0), as the CLI does.
const bare = join(dir, "origin.git");
sh("git", ["clone", "-q", "--bare", repo, bare]);
const clone = join(dir, "clone");
sh("git", ["clone", "-q", bare, clone]);
const fetching = new Vault({ repoPath: clone, autoPull: true, refreshIntervalMs: 0 });
await fetching.get(name(1));
console.log(`get with upstream, git fetch every call:    ${stats(await measure(20, (i) => fetching.get(name(i))))}`);
const cached = new Vault({ repoPath: clone, autoPull: true });
await cached.get(name(1));
console.log(`get with upstream, default 5 s refresh:     ${stats(await measure(100, (i) => cached.get(name(i))))}`);
t = performance.now();
sh(bin, ["--vault", repo, "get", name(7), "--offline"]);
console.log(`for comparison, one CLI process \`agent-vault get --offline\`: ${(performance.now() - t).toFixed(1)} ms`);

// Fresh processes (what a CI job or a script pays): the CLI against a Node process that imports
// the SDK and makes one call. Medians of several runs; a clone, so objects are packed as fetched.
const runs = 9;
const proc = (cmd, args) => {
  const start = performance.now();
  const r = spawnSync(cmd, args, { env, cwd: clone });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return performance.now() - start;
};
const nodeCall = (call) => [
  "--input-type=module",
  "-e",
  `const t0 = performance.now();
   const { Vault } = await import(${JSON.stringify(join(sdkDir, "dist", "index.js"))});
   const t1 = performance.now();
   const v = new Vault({ repoPath: ".", autoPull: false, onWarning() {} });
   await v.${call};
   const t2 = performance.now();
   await v.${call};
   const t3 = performance.now();
   v.close();
   process.stdout.write(JSON.stringify([t1 - t0, t2 - t1, t3 - t2]));`,
];
const inProcess = (call) => {
  const samples = [[], [], [], []];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const r = spawnSync(process.execPath, nodeCall(call), { env, cwd: clone });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    samples[0].push(performance.now() - start);
    JSON.parse(r.stdout.toString()).forEach((x, k) => samples[k + 1].push(x));
  }
  return samples;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1);
const cliList = Array.from({ length: runs }, () => proc(bin, ["list", "--json", "--offline"]));
const list = inProcess("listSecrets()");
console.log(`\nfresh processes, ${count} secrets (medians of ${runs}):`);
console.log(`  CLI \`list --json --offline\`, whole process:        ${median(cliList)} ms`);
console.log(`  node + listSecrets(), whole process:                ${median(list[0])} ms (import ${median(list[1])}, first call ${median(list[2])}, second call ${median(list[3])})`);
const cliGet = Array.from({ length: runs }, () => proc(bin, ["get", name(3), "--offline"]));
const get = inProcess(`get(${JSON.stringify(name(3))})`);
console.log(`  CLI \`get --offline\`, whole process:                ${median(cliGet)} ms`);
console.log(`  node + get(), whole process:                        ${median(get[0])} ms (import ${median(get[1])}, first get ${median(get[2])}, second get ${median(get[3])})`);
