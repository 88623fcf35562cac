/** A readable snapshot of a repository's files. */
export interface Source {
    /** A short description for messages: `working tree`, `origin/main`. */
    readonly label: string;
    /** A key identifying the snapshot (for caches): `worktree`, or the commit id. */
    readonly id: string;
    /** Reads repository-relative files; `null` for a missing file. */
    read(paths: readonly string[]): Promise<Array<Buffer | null>>;
    /** Every regular file under the repository-relative folder `dir`, sorted; `[]` if absent. */
    list(dir: string): Promise<string[]>;
}
/** Files in a working tree. */
export declare class WorktreeSource implements Source {
    private readonly root;
    readonly label = "working tree";
    readonly id = "worktree";
    constructor(root: string);
    read(paths: readonly string[]): Promise<Array<Buffer | null>>;
    list(dir: string): Promise<string[]>;
    private readOne;
}
/** Blobs in a commit's tree, read with `git ls-tree` (once) and `git cat-file --batch`. */
export declare class TreeSource implements Source {
    private readonly root;
    readonly id: string;
    readonly label: string;
    private entries;
    constructor(root: string, id: string, label: string);
    private listing;
    list(dir: string): Promise<string[]>;
    read(paths: readonly string[]): Promise<Array<Buffer | null>>;
}
