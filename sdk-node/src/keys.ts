/**
 * Key discovery (docs/format.md, "Key discovery"): an explicit key file or raw identity, an
 * agent's default key file, `AGENT_VAULT_KEY` (raw identity text or a key file's path), then
 * the owner key in `AGENT_VAULT_HOME` (default `~/.agent-vault`). A key that is named but
 * missing is an error, never a reason to try the next source.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

import { FormatError, KeyNotFoundError } from "./errors.js";
import { decodeUtf8, trimStartText, trimText } from "./text.js";

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
    };

/** Identities loaded from one source; `origin` describes the source for messages. */
export interface LoadedIdentities {
  /** `AGE-SECRET-KEY-1…` strings, in file order, with their 1-based line numbers. */
  readonly identities: ReadonlyArray<{ readonly line: number; readonly value: string }>;
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
    return { kind: "file", path, origin: `key file ${path}`, hint: "check the keyPath option" };
  }
  if (options.key !== undefined) {
    return { kind: "text", text: options.key, origin: "the key given in the key option" };
  }
  if (options.agent !== undefined) {
    const path = join(home, "agents", `${options.agent}.key`);
    return {
      kind: "file",
      path,
      origin: `key file ${path}`,
      hint: `put agent '${options.agent}''s key there, pass keyPath, or set ${KEY_ENV} (keys are looked up in ${home})`,
    };
  }
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    // Identity text, also a whole key file with its comments (as in
    // AGENT_VAULT_KEY="$(cat bot.key)"); never treated, or echoed, as a path.
    if (fromEnv.split(/\r?\n/).some((line) => trimStartText(line).startsWith(SECRET_KEY_PREFIX))) {
      return { kind: "text", text: fromEnv, origin: `the key in ${KEY_ENV}` };
    }
    const path = resolve(fromEnv.trim());
    if (/AGE-SECRET-KEY-|[\r\n]/.test(fromEnv)) {
      // Not a path, and maybe key material (e.g. a whole key file with its comments): never
      // echo it. As in the CLI, it is still looked up as a path, which fails.
      return {
        kind: "file",
        path,
        origin: `the file named by ${KEY_ENV}`,
        hint: "",
        redacted: `${KEY_ENV} is neither a key file's path nor key text with an AGE-SECRET-KEY-1… line; set it to a key file's path or to the key itself`,
      };
    }
    return {
      kind: "file",
      path,
      origin: `key file ${path}`,
      hint: `${KEY_ENV} names a key file that is missing; fix or unset it`,
    };
  }
  const path = join(home, "owner.key");
  return {
    kind: "file",
    path,
    origin: `key file ${path}`,
    hint: `this machine has no owner key; pass keyPath, key or agent, set ${KEY_ENV}, or set ${HOME_ENV} to the folder holding owner.key`,
  };
}

/**
 * Parses identity-file text in the `age-keygen` format: blank lines, `#` comments and
 * `AGE-SECRET-KEY-1…` lines. Errors name the line, never its content.
 */
export function parseIdentities(text: string, origin: string): LoadedIdentities {
  const identities: Array<{ line: number; value: string }> = [];
  const comments: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = trimText(lines[i] ?? "");
    if (line === "") continue;
    if (line.startsWith("#")) {
      comments.push(trimText(line.slice(1)));
      continue;
    }
    if (line.startsWith(SECRET_KEY_PREFIX)) {
      if (!line.startsWith("AGE-SECRET-KEY-1")) {
        throw new FormatError(`${origin}: line ${i + 1} is not a valid age identity`);
      }
      identities.push({ line: i + 1, value: line });
    } else if (line.startsWith("AGE-PLUGIN-")) {
      throw new FormatError(
        `${origin}: line ${i + 1} is an age plugin identity, which agent-vault does not support; use an X25519 key from age-keygen`,
      );
    } else {
      throw new FormatError(
        `${origin}: line ${i + 1} is neither a comment nor an AGE-SECRET-KEY-1… identity`,
      );
    }
  }
  if (identities.length === 0) {
    throw new FormatError(`${origin}: it holds no AGE-SECRET-KEY-1… identity`);
  }
  return { identities, origin, comments };
}

/** Reads and parses the identities of a key source. */
export async function loadIdentities(source: KeySource): Promise<LoadedIdentities> {
  if (source.kind === "text") return parseIdentities(source.text, source.origin);
  let bytes: Buffer;
  try {
    bytes = await readFile(source.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (source.redacted !== undefined) throw new KeyNotFoundError(`key not found: ${source.redacted}`);
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new KeyNotFoundError(`key not found: ${source.path} does not exist; ${source.hint}`);
    }
    throw new FormatError(
      `cannot read key file ${source.path} (${code ?? String(e)}); check its permissions`,
      { cause: e },
    );
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
