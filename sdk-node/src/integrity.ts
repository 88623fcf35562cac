/**
 * Verifying a vault's contents against its statement (docs/format.md, "Verifying the
 * contents"). These functions are the only way the SDK obtains bytes of a signed vault: they
 * hand out a file's bytes only after its SHA-256 matched what the owner signed, so nothing is
 * parsed, printed or decrypted before its digest is checked.
 *
 * One `get` hashes the policy files, one shard and the secret's two files; a listing hashes
 * everything (ciphertexts streamed, never kept).
 */
import { IntegrityError } from "./errors.js";
import { isSecretPath } from "./names.js";
import { ASK_OWNER, sha256Hex, type Statement } from "./statement.js";
import { compareBytes, decodeUtf8, escapeControl } from "./text.js";
import { shownPath, type Snapshot, type Walk } from "./tree.js";

const ZEROS = "0".repeat(64);

/** The shard of a secret path: hex of the first byte of SHA-256 of the path. */
export function shardName(secret: string): string {
  return sha256Hex(Buffer.from(secret, "utf8")).slice(0, 2);
}

/** `secrets/<path>.enc`, relative to `.agent-vault/`. */
export const encRel = (secret: string): string => `secrets/${secret}.enc`;
/** `secrets/<path>.meta`, relative to `.agent-vault/`. */
export const metaRel = (secret: string): string => `secrets/${secret}.meta`;
/** `integrity/shards/<xx>`, relative to `.agent-vault/`. */
export const shardRel = (name: string): string => `integrity/shards/${name}`;

/** Whether a file (relative to `.agent-vault/`) is a policy file: not under secrets/ or integrity/. */
export function isPolicyFile(rel: string): boolean {
  return !rel.startsWith("secrets/") && !rel.startsWith("integrity/");
}

/** Secret path → [SHA-256 hex of `.enc`, of `.meta`] (64 zeros for a missing file). */
export type Shard = Map<string, readonly [string, string]>;

/** Parses a shard file in exactly its canonical form. */
export function parseShard(name: string, bytes: Buffer): Shard {
  const bad = (why: string) => new IntegrityError(`${shownPath(shardRel(name))} ${why}; ${ASK_OWNER}`);
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch {
    throw bad("is not UTF-8 text");
  }
  if (text !== "" && !text.endsWith("\n")) throw bad("is not in canonical form (no final line break)");
  const shard: Shard = new Map();
  let previous: string | null = null;
  for (const line of text === "" ? [] : text.slice(0, -1).split("\n")) {
    const m = /^([0-9a-f]{64}) ([0-9a-f]{64}) (.+)$/s.exec(line);
    const path = m?.[3];
    if (!m || path === undefined || !isSecretPath(path) || shardName(path) !== name) {
      throw bad("is not in canonical form (a malformed line, or a secret of another shard)");
    }
    if (previous !== null && compareBytes(previous, path) >= 0) throw bad("is not in canonical form (lines out of order or repeated)");
    shard.set(path, [m[1] as string, m[2] as string]);
    previous = path;
  }
  return shard;
}

/** What a verification hands out: file (relative to `.agent-vault/`) → its verified bytes. */
export type Verified = ReadonlyMap<string, Buffer>;

function integrity(problem: string): IntegrityError {
  return new IntegrityError(`${problem}; ${ASK_OWNER}`);
}

function q(secret: string): string {
  return `'${escapeControl(secret)}'`;
}

/**
 * The SHA-256 of each of `rels` (`null` when absent), read in one batch: the files `keep`
 * selects are read whole (their bytes go to `out`), the others only hashed as they stream.
 */
async function digests(
  snapshot: Snapshot,
  walk: Walk,
  rels: readonly string[],
  keep: (rel: string) => boolean,
  out: Map<string, Buffer>,
): Promise<Map<string, string | null>> {
  const kept = rels.filter(keep);
  const hashed = rels.filter((r) => !keep(r));
  // Both in the same tick: git answers them in one buffered round trip.
  const [bytes, sums] = await Promise.all([snapshot.read(walk, kept), snapshot.sha256(walk, hashed)]);
  const result = new Map<string, string | null>();
  kept.forEach((rel, i) => {
    const b = bytes[i] ?? null;
    result.set(rel, b === null ? null : sha256Hex(b));
    if (b !== null) out.set(rel, b);
  });
  hashed.forEach((rel, i) => result.set(rel, sums[i] ?? null));
  return result;
}

/**
 * The shard file `name`, checked against its `shard` line (no line: empty, and then no file
 * either). `bytes` is the file as read (`undefined`: read it now).
 */
async function readShard(snapshot: Snapshot, walk: Walk, statement: Statement, name: string, bytes?: Buffer | null): Promise<Shard> {
  const rel = shardRel(name);
  const expected = statement.shards.get(name);
  const present = walk.lookup(rel) !== null;
  if (expected === undefined) {
    if (present) throw integrity(`${shownPath(rel)}: shard not listed in the signed statement`);
    return new Map();
  }
  if (!present) throw integrity(`${shownPath(rel)} is missing but the signed statement lists it`);
  const content = bytes === undefined ? (await snapshot.read(walk, [rel]))[0] : bytes;
  if (!content || sha256Hex(content) !== expected) throw integrity(`${shownPath(rel)} was changed after the owner signed the vault`);
  return parseShard(name, content);
}

