import type { Source } from "./source.js";
/** The signed statement, repository-relative. */
export declare const STATEMENT_PATH = ".agent-vault/integrity/statement";
/** Folder of shard files. */
export declare const SHARDS_DIR = ".agent-vault/integrity/shards";
/** The environment variable holding the expected verify key. */
export declare const VERIFY_KEY_ENV = "AGENT_VAULT_VERIFY_KEY";
/** The identity-file comment that names a vault's verify key. */
export declare const KEY_FILE_COMMENT = "agent-vault verify-key:";
/** What every integrity message ends with. */
export declare const ASK_OWNER = "do not trust it; ask the vault owner to run `agent-vault verify`";
/** SHA-256 as 64 lowercase hex characters. */
export declare function sha256Hex(bytes: Uint8Array | string): string;
/** A vault verify key: the 32 raw bytes of an Ed25519 public key. */
export declare class VerifyKey {
    #private;
    private constructor();
    /** Parses `ed25519:<base64>`; `null` if it is not one. */
    static tryParse(text: string): VerifyKey | null;
    /** Parses `ed25519:<base64>` or throws {@link InvalidInputError} naming `what`. */
    static parse(text: string, what: string): VerifyKey;
    /** `ed25519:<base64>`. */
    toString(): string;
    /** Strict Ed25519 verification (RFC 8032; small-order keys and `R`, and `S ≥ L`, refused). */
    verify(message: Uint8Array, signature: Uint8Array): boolean;
}
/** A parsed, signature-checked statement. */
export interface Statement {
    readonly verifyKey: VerifyKey;
    readonly seq: bigint;
    /** Policy file (relative to `.agent-vault/`) → SHA-256 hex. */
    readonly files: ReadonlyMap<string, string>;
    /** Shard name (`00`…`ff`) → SHA-256 hex of the shard file. */
    readonly shards: ReadonlyMap<string, string>;
}
/**
 * Parses a statement, checks that it is in canonical form and that its signature verifies
 * with the key it names. Whether that key is the right one is the caller's decision.
 */
export declare function parseStatement(bytes: Uint8Array): Statement;
/** The shard of a secret path: hex of the first byte of SHA-256 of the path. */
export declare function shardName(secret: string): string;
/** Repository-relative path of a shard file. */
export declare function shardPath(name: string): string;
/** Secret path → [SHA-256 hex of `.enc`, of `.meta`]. */
export type Shard = Map<string, readonly [string, string]>;
/**
 * For one `get`: every signed policy file is exactly as signed, no file was added under
 * `agents/`, and the secret's files match its shard (a signed secret that is missing is
 * tampering, not "not found").
 */
export declare function verifyForGet(source: Source, statement: Statement, secret: string, enc: Buffer | null, meta: Buffer | null): Promise<void>;
/**
 * For listings: every difference between the vault and the statement (like the CLI's
 * `integrity::verify_all`). Empty means the vault is exactly what was signed.
 */
export declare function verifyAll(source: Source, statement: Statement): Promise<string[]>;
