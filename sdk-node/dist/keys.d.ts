import { type Identity } from "./identity.js";
/** The environment variable holding a key file's path or a raw `AGE-SECRET-KEY-1…`. */
export declare const KEY_ENV = "AGENT_VAULT_KEY";
/** The environment variable naming the folder that holds keys. */
export declare const HOME_ENV = "AGENT_VAULT_HOME";
/** Where the identities for decryption come from. */
export type KeySource = {
    readonly kind: "text";
    readonly text: string;
    readonly origin: string;
} | {
    readonly kind: "file";
    readonly path: string;
    readonly origin: string;
    readonly hint: string;
    /** When set, the whole "not found" message: the path must not be shown. */
    readonly redacted?: string;
    /** An agent's key, whose file depends on the vault (see {@link forVault}). */
    readonly agent?: {
        readonly home: string;
        readonly name: string;
    };
};
/** Identities loaded from one source; `origin` describes the source for messages. */
export interface LoadedIdentities {
    /** The identities, in file order, with their 1-based line numbers. */
    readonly identities: ReadonlyArray<{
        readonly line: number;
        readonly identity: Identity;
    }>;
    readonly origin: string;
    /** The `#` comment lines, without the `#` and trimmed (they may name verify keys). */
    readonly comments: readonly string[];
}
/** The folder holding this user's keys: `AGENT_VAULT_HOME`, or `~/.agent-vault`. */
export declare function keyHome(env: NodeJS.ProcessEnv): string;
/** Chooses the key source from explicit options and the environment, without reading it. */
export declare function chooseKeySource(options: {
    keyPath?: string | undefined;
    key?: string | undefined;
    agent?: string | undefined;
}, env: NodeJS.ProcessEnv): KeySource;
/**
 * The key source for the vault with identity `vaultId` (as its statement names it): an agent's
 * key is `agents/<vault id>/NAME.key` when that file exists, else `agents/NAME.key` (where keys
 * were kept before), else the agent's key of another vault (whose anchors then report a
 * replaced or removed statement as such, rather than "key not found"). Other sources are
 * unchanged.
 */
export declare function forVault(source: KeySource, vaultId: string | null): KeySource;
/**
 * Parses identity-file text in the `age-keygen` format: blank lines, `#` comments and
 * `AGE-SECRET-KEY-1…` lines (Bech32: either letter case). Errors name the line, never its
 * content.
 */
export declare function parseIdentities(text: string, origin: string): LoadedIdentities;
/** Identity files are read up to this size (a path to /dev/zero must not read forever). */
export declare const MAX_KEY_FILE: number;
/** Reads and parses the identities of a key source. */
export declare function loadIdentities(source: KeySource): Promise<LoadedIdentities>;
