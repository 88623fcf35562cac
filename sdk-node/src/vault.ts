/**
 * The read-only {@link Vault}.
 */
import { access, realpath } from "node:fs/promises";
import { join } from "node:path";

import { makeDecrypter, type Decrypter } from "./crypto.js";
import {
  FormatError,
  IntegrityError,
  SecretNotFoundError,
  VaultNotFoundError,
  InvalidInputError,
} from "./errors.js";
import {
  CONFIG_PATH,
  MANIFEST_PATH,
  agentEscrowPath,
  agentPublicKeyPath,
  checkConfig,
  encPath,
  metaPath,
  parseManifest,
  parseMeta,
  type Manifest,
  type SecretMeta,
} from "./format.js";
import { discoverRepo, readUpstreamState, runGit, upstreamRemote, type RepoLocation } from "./git.js";
import {
  ASK_OWNER,
  KEY_FILE_COMMENT,
  STATEMENT_PATH,
  VERIFY_KEY_ENV,
  VerifyKey,
  parseStatement,
  sha256Hex,
  verifyAll,
  verifyForGet,
  type Statement,
} from "./integrity.js";
import { chooseKeySource, keyHome, loadIdentities, type KeySource } from "./keys.js";
import { Pins } from "./pins.js";
import { checkName, checkSecretPath } from "./names.js";
import { clonePath, defaultCacheDir, ensureClone, isRemoteUrl, redactUrl, refreshClone } from "./remote.js";
import { TreeSource, WorktreeSource, type Source } from "./source.js";
import { isExpired } from "./time.js";
import { decodeUtf8, trimText } from "./text.js";

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
  /** Where clones of URLs live (default `$XDG_CACHE_HOME/agent-vault/repos`, else `~/.cache/…`). */
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
  | { readonly kind: "local"; readonly repo: RepoLocation }
  | { readonly kind: "remote"; readonly url: string; readonly dir: string };

const DEFAULT_REFRESH_INTERVAL_MS = 5000;

