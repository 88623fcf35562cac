/**
 * Tamper evidence (docs/format.md, "Integrity: the signed statement"): the owner signs the
 * vault's state; a reader verifies before it trusts anything it read.
 *
 * `integrity/statement` holds a sequence number, the SHA-256 of every policy file (everything
 * under `.agent-vault/` but `secrets/` and `integrity/`) and of every non-empty shard;
 * `integrity/shards/<xx>` hold the SHA-256 of each secret's `.enc` and `.meta`. One `get`
 * checks one signature and hashes the statement, the policy files, one shard and the
 * secret's two files; a listing checks everything.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";

import { IntegrityError, InvalidInputError } from "./errors.js";
import type { Source } from "./source.js";
import { decodeUtf8, trimText } from "./text.js";

/** The signed statement, repository-relative. */
export const STATEMENT_PATH = ".agent-vault/integrity/statement";
/** Folder of shard files. */
export const SHARDS_DIR = ".agent-vault/integrity/shards";
/** The environment variable holding the expected verify key. */
export const VERIFY_KEY_ENV = "AGENT_VAULT_VERIFY_KEY";
/** The identity-file comment that names a vault's verify key. */
export const KEY_FILE_COMMENT = "agent-vault verify-key:";

const VAULT_DIR = ".agent-vault";
const SECRETS_DIR = ".agent-vault/secrets";
const AGENTS_DIR = ".agent-vault/agents";
const HEADER = "agent-vault-statement v1";
/** What every integrity message ends with. */
export const ASK_OWNER = "do not trust it; ask the vault owner to run `agent-vault verify`";

/** SHA-256 as 64 lowercase hex characters. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Bytewise (UTF-8) order, as the CLI sorts. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
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

  /** Parses `ed25519:<base64>`; `null` if it is not one. */
  static tryParse(text: string): VerifyKey | null {
    const trimmed = trimText(text);
    if (!trimmed.startsWith("ed25519:")) return null;
    const raw = decodeBase64(trimmed.slice("ed25519:".length));
    if (!raw || raw.length !== 32) return null;
    return new VerifyKey(raw);
  }

  /** Parses `ed25519:<base64>` or throws {@link InvalidInputError} naming `what`. */
  static parse(text: string, what: string): VerifyKey {
    const key = typeof text === "string" ? VerifyKey.tryParse(text) : null;
    if (!key) {
      const shown = typeof text === "string" ? JSON.stringify(text.slice(0, 80)) : typeof text;
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
      this.#key ??= createPublicKey({
        key: Buffer.concat([SPKI_PREFIX, this.#raw]),
        format: "der",
        type: "spki",
      });
      return verifySignature(null, message, this.#key, signature);
    } catch {
      // Not a point on the curve.
      return false;
    }
  }
}

/** A parsed, signature-checked statement. */
export interface Statement {
  readonly verifyKey: VerifyKey;
  readonly seq: bigint;
  /** Policy file (relative to `.agent-vault/`) → SHA-256 hex. */
  readonly files: ReadonlyMap<string, string>;
  /** Shard name (`00`…`ff`) → SHA-256 hex of the shard file. */
  readonly shards: ReadonlyMap<string, string>;
}

function statementBody(verifyKey: string, seq: bigint, files: Map<string, string>, shards: Map<string, string>): string {
  let body = `${HEADER}\nverify-key ${verifyKey}\nseq ${seq.toString()}\n`;
  for (const name of [...files.keys()].sort(compareBytes)) body += `file ${files.get(name)} ${name}\n`;
  for (const name of [...shards.keys()].sort(compareBytes)) body += `shard ${shards.get(name)} ${name}\n`;
  return body;
}

const U64_MAX = (1n << 64n) - 1n;

function statementError(why: string): IntegrityError {
  return new IntegrityError(`${STATEMENT_PATH} ${why}; ${ASK_OWNER}`);
}

/**
 * Parses a statement, checks that it is in canonical form and that its signature verifies
 * with the key it names. Whether that key is the right one is the caller's decision.
 */
