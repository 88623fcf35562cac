import type { ObjectReader } from "./git.js";
/** The vault folder at the repository root. */
export declare const VAULT_DIR = ".agent-vault";
/** Deepest entry below `.agent-vault/`, in path components. */
export declare const MAX_DEPTH = 128;
/** Most entries a vault tree may hold. */
export declare const MAX_ENTRIES = 1000000;
/** The size cap of a vault file (path relative to `.agent-vault/`). */
export declare function capFor(rel: string): number;
/** `.agent-vault/<rel>`, escaped for messages. */
export declare function shownPath(rel: string): string;
/** What a walk covers: everything, or what one `get` needs. */
export type Scope = {
    readonly kind: "all";
} | {
    readonly kind: "secret";
    readonly path: string;
};
/** The files and folders a walk found, relative to `.agent-vault/`. */
export declare class Walk {
    /** File path → blob id. */
    readonly files: Map<string, string>;
    /** Folder paths. */
    readonly trees: Set<string>;
    /**
     * The blob id of a file, or `null` when it is absent (some folder on its path is missing or
     * a file). A folder where a file is expected is an integrity failure.
     */
    lookup(rel: string): string | null;
}
/** One commit's `.agent-vault` tree, read through an {@link ObjectReader}. */
export declare class Snapshot {
    #private;
    readonly objects: ObjectReader;
    readonly commit: string;
    readonly label: string;
    /**
     * @param objects - reads the repository's objects
     * @param commit - the commit id (40 or 64 hex digits)
     * @param label - what it is, for messages (`HEAD`, `origin/main`)
     */
    constructor(objects: ObjectReader, commit: string, label: string);
    /**
     * The id of the commit's `.agent-vault` tree, or `null` when the commit has none (no vault).
     * An `.agent-vault` that is not a tree (a symlink, a file, a submodule) is an integrity
     * failure.
     */
    vaultTree(): Promise<string | null>;
    /** Walks `.agent-vault/` (all of it, or what a `get` of one secret needs), checking the rules. */
    walk(scope: Scope): Promise<Walk>;
    /**
     * The contents of files found by `walk` (`null` when absent), after checking each is a blob
     * no larger than its cap — on the size in the object header, before any content is read.
     */
    read(walk: Walk, rels: readonly string[]): Promise<Array<Buffer | null>>;
    /** Like {@link Snapshot.read}, but the SHA-256 hex of each file, streamed (nothing kept). */
    sha256(walk: Walk, rels: readonly string[]): Promise<Array<string | null>>;
}
