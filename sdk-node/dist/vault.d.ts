/** The environment variable holding the expected verify key. */
export declare const VERIFY_KEY_ENV = "AGENT_VAULT_VERIFY_KEY";
/** The identity-file comment that names a vault's verify key. */
export declare const KEY_FILE_COMMENT = "agent-vault verify-key:";
/** Options for {@link Vault}. Every option is optional. */
export interface VaultOptions {
    /**
     * The vault's git repository: a local path (default `"."`; any folder inside the
     * repository works) or a git URL (`https://…`, `ssh://…`, `git@host:…`, `file://…`), which is
     * read through a ciphertext-only clone in the cache directory.
     */
    repoPath?: string;
    /** Decrypt with this identity file (`age-keygen` format). Conflicts with `key` and `agent`. */
    keyPath?: string;
    /** Decrypt with this identity text (`AGE-SECRET-KEY-1…`, comments allowed). Kept in memory only. */
    key?: string;
    /**
     * @deprecated The name of {@link VaultOptions.key} in agent-vault 0.1.0's SDK: still accepted,
     * with a warning; use `key`.
     */
    keyStr?: string;
    /** Decrypt with this agent's key, `$AGENT_VAULT_HOME/agents/<agent>.key`. */
    agent?: string;
    /**
     * Read the newest state (default `true`): fetch the current branch's upstream and read it from
     * git objects when it is ahead (the working tree, index and branches are never changed), or
     * refresh the clone of a URL. When a key is refused, refresh once and retry before throwing.
     * With `false` nothing is fetched; an upstream fetched earlier that is ahead of HEAD is still
     * read (git is started only when its ref differs from HEAD).
     * `AGENT_VAULT_OFFLINE=1` in `env` turns it off, like the CLI's `--offline`.
     */
    autoPull?: boolean;
    /**
     * With `autoPull`, fetch at most once per this many milliseconds (default `5000`); `0`
     * fetches before every read, like the CLI. The refresh before a retry ignores it.
     */
    refreshIntervalMs?: number;
    /** Where clones of URLs live (default `$XDG_CACHE_HOME/agent-vault/remotes`, else `~/.cache/…`). */
    cacheDir?: string;
    /**
     * The environment to read `AGENT_VAULT_KEY`, `AGENT_VAULT_VERIFY_KEY`, `AGENT_VAULT_HOME`,
     * `AGENT_VAULT_OFFLINE`, `XDG_CACHE_HOME`, `HOME` and `AGENT_VAULT_FETCH_TIMEOUT` from (default `process.env`), read once when the vault is created.
     */
    env?: NodeJS.ProcessEnv;
    /**
     * The key the vault must be signed with, `ed25519:<base64>` as printed by
     * `agent-vault verify` (the CLI's `--verify-key`). Without it: `AGENT_VAULT_VERIFY_KEY`, the
     * `# agent-vault verify-key:` comments of the key file in use, the pin this machine recorded
     * in `$AGENT_VAULT_HOME/pins.json`, else trust on first use (and pin).
     */
    verifyKey?: string;
    /**
     * Receives warnings (an expired secret, a failed fetch, an unsigned vault). Default: `process.emitWarning`
     * with the type `AgentVaultWarning`. Warnings never contain secret values.
     */
    onWarning?: (message: string) => void;
}
/** A secret's metadata, as `agent-vault list --json` reports it. Values are never included. */
export interface SecretInfo {
    /** The secret path, e.g. `stripe/api-key`. */
    readonly path: string;
    /** The same as {@link SecretInfo.path}: the field's name in agent-vault 0.1.0, kept for its scripts. */
    readonly name: string;
    /** Its group. */
    readonly group: string;
    /** When it was first stored (RFC 3339), if recorded. */
    readonly created: string | null;
    /** When its value last changed, if recorded. */
    readonly rotated: string | null;
    /** When it expires, if it does. */
    readonly expires: string | null;
    /** Every agent the ciphertext is encrypted to, sorted. */
    readonly authorizedAgents: readonly string[];
    /** Agents granted this secret outside its group. */
    readonly extraAgents: readonly string[];
    /** Whether `expires` is at or before now. */
    readonly expired: boolean;
    /**
     * `created` as a `Date` (`null` when not recorded or not a valid time). A non-enumerable
     * accessor kept for code written against agent-vault 0.1.0's SDK; JSON output is unchanged.
     */
    readonly createdAt: Date | null;
    /** `rotated` as a `Date`, like {@link SecretInfo.createdAt}. */
    readonly rotatedAt: Date | null;
    /** `expires` as a `Date`, like {@link SecretInfo.createdAt}. */
    readonly expiresAt: Date | null;
}
/** A registered agent, as `agent-vault list-agents --json` reports it. */
export interface AgentInfo {
    /** The agent's name. */
    readonly name: string;
    /** The groups it may read, sorted. */
    readonly groups: readonly string[];
    /** Its age recipient (`age1…`), if its public key file exists. */
    readonly publicKey: string | null;
    /** Whether its private key is escrowed to the owners in the vault. */
    readonly escrow: boolean;
}
/**
 * A read-only handle on an agent-vault vault. No method writes to the vault or writes any
 * plaintext anywhere; values are decrypted in memory. Everything is read from git objects
 * (HEAD's commit, or the upstream's when it is ahead), never from the working tree.
 *
 * ```ts
 * import { Vault } from "agent-vault";
 * const vault = new Vault({ repoPath: "/srv/app", agent: "deploy-bot" });
 * const apiKey = await vault.get("stripe/api-key");
 * vault.close();
 * ```
 */
export declare class Vault {
    #private;
    /**
     * Creates a handle; nothing is read until the first call. Throws {@link InvalidInputError}
     * for conflicting or malformed options.
     */
    constructor(options?: VaultOptions);
    /**
     * Decrypts a secret and returns it as UTF-8 text. Throws {@link FormatError} if the value is
     * not valid UTF-8 (read it with {@link Vault.getBytes}), and otherwise as `getBytes`.
     */
    get(path: string): Promise<string>;
    /**
     * Decrypts a secret and returns its exact bytes.
     *
     * @throws {@link InvalidInputError} for an invalid path; {@link VaultNotFoundError};
     * {@link KeyNotFoundError} when the key is missing; {@link IntegrityError} when the vault is
     * not what its owner signed; {@link SecretNotFoundError}; {@link NotAuthorizedError} when
     * the key is not a recipient (after one refresh and retry with `autoPull`);
     * {@link FormatError} for a corrupt ciphertext, metadata or key file.
     */
    getBytes(path: string): Promise<Uint8Array>;
    /**
     * Lists the secrets (optionally only `group`'s) with their metadata, sorted by path. Needs
     * no key. Throws {@link SecretNotFoundError} for a group that does not exist.
     */
    listSecrets(group?: string): Promise<SecretInfo[]>;
    /** Lists the group names in use (with secrets, or granted to an agent), sorted. */
    listGroups(): Promise<string[]>;
    /** Lists the registered agents with their groups, sorted by name. */
    listAgents(): Promise<AgentInfo[]>;
    /**
     * Ends the `git` process this handle reads objects with. The handle stays usable (a later
     * call starts a new one); an idle handle never keeps Node running either way.
     */
    close(): void;
}
