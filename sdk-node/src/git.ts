/**
 * Git access. Repository discovery and the "is there an upstream?" question are answered by
 * reading `.git` files directly, so a vault without an upstream (or with `autoPull` off) is
 * read without spawning `git`. Everything else runs the system `git` with an argument array
 * (never a shell), no terminal prompts, and bounded time. No secret ever appears in argv.
 */
import { execFile, spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";

import { FormatError, VaultNotFoundError } from "./errors.js";

/** The result of a finished `git` process. */
export interface GitResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Environment for spawned git: never prompt (for a password, a passphrase or an unknown host
 * key: ssh runs in batch mode unless `GIT_SSH_COMMAND` is set), never open an editor or pager.
 */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: base["GIT_SSH_COMMAND"] || "ssh -o BatchMode=yes",
    GIT_ASKPASS: base["GIT_ASKPASS"] ?? "",
    GIT_PAGER: "cat",
    GIT_EDITOR: ":",
  };
}

/**
 * Runs `git args…` and resolves with its exit code and output (a non-zero exit is not an
 * error here). Rejects with a {@link FormatError} if git cannot be started or times out.
 */
export function runGit(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "git",
      args as string[],
      {
        cwd: options.cwd,
        env: gitEnv(),
        encoding: "buffer",
        maxBuffer: 1 << 30,
        timeout: options.timeoutMs ?? 0,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
        if (err && typeof err.code === "string") {
          reject(
            new FormatError(
              `cannot run git (${err.code}); install git and make sure it is on PATH`,
              { cause: error },
            ),
          );
          return;
        }
        if (err?.killed) {
          reject(new FormatError(`git ${args[0] ?? ""} did not finish within ${options.timeoutMs} ms`));
          return;
        }
        resolvePromise({
          code: err ? (typeof err.code === "number" ? err.code : 1) : 0,
          stdout,
          stderr: stderr.toString("utf8").trim(),
        });
      },
    );
  });
}

/** Runs git and returns stdout, or throws a {@link FormatError} naming `what` on failure. */
export async function gitOk(args: readonly string[], what: string, cwd?: string): Promise<Buffer> {
  const result = await runGit(args, cwd === undefined ? {} : { cwd });
  if (result.code !== 0) {
    throw new FormatError(`git: ${what} failed: ${result.stderr || `exit ${result.code}`}`);
  }
  return result.stdout;
}

/** A git repository with a working tree, found by walking up from a start path. */
export interface RepoLocation {
  /** The working tree's root. */
  readonly root: string;
  /** The repository's git dir (for a linked worktree, its private git dir). */
  readonly gitDir: string;
  /** The common git dir (holds `config`). */
  readonly commonDir: string;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Finds the repository containing `start`, like `git rev-parse --show-toplevel`. */
export async function discoverRepo(start: string): Promise<RepoLocation> {
  const absolute = resolve(start);
  let st;
  try {
    st = await stat(absolute);
  } catch {
    throw new VaultNotFoundError(
      `no vault found at ${absolute}: the path does not exist; pass the path of a git repository holding .agent-vault/ (or its URL)`,
    );
  }
  let dir = st.isDirectory() ? absolute : dirname(absolute);
  for (;;) {
    const dotGit = join(dir, ".git");
    let gitDir: string | null = null;
    try {
      const s = await stat(dotGit);
      if (s.isDirectory()) {
        gitDir = dotGit;
      } else if (s.isFile()) {
        const text = (await readFile(dotGit, "utf8")).trim();
        const m = /^gitdir:\s*(.+)$/m.exec(text);
        if (m?.[1]) gitDir = isAbsolute(m[1]) ? m[1] : resolve(dir, m[1]);
      }
    } catch {
      gitDir = null;
    }
    if (gitDir !== null) {
      let commonDir = gitDir;
      try {
        const rel = (await readFile(join(gitDir, "commondir"), "utf8")).trim();
        if (rel) commonDir = isAbsolute(rel) ? rel : resolve(gitDir, rel);
      } catch {
        // Not a linked worktree.
      }
      return { root: dir, gitDir, commonDir };
    }
    if ((await isDir(join(dir, "objects"))) && (await isDir(join(dir, "refs"))) && dir === absolute) {
      throw new VaultNotFoundError(
        `${absolute} is a bare git repository: pass it as a URL (file://${absolute}) so the SDK reads it through its own clone`,
      );
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new VaultNotFoundError(
    `no vault found in ${absolute} or its parents: it is not in a git repository; run \`agent-vault init\` there, or pass the path of the repository holding .agent-vault/`,
  );
}

/**
 * Parses the parts of a git config file we need: `branch.<name>.remote` and
 * `branch.<name>.merge`. Returns a map from `section.subsection.key` (section and key
 * lower-cased) to the last value.
 */
export function parseGitConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
    if (header) {
      const name = (header[1] ?? "").toLowerCase();
      section = header[2] !== undefined ? `${name}.${header[2].replace(/\\(.)/g, "$1")}` : name;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) continue;
    let value = (kv[2] ?? "true").replace(/\s+[#;].*$/, "").trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    out.set(`${section}.${(kv[1] ?? "").toLowerCase()}`, value);
  }
  return out;
}

/**
 * Whether the current branch has an upstream, read from `.git/HEAD` and the config without
 * spawning git. Returns the remote name (`.` for a local branch) or `null`.
 */
export async function upstreamRemote(repo: RepoLocation): Promise<string | null> {
  let head: string;
  try {
    head = (await readFile(join(repo.gitDir, "HEAD"), "utf8")).trim();
  } catch {
    return null;
  }
  const m = /^ref:\s*refs\/heads\/(.+)$/.exec(head);
  if (!m?.[1]) return null; // detached HEAD: no upstream
  let config: Map<string, string>;
  try {
    config = parseGitConfig(await readFile(join(repo.commonDir, "config"), "utf8"));
  } catch {
    return null;
  }
  const remote = config.get(`branch.${m[1]}.remote`);
  const merge = config.get(`branch.${m[1]}.merge`);
  return remote && merge ? remote : null;
}

/**
 * Reads blobs by object id with one `git cat-file --batch`. Returns the contents in the order
 * of `oids` (`null` for a missing object).
 */
export function catFileBatch(cwd: string, oids: readonly string[]): Promise<Array<Buffer | null>> {
  if (oids.length === 0) return Promise.resolve([]);
  return new Promise((resolvePromise, reject) => {
    const child = spawn("git", ["cat-file", "--batch"], {
      cwd,
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", (e) =>
      reject(new FormatError(`cannot run git (${(e as NodeJS.ErrnoException).code ?? e.message}); install git and make sure it is on PATH`, { cause: e })),
    );
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new FormatError(`git: reading objects failed: ${stderr.trim() || `exit ${code}`}`));
        return;
      }
      const out = Buffer.concat(chunks);
      const results: Array<Buffer | null> = [];
      let pos = 0;
      for (let i = 0; i < oids.length; i++) {
        const nl = out.indexOf(10, pos);
        if (nl < 0) {
          reject(new FormatError("git: unexpected output from git cat-file"));
          return;
        }
        const header = out.subarray(pos, nl).toString("utf8");
        pos = nl + 1;
        if (header.endsWith(" missing")) {
          results.push(null);
          continue;
        }
        const size = Number(header.split(" ")[2]);
        if (!Number.isInteger(size)) {
          reject(new FormatError("git: unexpected output from git cat-file"));
          return;
        }
        results.push(Buffer.from(out.subarray(pos, pos + size)));
        pos += size + 1;
      }
      resolvePromise(results);
    });
    child.stdin.end(oids.map((o) => `${o}\n`).join(""));
  });
}

