/** The format version this SDK reads. */
export declare const FORMAT_VERSION = 1;
/** The vault folder at the repository root. */
export declare const VAULT_DIR = ".agent-vault";
/** Paths of the vault's files, relative to the repository root. */
export declare const CONFIG_PATH = ".agent-vault/config.yaml";
export declare const MANIFEST_PATH = ".agent-vault/manifest.yaml";
export declare const SECRETS_DIR = ".agent-vault/secrets";
export declare const AGENTS_DIR = ".agent-vault/agents";
/** `secrets/<path>.enc` for a validated secret path. */
export declare const encPath: (secret: string) => string;
/** `secrets/<path>.meta` for a validated secret path. */
export declare const metaPath: (secret: string) => string;
/** An agent's public key file. */
export declare const agentPublicKeyPath: (agent: string) => string;
/** An agent's escrowed identity. */
export declare const agentEscrowPath: (agent: string) => string;
/** Checks `config.yaml`: a known version and `encryption.format: age`. */
export declare function checkConfig(bytes: Uint8Array): void;
/** The parts of `manifest.yaml` readers use. */
export interface Manifest {
    readonly agents: ReadonlyArray<{
        readonly name: string;
        readonly groups: readonly string[];
    }>;
    readonly groups: ReadonlyArray<{
        readonly name: string;
        readonly secrets: readonly string[];
    }>;
}
/**
 * Parses the plain manifest layout writers produce (`version: N`, then `owners`/`agents`/
 * `groups` as block lists of `- name: …` mappings with block or empty lists) without a YAML
 * parser, which costs tens of milliseconds on a large manifest. Returns `null` for anything
 * else — unknown keys, quoting, comments, flow or nested values, a missing version — so the
 * full parser decides (and reports errors).
 */
export declare function parseSimpleManifest(bytes: Uint8Array): Manifest | null;
/** Parses `manifest.yaml`. */
export declare function parseManifest(bytes: Uint8Array): Manifest;
/** The group whose folder agent-vault 0.1.0 stored single-segment secrets in. */
export declare const LEGACY_GROUP = "default";
/**
 * The single-segment secrets among `candidates` that an *unsigned* vault stores where
 * agent-vault 0.1.0 put them, `secrets/default/<secret>.*` (docs/format.md, "Vaults written by
 * agent-vault 0.1.0"): those the manifest lists while it does not list `default/<secret>`. The
 * caller applies it only when `secrets/<secret>.*` are both absent. A manifest that is missing
 * or does not parse as the CLI parses it (every name valid) moves nothing: the secret is then
 * simply not found, as with the CLI.
 */
export declare function legacySecrets(manifest: Uint8Array | null, candidates: readonly string[]): string[];
/** A secret's `.meta` file. */
export interface SecretMeta {
    readonly name: string;
    readonly group: string;
    readonly created: string;
    readonly rotated: string | null;
    readonly expires: string | null;
    readonly authorizedAgents: readonly string[];
    readonly extraAgents: readonly string[];
}
/** Parses a `.meta` file found at `path`. */
export declare function parseMeta(path: string, bytes: Uint8Array): SecretMeta;
