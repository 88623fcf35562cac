/**
 * The owner-signed statement (docs/format.md, "`integrity/statement`, version 2"): parsed only
 * in its exact canonical form, its Ed25519 signature checked strictly, the `key-change` chain
 * and the owners' endorsements verifiable on demand.
 */
import {
  createHash,
  createHmac,
  createPublicKey,
  hkdfSync,
  timingSafeEqual,
  verify as verifySignature,
  type KeyObject,
} from "node:crypto";

import { IntegrityError, InvalidInputError } from "./errors.js";
import type { Identity } from "./identity.js";
import { compareBytes, decodeUtf8, escapeControl, trimText } from "./text.js";

/** The statement's path, relative to `.agent-vault/`. */
export const STATEMENT_REL = "integrity/statement";
/** What every integrity message ends with. */
export const ASK_OWNER = "do not trust it; ask the vault owner to run `agent-vault verify`";

/** SHA-256 as 64 lowercase hex characters. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Strict standard base64 (with padding): `null` unless `text` is the canonical encoding. */
function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}

/**
 * libsodium's `has_small_order` list, compared with the sign bit cleared: the points of
 * order 1, 2, 4 and 8 and the non-canonical encodings p-1, p, p+1. A public key or signature
 * `R` among them is refused, as by ed25519-dalek's `verify_strict`.
 */
