import type { Identity } from "./identity.js";
/** The statement's path, relative to `.agent-vault/`. */
export declare const STATEMENT_REL = "integrity/statement";
/** What every integrity message ends with. */
export declare const ASK_OWNER = "do not trust it; ask the vault owner to run `agent-vault verify`";
/** SHA-256 as 64 lowercase hex characters. */
export declare function sha256Hex(bytes: Uint8Array | string): string;
/** A vault verify key: the 32 raw bytes of an Ed25519 public key. */
export declare class VerifyKey {
    #private;
    private constructor();
    /** Parses `ed25519:<base64>` exactly (canonical base64 of 32 bytes); `null` if it is not one. */
    static tryParse(text: string): VerifyKey | null;
    /** Parses `ed25519:<base64>` (surrounding white space allowed) or throws {@link InvalidInputError} naming `what`. */
    static parse(text: string, what: string): VerifyKey;
    /** `ed25519:<base64>`. */
    toString(): string;
    /** Strict Ed25519 verification (RFC 8032; small-order keys and `R`, and `S ≥ L`, refused). */
    verify(message: Uint8Array, signature: Uint8Array): boolean;
}
/** A `key-change` line: from `from` to the next key, first used at `seq`. */
export interface KeyChange {
    readonly seq: bigint;
    readonly from: VerifyKey;
    readonly signature: Buffer;
}
/** An `owner` line: the owner's recipient and its endorsement tag (hex). */
export interface OwnerLine {
    readonly recipient: string;
    readonly tag: string;
}
/** A parsed statement in canonical form whose signature verifies with the key it names. */
export interface Statement {
    readonly version: 1 | 2;
    /** The vault identity (32 lowercase hex), `null` for version 1. */
    readonly vault: string | null;
    readonly verifyKey: VerifyKey;
    readonly seq: bigint;
    readonly keyChanges: readonly KeyChange[];
    readonly owners: readonly OwnerLine[];
    /** Policy file (relative to `.agent-vault/`) → SHA-256 hex. */
    readonly files: ReadonlyMap<string, string>;
    /** Shard name (`00`…`ff`) → SHA-256 hex of the shard file. */
    readonly shards: ReadonlyMap<string, string>;
}
/**
 * Parses a statement, checks that it is exactly in canonical form (version 1 or 2) and that
 * its signature verifies with the key it names. Whether that key is the right one is the
 * caller's decision. Never quotes the statement's text.
 */
export declare function parseStatement(bytes: Uint8Array): Statement;
/** The message the previous key signs in a `key-change` line. */
export declare function keyChangeMessage(vault: string, seq: bigint, from: string, to: string): string;
/**
 * Whether a reader can follow the chain from key `from` to the statement's key: `from` is the
 * statement's key, or some `K_j` whose line and every later line verify.
 */
export declare function canFollow(statement: Statement, from: string): boolean;
/** The endorsement tag (hex) an owner identity makes for (vault id, verify key). */
export declare function endorsementTag(identity: string, vault: string, verifyKey: string): string;
/** Whether one of `identities` has an `owner` line whose tag verifies for the statement's key. */
export declare function isEndorsed(statement: Statement, identities: readonly Identity[]): boolean;
