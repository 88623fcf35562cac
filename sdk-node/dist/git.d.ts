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
export declare function gitEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
/**
 * Runs `git args…` and resolves with its exit code and output (a non-zero exit is not an
 * error here). Rejects with a {@link FormatError} if git cannot be started or times out.
 */
export declare function runGit(args: readonly string[], options?: {
    cwd?: string;
    timeoutMs?: number;
}): Promise<GitResult>;
/** Runs git and returns stdout, or throws a {@link FormatError} naming `what` on failure. */
export declare function gitOk(args: readonly string[], what: string, cwd?: string): Promise<Buffer>;
/** A git repository with a working tree, found by walking up from a start path. */
export interface RepoLocation {
    /** The working tree's root. */
    readonly root: string;
    /** The repository's git dir (for a linked worktree, its private git dir). */
    readonly gitDir: string;
    /** The common git dir (holds `config`). */
    readonly commonDir: string;
}
/** Finds the repository containing `start`, like `git rev-parse --show-toplevel`. */
export declare function discoverRepo(start: string): Promise<RepoLocation>;
/**
 * Parses the parts of a git config file we need: `branch.<name>.remote` and
 * `branch.<name>.merge`. Returns a map from `section.subsection.key` (section and key
 * lower-cased) to the last value.
 */
export declare function parseGitConfig(text: string): Map<string, string>;
/**
 * Whether the current branch has an upstream, read from `.git/HEAD` and the config without
 * spawning git. Returns the remote name (`.` for a local branch) or `null`.
 */
export declare function upstreamRemote(repo: RepoLocation): Promise<string | null>;
/**
 * Reads blobs by object id with one `git cat-file --batch`. Returns the contents in the order
 * of `oids` (`null` for a missing object).
 */
export declare function catFileBatch(cwd: string, oids: readonly string[]): Promise<Array<Buffer | null>>;
/**
 * HEAD's commit and its upstream's, read from `.git` files without spawning git: `upstream`
 * is `null` when the upstream's ref does not exist locally (never fetched). Returns `null`
 * when only git can tell (no upstream, a detached HEAD, a symbolic ref, a fetch refspec
 * other than the default one, or the reftable ref storage).
 */
export declare function readUpstreamState(repo: RepoLocation): Promise<{
    readonly head: string | null;
    readonly upstream: string | null;
    readonly label: string;
} | null>;
