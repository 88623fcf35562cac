/** Whether `repoPath` is a git URL rather than a local path. */
export declare function isRemoteUrl(repoPath: string): boolean;
/** The URL with any password or token removed, for messages. */
export declare function redactUrl(url: string): string;
/** The default folder for remote clones: `$XDG_CACHE_HOME/agent-vault/remotes`. */
export declare function defaultCacheDir(env: NodeJS.ProcessEnv): string;
/** Where the clone of `url` lives under `cacheDir`. */
export declare function clonePath(cacheDir: string, url: string): string;
/** Makes sure a clone of `url` (nothing checked out) exists at `dir`; returns whether it was just created. */
export declare function ensureClone(url: string, dir: string, timeoutMs: number): Promise<boolean>;
/** Fetches the remote into the clone; returns a warning on failure. */
export declare function refreshClone(url: string, dir: string, timeoutMs: number): Promise<string | null>;
