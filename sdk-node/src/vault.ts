/**
 * The read-only {@link Vault}.
 */
import { realpath } from "node:fs/promises";

import { makeDecrypter, type Decrypter } from "./crypto.js";
import {
  FormatError,
  IntegrityError,
  InvalidInputError,
  SecretNotFoundError,
  VaultNotFoundError,
} from "./errors.js";
import {
  CONFIG_PATH,
  LEGACY_GROUP,
  MANIFEST_PATH,
  checkConfig,
  encPath,
  legacySecrets,
  metaPath,
  parseManifest,
  parseMeta,
  type Manifest,
  type SecretMeta,
} from "./format.js";
import { ObjectReader, discoverRepo, gitReason, runGit } from "./git.js";
import type { Identity } from "./identity.js";
import { encRel, metaRel, verifyAll, verifyForGet, type Verified } from "./integrity.js";
import { HOME_ENV, chooseKeySource, forVault, keyHome, loadIdentities, type KeySource, type LoadedIdentities } from "./keys.js";
import { checkName, checkSecretPath, isName, isSecretPath } from "./names.js";
import { Pins, PinsUnwritable } from "./pins.js";
import { clonePath, defaultCacheDir, ensureClone, isRemoteUrl, redactUrl, refreshClone } from "./remote.js";
import { STATEMENT_REL, VerifyKey, type Statement } from "./statement.js";
import { compareBytes, decodeUtf8, escapeControl, trimText } from "./text.js";
import { isExpired, parseStoredTime } from "./time.js";
import { Snapshot, type Walk } from "./tree.js";
import { decideTrust } from "./trust.js";

/** The environment variable holding the expected verify key. */
export const VERIFY_KEY_ENV = "AGENT_VAULT_VERIFY_KEY";
/** The identity-file comment that names a vault's verify key. */
export const KEY_FILE_COMMENT = "agent-vault verify-key:";

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

type Location =
  | { readonly kind: "local"; readonly root: string }
  | { readonly kind: "remote"; readonly url: string; readonly dir: string };

const DEFAULT_REFRESH_INTERVAL_MS = 5000;

/** Files of `.agent-vault/` (relative paths) the SDK reads. */
const CONFIG = "config.yaml";
const MANIFEST = "manifest.yaml";
const AGENT_PUBLIC_KEY = /^agents\/[^/]+\/public\.key$/;

/** The vault's files for one read: verified bytes (signed vault) or plain reads (unsigned). */
interface VaultFiles {
  /** Whether the vault is signed (what is read was verified), or unsigned (read with a warning). */
  readonly signed: boolean;
  read(rels: readonly string[]): Promise<Array<Buffer | null>>;
}

/** A key loaded for `get`: its identities and the key file's comments (which may name verify keys). */
interface LoadedKey {
  readonly loaded: LoadedIdentities;
  decrypter(): Promise<Decrypter>;
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
export class Vault {
  readonly #repoPath: string;
  readonly #autoPull: boolean;
  readonly #refreshIntervalMs: number;
  readonly #fetchTimeoutMs: number;
  readonly #cacheDir: string;
  readonly #keySource: KeySource;
  readonly #warn: (message: string) => void;
  readonly #verifyKey: VerifyKey | null;
  readonly #envVerifyKey: string | undefined;
  readonly #pins: Pins;
  readonly #warned = new Set<string>();
  #location: Promise<Location> | null = null;
  #pinLocation: Promise<string> | null = null;
  #key: Promise<LoadedKey> | null = null;
  /** The key file `#key` was loaded from (agent keys depend on the vault). */
  #keyFrom: string | null = null;
  #objects: ObjectReader | null = null;
  #lastRefresh = -Infinity;
  #refreshing: Promise<void> | null = null;
  #ancestry: { readonly pair: string; readonly ahead: number; readonly behind: number } | null = null;
  #snapshot: Snapshot | null = null;
  #cloneBranch: Promise<string> | null = null;
  #listCache: { readonly commit: string; readonly walk: Walk; readonly verified: Verified | null } | null = null;
  #upstream: { readonly head: string; readonly found: Promise<{ ref: string; remote: string } | null> } | null = null;

