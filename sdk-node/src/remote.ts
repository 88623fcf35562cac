/**
 * Remote vaults: a git URL is read through a clone in the user's cache directory that holds
 * only what git stores (the vault's ciphertext and metadata), with nothing checked out: the
 * SDK reads the remote-tracking commit's objects. It fetches on refresh and never holds
 * plaintext.
 */
import { createHash } from "node:crypto";
import { access, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

import { VaultNotFoundError } from "./errors.js";
import { gitReason, runGit } from "./git.js";
import { escapeControl } from "./text.js";

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const SCP_LIKE = /^[^/\s@]+@[^/\s:]+:/;

/** Whether `repoPath` is a git URL rather than a local path. */
export function isRemoteUrl(repoPath: string): boolean {
  return URL_SCHEME.test(repoPath) || SCP_LIKE.test(repoPath);
}

/** The URL with any password or token removed, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, "$1***@");
}

/** The default folder for remote clones: `$XDG_CACHE_HOME/agent-vault/remotes`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env["XDG_CACHE_HOME"];
  const base = xdg && xdg.startsWith("/") ? xdg : join(env["HOME"] || homedir(), ".cache");
  return join(base, "agent-vault", "remotes");
}

/** Where the clone of `url` lives under `cacheDir`. */
export function clonePath(cacheDir: string, url: string): string {
  const hash = createHash("sha256").update(url).digest("hex").slice(0, 16);
  const last = url.replace(/[/\\]+$/, "").split(/[/:\\]/).pop() ?? "";
  const name = last.replace(/\.git$/, "").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 40) || "vault";
  return join(cacheDir, `${name}-${hash}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Makes sure a clone of `url` (nothing checked out) exists at `dir`; returns whether it was just created. */
export async function ensureClone(url: string, dir: string, timeoutMs: number): Promise<boolean> {
  if (await exists(join(dir, ".git"))) return false;
  const parent = join(dir, "..");
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(join(parent, ".tmp-clone-"));
  try {
    const work = join(tmp, "repo");
    const clone = await runGit(
      ["clone", "--quiet", "--no-checkout", "--no-tags", "--", url, work],
      { timeoutMs },
    );
    if (clone.code !== 0) {
      throw new VaultNotFoundError(
        `cannot clone ${escapeControl(redactUrl(url))}: ${gitReason(clone.stderr, clone.code)}; check the URL and your access to it`,
      );
    }
    try {
      await rename(work, dir);
    } catch (e) {
      // Another process finished its clone first: use that one.
      if (!(await exists(join(dir, ".git")))) throw e;
    }
    return true;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Fetches the remote into the clone; returns a warning on failure. */
export async function refreshClone(url: string, dir: string, timeoutMs: number): Promise<string | null> {
  const fetch = await runGit(["fetch", "--quiet", "--no-tags", "--prune", "origin"], {
    cwd: dir,
    timeoutMs,
  }).catch((e: Error) => ({ code: -1, stderr: e.message, stdout: Buffer.alloc(0) }));
  if (fetch.code !== 0) {
    return `fetching ${escapeControl(redactUrl(url))} failed (${gitReason(fetch.stderr, fetch.code)}); reading the cached state, which may be stale`;
  }
  return null;
}
