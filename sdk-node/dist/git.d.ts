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
export declare function gitEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
/** The first line of git's message, escaped for printing. */
export declare function gitReason(stderr: string, code: number): string;
/**
 * Runs `git args…` and resolves with its exit code and output (a non-zero exit is not an
 * error here). Rejects with a {@link FormatError} if git cannot be started, times out or
 * writes more than 16 MiB.
 */
export declare function runGit(args: readonly string[], options?: {
    cwd?: string;
    timeoutMs?: number;
}): Promise<GitResult>;
/** A git repository with a working tree. */
export interface RepoLocation {
    /** The working tree's root, its real path (symlinks resolved), as git reports it. */
    readonly root: string;
}
/** Finds the repository containing `start` with `git rev-parse` (as git itself would). */
export declare function discoverRepo(start: string): Promise<RepoLocation>;
/** An object's type and size, as recorded in its header. */
export interface ObjectInfo {
    readonly oid: string;
    readonly type: string;
    readonly size: number;
}
/**
 * One long-lived `git cat-file --batch-command` (git ≥ 2.36), started on first use and closed
 * by {@link ObjectReader.close}. Requests are pipelined and answered in order. It never keeps
 * the Node process alive while idle. `info` reads only an object's header; `contents` is
 * asked only after the caller checked the size, and refuses anything larger than `maxSize`.
 */
export declare class ObjectReader {
    #private;
    constructor(cwd: string);
    /** Resolves object names (ids or revisions such as `HEAD^{commit}`); `null` when missing. */
    info(names: readonly string[]): Promise<Array<ObjectInfo | null>>;
    /**
     * The contents of objects (by id), each at most `maxSize` bytes; with `hash`, the SHA-256
     * hex of the contents instead (nothing is kept in memory).
     */
    contents(oids: readonly string[], maxSize: number, hash?: boolean): Promise<Array<Buffer | null>>;
    /** The SHA-256 hex of each object's contents (at most `maxSize` bytes), streamed. */
    sha256(oids: readonly string[], maxSize: number): Promise<Array<string | null>>;
    /** Ends the git process (a later request starts a new one). */
    close(): void;
}