  /**
   * Creates a handle; nothing is read until the first call. Throws {@link InvalidInputError}
   * for conflicting or malformed options.
   */
  constructor(options: VaultOptions = {}) {
    checkOptions(options);
    const { repoPath = ".", keyPath, keyStr, agent, autoPull = true } = options;
    if (options.key !== undefined && keyStr !== undefined) {
      throw new InvalidInputError("the options key and keyStr conflict: keyStr is the old name of key; give only key");
    }
    const key = options.key ?? keyStr;
    if (typeof repoPath !== "string" || repoPath === "") {
      throw new InvalidInputError("repoPath must be a non-empty string (a local path or a git URL)");
    }
    const given = [keyPath !== undefined && "keyPath", key !== undefined && "key", agent !== undefined && "agent"].filter(
      Boolean,
    );
    if (given.length > 1) {
      throw new InvalidInputError(`the options ${given.join(" and ")} conflict: give only one way to find the key`);
    }
    if (keyPath !== undefined && (typeof keyPath !== "string" || keyPath === "")) {
      throw new InvalidInputError("keyPath must be a non-empty string: the path of an identity file");
    }
    if (key !== undefined && typeof key !== "string") {
      throw new InvalidInputError("key must be a string holding AGE-SECRET-KEY-1… identity text");
    }
    if (agent !== undefined) checkName("agent name", agent);
    this.#verifyKey = options.verifyKey === undefined ? null : VerifyKey.parse(options.verifyKey, "verifyKey");
    const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (typeof interval !== "number" || !(interval >= 0)) {
      throw new InvalidInputError("refreshIntervalMs must be a number ≥ 0");
    }
    const env = { ...(options.env ?? process.env) };
    this.#repoPath = repoPath;
    // As the CLI's --offline: AGENT_VAULT_OFFLINE set to anything but a false value.
    this.#autoPull = Boolean(autoPull) && !isSet(env["AGENT_VAULT_OFFLINE"]);
    this.#refreshIntervalMs = interval;
    this.#fetchTimeoutMs = seconds(env["AGENT_VAULT_FETCH_TIMEOUT"], 10) * 1000;
    this.#cacheDir = options.cacheDir ?? defaultCacheDir(env);
    this.#keySource = chooseKeySource({ keyPath, key, agent }, env);
    this.#envVerifyKey = env[VERIFY_KEY_ENV];
    this.#pins = new Pins(keyHome(env));
    this.#warn =
      options.onWarning ?? ((message: string) => process.emitWarning(message, { type: "AgentVaultWarning" }));
    if (keyStr !== undefined) {
      this.#warn("the keyStr option is deprecated (agent-vault 0.1.0's name): use key, which works the same");
    }
  }

