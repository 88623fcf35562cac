import { type Statement } from "./statement.js";
import { type Snapshot, type Walk } from "./tree.js";
/** The shard of a secret path: hex of the first byte of SHA-256 of the path. */
export declare function shardName(secret: string): string;
/** `secrets/<path>.enc`, relative to `.agent-vault/`. */
export declare const encRel: (secret: string) => string;
/** `secrets/<path>.meta`, relative to `.agent-vault/`. */
export declare const metaRel: (secret: string) => string;
/** `integrity/shards/<xx>`, relative to `.agent-vault/`. */
export declare const shardRel: (name: string) => string;
/** Whether a file (relative to `.agent-vault/`) is a policy file: not under secrets/ or integrity/. */
export declare function isPolicyFile(rel: string): boolean;
/** Secret path → [SHA-256 hex of `.enc`, of `.meta`] (64 zeros for a missing file). */
export type Shard = Map<string, readonly [string, string]>;
/** Parses a shard file in exactly its canonical form. */
export declare function parseShard(name: string, bytes: Buffer): Shard;
/** What a verification hands out: file (relative to `.agent-vault/`) → its verified bytes. */
export type Verified = ReadonlyMap<string, Buffer>;
/**
 * For one `get`: the policy files, the secret's shard and its two files. Returns the verified
 * bytes of the secret's files and of the policy files in `keep` (e.g. `config.yaml`).
 */
export declare function verifyForGet(snapshot: Snapshot, walk: Walk, statement: Statement, secret: string, keep: readonly string[]): Promise<Verified>;
/**
 * For listings: the whole vault — every policy file, shard and secret, no unlisted shard, no
 * secret outside the shards. Returns the verified bytes of the files `keep` selects
 * (ciphertexts are only hashed, streamed). Throws one {@link IntegrityError} listing the
 * differences.
 */
export declare function verifyAll(snapshot: Snapshot, walk: Walk, statement: Statement, keep: (rel: string) => boolean): Promise<Verified>;
