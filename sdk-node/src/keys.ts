/**
 * Key discovery (docs/format.md, "Key discovery"): an explicit key file or raw identity, an
 * agent's default key file, `AGENT_VAULT_KEY` (raw identity text or a key file's path), then
 * the owner key in `AGENT_VAULT_HOME` (default `~/.agent-vault`). A key that is named but
 * missing is an error, never a reason to try the next source.
 */
import { constants, existsSync, readdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

import { FormatError, KeyNotFoundError } from "./errors.js";
import { parseIdentity, type Identity } from "./identity.js";
import { decodeUtf8, escapeControl, trimStartText, trimText } from "./text.js";

/** The environment variable holding a key file's path or a raw `AGE-SECRET-KEY-1…`. */
export const KEY_ENV = "AGENT_VAULT_KEY";
/** The environment variable naming the folder that holds keys. */
export const HOME_ENV = "AGENT_VAULT_HOME";
const SECRET_KEY_PREFIX = "AGE-SECRET-KEY-";

/** Where the identities for decryption come from. */
export type KeySource =
  | { readonly kind: "text"; readonly text: string; readonly origin: string }
  | {
      readonly kind: "file";
      readonly path: string;
      readonly origin: string;
      readonly hint: string;
      /** When set, the whole "not found" message: the path must not be shown. */
      readonly redacted?: string;
      /** An agent's key, whose file depends on the vault (see {@link forVault}). */
      readonly agent?: { readonly home: string; readonly name: string };
    };

/** Identities loaded from one source; `origin` describes the source for messages. */
export interface LoadedIdentities {
  /** The identities, in file order, with their 1-based line numbers. */
  readonly identities: ReadonlyArray<{ readonly line: number; readonly identity: Identity }>;
  readonly origin: string;
  /** The `#` comment lines, without the `#` and trimmed (they may name verify keys). */
  readonly comments: readonly string[];
}

/** The folder holding this user's keys: `AGENT_VAULT_HOME`, or `~/.agent-vault`. */
export function keyHome(env: NodeJS.ProcessEnv): string {
  const dir = env[HOME_ENV];
  if (dir !== undefined && dir !== "") return resolve(dir);
  return join(homedir(), ".agent-vault");
}

/** Chooses the key source from explicit options and the environment, without reading it. */
export function chooseKeySource(
  options: { keyPath?: string | undefined; key?: string | undefined; agent?: string | undefined },
  env: NodeJS.ProcessEnv,
): KeySource {
  const home = keyHome(env);
  if (options.keyPath !== undefined) {
    const path = resolve(options.keyPath);
    return { kind: "file", path, origin: `key file ${escapeControl(path)}`, hint: "check the keyPath option" };
  }
  if (options.key !== undefined) {
    return { kind: "text", text: options.key, origin: "the key given in the key option" };
  }
  if (options.agent !== undefined) {
    const path = join(home, "agents", `${options.agent}.key`);
    return {
      kind: "file",
      path,
      origin: `key file ${escapeControl(path)}`,
      hint: `put the key of agent '${options.agent}' there, pass keyPath, or set ${KEY_ENV} (keys are looked up in ${escapeControl(home)})`,
      agent: { home, name: options.agent },
    };
  }
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined) {
    // Set, even to "": never a fallback to the owner key, and never echoed (it may be mangled
    // key material).
    const redacted = (why: string): KeySource => ({
      kind: "file",
      path: "",
      origin: `the key named by ${KEY_ENV}`,
      hint: "",
      redacted: `${KEY_ENV} ${why}; set it to a key file's path or to the key itself (AGE-SECRET-KEY-1…), or unset it`,
    });
    if (fromEnv.trim() === "") return redacted("is set but empty (a CI secret that is not defined?)");
    if (fromEnv.includes("\uFFFD")) return redacted("is not valid UTF-8");
    // Identity text, also a whole key file with its comments (as in
    // AGENT_VAULT_KEY="$(cat bot.key)"), in any letter case; never treated as a path.
    if (fromEnv.split(/\r?\n/).some((line) => isIdentityLine(trimStartText(line)))) {
      return { kind: "text", text: fromEnv, origin: `the key in ${KEY_ENV}` };
    }
    const path = resolve(fromEnv.trim());
    const unexpanded = /^[~'"]/.test(fromEnv)
      ? " (it starts with `~` or a quote: the shell did not expand it; write the full path)"
      : "";
    return {
      kind: "file",
      path,
      origin: `key file ${escapeControl(path)} (from ${KEY_ENV})`,
      hint: "",
      redacted: `${KEY_ENV} is set (${[...fromEnv].length} characters) but is neither an existing key file's path nor age identity text${unexpanded}; set it to a key file's path or to the key itself (its value is not shown, in case it is a secret)`,
    };
  }
  const path = join(home, "owner.key");
  return {
    kind: "file",
    path,
    origin: `key file ${escapeControl(path)}`,
    hint: `this machine has no owner key; pass keyPath, key or agent, set ${KEY_ENV}, or set ${HOME_ENV} to the folder holding owner.key`,
  };
}

/**
 * The key source for the vault with identity `vaultId` (as its statement names it): an agent's
 * key is `agents/<vault id>/NAME.key` when that file exists, else `agents/NAME.key` (where keys
 * were kept before), else the agent's key of another vault (whose anchors then report a
 * replaced or removed statement as such, rather than "key not found"). Other sources are
 * unchanged.
 */
export function forVault(source: KeySource, vaultId: string | null): KeySource {
  if (source.kind !== "file" || !source.agent) return source;
  const { home, name } = source.agent;
  const perVault = vaultId === null ? null : join(home, "agents", vaultId, `${name}.key`);
  let path: string;
  if (perVault !== null && existsSync(perVault)) path = perVault;
  else if (existsSync(source.path)) path = source.path;
  else path = anyVaultKey(home, name) ?? perVault ?? source.path;
  if (path === source.path) return source;
  return {
    ...source,
    path,
    origin: `key file ${escapeControl(path)}`,
    hint: `put the key of agent '${name}' of this vault there, pass keyPath, or set ${KEY_ENV} (keys are looked up in ${escapeControl(home)})`,
  };
}

/**
 * The agent's key of any vault (the first by folder name).
 */
function anyVaultKey(home: string, name: string): string | null {
  let folders: string[];
  try {
    folders = readdirSync(join(home, "agents")).sort();
  } catch {
    return null;
  }
  for (const folder of folders) {
    const path = join(home, "agents", folder, `${name}.key`);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Whether a line (without leading white space) is meant as an X25519 identity: the prefix in any case. */
function isIdentityLine(line: string): boolean {
  return line.slice(0, SECRET_KEY_PREFIX.length).toUpperCase() === SECRET_KEY_PREFIX;
}

/**
 * Parses identity-file text in the `age-keygen` format: blank lines, `#` comments and
 * `AGE-SECRET-KEY-1…` lines (Bech32: either letter case). Errors name the line, never its
 * content.
 */
export function parseIdentities(text: string, origin: string): LoadedIdentities {
  const identities: Array<{ line: number; identity: Identity }> = [];
  const comments: string[] = [];
  // A byte order mark some editors add is not part of the first line (as the CLI reads it).
  const lines = (text.startsWith("\uFEFF") ? text.slice(1) : text).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = trimText(lines[i] ?? "");
    if (line === "") continue;
    if (line.startsWith("#")) {
      comments.push(trimText(line.slice(1)));
      continue;
    }
    if (isIdentityLine(line)) {
      const identity = parseIdentity(line);
      if (!identity) throw new FormatError(`${origin}: line ${i + 1} is not a valid age X25519 identity`);
      identities.push({ line: i + 1, identity });
    } else if (line.slice(0, 11).toUpperCase() === "AGE-PLUGIN-") {
      throw new FormatError(
        `${origin}: line ${i + 1} is an age plugin identity, which agent-vault does not support; use an X25519 key from age-keygen`,
      );
    } else if (line.startsWith("-----BEGIN") || line.startsWith("ssh-")) {
      throw new FormatError(
        `${origin}: line ${i + 1} looks like an SSH or PEM key; agent-vault uses age X25519 keys (AGE-SECRET-KEY-1…, made by age-keygen or \`agent-vault add-agent\`)`,
      );
    } else {
      throw new FormatError(`${origin}: line ${i + 1} is neither a comment nor an AGE-SECRET-KEY-1… identity`);
    }
  }
  if (identities.length === 0) {
    throw new FormatError(`${origin}: it holds no AGE-SECRET-KEY-1… identity`);
  }
  return { identities, origin, comments };
}

/** Identity files are read up to this size (a path to /dev/zero must not read forever). */
export const MAX_KEY_FILE = 1 << 20;

/** Reads at most `MAX_KEY_FILE` bytes of a key file; throws when there is more. */
async function readCapped(path: string, origin: string): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO never waits for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buffer = Buffer.alloc(MAX_KEY_FILE + 1);
    let length = 0;
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, length, buffer.length - length, null));
      } catch (e) {
        buffer.fill(0);
        throw e;
      }
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_KEY_FILE) {
        buffer.fill(0);
        throw new FormatError(`${origin}: it is larger than ${MAX_KEY_FILE} bytes, too large for a key file`);
      }
    }
    const out = Buffer.from(buffer.subarray(0, length));
    buffer.fill(0);
    return out;
  } finally {
    await handle.close();
  }
}

/** Reads and parses the identities of a key source. */
export async function loadIdentities(source: KeySource): Promise<LoadedIdentities> {
  if (source.kind === "text") return parseIdentities(source.text, source.origin);
  if (source.redacted !== undefined && source.path === "") throw new KeyNotFoundError(`key not found: ${source.redacted}`);
  let bytes: Buffer;
  try {
    bytes = await readCapped(source.path, source.origin);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      if (source.redacted !== undefined) throw new KeyNotFoundError(`key not found: ${source.redacted}`);
      throw new KeyNotFoundError(`key not found: ${escapeControl(source.path)} does not exist; ${source.hint}`);
    }
    throw new FormatError(`cannot read ${source.origin} (${code ?? String(e)}); check its permissions`, { cause: e });
  }
  try {
    let text: string;
    try {
      text = decodeUtf8(bytes);
    } catch {
      throw new FormatError(`${source.origin}: it is not UTF-8 text`);
    }
    return parseIdentities(text, source.origin);
  } finally {
    bytes.fill(0);
  }
}
