/**
 * What this machine remembers about the vaults it has read (docs/format.md, "Pins"), in
 * `$AGENT_VAULT_HOME/pins.json`, shared with the CLI and the Python SDK:
 *
 * ```json
 * {"version": 2,
 *  "vaults":    {"<vault id>": {"verify_key": "ed25519:…", "seq": 12}},
 *  "locations": {"<location>": "<vault id>"},
 *  "legacy":    {"<location>": {"verify_key": "ed25519:…", "seq": 3}}}
 * ```
 *
 * A file that cannot be read or parsed, or has a newer `version`, is an error (never "no
 * pins", which would turn trust on first use back on). Writes take the lock `pins.json.lock`
 * (`O_CREAT|O_EXCL`), re-read, write a temporary file, `fsync` it, rename it over, `fsync` the
 * folder and drop the lock. A pin that cannot be written is the caller's warning, not an error.
 */
import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { mkdir, open, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { FormatError } from "./errors.js";
import { escapeControl } from "./text.js";

/** A remembered key and the highest sequence number seen with it. */
export interface Pin {
  readonly verifyKey: string;
  readonly seq: bigint;
}

/** The contents of `pins.json` (any version, read as version 2). */
export interface PinsData {
  readonly vaults: Map<string, Pin>;
  readonly locations: Map<string, string>;
  readonly legacy: Map<string, Pin>;
  /** Unknown top-level keys, preserved as read. */
  readonly extra: Map<string, unknown>;
}

/** A change to record (docs/format.md, "What a reader checks", step 8). */
export type PinUpdate =
  | { readonly kind: "vault"; readonly location: string; readonly vault: string; readonly pin: Pin }
  | { readonly kind: "legacy"; readonly location: string; readonly pin: Pin };

/** Why a pin could not be written (lock not acquired, read-only home): worth a warning only. */
export class PinsUnwritable extends Error {}

/** Largest `pins.json` read. */
const MAX_BYTES = 16 << 20;
/** The lock is retried every 10 ms for up to 2 s; a lock older than 10 s is a crashed holder's. */
const LOCK_RETRY_MS = 10;
const LOCK_WAIT_MS = 2000;
const LOCK_STALE_MS = 10_000;

const MARK = "\u0000agent-vault-u64:";

/**
 * `text` with every integer of 16 or more digits that is the value of a `"seq"` key turned
 * into a marked string, so that u64 sequence numbers survive `JSON.parse` exactly.
 */
function protectSeqs(text: string): string {
  let out = "";
  let i = 0;
  let lastString = "";
  let afterColonOfSeq = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      lastString = text.slice(i, j + 1);
      out += lastString;
      i = j + 1;
      continue;
    }
    if (c === ":") afterColonOfSeq = lastString === '"seq"';
    else if (/[0-9]/.test(c)) {
      let j = i;
      while (j < text.length && /[0-9]/.test(text[j] as string)) j++;
      const digits = text.slice(i, j);
      if (afterColonOfSeq && digits.length >= 16 && !/[.eE]/.test(text[j] ?? "")) out += JSON.stringify(MARK + digits);
      else out += digits;
      afterColonOfSeq = false;
      i = j;
      continue;
    } else if (!/\s/.test(c)) afterColonOfSeq = false;
    out += c;
    i++;
  }
  return out;
}

function toPin(entry: unknown): Pin | null {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return null;
  const { verify_key: key, seq } = entry as { verify_key?: unknown; seq?: unknown };
  if (typeof key !== "string") return null;
  if (typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0) return { verifyKey: key, seq: BigInt(seq) };
  if (typeof seq === "string" && seq.startsWith(MARK)) {
    const n = BigInt(seq.slice(MARK.length));
    return n < 1n << 64n ? { verifyKey: key, seq: n } : null;
  }
  return null;
}

function jsonString(s: string): string {
  return JSON.stringify(s);
}

