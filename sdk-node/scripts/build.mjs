// Builds the package.
//
//   node scripts/build.mjs            type-check, then write dist/ (committed: see below)
//   node scripts/build.mjs --check    build into a temp dir; fail if dist/ differs (stale)
//   node scripts/build.mjs --lib      type-check, then write build/lib/ only (for the tests)
//
// dist/ is committed so that `npm install <checkout>/sdk-node` works with no build step and
// no dependencies to install: dist/index.js is one self-contained ESM file with the runtime
// dependencies (yaml, age-encryption) bundled in by esbuild, next to tsc's declarations.
// build/lib/ (not committed) is tsc's module-by-module output, which the unit tests import
// to reach internals the bundle does not export.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** tsc's output (JS and declarations) for every module of src/ into `outDir`. */
function compile(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(SDK_DIR, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(SDK_DIR, "tsconfig.json"), "--outDir", outDir], {
    cwd: SDK_DIR,
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("tsc failed");
}

/** The self-contained bundle and the declarations into `distDir`. */
async function bundle(distDir, libDir) {
  const { build } = await import("esbuild");
  rmSync(distDir, { recursive: true, force: true });
  await build({
    absWorkingDir: SDK_DIR,
    entryPoints: ["src/index.ts"],
    outfile: join(distDir, "index.js"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    legalComments: "inline",
    logLevel: "warning",
    // yaml is CommonJS and requires Node built-ins: give the ESM bundle a real `require`.
    banner: {
      js: 'import { createRequire as __agentVaultCreateRequire } from "node:module";\nconst require = __agentVaultCreateRequire(import.meta.url);',
    },
  });
  for (const file of readdirSync(libDir)) {
    if (file.endsWith(".d.ts")) cpSync(join(libDir, file), join(distDir, file));
  }
}

function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Builds into a temp dir and returns the problems that make dist/ stale (empty: up to date). */
export async function staleness() {
  const tmp = mkdtempSync(join(tmpdir(), "av-node-build-"));
  try {
    compile(join(tmp, "lib"));
    await bundle(join(tmp, "dist"), join(tmp, "lib"));
    const fresh = files(join(tmp, "dist"));
    const committed = files(join(SDK_DIR, "dist"));
    const problems = [];
    for (const f of fresh) {
      if (!committed.includes(f)) problems.push(`dist/${f} is missing`);
      else if (!readFileSync(join(tmp, "dist", f)).equals(readFileSync(join(SDK_DIR, "dist", f)))) {
        problems.push(`dist/${f} is out of date`);
      }
    }
    for (const f of committed) if (!fresh.includes(f)) problems.push(`dist/${f} is not built from src/ any more`);
    return problems;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const STALE_HINT = "run `npm run build` in sdk-node/ and commit dist/";

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2] ?? "";
  const lib = join(SDK_DIR, "build", "lib");
  if (mode === "--check") {
    const problems = await staleness();
    if (problems.length > 0) {
      console.error(`sdk-node/dist/ does not match src/:\n  ${problems.join("\n  ")}\n${STALE_HINT}`);
      process.exit(1);
    }
  } else if (mode === "--lib") {
    compile(lib);
  } else if (mode === "") {
    compile(lib);
    await bundle(join(SDK_DIR, "dist"), lib);
  } else {
    console.error(`unknown option ${mode}; use --check, --lib or nothing`);
    process.exit(2);
  }
}