/** Every policy file is exactly as signed, and nothing outside secrets/ and integrity/ is unlisted. */
function policyProblems(walk: Walk, statement: Statement, sums: ReadonlyMap<string, string | null>): string[] {
  const problems: string[] = [];
  for (const [name, expected] of statement.files) {
    const sum = sums.get(name) ?? null;
    if (sum === null) problems.push(`${shownPath(name)} was deleted after the owner signed the vault`);
    else if (sum !== expected) problems.push(`${shownPath(name)} was changed after the owner signed the vault`);
  }
  for (const rel of walk.files.keys()) {
    if (isPolicyFile(rel) && !statement.files.has(rel)) {
      problems.push(`${shownPath(rel)} was added after the owner signed the vault (not covered by the signature)`);
    }
  }
  return problems;
}

function secretProblems(secret: string, signed: readonly [string, string] | undefined, enc: string | null, meta: string | null): string[] {
  if (!signed) {
    return enc !== null || meta !== null
      ? [`secret ${q(secret)} was added after the owner signed the vault (it is not in the signed state)`]
      : [];
  }
  if (enc === null && meta === null) return [`secret ${q(secret)} was deleted after the owner signed the vault`];
  const problems: string[] = [];
  if ((enc ?? ZEROS) !== signed[0]) {
    problems.push(`the ciphertext of ${q(secret)} is not the one the owner signed (replaced, deleted or rolled back)`);
  }
  if ((meta ?? ZEROS) !== signed[1]) {
    problems.push(`the metadata of ${q(secret)} is not what the owner signed (edited, deleted or rolled back)`);
  }
  return problems;
}

/**
 * For one `get`: the policy files, the secret's shard and its two files. Returns the verified
 * bytes of the secret's files and of the policy files in `keep` (e.g. `config.yaml`).
 */
export async function verifyForGet(
  snapshot: Snapshot,
  walk: Walk,
  statement: Statement,
  secret: string,
  keep: readonly string[],
): Promise<Verified> {
  const out = new Map<string, Buffer>();
  const policy = [...statement.files.keys()].filter((name) => walk.files.has(name) || walk.trees.has(name));
  const shard = shardRel(shardName(secret));
  const shardPresent = walk.files.has(shard) ? [shard] : [];
  const enc = encRel(secret);
  const meta = metaRel(secret);
  // One batch: the policy files (hashed, or kept), the secret's shard and its two files.
  const sums = await digests(snapshot, walk, [...policy, ...shardPresent, enc, meta], (r) => !isPolicyFile(r) || keep.includes(r), out);
  const [first] = policyProblems(walk, statement, sums);
  if (first) throw integrity(first);
  const shardBytes = out.get(shard) ?? null;
  out.delete(shard);
  const entries = await readShard(snapshot, walk, statement, shardName(secret), shardBytes);
  const [problem] = secretProblems(secret, entries.get(secret), sums.get(enc) ?? null, sums.get(meta) ?? null);
  if (problem) throw integrity(problem);
  return out;
}

/** At most this many differences are listed in one message. */
const MAX_PROBLEMS = 40;

/**
 * For listings: the whole vault — every policy file, shard and secret, no unlisted shard, no
 * secret outside the shards. Returns the verified bytes of the files `keep` selects
 * (ciphertexts are only hashed, streamed). Throws one {@link IntegrityError} listing the
 * differences.
 */
export async function verifyAll(
  snapshot: Snapshot,
  walk: Walk,
  statement: Statement,
  keep: (rel: string) => boolean,
): Promise<Verified> {
  const out = new Map<string, Buffer>();
  // Everything in one batch: policy files, shards (read whole) and secrets' files.
  const shardFiles = [...walk.files.keys()].filter((r) => r.startsWith("integrity/shards/"));
  const secretFiles = [...walk.files.keys()].filter((r) => r.startsWith("secrets/"));
  const policy = [...walk.files.keys()].filter(isPolicyFile);
  const shardBytes = new Map<string, Buffer>();
  const sums = await digests(
    snapshot,
    walk,
    [...policy, ...shardFiles, ...secretFiles],
    (r) => r.startsWith("integrity/") || ((isPolicyFile(r) || r.endsWith(".meta")) && keep(r)),
    out,
  );
  for (const rel of shardFiles) {
    const b = out.get(rel);
    out.delete(rel);
    if (b) shardBytes.set(rel, b);
  }
  const problems = policyProblems(walk, statement, sums);

  const signed: Shard = new Map();
  for (const name of statement.shards.keys()) {
    try {
      const rel = shardRel(name);
      for (const [k, v] of await readShard(snapshot, walk, statement, name, shardBytes.get(rel) ?? null)) signed.set(k, v);
    } catch (e) {
      if (!(e instanceof IntegrityError)) throw e;
      problems.push(e.message.replace(`; ${ASK_OWNER}`, ""));
    }
  }
  for (const rel of shardFiles) {
    const name = rel.slice("integrity/shards/".length);
    if (!statement.shards.has(name)) problems.push(`${shownPath(rel)}: shard not listed in the signed statement`);
  }

  const found = new Set<string>();
  for (const rel of secretFiles) found.add(rel.slice("secrets/".length).replace(/\.(enc|meta)$/, ""));
  for (const secret of [...new Set([...found, ...signed.keys()])].sort(compareBytes)) {
    problems.push(
      ...secretProblems(secret, signed.get(secret), sums.get(encRel(secret)) ?? null, sums.get(metaRel(secret)) ?? null),
    );
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > MAX_PROBLEMS) shown.push(`… and ${problems.length - MAX_PROBLEMS} more`);
    throw new IntegrityError(`the vault differs from what the owner signed:\n  ${shown.join("\n  ")}\nDo not trust it; ask the vault owner to run \`agent-vault verify\``);
  }
  return out;
}