  /**
   * Decrypts a secret and returns it as UTF-8 text. Throws {@link FormatError} if the value is
   * not valid UTF-8 (read it with {@link Vault.getBytes}), and otherwise as `getBytes`.
   */
  async get(path: string): Promise<string> {
    const bytes = await this.getBytes(path);
    try {
      return decodeUtf8(bytes);
    } catch {
      throw new FormatError(`secret '${path}' is not UTF-8 text (it holds binary data); read it with getBytes()`);
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * Decrypts a secret and returns its exact bytes.
   *
   * @throws {@link InvalidInputError} for an invalid path; {@link VaultNotFoundError};
   * {@link KeyNotFoundError} when the key is missing; {@link IntegrityError} when the vault is
   * not what its owner signed; {@link SecretNotFoundError}; {@link NotAuthorizedError} when
   * the key is not a recipient (after one refresh and retry with `autoPull`);
   * {@link FormatError} for a corrupt ciphertext, metadata or key file.
   */
  async getBytes(path: string): Promise<Uint8Array> {
    checkSecretPath(path);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#decrypt(await this.#state(attempt > 0), path);
      } catch (e) {
        if (!(this.#autoPull && attempt === 0 && isNotAuthorized(e))) throw e;
        // Access may have just been granted: read the newest state once more.
      }
    }
  }

  /**
   * Lists the secrets (optionally only `group`'s) with their metadata, sorted by path. Needs
   * no key. Throws {@link SecretNotFoundError} for a group that does not exist.
   */
  async listSecrets(group?: string): Promise<SecretInfo[]> {
    if (group !== undefined && group !== null) checkName("group name", group);
    const { files, walk } = await this.#listing();
    const manifest = await this.#manifest(files);
    if (group !== undefined && group !== null && !groupNames(manifest).includes(group)) {
      throw new SecretNotFoundError(`group '${group}' not found: listSecrets() without a group shows the groups in use`);
    }
    const listed = allSecrets(manifest).filter(([, g]) => group === undefined || group === null || g === group);
    const metas = await files.read(listed.map(([p]) => metaRel(p)));
    if (!files.signed) await this.#legacyMetas(files, walk, listed, metas);
    return listed.map(([path, listedGroup], i) => {
      const bytes = metas[i];
      if (!bytes) {
        return withDates({
          path,
          name: path,
          group: listedGroup,
          created: null,
          rotated: null,
          expires: null,
          authorizedAgents: [],
          extraAgents: [],
          expired: false,
        });
      }
      return secretInfo(path, parseMeta(metaPath(path), bytes));
    });
  }

  /** Lists the group names in use (with secrets, or granted to an agent), sorted. */
  async listGroups(): Promise<string[]> {
    const { files } = await this.#listing();
    return groupNames(await this.#manifest(files));
  }

  /** Lists the registered agents with their groups, sorted by name. */
  async listAgents(): Promise<AgentInfo[]> {
    const { files, walk } = await this.#listing();
    const manifest = await this.#manifest(files);
    const agents = [...manifest.agents].sort((a, b) => compareBytes(a.name, b.name));
    const keys = await files.read(agents.map((a) => `agents/${a.name}/public.key`));
    return agents.map((a, i) => {
      const pub = keys[i];
      return {
        name: a.name,
        groups: [...a.groups].sort(compareBytes),
        publicKey: pub ? trimText(pub.toString("utf8")) : null,
        escrow: walk.files.has(`agents/${a.name}/private.key.escrow`),
      };
    });
  }

  /**
   * Ends the `git` process this handle reads objects with. The handle stays usable (a later
   * call starts a new one); an idle handle never keeps Node running either way.
   */
  close(): void {
    this.#objects?.close();
  }

  /**
   * In an unsigned vault, the `.meta` of each listed single-segment secret whose files are where
   * agent-vault 0.1.0 put them, `secrets/default/<secret>.*` (docs/format.md, "Vaults written
   * by agent-vault 0.1.0"): fills the gaps of `metas` (in the order of `listed`).
   */
  async #legacyMetas(
    files: VaultFiles,
    walk: Walk,
    listed: ReadonlyArray<readonly [string, string]>,
    metas: Array<Buffer | null>,
  ): Promise<void> {
    const absent = (p: string) => walk.lookup(encRel(p)) === null && walk.lookup(metaRel(p)) === null;
    const candidates = listed.map(([p]) => p).filter((p) => !p.includes("/") && absent(p));
    if (candidates.length === 0) return;
    const [manifest] = await files.read([MANIFEST]);
    const moved = new Set(legacySecrets(manifest ?? null, candidates));
    const at = listed.flatMap(([p], i): Array<[number, string]> => (moved.has(p) ? [[i, p]] : []));
    const found = await files.read(at.map(([, p]) => metaRel(`${LEGACY_GROUP}/${p}`)));
    at.forEach(([i], k) => (metas[i] = found[k] ?? null));
  }

  /** The CLI's order: vault exists → key → anchors → tree, signature and files → not found → decrypt. */
  async #decrypt(snapshot: Snapshot, path: string): Promise<Uint8Array> {
    if ((await snapshot.vaultTree()) === null) throw this.#notFound();
    const key = await this.#loadKey(await peekVaultId(snapshot, path));
    // Load the age library now, while git reads objects (it is only used after verification).
    const decrypter = key.decrypter();
    decrypter.catch(() => {});
    const anchors = this.#anchors(key.loaded);
    const walk = await snapshot.walk({ kind: "secret", path });
    const enc = encRel(path);
    const meta = metaRel(path);
    const files = await this.#trusted(snapshot, walk, anchors, key.loaded.identities.map((i) => i.identity), (statement) =>
      verifyForGet(snapshot, walk, statement, path, [CONFIG]),
    );
    const [config, ...own] = await files.read([CONFIG, enc, meta]);
    let [ciphertext, metaBytes] = own;
    if (!files.signed && !ciphertext && !metaBytes) {
      const [manifest] = await files.read([MANIFEST]);
      if (legacySecrets(manifest ?? null, [path]).length > 0) {
        // agent-vault 0.1.0's place for it (docs/format.md, "Vaults written by agent-vault 0.1.0").
        const stored = `${LEGACY_GROUP}/${path}`;
        const old = await snapshot.walk({ kind: "secret", path: stored });
        [ciphertext, metaBytes] = await snapshot.read(old, [encRel(stored), metaRel(stored)]);
      }
    }
    if (!config) throw missingConfig();
    if (!ciphertext) throw new SecretNotFoundError(`secret '${path}' not found: listSecrets() shows the stored secrets`);
    checkConfig(config);
    const info = metaBytes ? secretInfo(path, parseMeta(metaPath(path), metaBytes)) : null;
    const value = await (await decrypter).decrypt(ciphertext, encPath(path), path);
    if (info?.expired) {
      this.#warn(
        `secret '${path}' expired on ${escapeControl(info.expires ?? "?")}; ask the owner to rotate it (\`agent-vault set ${path} --expires …\`)`,
      );
    }
    return value;
  }