/**
 * HEAD's commit and its upstream's, read from `.git` files without spawning git: `upstream`
 * is `null` when the upstream's ref does not exist locally (never fetched). Returns `null`
 * when only git can tell (no upstream, a detached HEAD, a symbolic ref, a fetch refspec
 * other than the default one, or the reftable ref storage).
 */
export async function readUpstreamState(
  repo: RepoLocation,
): Promise<{ readonly head: string | null; readonly upstream: string | null; readonly label: string } | null> {
  let headText: string;
  let config: Map<string, string>;
  try {
    headText = (await readFile(join(repo.gitDir, "HEAD"), "utf8")).trim();
    config = parseGitConfig(await readFile(join(repo.commonDir, "config"), "utf8"));
  } catch {
    return null;
  }
  const storage = config.get("extensions.refstorage");
  if (storage !== undefined && storage.toLowerCase() !== "files") return null;
  const m = /^ref:\s*(refs\/heads\/(.+))$/.exec(headText);
  if (!m?.[1] || !m[2]) return null;
  const branch = m[2];
  const remote = config.get(`branch.${branch}.remote`);
  const merge = config.get(`branch.${branch}.merge`);
  if (!remote || !merge?.startsWith("refs/heads/")) return null;
  const mergeBranch = merge.slice("refs/heads/".length);
  let upstreamRef: string;
  let label: string;
  if (remote === ".") {
    upstreamRef = merge;
    label = mergeBranch;
  } else {
    const fetch = config.get(`remote.${remote}.fetch`);
    if (fetch?.replace(/^\+/, "") !== `refs/heads/*:refs/remotes/${remote}/*`) return null;
    upstreamRef = `refs/remotes/${remote}/${mergeBranch}`;
    label = `${remote}/${mergeBranch}`;
  }
  const head = await readRef(repo, m[1]);
  const upstream = await readRef(repo, upstreamRef);
  if (head === undefined || upstream === undefined) return null;
  return { head, upstream, label };
}

/** A branch or remote-tracking ref's commit id; `null` if absent, `undefined` if unsure. */
async function readRef(repo: RepoLocation, name: string): Promise<string | null | undefined> {
  const oid = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
  try {
    const text = (await readFile(join(repo.commonDir, name), "utf8")).trim();
    return oid.test(text) ? text : undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") return undefined;
  }
  let packed: string;
  try {
    packed = await readFile(join(repo.commonDir, "packed-refs"), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? null : undefined;
  }
  for (const line of packed.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0 && line.slice(space + 1).trimEnd() === name) {
      const value = line.slice(0, space);
      return oid.test(value) ? value : undefined;
    }
  }
  return null;
}
