/**
 * Git access (docs/format.md, "Reading the newest state"). Readers read git objects, never the
 * working tree: refs are resolved by git itself (so `include`s and `GIT_CONFIG_*` apply) and
 * objects are read through one long-lived `git cat-file --batch-command` per {@link
 * ObjectReader}, which reports an object's type and size before any of its content is read.
 *
 * Every git process runs with an argument array (never a shell), the caller's environment
 * without any `AGENT_VAULT_*` variable (never the key), no terminal prompts, no stdin it could
 * wait on, and bounded output.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";

import { FormatError, VaultNotFoundError } from "./errors.js";
import { escapeControl } from "./text.js";

/** The result of a finished `git` process. */
export interface GitResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Environment for spawned git: the caller's, without `AGENT_VAULT_*` (git, its hooks, ssh and
 * credential helpers never see the key); never prompt (ssh runs in batch mode unless the user
 * set their own `GIT_SSH_COMMAND`), never open an editor or pager.
 */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (!name.startsWith("AGENT_VAULT_")) env[name] = value;
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: base["GIT_SSH_COMMAND"] || "ssh -o BatchMode=yes",
    GIT_ASKPASS: base["GIT_ASKPASS"] ?? "",
    GIT_PAGER: "cat",
    GIT_EDITOR: ":",
  };
}

/** The first line of git's message, escaped for printing. */
export function gitReason(stderr: string, code: number): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  // git's reason is the `fatal:`/`error:` line, not a trailing hint.
  const reason = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0];
  return reason ? escapeControl(reason.slice(0, 500)) : `exit ${code}`;
}

/** At most this much output is read from a git command other than `cat-file` (16 MiB). */
const MAX_OUTPUT = 16 << 20;

/**
 * Runs `git args…` and resolves with its exit code and output (a non-zero exit is not an
 * error here). Rejects with a {@link FormatError} if git cannot be started, times out or
 * writes more than 16 MiB.
 */
export function runGit(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      "git",
      args as string[],
      {
        cwd: options.cwd,
        env: gitEnv(),
        encoding: "buffer",
        maxBuffer: MAX_OUTPUT,
        timeout: options.timeoutMs ?? 0,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
        if (err && err.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
          reject(new FormatError(`git ${args[0] ?? ""} wrote more than ${MAX_OUTPUT} bytes; refusing to read on`));
          return;
        }
        if (err && typeof err.code === "string") {
          reject(new FormatError(`cannot run git (${err.code}); install git and make sure it is on PATH`, { cause: error }));
          return;
        }
        if (err?.killed) {
          reject(new FormatError(`git ${args[0] ?? ""} did not finish within ${options.timeoutMs} ms`));
          return;
        }
        resolvePromise({
          code: err ? (typeof err.code === "number" ? err.code : 1) : 0,
          stdout,
          stderr: stderr.toString("utf8"),
        });
      },
    );
    child.stdin?.end();
  });
}

/** A git repository with a working tree. */
export interface RepoLocation {
  /** The working tree's root, its real path (symlinks resolved), as git reports it. */
  readonly root: string;
}

/** Finds the repository containing `start` with `git rev-parse` (as git itself would). */
export async function discoverRepo(start: string): Promise<RepoLocation> {
  const absolute = resolve(start);
  let isDir: boolean;
  try {
    isDir = (await stat(absolute)).isDirectory();
  } catch {
    throw new VaultNotFoundError(
      `no vault found at ${escapeControl(absolute)}: the path does not exist; pass the path of a git repository holding .agent-vault/ (or its URL)`,
    );
  }
  const cwd = isDir ? absolute : dirname(absolute);
  const r = await runGit(["rev-parse", "--is-bare-repository", "--show-toplevel"], { cwd });
  const [bare, top] = r.stdout.toString("utf8").split("\n");
  if (bare === "true") {
    throw new VaultNotFoundError(
      `${escapeControl(absolute)} is a bare git repository: pass it as a URL (file://${escapeControl(absolute)}) so the SDK reads it through its own clone`,
    );
  }
  if (r.code !== 0 || !top || !isAbsolute(top)) {
    const why = /not a git repository/.test(r.stderr)
      ? "it is not in a git repository"
      : `git cannot open it: ${gitReason(r.stderr, r.code)}`;
    throw new VaultNotFoundError(
      `no vault found in ${escapeControl(absolute)} or its parents: ${why}; run \`agent-vault init\` there, or pass the path of the repository holding .agent-vault/`,
    );
  }
  return { root: top };
}