export function parseStatement(bytes: Uint8Array): Statement {
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch {
    throw statementError("is not text");
  }
  const split = text.lastIndexOf("signature ");
  if (split < 0) throw statementError("has no signature");
  const body = text.slice(0, split);
  if (body !== "" && !body.endsWith("\n")) throw statementError("has no signature");
  const signatureB64 = text.slice(split + "signature ".length).replace(/\n+$/, "");
  if (signatureB64.includes("\n")) throw statementError("has text after its signature");
  const signature = decodeBase64(signatureB64);
  if (!signature || signature.length !== 64) throw statementError("has a malformed signature");
  // As Rust's str::lines: split on \n, drop one trailing empty line, strip a trailing \r.
  const lines = body.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const clean = lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (clean[0] !== HEADER) throw statementError("is not an agent-vault v1 statement");
  const keyLine = clean[1];
  if (keyLine === undefined || !keyLine.startsWith("verify-key ")) throw statementError("names no verify key");
  const verifyKey = VerifyKey.tryParse(keyLine.slice("verify-key ".length));
  if (!verifyKey) throw statementError("names an invalid verify key");
  const seqLine = clean[2];
  const seqText = seqLine?.startsWith("seq ") ? seqLine.slice(4) : null;
  if (seqText === null || !/^\+?[0-9]+$/.test(seqText) || BigInt(seqText) > U64_MAX) {
    throw statementError("has no sequence number");
  }
  const seq = BigInt(seqText);
  const files = new Map<string, string>();
  const shards = new Map<string, string>();
  for (const line of clean.slice(3)) {
    const first = line.indexOf(" ");
    const second = first < 0 ? -1 : line.indexOf(" ", first + 1);
    if (first < 0 || second < 0) throw statementError("has a malformed line");
    const kind = line.slice(0, first);
    const digest = line.slice(first + 1, second);
    const name = line.slice(second + 1);
    if (!/^[0-9a-fA-F]{64}$/.test(digest)) throw statementError("has a malformed line");
    if (kind === "file") files.set(name, digest.toLowerCase());
    else if (kind === "shard") shards.set(name, digest.toLowerCase());
    else throw statementError("has a malformed line");
  }
  if (statementBody(verifyKey.toString(), seq, files, shards) !== body) {
    throw statementError("is not in canonical form");
  }
  if (!verifyKey.verify(Buffer.from(body, "utf8"), signature)) {
    throw statementError("has a signature that does not match its contents (forged or edited)");
  }
  return { verifyKey, seq, files, shards };
}

/** The shard of a secret path: hex of the first byte of SHA-256 of the path. */
export function shardName(secret: string): string {
  return sha256Hex(Buffer.from(secret, "utf8")).slice(0, 2);
}

/** Repository-relative path of a shard file. */
export function shardPath(name: string): string {
  return `${SHARDS_DIR}/${name}`;
}

/** Secret path → [SHA-256 hex of `.enc`, of `.meta`]. */
export type Shard = Map<string, readonly [string, string]>;

function parseShard(name: string, bytes: Buffer): Shard {
  const bad = () => new IntegrityError(`shard ${shardPath(name)} is malformed; ${ASK_OWNER}`);
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch {
    throw bad();
  }
  const shard: Shard = new Map();
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const m = /^([0-9a-f]{64}) ([0-9a-f]{64}) (.*)$/s.exec(line);
    if (!m) throw bad();
    shard.set(m[3] as string, [m[1] as string, m[2] as string]);
  }
  let canonical = "";
  for (const path of [...shard.keys()].sort(compareBytes)) {
    const [enc, meta] = shard.get(path) as readonly [string, string];
    canonical += `${enc} ${meta} ${path}\n`;
  }
  if (!Buffer.from(canonical, "utf8").equals(bytes)) throw bad();
  return shard;
}

async function readShard(source: Source, statement: Statement, name: string): Promise<Shard> {
  const expected = statement.shards.get(name);
  if (expected === undefined) return new Map();
  const path = shardPath(name);
  const [bytes] = await source.read([path]);
  if (!bytes) throw new IntegrityError(`${path} is missing but the signed statement lists it; ${ASK_OWNER}`);
  if (sha256Hex(bytes) !== expected) {
    throw new IntegrityError(`${path} was changed after the owner signed the vault; ${ASK_OWNER}`);
  }
  return parseShard(name, bytes);
}

/** The policy-file name (relative to `.agent-vault/`) of a repository path, if it is one. */
function policyName(path: string): string | null {
  if (!path.startsWith(`${VAULT_DIR}/`)) return null;
  const rel = path.slice(VAULT_DIR.length + 1);
  return rel.startsWith("secrets/") || rel.startsWith("integrity/") ? null : rel;
}

/** The secret a file under `secrets/` belongs to, and which of its files it is. */
function secretOf(path: string): { secret: string; enc: boolean } | null {
  if (!path.startsWith(`${SECRETS_DIR}/`)) return null;
  const rest = path.slice(SECRETS_DIR.length + 1);
  if (rest.endsWith(".enc")) return { secret: rest.slice(0, -4), enc: true };
  if (rest.endsWith(".meta")) return { secret: rest.slice(0, -5), enc: false };
  return null;
}

function fileProblem(statement: Statement, path: string, bytes: Buffer | null): string | null {
  const rel = policyName(path) ?? path;
  const expected = statement.files.get(rel);
  if (expected !== undefined && bytes) {
    return sha256Hex(bytes) === expected ? null : `${path} was changed after the owner signed the vault`;
  }
  if (expected !== undefined) return `${path} was deleted after the owner signed the vault`;
  if (bytes) return `${path} was added after the owner signed the vault`;
  return null;
}

/**
 * For one `get`: every signed policy file is exactly as signed, no file was added under
 * `agents/`, and the secret's files match its shard (a signed secret that is missing is
 * tampering, not "not found").
 */