/** The pins of one key home. */
export class Pins {
  /** `$AGENT_VAULT_HOME/pins.json`. */
  readonly path: string;
  readonly #home: string;

  constructor(home: string) {
    this.#home = home;
    this.path = join(home, "pins.json");
  }

  #shown(): string {
    return escapeControl(this.path);
  }

  #corrupt(why: string): FormatError {
    return new FormatError(
      `${this.#shown()}: cannot parse (${why}); fix or delete it (deleting forgets which vault keys this machine trusts)`,
    );
  }

  /** Reads the pins; a missing file is empty. Throws {@link FormatError} for anything unreadable. */
  async read(): Promise<PinsData> {
    let text: string;
    try {
      const handle = await open(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const info: Stats = await handle.stat();
        if (!info.isFile()) throw this.#corrupt("it is not a regular file");
        const buffer = Buffer.alloc(Math.min(info.size, MAX_BYTES) + 1);
        let length = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
          if (bytesRead === 0) break;
          length += bytesRead;
          if (length > MAX_BYTES) throw new FormatError(`${this.#shown()} is larger than ${MAX_BYTES} bytes; fix or delete it`);
          if (length === buffer.length) break;
        }
        text = buffer.subarray(0, length).toString("utf8");
      } finally {
        await handle.close();
      }
    } catch (e) {
      if (e instanceof FormatError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return empty();
      throw new FormatError(`cannot read ${this.#shown()} (${code ?? String(e)}); fix its permissions (it is never taken as "no pins")`, {
        cause: e,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(protectSeqs(text));
    } catch (e) {
      throw this.#corrupt(e instanceof Error ? escapeControl(e.message.split("\n")[0] ?? "") : "invalid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw this.#corrupt("not a JSON object");
    const file = parsed as Record<string, unknown>;
    const version = file["version"];
    if (typeof version === "number" && Number.isInteger(version) && version > 2) {
      throw new FormatError(
        `${this.#shown()} has version ${version}, newer than this agent-vault SDK reads (2); upgrade the agent-vault package (the file is left as it is)`,
      );
    }
    if (version !== 1 && version !== 2) throw this.#corrupt("`version` must be 1 or 2");
    const data = empty();
    const section = (name: string): Record<string, unknown> => {
      const value = file[name] ?? {};
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.#corrupt(`\`${name}\` is not an object`);
      return value as Record<string, unknown>;
    };
    const pins = (name: string, into: Map<string, Pin>): void => {
      for (const [k, v] of Object.entries(section(name))) {
        const pin = toPin(v);
        if (!pin) throw this.#corrupt(`an entry of \`${name}\` is malformed`);
        into.set(k, pin);
      }
    };
    if (version === 1) {
      pins("vaults", data.legacy);
    } else {
      pins("vaults", data.vaults);
      pins("legacy", data.legacy);
      for (const [k, v] of Object.entries(section("locations"))) {
        if (typeof v !== "string") throw this.#corrupt("an entry of `locations` is malformed");
        data.locations.set(k, v);
      }
    }
    for (const [k, v] of Object.entries(file)) {
      if (!["version", "vaults", "locations", "legacy"].includes(k)) data.extra.set(k, v);
    }
    return data;
  }

  /**
   * Applies `update` under the lock (re-reading first) and writes the file if anything
   * changed. Throws {@link PinsUnwritable} when the pin cannot be written (the caller warns),
   * {@link FormatError} when the file cannot be read or parsed.
   */
  async record(update: PinUpdate): Promise<void> {
    await this.#ensureHome();
    const lock = `${this.path}.lock`;
    await this.#lock(lock);
    try {
      const data = await this.read();
      if (!apply(data, update)) return;
      await this.#write(data);
    } finally {
      await rm(lock, { force: true }).catch(() => {});
    }
  }

  async #ensureHome(): Promise<void> {
    try {
      if ((await stat(this.#home)).isDirectory()) return;
      throw new PinsUnwritable(`${escapeControl(this.#home)} is not a folder`);
    } catch (e) {
      if (e instanceof PinsUnwritable) throw e;
    }
    try {
      await stat(dirname(this.#home));
    } catch {
      throw new PinsUnwritable(`${escapeControl(this.#home)} does not exist and neither does its parent folder`);
    }
    try {
      await mkdir(this.#home, { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") throw new PinsUnwritable(`cannot create ${escapeControl(this.#home)} (${code ?? String(e)})`);
    }
  }

  async #lock(lock: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
        await handle.close();
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") throw new PinsUnwritable(`cannot create ${escapeControl(lock)} (${code ?? String(e)})`);
      }
      try {
        if (Date.now() - (await stat(lock)).mtimeMs > LOCK_STALE_MS) {
          // A crashed holder's lock.
          await unlink(lock).catch(() => {});
          continue;
        }
      } catch {
        continue; // released meanwhile
      }
      if (Date.now() >= deadline) {
        throw new PinsUnwritable(`${escapeControl(lock)} is held by another process (waited ${LOCK_WAIT_MS / 1000} s)`);
      }
      await sleep(LOCK_RETRY_MS);
    }
  }

  async #write(data: PinsData): Promise<void> {
    const dir = dirname(this.path);
    const tmp = join(dir, `.pins.json.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      const handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      try {
        await handle.writeFile(serialize(data));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
      const folder = await open(dir, constants.O_RDONLY);
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      const code = (e as NodeJS.ErrnoException).code;
      throw new PinsUnwritable(`cannot write ${this.#shown()} (${code ?? String(e)})`);
    }
  }
}

function empty(): PinsData {
  return { vaults: new Map(), locations: new Map(), legacy: new Map(), extra: new Map() };
}

/** Applies a change; returns whether anything changed. A pin never moves backwards. */
export function apply(data: PinsData, update: PinUpdate): boolean {
  const merge = (into: Map<string, Pin>, key: string, pin: Pin): boolean => {
    const old = into.get(key);
    if (old && old.verifyKey === pin.verifyKey && old.seq >= pin.seq) return false;
    if (old && old.verifyKey !== pin.verifyKey && old.seq >= pin.seq) return false;
    into.set(key, pin);
    return true;
  };
  if (update.kind === "legacy") return merge(data.legacy, update.location, update.pin);
  let changed = merge(data.vaults, update.vault, update.pin);
  if (data.locations.get(update.location) !== update.vault) {
    data.locations.set(update.location, update.vault);
    changed = true;
  }
  if (data.legacy.delete(update.location)) changed = true;
  return changed;
}

/** Writes version 2, sequence numbers as exact JSON integers, unknown keys as read. */
function serialize(data: PinsData): string {
  const pins = (m: Map<string, Pin>): string =>
    [...m]
      .map(([k, p]) => `\n    ${jsonString(k)}: {"verify_key": ${jsonString(p.verifyKey)}, "seq": ${p.seq.toString()}}`)
      .join(",");
  const locations = [...data.locations].map(([k, v]) => `\n    ${jsonString(k)}: ${jsonString(v)}`).join(",");
  const parts = [
    `  "version": 2`,
    `  "vaults": {${pins(data.vaults)}${data.vaults.size ? "\n  " : ""}}`,
    `  "locations": {${locations}${data.locations.size ? "\n  " : ""}}`,
    `  "legacy": {${pins(data.legacy)}${data.legacy.size ? "\n  " : ""}}`,
  ];
  // A big "seq" inside an unknown key was read as a marked string: write it back as a number.
  const token = randomBytes(12).toString("hex");
  for (const [k, v] of data.extra) {
    const value = JSON.stringify(v, (_key, x: unknown) => (typeof x === "string" && x.startsWith(MARK) ? `${token}${x.slice(MARK.length)}` : x));
    parts.push(`  ${jsonString(k)}: ${value.replace(new RegExp(`"${token}(\\d+)"`, "g"), "$1")}`);
  }
  return `{\n${parts.join(",\n")}\n}\n`;
}