  /**
   * The whole vault for a listing, verified. A commit's objects never change, so the walk and
   * the verified contents of the last commit listed are kept: a repeated listing of the same
   * state only re-decides trust (the pins may have changed) and re-parses.
   */
  async #listing(): Promise<{ files: VaultFiles; walk: Walk }> {
    const snapshot = await this.#state(false);
    if ((await snapshot.vaultTree()) === null) throw this.#notFound();
    const anchors = this.#anchors(null);
    const cached = this.#listCache?.commit === snapshot.commit ? this.#listCache : null;
    const walk = cached?.walk ?? (await snapshot.walk({ kind: "all" }));
    const keep = (rel: string) =>
      rel === CONFIG || rel === MANIFEST || (rel.startsWith("secrets/") && rel.endsWith(".meta")) || AGENT_PUBLIC_KEY.test(rel);
    const files = await this.#trusted(snapshot, walk, anchors, [], async (statement) => {
      if (cached?.verified) return cached.verified;
      const verified = await verifyAll(snapshot, walk, statement, keep);
      this.#listCache = { commit: snapshot.commit, walk, verified };
      return verified;
    });
    if (this.#listCache?.commit !== snapshot.commit) this.#listCache = { commit: snapshot.commit, walk, verified: null };
    return { files, walk };
  }

  /**
   * The reader's procedure (docs/format.md, "What a reader checks"): decide whether to trust
   * the statement, verify the contents against it, record the pin (a pin that cannot be
   * written is a warning). Returns the only view of the vault's files the caller gets.
   */
  async #trusted(
    snapshot: Snapshot,
    walk: Walk,
    anchors: readonly string[],
    identities: readonly Identity[],
    verify: (statement: Statement) => Promise<Verified>,
  ): Promise<VaultFiles> {
    const location = await this.#locationForPins();
    const pins = await this.#pins.read();
    const [bytes] = await snapshot.read(walk, [STATEMENT_REL]);
    const decision = decideTrust(bytes ?? null, { anchors, identities, location, pins });
    for (const warning of decision.warnings) this.#warnOnce(warning);
    const statement = decision.statement;
    if (!statement) return { signed: false, read: (rels) => snapshot.read(walk, rels) };
    const verified = await verify(statement);
    if (decision.update) {
      try {
        await this.#pins.record(decision.update);
      } catch (e) {
        if (!(e instanceof PinsUnwritable)) throw e;
        this.#warnOnce(
          `cannot record this vault's key in ${escapeControl(this.#pins.path)} (${e.message}): rollback protection on this machine is weaker until it can; fix the folder's permissions or set ${HOME_ENV} to a writable folder`,
        );
      }
    }
    return {
      signed: true,
      async read(rels) {
        return rels.map((rel) => {
          const b = verified.get(rel);
          if (b !== undefined) return b;
          if (walk.lookup(rel) === null) return null;
          throw new IntegrityError(`internal error: ${rel} was read without verification`);
        });
      },
    };
  }

  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#warn(message);
  }

  #loadKey(vaultId: string | null): Promise<LoadedKey> {
    const source = forVault(this.#keySource, vaultId);
    const from = source.kind === "file" ? source.path : "text";
    if (this.#keyFrom !== from) this.#key = null;
    this.#keyFrom = from;
    this.#key ??= loadIdentities(source).then((loaded) => {
      let decrypter: Promise<Decrypter> | null = null;
      return {
        loaded,
        decrypter: () => (decrypter ??= makeDecrypter(loaded)),
      };
    });
    // A missing key may appear later: do not cache failures.
    this.#key.catch(() => (this.#key = null));
    return this.#key;
  }

  /** The anchor keys A: explicit, else `AGENT_VAULT_VERIFY_KEY`, else the key file's comments. */
  #anchors(key: LoadedIdentities | null): string[] {
    if (this.#verifyKey) return [this.#verifyKey.toString()];
    const fromEnv = this.#envVerifyKey;
    if (fromEnv !== undefined && fromEnv.trim() !== "") return [VerifyKey.parse(fromEnv, VERIFY_KEY_ENV).toString()];
    if (!key) return [];
    return key.comments
      .filter((c) => c.startsWith(KEY_FILE_COMMENT))
      .map((c) => VerifyKey.parse(c.slice(KEY_FILE_COMMENT.length), `the verify-key comment in ${key.origin}`).toString());
  }

  /** Where pins are kept for this vault: the working tree's real path, or the URL. */
  #locationForPins(): Promise<string> {
    this.#pinLocation ??= (async () => {
      const location = await this.#locate();
      if (location.kind === "remote") return location.url;
      try {
        return await realpath(location.root);
      } catch (e) {
        throw new FormatError(`cannot resolve the real path of ${escapeControl(location.root)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
          cause: e,
        });
      }
    })();
    this.#pinLocation.catch(() => (this.#pinLocation = null));
    return this.#pinLocation;
  }

  async #manifest(files: VaultFiles): Promise<Manifest> {
    const [config, bytes] = await files.read([CONFIG, MANIFEST]);
    if (!config) throw missingConfig();
    checkConfig(config);
    if (!bytes) throw new FormatError(`${MANIFEST_PATH}: missing; restore it from git history`);
    const manifest = parseManifest(bytes);
    // Names become paths and messages: only valid ones (never quoted when invalid).
    const names = [
      ...manifest.agents.flatMap((a) => [a.name, ...a.groups]),
      ...manifest.groups.map((g) => g.name),
    ];
    if (!names.every(isName)) {
      throw new FormatError(`${MANIFEST_PATH}: an agent or group name is invalid; restore the file from git history`);
    }
    return manifest;
  }

  #notFound(): VaultNotFoundError {
    const where = escapeControl(isRemoteUrl(this.#repoPath) ? redactUrl(this.#repoPath) : this.#repoPath);
    return new VaultNotFoundError(
      `no vault found in ${where}: its current commit has no .agent-vault/; run \`agent-vault init\` there, or pass the repository that holds the vault`,
    );
  }

  #locate(): Promise<Location> {
    this.#location ??= (async (): Promise<Location> => {
      if (isRemoteUrl(this.#repoPath)) {
        const dir = clonePath(this.#cacheDir, this.#repoPath);
        // A fresh clone is as new as it gets: no refresh needed right away.
        if (await ensureClone(this.#repoPath, dir, this.#fetchTimeoutMs)) this.#lastRefresh = Date.now();
        return { kind: "remote", url: this.#repoPath, dir };
      }
      return { kind: "local", root: (await discoverRepo(this.#repoPath)).root };
    })();
    this.#location.catch(() => (this.#location = null));
    return this.#location;
  }

  #objectsFor(root: string): ObjectReader {
    this.#objects ??= new ObjectReader(root);
    return this.#objects;
  }

  /**
   * The commit to read (docs/format.md, "Reading the newest state"): after a fetch when
   * `autoPull` and the interval passed (or `force`), the upstream commit if it strictly
   * descends from HEAD, else HEAD; for a URL, the clone's upstream.
   */
  async #state(force: boolean): Promise<Snapshot> {
    const location = await this.#locate();
    const root = location.kind === "local" ? location.root : location.dir;
    const objects = this.#objectsFor(root);
    if (location.kind === "remote") return this.#remoteState(location, objects, force);
    const [head] = await objects.info(["HEAD^{commit}"]);
    if (!head) throw this.#notFound();
    let fetched = false;
    if (this.#autoPull && (force || Date.now() - this.#lastRefresh >= this.#refreshIntervalMs)) {
      this.#upstream = null;
      this.#refreshing ??= this.#refresh(location, root, head.oid).finally(() => (this.#refreshing = null));
      await this.#refreshing;
      fetched = true;
    }
    const upstreamRef = (await this.#upstreamOf(root, head.oid))?.ref;
    const [upstream] = upstreamRef ? await objects.info([`${upstreamRef}^{commit}`]) : [null];
    let commit = head.oid;
    let label = "HEAD";
    if (upstream && upstream.oid !== head.oid) {
      const { ahead, behind } = await this.#relation(root, head.oid, upstream.oid);
      if (behind > 0 && ahead === 0) [commit, label] = [upstream.oid, "the upstream"];
      else if (behind > 0 && fetched) {
        this.#warnOnce("your branch and its upstream have diverged; reading the local state (run `git pull` to combine them)");
      }
    }
    if (this.#snapshot?.commit !== commit) this.#snapshot = new Snapshot(objects, commit, label);
    return this.#snapshot;
  }

  /**
   * A URL's clone (ours: nothing is ever checked out, its branch never moves): after a fetch
   * when due, the remote-tracking commit of the clone's branch — also for a clone made while
   * the remote was still empty — else the clone's HEAD.
   */
  async #remoteState(location: Location & { kind: "remote" }, objects: ObjectReader, force: boolean): Promise<Snapshot> {
    if (this.#autoPull && (force || Date.now() - this.#lastRefresh >= this.#refreshIntervalMs)) {
      this.#refreshing ??= this.#refresh(location, location.dir, "").finally(() => (this.#refreshing = null));
      await this.#refreshing;
    }
    this.#cloneBranch ??= runGit(["symbolic-ref", "-q", "--short", "HEAD"], { cwd: location.dir }).then((r) =>
      r.code === 0 ? r.stdout.toString("utf8").trim() : "",
    );
    this.#cloneBranch.catch(() => (this.#cloneBranch = null));
    const branch = await this.#cloneBranch;
    const names = branch && !/[\s^~:?*[\\]/.test(branch) ? [`refs/remotes/origin/${branch}^{commit}`, "HEAD^{commit}"] : ["HEAD^{commit}"];
    const found = (await objects.info(names)).find((info) => info !== null);
    if (!found) throw this.#notFound();
    if (this.#snapshot?.commit !== found.oid) this.#snapshot = new Snapshot(objects, found.oid, "the remote");
    return this.#snapshot;
  }

  /**
   * The current branch's upstream, as git resolves it (its configuration with `include`s and
   * `GIT_CONFIG_*`): the ref (which may not exist yet) and the remote; `null` without one.
   * Asked again when HEAD moves or before a fetch.
   */
  #upstreamOf(root: string, head: string): Promise<{ ref: string; remote: string } | null> {
    if (this.#upstream?.head !== head) {
      const found = (async () => {
        const r = await runGit(
          ["for-each-ref", "--points-at=HEAD", "--format=%(HEAD)%00%(upstream)%00%(upstream:remotename)", "refs/heads/"],
          { cwd: root },
        );
        if (r.code !== 0) throw new FormatError(`git: cannot read the current branch's upstream: ${gitReason(r.stderr, r.code)}`);
        const line = r.stdout
          .toString("utf8")
          .split("\n")
          .find((l) => l.startsWith("*\0"));
        const [, ref = "", remote = ""] = line?.split("\0") ?? [];
        return ref.startsWith("refs/") ? { ref, remote } : null;
      })();
      found.catch(() => (this.#upstream = null));
      this.#upstream = { head, found };
    }
    return this.#upstream.found;
  }

  async #refresh(location: Location, root: string, head: string): Promise<void> {
    try {
      if (location.kind === "remote") {
        const warning = await refreshClone(location.url, location.dir, this.#fetchTimeoutMs);
        if (warning) this.#warn(warning);
        return;
      }
      const remote = (await this.#upstreamOf(root, head))?.remote ?? "";
      if (remote === "" || remote === ".") return;
      let failure: string | null = null;
      try {
        const fetch = await runGit(["fetch", "--quiet", "--no-tags", "--", remote], {
          cwd: root,
          timeoutMs: this.#fetchTimeoutMs,
        });
        if (fetch.code !== 0) failure = gitReason(fetch.stderr, fetch.code);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
      }
      if (failure !== null) {
        this.#warn(`\`git fetch ${escapeControl(remote)}\` failed (${failure}); reading the local state, which may be stale`);
      }
    } finally {
      this.#lastRefresh = Date.now();
    }
  }

  /** How many commits each side has that the other does not (cached per pair). */
  async #relation(root: string, head: string, upstream: string): Promise<{ ahead: number; behind: number }> {
    const pair = `${head}...${upstream}`;
    if (this.#ancestry?.pair === pair) return this.#ancestry;
    const counts = await runGit(["rev-list", "--left-right", "--count", pair], { cwd: root });
    const [ahead = NaN, behind = NaN] = counts.stdout.toString("utf8").trim().split(/\s+/).map(Number);
    if (counts.code !== 0 || !Number.isInteger(ahead) || !Number.isInteger(behind)) {
      throw new FormatError(`git: cannot compare HEAD with its upstream: ${gitReason(counts.stderr, counts.code)}`);
    }
    this.#ancestry = { pair, ahead, behind };
    return this.#ancestry;
  }
}

const OPTION_NAMES = [
  "repoPath",
  "keyPath",
  "key",
  "keyStr",
  "agent",
  "autoPull",
  "refreshIntervalMs",
  "cacheDir",
  "env",
  "verifyKey",
  "onWarning",
] as const;

/**
 * Rejects what JavaScript callers can pass by mistake — a path instead of the options
 * object, an unknown (misspelled) option, a wrongly typed one — with {@link InvalidInputError}
 * rather than ignoring it or failing later with a raw `TypeError`. Values are never echoed
 * (`key` holds key material).
 */
function checkOptions(options: unknown): asserts options is VaultOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    const what = options === null ? "null" : Array.isArray(options) ? "an array" : `a ${typeof options}`;
    throw new InvalidInputError(
      `new Vault() takes an options object, not ${what}; pass the repository as { repoPath: "…" }`,
    );
  }
  const given = options as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !(OPTION_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} for new Vault(); the options are ${OPTION_NAMES.join(", ")}`,
    );
  }
  // null means "the default" for the options that have one (as `??` always treated it).
  const expect = (name: string, type: string, ok: (v: unknown) => boolean, nullIsDefault = false): void => {
    const value = given[name];
    if (value !== undefined && !(nullIsDefault && value === null) && !ok(value)) {
      throw new InvalidInputError(`the ${name} option must be ${type}, not ${value === null ? "null" : typeof value}`);
    }
  };
  const string = (v: unknown) => typeof v === "string";
  expect("repoPath", "a string (a local path or a git URL)", string);
  expect("keyPath", "a string (the path of an identity file)", string);
  expect("key", "a string holding AGE-SECRET-KEY-1… identity text", string);
  expect("keyStr", "a string holding AGE-SECRET-KEY-1… identity text", string);
  expect("agent", "a string (an agent name)", string);
  expect("autoPull", "a boolean", (v) => typeof v === "boolean");
  expect("refreshIntervalMs", "a number ≥ 0", (v) => typeof v === "number" && v >= 0, true);
  expect("cacheDir", "a non-empty string (a folder)", (v) => typeof v === "string" && v !== "", true);
  expect("verifyKey", "a string (ed25519:<base64>, as printed by `agent-vault verify`)", string);
  expect("onWarning", "a function", (v) => typeof v === "function", true);
  expect("env", "an object mapping names to strings (like process.env)", (v) => typeof v === "object" && v !== null && !Array.isArray(v), true);
  if (given["env"] !== undefined && given["env"] !== null) {
    for (const [name, value] of Object.entries(given["env"] as object)) {
      if (value !== undefined && typeof value !== "string") {
        throw new InvalidInputError(`the env option's ${JSON.stringify(name)} must be a string, not ${value === null ? "null" : typeof value}`);
      }
    }
  }
}

/** `.agent-vault/` without `config.yaml` (as the CLI says it: a damaged vault, not no vault). */
function missingConfig(): FormatError {
  return new FormatError(`${CONFIG_PATH}: missing; restore it from git history (\`git log -- ${CONFIG_PATH}\`)`);
}

function isNotAuthorized(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 4;
}

/** An on/off environment variable, read as the CLI's (clap's falsey parser) does. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && !["", "n", "no", "f", "false", "off", "0"].includes(value.toLowerCase());
}

function seconds(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value.trim());
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 86_400) : fallback;
}

function groupNames(manifest: Manifest): string[] {
  const names = new Set<string>();
  for (const g of manifest.groups) names.add(g.name);
  for (const a of manifest.agents) for (const g of a.groups) names.add(g);
  return [...names].sort(compareBytes);
}

/** Every `[secret, group]` listed in the manifest, sorted and de-duplicated. */
function allSecrets(manifest: Manifest): Array<[string, string]> {
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const g of manifest.groups) {
    for (const s of g.secrets) {
      const key = `${s}\0${g.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (!isSecretPath(s)) {
        throw new FormatError(`${MANIFEST_PATH}: a group lists an invalid secret path; restore the file from git history`);
      }
      out.push([s, g.name]);
    }
  }
  return out.sort((a, b) => compareBytes(a[0], b[0]) || compareBytes(a[1], b[1]));
}

function secretInfo(path: string, meta: SecretMeta): SecretInfo {
  return withDates({
    path,
    name: path,
    group: meta.group,
    created: meta.created === "" ? null : meta.created,
    rotated: meta.rotated,
    expires: meta.expires,
    authorizedAgents: [...meta.authorizedAgents],
    extraAgents: [...meta.extraAgents],
    expired: isExpired(meta.expires),
  });
}

type PlainSecretInfo = Omit<SecretInfo, "createdAt" | "rotatedAt" | "expiresAt">;

/** Adds 0.1.0's `Date` accessors, non-enumerable (JSON and equality comparisons ignore them). */
function withDates(info: PlainSecretInfo): SecretInfo {
  const date = (value: string | null): Date | null => {
    const ms = value === null ? null : parseStoredTime(value);
    return ms === null ? null : new Date(ms);
  };
  return Object.defineProperties(info, {
    createdAt: { get: () => date(info.created), enumerable: false },
    rotatedAt: { get: () => date(info.rotated), enumerable: false },
    expiresAt: { get: () => date(info.expires), enumerable: false },
  }) as SecretInfo;
}

/**
 * The vault identity the statement names, unverified: it only picks which of this user's own
 * agent key files to use (docs/format.md, "Key discovery"); that file's anchors then verify
 * the vault. Any problem here is found again, and reported, by the verified read.
 */
async function peekVaultId(snapshot: Snapshot, path: string): Promise<string | null> {
  try {
    const walk = await snapshot.walk({ kind: "secret", path });
    const [bytes] = await snapshot.read(walk, [STATEMENT_REL]);
    const [header, vault] = (bytes?.toString("latin1") ?? "").split("\n", 2);
    const id = header === "agent-vault-statement v2" ? vault?.match(/^vault ([0-9a-f]{32})$/)?.[1] : undefined;
    return id ?? null;
  } catch {
    return null;
  }
}