/** An object's type and size, as recorded in its header. */
export interface ObjectInfo {
  readonly oid: string;
  readonly type: string;
  readonly size: number;
}

/** One call's requests: answered together, with one promise (not one per object). */
class Batch<T> {
  readonly results: T[];
  #left: number;
  #done = false;

  constructor(
    size: number,
    private readonly onDone: (results: T[]) => void,
    private readonly onError: (e: Error) => void,
  ) {
    this.results = new Array<T>(size);
    this.#left = size;
    if (size === 0) this.#finish();
  }

  set(index: number, value: T): void {
    this.results[index] = value;
    if (--this.#left === 0) this.#finish();
  }

  fail(e: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.onError(e);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.onDone(this.results);
  }
}

/** One request in flight: which batch and slot its answer goes to. */
class Pending {
  constructor(
    readonly kind: "info" | "contents",
    readonly batch: Batch<ObjectInfo | Buffer | null>,
    readonly index: number,
    readonly maxSize = 0,
    readonly hash = false,
  ) {}

  resolve(value: ObjectInfo | Buffer | null): void {
    this.batch.set(this.index, value);
  }

  reject(e: Error): void {
    this.batch.fail(e);
  }
}

/** Something a stream or process handle has: keeps the event loop alive, or not. */
interface Refable {
  ref(): unknown;
  unref(): unknown;
}

/**
 * One long-lived `git cat-file --batch-command` (git ≥ 2.36), started on first use and closed
 * by {@link ObjectReader.close}. Requests are pipelined and answered in order. It never keeps
 * the Node process alive while idle. `info` reads only an object's header; `contents` is
 * asked only after the caller checked the size, and refuses anything larger than `maxSize`.
 */
export class ObjectReader {
  readonly #cwd: string;
  #child: ChildProcessWithoutNullStreams | null = null;
  #queue: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  /** The content being read: where it goes and how many bytes (+ the final newline) remain. */
  #body: { sink: Buffer | Hash; filled: number; size: number; done: Pending } | null = null;
  #stderr = "";
  #pendingInput = "";
  #flushScheduled = false;

  constructor(cwd: string) {
    this.#cwd = cwd;
  }