export async function verifyForGet(
  source: Source,
  statement: Statement,
  secret: string,
  enc: Buffer | null,
  meta: Buffer | null,
): Promise<void> {
  const names = [...statement.files.keys()];
  const contents = await source.read(names.map((n) => `${VAULT_DIR}/${n}`));
  names.forEach((name, i) => {
    const problem = fileProblem(statement, `${VAULT_DIR}/${name}`, contents[i] ?? null);
    if (problem) throw new IntegrityError(`${problem}; ${ASK_OWNER}`);
  });
  for (const path of await source.list(AGENTS_DIR)) {
    const rel = policyName(path) ?? path;
    if (!statement.files.has(rel)) {
      throw new IntegrityError(`${path} was added after the owner signed the vault; ${ASK_OWNER}`);
    }
  }
  const shard = await readShard(source, statement, shardName(secret));
  const signed = shard.get(secret);
  if (!signed) {
    if (enc || meta) {
      throw new IntegrityError(
        `secret '${secret}' was added after the owner signed the vault (it is not in the signed state); ${ASK_OWNER}`,
      );
    }
    return;
  }
  if (!enc || !meta) {
    throw new IntegrityError(`secret '${secret}' was deleted after the owner signed the vault; ${ASK_OWNER}`);
  }
  if (sha256Hex(enc) !== signed[0]) {
    throw new IntegrityError(
      `the ciphertext of '${secret}' is not the one the owner signed (replaced or rolled back); do not use it, ask the vault owner to run \`agent-vault verify\``,
    );
  }
  if (sha256Hex(meta) !== signed[1]) {
    throw new IntegrityError(
      `the metadata of '${secret}' is not what the owner signed (edited or rolled back); ${ASK_OWNER}`,
    );
  }
}

/**
 * For listings: every difference between the vault and the statement (like the CLI's
 * `integrity::verify_all`). Empty means the vault is exactly what was signed.
 */
export async function verifyAll(source: Source, statement: Statement): Promise<string[]> {
  const problems: string[] = [];
  const all = await source.list(VAULT_DIR);
  const policy = new Map<string, string>();
  const secretPaths: string[] = [];
  const shardFiles: string[] = [];
  for (const path of all) {
    const rel = policyName(path);
    if (rel !== null) policy.set(rel, path);
    else if (secretOf(path)) secretPaths.push(path);
    else if (path.startsWith(`${SHARDS_DIR}/`)) shardFiles.push(path.slice(SHARDS_DIR.length + 1));
    else if (path !== STATEMENT_PATH) problems.push(`${path}: unexpected file in the vault (not covered by the signature)`);
  }
  const policyPaths = [...policy.values()];
  const policyBytes = await source.read(policyPaths);
  policyPaths.forEach((path, i) => {
    const problem = fileProblem(statement, path, policyBytes[i] ?? null);
    if (problem) problems.push(problem);
  });
  for (const rel of [...statement.files.keys()].sort(compareBytes)) {
    if (!policy.has(rel)) problems.push(`${VAULT_DIR}/${rel} was deleted after the owner signed the vault`);
  }
  const signed: Shard = new Map();
  for (const name of [...statement.shards.keys()].sort(compareBytes)) {
    try {
      for (const [k, v] of await readShard(source, statement, name)) signed.set(k, v);
    } catch (e) {
      if (!(e instanceof IntegrityError)) throw e;
      problems.push(e.message.replace(`; ${ASK_OWNER}`, ""));
    }
  }
  for (const name of shardFiles) {
    if (!statement.shards.has(name)) problems.push(`${shardPath(name)}: shard not listed in the signed statement`);
  }
  const found = new Map<string, { enc: Buffer | null; meta: Buffer | null }>();
  const secretBytes = await source.read(secretPaths);
  secretPaths.forEach((path, i) => {
    const of = secretOf(path) as { secret: string; enc: boolean };
    const entry = found.get(of.secret) ?? { enc: null, meta: null };
    if (of.enc) entry.enc = secretBytes[i] ?? null;
    else entry.meta = secretBytes[i] ?? null;
    found.set(of.secret, entry);
  });
  for (const secret of [...found.keys()].sort(compareBytes)) {
    const { enc, meta } = found.get(secret) as { enc: Buffer | null; meta: Buffer | null };
    const hashes = signed.get(secret);
    if (!hashes) {
      problems.push(`secret '${secret}' was added after the owner signed the vault`);
      continue;
    }
    if (!enc) problems.push(`the ciphertext of '${secret}' was deleted`);
    else if (sha256Hex(enc) !== hashes[0]) {
      problems.push(`the ciphertext of '${secret}' is not the one the owner signed (replaced or rolled back)`);
    }
    if (!meta) problems.push(`the metadata of '${secret}' was deleted`);
    else if (sha256Hex(meta) !== hashes[1]) {
      problems.push(`the metadata of '${secret}' is not what the owner signed (edited or rolled back)`);
    }
  }
  for (const secret of [...signed.keys()].sort(compareBytes)) {
    if (!found.has(secret)) problems.push(`secret '${secret}' was deleted after the owner signed the vault`);
  }
  return problems;
}