/**
 * A read-only handle on an agent-vault vault. No method writes to the vault or writes any
 * plaintext anywhere; values are decrypted in memory.
 *
 * ```ts
 * import { Vault } from "agent-vault";
 * const vault = new Vault({ repoPath: "/srv/app", agent: "deploy-bot" });
 * const apiKey = await vault.get("stripe/api-key");
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
  #warnedUnsigned = false;
  #statementCache: { hash: string; statement: Statement } | null = null;
  #location: Promise<Location> | null = null;
  #pinLocation: Promise<string> | null = null;
  #decrypter: Promise<LoadedKey> | null = null;
  #current: { source: Source; at: number } | null = null;
  #refreshing: Promise<Source> | null = null;
  readonly #checkedConfigs = new Map<string, Promise<void>>();
  readonly #worktreeSources = new Map<string, WorktreeSource>();

  /**
   * Creates a handle; nothing is read until the first call. Throws {@link InvalidInputError}
   * for conflicting or malformed options.
   */
  constructor(options: VaultOptions = {}) {
    checkOptions(options);
    const { repoPath = ".", keyPath, key, agent, autoPull = true } = options;
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
      throw new FormatError(
        `secret '${path}' is not UTF-8 text (it holds binary data); read it with getBytes()`,
      );
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * Decrypts a secret and returns its exact bytes.
   *
   * @throws {@link InvalidInputError} for an invalid path; {@link VaultNotFoundError};
   * {@link SecretNotFoundError}; {@link KeyNotFoundError} when the key is missing;
   * {@link NotAuthorizedError} when the key is not a recipient (after one refresh and retry
   * with `autoPull`); {@link FormatError} for a corrupt ciphertext, metadata or key file.
   */
  async getBytes(path: string): Promise<Uint8Array> {
    checkSecretPath(path);
    let source = await this.#source(false);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#decryptFromOrHead(source, path);
      } catch (e) {
        if (!(this.#autoPull && attempt === 0 && isNotAuthorized(e))) throw e;
        // Access may have just been granted: read the newest state once more.
        source = await this.#source(true);
      }
    }
  }

  /**
   * Lists the secrets (optionally only `group`'s) with their metadata, sorted by path. Needs
   * no key. Throws {@link SecretNotFoundError} for a group that does not exist.
   */
  async listSecrets(group?: string): Promise<SecretInfo[]> {
    if (group !== undefined && group !== null) checkName("group name", group);
    const source = await this.#verifiedSource();
    const manifest = await this.#manifest(source);
    if (group !== undefined && group !== null && !groupNames(manifest).includes(group)) {
      throw new SecretNotFoundError(
        `group '${group}' not found: listSecrets() without a group shows the groups in use`,
      );
    }
    const listed = allSecrets(manifest).filter(([, g]) => group === undefined || group === null || g === group);
    const metas = await source.read(listed.map(([p]) => metaPath(p)));
    return listed.map(([path, listedGroup], i) => {
      const bytes = metas[i];
      if (!bytes) {
        return {
          path,
          group: listedGroup,
          created: null,
          rotated: null,
          expires: null,
          authorizedAgents: [],
          extraAgents: [],
          expired: false,
        };
      }
      return secretInfo(path, parseMeta(metaPath(path), bytes));
    });
  }

  /** Lists the group names in use (with secrets, or granted to an agent), sorted. */
  async listGroups(): Promise<string[]> {
    return groupNames(await this.#manifest(await this.#verifiedSource()));
  }

  /** Lists the registered agents with their groups, sorted by name. */
  async listAgents(): Promise<AgentInfo[]> {
    const source = await this.#verifiedSource();
    const manifest = await this.#manifest(source);
    const agents = [...manifest.agents].sort((a, b) => compareBytes(a.name, b.name));
    const files = await source.read(
      agents.flatMap((a) => [agentPublicKeyPath(a.name), agentEscrowPath(a.name)]),
    );
    return agents.map((a, i) => {
      const pub = files[2 * i];
      return {
        name: a.name,
        groups: [...a.groups].sort(compareBytes),
        publicKey: pub ? trimText(pub.toString("utf8")) : null,
        escrow: files[2 * i + 1] != null,
      };
    });
  }

  /**
   * Like the CLI: a writer may be updating the working tree right now, so its files can mix
   * two signed states. If the working tree fails verification, HEAD's tree (consistent) is
   * read instead; if it verifies, it is the truth.
   */
  async #decryptFromOrHead(source: Source, path: string): Promise<Uint8Array> {
    try {
      return await this.#decryptFrom(source, path);
    } catch (e) {
      if (!(e instanceof IntegrityError && source instanceof WorktreeSource)) throw e;
      const head = await this.#headSource();
      if (!head) throw e;
      return this.#decryptFrom(head, path);
    }
  }

  /** The CLI's order: vault exists → load key → read → verify → not found → decrypt. */
  async #decryptFrom(source: Source, path: string): Promise<Uint8Array> {
    const enc = encPath(path);
    const meta = metaPath(path);
    const [config] = await source.read([CONFIG_PATH]);
    if (!config) throw this.#notFound();
    const { decrypter, comments, origin } = await this.#getDecrypter();
    const [ciphertext, metaBytes] = await source.read([enc, meta]);
    // Verify before trusting anything, including the absence of the secret: a signed
    // secret that disappeared is tampering, not "not found".
    const statement = await this.#trust(source, { comments, origin });
    if (statement) await verifyForGet(source, statement, path, ciphertext ?? null, metaBytes ?? null);
    if (!ciphertext) {
      throw new SecretNotFoundError(`secret '${path}' not found: listSecrets() shows the stored secrets`);
    }
    await this.#checkConfig(source);
    const info = metaBytes ? secretInfo(path, parseMeta(meta, metaBytes)) : null;
    const value = await decrypter.decrypt(ciphertext, enc, path);
    if (info?.expired) {
      this.#warn(
        `secret '${path}' expired on ${info.expires ?? "?"}; ask the owner to rotate it (\`agent-vault set ${path} --expires …\`)`,
      );
    }
    return value;
  }

  #getDecrypter(): Promise<LoadedKey> {
    this.#decrypter ??= loadIdentities(this.#keySource).then(async (loaded) => ({
      decrypter: await makeDecrypter(loaded),
      comments: loaded.comments,
      origin: loaded.origin,
    }));
    // A missing key may appear later: do not cache failures.
    this.#decrypter.catch(() => (this.#decrypter = null));
    return this.#decrypter;
  }

  /** The snapshot for a listing, after checking that all of it is what the owner signed. */
  async #verifiedSource(): Promise<Source> {
    const source = await this.#source(false);
    const statement = await this.#trust(source, null);
    if (statement) {
      const problems = await verifyAll(source, statement);
      if (problems.length > 0) {
        throw new IntegrityError(
          `the vault differs from what the owner signed:\n  ${problems.join("\n  ")}\n${upperFirst(ASK_OWNER)}`,
        );
      }
    }
    return source;
  }

  /**
   * The reader's view of the signature (docs/format.md, "What a reader checks"): returns the
   * verified statement, or `null` for an unsigned vault (with a warning) when no verify key
   * is expected for it. Records the pin after success.
   */
  async #trust(
    source: Source,
    key: { readonly comments: readonly string[]; readonly origin: string } | null,
  ): Promise<Statement | null> {
    const location = await this.#locationForPins();
    const pin = this.#pins.get(location);
    const expected = this.#anchors(key);
    if (expected.length === 0 && pin) expected.push(pin.verifyKey);
    const [bytes] = await source.read([STATEMENT_PATH]);
    if (!bytes) {
      if (expected.length > 0) {
        throw new IntegrityError(
          `this vault should be signed by ${expected.join(" or ")} but has no signature (${STATEMENT_PATH} is missing); someone with push access removed it. ${upperFirst(ASK_OWNER)}`,
        );
      }
      if (!this.#warnedUnsigned) {
        this.#warnedUnsigned = true;
        this.#warn(
          "this vault is unsigned, so tampering by anyone with push access would go unnoticed; ask the owner to run `agent-vault sign`",
        );
      }
      return null;
    }
    const statement = this.#parseStatement(bytes);
    const signer = statement.verifyKey.toString();
    if (expected.length > 0 && !expected.includes(signer)) {
      throw new IntegrityError(
        `this vault is signed by ${signer} but ${expected.join(" or ")} was expected; someone may have replaced the signing key. ${upperFirst(ASK_OWNER)}`,
      );
    }
    if (pin && pin.verifyKey === signer && statement.seq < pin.seq) {
      throw new IntegrityError(
        `rollback: the vault is at signed state ${statement.seq} but this machine has already seen state ${pin.seq}; someone may have restored old files to undo a rotation or revocation. ${upperFirst(ASK_OWNER)}`,
      );
    }
    if (!pin || pin.verifyKey !== signer || pin.seq < statement.seq) {
      this.#pins.record(location, { verifyKey: signer, seq: statement.seq });
    }
    return statement;
  }

  /** The verify keys from anchors 1–3: explicit, `AGENT_VAULT_VERIFY_KEY`, key-file comments. */
  #anchors(key: { readonly comments: readonly string[]; readonly origin: string } | null): string[] {
    if (this.#verifyKey) return [this.#verifyKey.toString()];
    const fromEnv = this.#envVerifyKey;
    if (fromEnv !== undefined && fromEnv.trim() !== "") return [VerifyKey.parse(fromEnv, VERIFY_KEY_ENV).toString()];
    if (!key) return [];
    return key.comments
      .filter((c) => c.startsWith(KEY_FILE_COMMENT))
      .map((c) => VerifyKey.parse(c.slice(KEY_FILE_COMMENT.length), `the verify-key comment in ${key.origin}`).toString());
  }

  /** Parses and verifies a statement; the result is cached by the bytes' SHA-256 only. */
  #parseStatement(bytes: Buffer): Statement {
    const hash = sha256Hex(bytes);
    const cached = this.#statementCache;
    if (cached && cached.hash === hash) return cached.statement;
    const statement = parseStatement(bytes);
    this.#statementCache = { hash, statement };
    return statement;
  }

  /** Where pins are kept for this vault: the canonical working tree path, or the URL. */
  #locationForPins(): Promise<string> {
    this.#pinLocation ??= (async () => {
      const location = await this.#locate();
      if (location.kind === "remote") return location.url;
      try {
        return await realpath(location.repo.root);
      } catch {
        return location.repo.root;
      }
    })();
    this.#pinLocation.catch(() => (this.#pinLocation = null));
    return this.#pinLocation;
  }

  /** HEAD's tree of a local repository, or `null` (remote, unborn branch). */
  async #headSource(): Promise<Source | null> {
    const location = await this.#locate();
    if (location.kind !== "local") return null;
    const head = await runGit(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { cwd: location.repo.root });
    const oid = head.stdout.toString("utf8").trim();
    if (head.code !== 0 || !oid) return null;
    return new TreeSource(location.repo.root, oid, "HEAD");
  }

  async #manifest(source: Source): Promise<Manifest> {
    await this.#checkConfig(source);
    const [bytes] = await source.read([MANIFEST_PATH]);
    if (!bytes) {
      throw new FormatError(`${MANIFEST_PATH}: missing from the ${source.label}; restore it from git history`);
    }
    return parseManifest(bytes);
  }

  #checkConfig(source: Source): Promise<void> {
    let checked = this.#checkedConfigs.get(source.id);
    if (!checked) {
      checked = source.read([CONFIG_PATH]).then(([bytes]) => {
        if (!bytes) throw this.#notFound();
        checkConfig(bytes);
      });
      checked.catch(() => this.#checkedConfigs.delete(source.id));
      this.#checkedConfigs.set(source.id, checked);
    }
    return checked;
  }

  #notFound(): VaultNotFoundError {
    const where = isRemoteUrl(this.#repoPath) ? redactUrl(this.#repoPath) : this.#repoPath;
    return new VaultNotFoundError(
      `no vault found in ${where}: it has no .agent-vault/config.yaml; run \`agent-vault init\` there, or pass the repository that holds the vault`,
    );
  }

  #locate(): Promise<Location> {
    this.#location ??= (async (): Promise<Location> => {
      if (isRemoteUrl(this.#repoPath)) {
        const dir = clonePath(this.#cacheDir, this.#repoPath);
        const created = await ensureClone(this.#repoPath, dir, this.#fetchTimeoutMs);
        // A fresh clone is as new as it gets: no refresh needed right away.
        if (created) this.#current = { source: this.#worktree(dir), at: Date.now() };
        return { kind: "remote", url: this.#repoPath, dir };
      }
      const repo = await discoverRepo(this.#repoPath);
      if (!(await fileExists(join(repo.root, CONFIG_PATH)))) {
        // The CLI also accepts a vault committed in HEAD but missing from the working tree.
        const inHead = await runGit(["cat-file", "-e", `HEAD:${CONFIG_PATH}`], { cwd: repo.root });
        if (inHead.code !== 0) throw this.#notFound();
      }
      return { kind: "local", repo };
    })();
    this.#location.catch(() => (this.#location = null));
    return this.#location;
  }

  #worktree(root: string): WorktreeSource {
    let source = this.#worktreeSources.get(root);
    if (!source) {
      source = new WorktreeSource(root);
      this.#worktreeSources.set(root, source);
    }
    return source;
  }

  /** The snapshot to read: refreshed when `force`, or when `autoPull` and the interval passed. */
  async #source(force: boolean): Promise<Source> {
    const source = await this.#snapshot(force);
    // A writer's update of the working tree is pending: HEAD's tree is the consistent state.
    if (source instanceof WorktreeSource) {
      const location = await this.#locate();
      if (location.kind === "local" && (await fileExists(join(location.repo.gitDir, PENDING_FILE)))) {
        return (await this.#headSource()) ?? source;
      }
    }
    return source;
  }

  async #snapshot(force: boolean): Promise<Source> {
    const location = await this.#locate();
    if (location.kind === "local") {
      // Without an upstream, the working tree is all there is: no git process at all.
      if ((await upstreamRemote(location.repo)) === null) return this.#worktree(location.repo.root);
      // Without fetching, an upstream ref fetched earlier may still be ahead of HEAD: read it
      // (its higher signed state may already be pinned, so HEAD would look like a rollback).
      if (!this.#autoPull) return this.#upstreamOrWorktree(location.repo, false);
    } else if (!this.#autoPull) {
      return this.#worktree(location.dir);
    }
    const current = this.#current;
    if (!force && current && Date.now() - current.at < this.#refreshIntervalMs) return current.source;
    if (!force && this.#refreshing) return this.#refreshing;
    const refreshing = (async () => {
      const source =
        location.kind === "local"
          ? await this.#freshLocal(location.repo)
          : await this.#freshRemote(location.url, location.dir);
      this.#current = { source, at: Date.now() };
      return source;
    })();
    this.#refreshing = refreshing;
    try {
      return await refreshing;
    } finally {
      if (this.#refreshing === refreshing) this.#refreshing = null;
    }
  }

  async #freshRemote(url: string, dir: string): Promise<Source> {
    const warning = await refreshClone(url, dir, this.#fetchTimeoutMs);
    if (warning) this.#warn(warning);
    return this.#worktree(dir);
  }

  /** Like the CLI: fetch the upstream, then read it if it is ahead of HEAD (even if the fetch failed). */
  async #freshLocal(repo: RepoLocation): Promise<Source> {
    const remote = await upstreamRemote(repo);
    if (remote === null) return this.#worktree(repo.root);
    if (remote !== ".") {
      let failure: string | null = null;
      try {
        const fetch = await runGit(["fetch", "--quiet", "--no-tags", "--", remote], {
          cwd: repo.root,
          timeoutMs: this.#fetchTimeoutMs,
        });
        if (fetch.code !== 0) failure = `exit ${fetch.code}`;
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
      }
      if (failure !== null) {
        this.#warn(`\`git fetch ${remote}\` failed (${failure}); reading the local state, which may be stale`);
      }
    }
    return this.#upstreamOrWorktree(repo, true);
  }

  /**
   * The upstream commit's tree if it is a strict descendant of HEAD (the upstream is ahead and
   * HEAD has nothing of its own), else the working tree. The refs are read from `.git` files
   * first, so an up-to-date branch or a never-fetched upstream costs no git process.
   */
  async #upstreamOrWorktree(repo: RepoLocation, warnDiverged: boolean): Promise<Source> {
    const worktree = this.#worktree(repo.root);
    try {
      const quick = await readUpstreamState(repo);
      if (quick && (quick.upstream === null || quick.upstream === quick.head)) return worktree;
      let ours = quick?.head ?? null;
      let theirs = quick?.upstream ?? null;
      let label = quick?.label ?? null;
      if (!quick) {
        const names = await runGit(["rev-parse", "HEAD", "@{upstream}", "--abbrev-ref", "@{upstream}"], {
          cwd: repo.root,
        });
        if (names.code !== 0) return worktree;
        [ours = null, theirs = null, label = null] = names.stdout.toString("utf8").trim().split("\n");
      }
      if (!ours || !theirs || ours === theirs) return worktree;
      const counts = await runGit(["rev-list", "--left-right", "--count", `${ours}...${theirs}`], {
        cwd: repo.root,
      });
      if (counts.code !== 0) return worktree;
      const [ahead, behind] = counts.stdout.toString("utf8").trim().split(/\s+/).map(Number);
      if (behind === 0) return worktree;
      if (ahead !== 0) {
        if (warnDiverged) {
          this.#warn(
            `your branch and ${label ?? "its upstream"} have diverged; reading the local state (run \`git pull\` to combine them)`,
          );
        }
        return worktree;
      }
      return new TreeSource(repo.root, theirs, label ?? "upstream");
    } catch (e) {
      this.#warn(`cannot read the upstream state (${e instanceof Error ? e.message : String(e)}); reading the local state`);
      return worktree;
    }
  }
}

const OPTION_NAMES = [
  "repoPath",
  "keyPath",
  "key",
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

/** A loaded key: the decrypter and the key file's comments (which may name verify keys). */
interface LoadedKey {
  readonly decrypter: Decrypter;
  readonly comments: readonly string[];
  readonly origin: string;
}

/** Written by the CLI between moving the branch and updating the working tree. */
const PENDING_FILE = "agent-vault.pending";

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
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

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytewise (UTF-8) order, as the CLI sorts. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
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
      try {
        checkSecretPath(s);
      } catch {
        throw new FormatError(
          `${MANIFEST_PATH}: group '${g.name}' lists an invalid secret path ${JSON.stringify(s)}; restore the file from git history`,
        );
      }
      out.push([s, g.name]);
    }
  }
  return out.sort((a, b) => compareBytes(a[0], b[0]) || compareBytes(a[1], b[1]));
}

function secretInfo(path: string, meta: SecretMeta): SecretInfo {
  return {
    path,
    group: meta.group,
    created: meta.created === "" ? null : meta.created,
    rotated: meta.rotated,
    expires: meta.expires,
    authorizedAgents: [...meta.authorizedAgents],
    extraAgents: [...meta.extraAgents],
    expired: isExpired(meta.expires),
  };
}