  /** Resolves object names (ids or revisions such as `HEAD^{commit}`); `null` when missing. */
  info(names: readonly string[]): Promise<Array<ObjectInfo | null>> {
    return new Promise((resolve, reject) => {
      const batch = new Batch<ObjectInfo | Buffer | null>(names.length, resolve as (v: unknown[]) => void, reject);
      names.forEach((name, i) => this.#send(`info ${name}\n`, new Pending("info", batch, i)));
    });
  }

  /**
   * The contents of objects (by id), each at most `maxSize` bytes; with `hash`, the SHA-256
   * hex of the contents instead (nothing is kept in memory).
   */
  contents(oids: readonly string[], maxSize: number, hash = false): Promise<Array<Buffer | null>> {
    return new Promise((resolve, reject) => {
      const batch = new Batch<ObjectInfo | Buffer | null>(oids.length, resolve as (v: unknown[]) => void, reject);
      oids.forEach((oid, i) => this.#send(`contents ${oid}\n`, new Pending("contents", batch, i, maxSize, hash)));
    });
  }

  /** The SHA-256 hex of each object's contents (at most `maxSize` bytes), streamed. */
  async sha256(oids: readonly string[], maxSize: number): Promise<Array<string | null>> {
    const out = await this.contents(oids, maxSize, true);
    return out.map((b) => (b === null ? null : b.toString("latin1")));
  }

  /** Ends the git process (a later request starts a new one). */
  close(): void {
    const child = this.#child;
    this.#child = null;
    if (child) {
      child.stdin.end();
      this.#setRef(child, false);
    }
    this.#fail(new FormatError("the vault was closed while git was reading"));
  }

  #send(line: string, pending: Pending): void {
    if (/[\n\r]/.test(line.slice(0, -1))) {
      pending.reject(new FormatError("git: an object name holds a line break"));
      return;
    }
    const child = this.#ensure();
    if (this.#queue.length === 0) this.#setRef(child, true);
    this.#queue.push(pending);
    this.#pendingInput += line;
    if (!this.#flushScheduled) {
      // Requests made in the same tick go out together, answered in one buffered flush.
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        const input = this.#pendingInput;
        this.#pendingInput = "";
        if (this.#child === child && input !== "") child.stdin.write(`${input}flush\n`);
      });
    }
  }

  #ensure(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    this.#buffer = Buffer.alloc(0);
    this.#body = null;
    this.#stderr = "";
    this.#pendingInput = "";
    const child = spawn("git", ["cat-file", "--batch-command", "--buffer"], {
      cwd: this.#cwd,
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    this.#child = child;
    child.stdout.on("data", (chunk: Buffer) => {
      if (this.#child === child) this.#onData(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (this.#stderr.length < 4096) this.#stderr += chunk.toString("utf8");
    });
    child.stdin.on("error", () => {
      // The process ended; the 'close' handler reports why.
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (this.#child !== child) return;
      this.#child = null;
      this.#fail(new FormatError(`cannot run git (${e.code ?? e.message}); install git and make sure it is on PATH`, { cause: e }));
    });
    child.on("close", (code) => {
      if (this.#child !== child) return;
      this.#child = null;
      const usage = code === 129 ? "; agent-vault needs git 2.36 or newer (`git cat-file --batch-command`)" : "";
      this.#fail(new FormatError(`git: reading objects failed: ${gitReason(this.#stderr, code ?? 1)}${usage}`));
    });
    this.#setRef(child, false);
    return child;
  }

  #setRef(child: ChildProcessWithoutNullStreams, on: boolean): void {
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as Refable[]) {
      if (on) handle.ref();
      else handle.unref();
    }
  }

  #fail(error: Error): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#body = null;
    for (const p of queue) p.reject(error);
  }

  /** Kills the process after a protocol violation and fails every request in flight. */
  #abort(error: Error): void {
    const child = this.#child;
    this.#child = null;
    if (child) {
      child.kill("SIGKILL");
      this.#setRef(child, false);
    }
    this.#fail(error);
  }

  #onData(chunk: Buffer): void {
    let data = this.#buffer.length > 0 ? Buffer.concat([this.#buffer, chunk]) : chunk;
    this.#buffer = Buffer.alloc(0);
    while (data.length > 0) {
      const body = this.#body;
      if (body) {
        const want = body.size + 1 - body.filled;
        const take = Math.min(want, data.length);
        const contentEnd = Math.min(take, Math.max(0, body.size - body.filled));
        if (contentEnd > 0) {
          const part = data.subarray(0, contentEnd);
          if (Buffer.isBuffer(body.sink)) part.copy(body.sink, body.filled);
          else body.sink.update(part);
        }
        body.filled += take;
        data = data.subarray(take);
        if (body.filled === body.size + 1) {
          this.#body = null;
          const done = body.done;
          this.#dequeue(done);
          done.resolve(Buffer.isBuffer(body.sink) ? body.sink : Buffer.from(body.sink.digest("hex"), "latin1"));
        }
        continue;
      }
      const nl = data.indexOf(10);
      if (nl < 0) {
        if (data.length > 4096) return this.#abort(new FormatError("git: unexpected output from git cat-file"));
        this.#buffer = Buffer.from(data);
        return;
      }
      const header = data.subarray(0, nl).toString("utf8");
      data = data.subarray(nl + 1);
      const pending = this.#queue[0];
      if (!pending) return this.#abort(new FormatError("git: unexpected output from git cat-file"));
      const parts = header.split(" ");
      if (parts.length === 2 && (parts[1] === "missing" || parts[1] === "ambiguous")) {
        this.#dequeue(pending);
        pending.resolve(null);
        continue;
      }
      const [oid, type, sizeText] = parts;
      const size = Number(sizeText);
      if (parts.length !== 3 || !oid || !type || !/^[0-9]+$/.test(sizeText ?? "") || !Number.isSafeInteger(size)) {
        return this.#abort(new FormatError("git: unexpected output from git cat-file"));
      }
      if (pending.kind === "info") {
        this.#dequeue(pending);
        pending.resolve({ oid, type, size });
        continue;
      }
      if (size > pending.maxSize) {
        // Never read it: end this git process (a new one starts on the next request).
        return this.#abort(new FormatError(`git: object ${oid} is larger than expected (${size} bytes)`));
      }
      this.#body = {
        sink: pending.hash ? createHash("sha256") : Buffer.allocUnsafe(size),
        filled: 0,
        size,
        done: pending,
      };
    }
  }

  #dequeue(pending: Pending): void {
    if (this.#queue[0] === pending) this.#queue.shift();
    if (this.#queue.length === 0 && this.#child) this.#setRef(this.#child, false);
  }
}