const SMALL_ORDER: readonly Buffer[] = [
  Buffer.alloc(32),
  Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]),
  Buffer.from("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "hex"),
  Buffer.from("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "hex"),
  Buffer.from(`ec${"ff".repeat(30)}7f`, "hex"),
  Buffer.from(`ed${"ff".repeat(30)}7f`, "hex"),
  Buffer.from(`ee${"ff".repeat(30)}7f`, "hex"),
];

function hasSmallOrder(point: Uint8Array): boolean {
  const c = Buffer.from(point);
  c[31] = (c[31] ?? 0) & 0x7f;
  return SMALL_ORDER.some((p) => p.equals(c));
}

/** The group order L, little-endian: a signature's `S` must be below it. */
const ORDER_L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");

function scalarIsCanonical(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] ?? 0;
    const b = ORDER_L[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A vault verify key: the 32 raw bytes of an Ed25519 public key. */
export class VerifyKey {
  readonly #raw: Buffer;
  #key: KeyObject | null = null;

  private constructor(raw: Buffer) {
    this.#raw = raw;
  }

  /** Parses `ed25519:<base64>` exactly (canonical base64 of 32 bytes); `null` if it is not one. */
  static tryParse(text: string): VerifyKey | null {
    if (!text.startsWith("ed25519:")) return null;
    const raw = decodeBase64(text.slice("ed25519:".length));
    if (!raw || raw.length !== 32) return null;
    return new VerifyKey(raw);
  }

  /** Parses `ed25519:<base64>` (surrounding white space allowed) or throws {@link InvalidInputError} naming `what`. */
  static parse(text: string, what: string): VerifyKey {
    const key = typeof text === "string" ? VerifyKey.tryParse(trimText(text)) : null;
    if (!key) {
      const shown = typeof text === "string" ? `"${escapeControl(text.slice(0, 80))}"` : typeof text;
      throw new InvalidInputError(
        `${what} ${shown} is not a vault verify key (expected ed25519:<base64>, as printed by \`agent-vault verify\`)`,
      );
    }
    return key;
  }

  /** `ed25519:<base64>`. */
  toString(): string {
    return `ed25519:${this.#raw.toString("base64")}`;
  }

  /** Strict Ed25519 verification (RFC 8032; small-order keys and `R`, and `S ≥ L`, refused). */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    if (hasSmallOrder(this.#raw) || hasSmallOrder(signature.subarray(0, 32))) return false;
    if (!scalarIsCanonical(signature.subarray(32))) return false;
    try {
      this.#key ??= createPublicKey({ key: Buffer.concat([SPKI_PREFIX, this.#raw]), format: "der", type: "spki" });
      return verifySignature(null, message, this.#key, signature);
    } catch {
      // Not a point on the curve.
      return false;
    }
  }
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

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^[1-9][0-9]*$/;
const HEX64 = /^[0-9a-f]{64}$/;

function statementError(why: string): IntegrityError {
  return new IntegrityError(`.agent-vault/${STATEMENT_REL} ${why}; ${ASK_OWNER}`);
}

/** A sequence number as the format writes it (decimal u64, at least 1, no leading zeros). */
function parseSeq(text: string): bigint | null {
  if (!DECIMAL.test(text) || text.length > 20) return null;
  const n = BigInt(text);
  return n <= U64_MAX ? n : null;
}

/** Whether a `file` line's name can be a policy file: a relative path outside secrets/ and integrity/. */
function isPolicyName(name: string): boolean {
  if (name === "" || name.startsWith("secrets/") || name.startsWith("integrity/")) return false;
  if (/[\u0000-\u001f\u007f]/.test(name)) return false;
  return name.split("/").every((s) => s !== "" && s !== "." && s !== ".." && Buffer.byteLength(s) <= 255);
}

const MERGE_ADVICE =
  "holds git conflict markers: two owners changed the vault and the merge is not finished. Resolve it (`git checkout --theirs .agent-vault/integrity`), finish the merge, review with `agent-vault verify`, then run `agent-vault sign`";

/**
 * Parses a statement, checks that it is exactly in canonical form (version 1 or 2) and that
 * its signature verifies with the key it names. Whether that key is the right one is the
 * caller's decision. Never quotes the statement's text.
 */
export function parseStatement(bytes: Uint8Array): Statement {
  const latin = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  if (/(^|\n)(<<<<<<< |>>>>>>> )/.test(latin)) throw statementError(MERGE_ADVICE);
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch {
    throw statementError("is not UTF-8 text");
  }
  if (!text.endsWith("\n")) throw statementError("does not end with a line break (truncated?)");
  const lines = text.slice(0, -1).split("\n");
  const last = lines.pop() ?? "";
  if (!last.startsWith("signature ")) {
    throw statementError(lines.some((l) => l.startsWith("signature ")) ? "has text after its signature" : "has no signature");
  }
  const signature = decodeBase64(last.slice("signature ".length));
  if (!signature || signature.length !== 64) throw statementError("has a malformed signature");
  const body = text.slice(0, text.length - last.length - 1);

  let i = 0;
  const next = (): string | undefined => lines[i];
  const header = lines[i++];
  const version = header === "agent-vault-statement v2" ? 2 : header === "agent-vault-statement v1" ? 1 : null;
  if (version === null) throw statementError("is not an agent-vault statement of a version this SDK reads (v1 or v2)");
  let vault: string | null = null;
  if (version === 2) {
    const m = /^vault ([0-9a-f]{32})$/.exec(next() ?? "");
    if (!m) throw statementError("has no valid vault line");
    vault = m[1] as string;
    i++;
  }
  const keyLine = next() ?? "";
  const verifyKey = keyLine.startsWith("verify-key ") ? VerifyKey.tryParse(keyLine.slice("verify-key ".length)) : null;
  if (!verifyKey || verifyKey.toString() !== keyLine.slice("verify-key ".length)) {
    throw statementError("has no valid verify-key line");
  }
  i++;
  const seqLine = next() ?? "";
  const seq = seqLine.startsWith("seq ") ? parseSeq(seqLine.slice(4)) : null;
  if (seq === null) throw statementError("has no valid seq line (a decimal number from 1 to 18446744073709551615)");
  i++;

  const keyChanges: KeyChange[] = [];
  const owners: OwnerLine[] = [];
  const files = new Map<string, string>();
  const shards = new Map<string, string>();
  if (version === 2) {
    for (let line = next(); line?.startsWith("key-change "); line = next()) {
      const m = /^key-change ([0-9]+) (ed25519:[A-Za-z0-9+/=]+) ([A-Za-z0-9+/=]+)$/.exec(line);
      const changeSeq = m ? parseSeq(m[1] as string) : null;
      const from = m ? VerifyKey.tryParse(m[2] as string) : null;
      const sig = m ? decodeBase64(m[3] as string) : null;
      if (!m || changeSeq === null || !from || from.toString() !== m[2] || !sig || sig.length !== 64) {
        throw statementError("has a malformed key-change line");
      }
      const previous = keyChanges[keyChanges.length - 1];
      if ((previous && changeSeq <= previous.seq) || changeSeq > seq) {
        throw statementError("has key-change lines out of order");
      }
      keyChanges.push({ seq: changeSeq, from, signature: sig });
      i++;
    }
    for (let line = next(); line?.startsWith("owner "); line = next()) {
      const m = /^owner (age1[02-9ac-hj-np-z]+) ([0-9a-f]{64})$/.exec(line);
      if (!m) throw statementError("has a malformed owner line");
      const previous = owners[owners.length - 1];
      if (previous && compareBytes(previous.recipient, m[1] as string) >= 0) {
        throw statementError("has owner lines out of order or repeated");
      }
      owners.push({ recipient: m[1] as string, tag: m[2] as string });
      i++;
    }
  }
  let previousFile: string | null = null;
  for (let line = next(); line?.startsWith("file "); line = next()) {
    const digest = line.slice(5, 69);
    const name = line.slice(70);
    if (!HEX64.test(digest) || line[69] !== " " || !isPolicyName(name)) throw statementError("has a malformed file line");
    if (previousFile !== null && compareBytes(previousFile, name) >= 0) {
      throw statementError("has file lines out of order or repeated");
    }
    files.set(name, digest);
    previousFile = name;
    i++;
  }
  let previousShard: string | null = null;
  for (let line = next(); line?.startsWith("shard "); line = next()) {
    const m = /^shard ([0-9a-f]{64}) ([0-9a-f]{2})$/.exec(line);
    if (!m) throw statementError("has a malformed shard line");
    const name = m[2] as string;
    if (previousShard !== null && previousShard >= name) throw statementError("has shard lines out of order or repeated");
    shards.set(name, m[1] as string);
    previousShard = name;
    i++;
  }
  if (i !== lines.length) throw statementError("has an unexpected line (unknown, out of order or repeated)");
  if (!verifyKey.verify(Buffer.from(body, "utf8"), signature)) {
    throw statementError("has a signature that does not match its contents (forged or edited)");
  }
  return { version, vault, verifyKey, seq, keyChanges, owners, files, shards };
}

/** The message the previous key signs in a `key-change` line. */
export function keyChangeMessage(vault: string, seq: bigint, from: string, to: string): string {
  return `agent-vault key-change v1\nvault ${vault}\nseq ${seq}\nfrom ${from}\nto ${to}\n`;
}

/**
 * Whether a reader can follow the chain from key `from` to the statement's key: `from` is the
 * statement's key, or some `K_j` whose line and every later line verify.
 */
export function canFollow(statement: Statement, from: string): boolean {
  if (statement.verifyKey.toString() === from) return true;
  const changes = statement.keyChanges;
  if (statement.vault === null || changes.length === 0) return false;
  let valid = true;
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i] as KeyChange;
    const to = (changes[i + 1]?.from ?? statement.verifyKey).toString();
    const message = keyChangeMessage(statement.vault, change.seq, change.from.toString(), to);
    valid = valid && change.from.verify(Buffer.from(message, "utf8"), change.signature);
    if (!valid) return false;
    if (change.from.toString() === from) return true;
  }
  return false;
}

/** The endorsement tag (hex) an owner identity makes for (vault id, verify key). */
export function endorsementTag(identity: string, vault: string, verifyKey: string): string {
  const k = Buffer.from(
    hkdfSync("sha256", Buffer.from(identity.toUpperCase(), "utf8"), Buffer.alloc(0), "agent-vault owner endorsement v1", 32),
  );
  try {
    return createHmac("sha256", k)
      .update(`agent-vault endorsement v1\nvault ${vault}\nverify-key ${verifyKey}\n`)
      .digest("hex");
  } finally {
    k.fill(0);
  }
}

/** Whether one of `identities` has an `owner` line whose tag verifies for the statement's key. */
export function isEndorsed(statement: Statement, identities: readonly Identity[]): boolean {
  if (statement.vault === null) return false;
  for (const id of identities) {
    const line = statement.owners.find((o) => o.recipient === id.recipient);
    if (!line) continue;
    const tag = endorsementTag(id.text, statement.vault, statement.verifyKey.toString());
    if (timingSafeEqual(Buffer.from(tag, "hex"), Buffer.from(line.tag, "hex"))) return true;
  }
  return false;
}
