/**
 * The vault tree of one commit, read from git objects (docs/format.md, "The vault tree: what
 * may be in it"). Every byte of the repository is written by an attacker until its digest is
 * verified, so the walk refuses — as an {@link IntegrityError} naming the escaped path —
 * anything a writer never makes: symlinks, submodules, executable files, bad names, a tree
 * deeper than 128 levels or holding more than 1,000,000 entries, stray files under `secrets/`
 * and `integrity/`, and blobs larger than their cap, whose size is read from the object header
 * before any content. Walks are iterative: no input can overflow the stack.
 */
import { IntegrityError } from "./errors.js";
import type { ObjectReader } from "./git.js";
import { isSecretPath } from "./names.js";
import { escapeControl, showBytes } from "./text.js";

/** The vault folder at the repository root. */
export const VAULT_DIR = ".agent-vault";
/** Deepest entry below `.agent-vault/`, in path components. */
export const MAX_DEPTH = 128;
/** Most entries a vault tree may hold. */
export const MAX_ENTRIES = 1_000_000;
/** Largest tree object read (a legitimate vault's trees are far smaller). */
const MAX_TREE_BYTES = 64 << 20;

const MiB = 1 << 20;

/** The size cap of a vault file (path relative to `.agent-vault/`). */
export function capFor(rel: string): number {
  if (rel === "integrity/statement") return 4 * MiB;
  if (rel.startsWith("integrity/shards/")) return 16 * MiB;
  if (rel === "manifest.yaml") return 64 * MiB;
  if (rel.startsWith("secrets/") && rel.endsWith(".enc")) return 64 * MiB;
  return MiB;
}

/** `.agent-vault/<rel>`, escaped for messages. */
export function shownPath(rel: string): string {
  return escapeControl(rel === "" ? VAULT_DIR : `${VAULT_DIR}/${rel}`);
}

const ASK = "do not trust it; ask the vault owner to run `agent-vault verify`";

function refuse(rel: string, why: string): IntegrityError {
  return new IntegrityError(`${shownPath(rel)}: ${why}; ${ASK}`);
}

const SHARD_FILE = /^integrity\/shards\/[0-9a-f]{2}$/;

/** What a walk covers: everything, or what one `get` needs. */
export type Scope = { readonly kind: "all" } | { readonly kind: "secret"; readonly path: string };

/** The files and folders a walk found, relative to `.agent-vault/`. */
export class Walk {
  /** File path → blob id. */
  readonly files = new Map<string, string>();
  /** Folder paths. */
  readonly trees = new Set<string>();

  /**
   * The blob id of a file, or `null` when it is absent (some folder on its path is missing or
   * a file). A folder where a file is expected is an integrity failure.
   */
  lookup(rel: string): string | null {
    if (this.trees.has(rel)) throw refuse(rel, "is a folder where the format has a file");
    return this.files.get(rel) ?? null;
  }
}

/** One commit's `.agent-vault` tree, read through an {@link ObjectReader}. */
export class Snapshot {
  #vault: Promise<string | null> | null = null;

  /**
   * @param objects - reads the repository's objects
   * @param commit - the commit id (40 or 64 hex digits)
   * @param label - what it is, for messages (`HEAD`, `origin/main`)
   */
  constructor(
    readonly objects: ObjectReader,
    readonly commit: string,
    readonly label: string,
  ) {}

  get #hashLength(): number {
    return this.commit.length / 2;
  }

  /**
   * The id of the commit's `.agent-vault` tree, or `null` when the commit has none (no vault).
   * An `.agent-vault` that is not a tree (a symlink, a file, a submodule) is an integrity
   * failure.
   */
  vaultTree(): Promise<string | null> {
    this.#vault ??= (async () => {
      const [root] = await this.objects.info([`${this.commit}^{tree}`]);
      if (!root) throw new IntegrityError(`git: commit ${this.commit} has no tree`);
      const entries = await this.#readTree("", root.oid);
      const found = entries.filter((e) => e.name.length === VAULT_DIR.length && e.name.toString("latin1") === VAULT_DIR);
      const [vault] = found;
      if (!vault) return null;
      if (found.length > 1) throw refuse("", "appears twice in the commit's tree (a tree git itself calls broken)");
      if (vault.mode !== "40000") throw refuse("", `is ${describeMode(vault.mode)}, not a folder`);
      return vault.oid;
    })();
    this.#vault.catch(() => (this.#vault = null));
    return this.#vault;
  }

  /** Walks `.agent-vault/` (all of it, or what a `get` of one secret needs), checking the rules. */
  async walk(scope: Scope): Promise<Walk> {
    const vault = await this.vaultTree();
    const walk = new Walk();
    if (vault === null) return walk;
    walk.trees.add("");
    let count = 0;
    let frontier: Array<{ rel: string; oid: string; depth: number }> = [{ rel: "", oid: vault, depth: 0 }];
    while (frontier.length > 0) {
      const trees = await this.#readTrees(frontier);
      const next: typeof frontier = [];
      frontier.forEach((tree, i) => {
        const entries = trees[i] ?? [];
        checkOrder(tree.rel, entries);
        for (const entry of entries) {
          count++;
          const name = checkName(tree.rel, entry.name);
          const rel = tree.rel === "" ? name : `${tree.rel}/${name}`;
          if (count > MAX_ENTRIES) throw refuse(rel, `the vault holds more than ${MAX_ENTRIES} entries`);
          const depth = tree.depth + 1;
          if (depth > MAX_DEPTH) throw refuse(rel, `the vault is more than ${MAX_DEPTH} levels deep`);
          if (entry.mode === "40000") {
            checkFolder(rel);
            walk.trees.add(rel);
            if (descends(scope, rel)) next.push({ rel, oid: entry.oid, depth });
          } else if (entry.mode === "100644") {
            checkFile(rel);
            walk.files.set(rel, entry.oid);
          } else {
            throw refuse(rel, `is ${describeMode(entry.mode)}: a vault holds only regular files and folders`);
          }
        }
      });
      frontier = next;
    }
    return walk;
  }

  /**
   * The contents of files found by `walk` (`null` when absent), after checking each is a blob
   * no larger than its cap — on the size in the object header, before any content is read.
   */
  async read(walk: Walk, rels: readonly string[]): Promise<Array<Buffer | null>> {
    const oids = await this.#checkBlobs(walk, rels);
    const present = oids.filter((o): o is string => o !== null);
    const bytes = await this.objects.contents(present, largestCap(rels));
    let i = 0;
    return oids.map((o) => (o === null ? null : (bytes[i++] ?? null)));
  }

  /** Like {@link Snapshot.read}, but the SHA-256 hex of each file, streamed (nothing kept). */
  async sha256(walk: Walk, rels: readonly string[]): Promise<Array<string | null>> {
    const oids = await this.#checkBlobs(walk, rels);
    const present = oids.filter((o): o is string => o !== null);
    const digests = await this.objects.sha256(present, largestCap(rels));
    let i = 0;
    return oids.map((o) => (o === null ? null : (digests[i++] ?? null)));
  }

  async #checkBlobs(walk: Walk, rels: readonly string[]): Promise<Array<string | null>> {
    const oids = rels.map((rel) => walk.lookup(rel));
    const present = oids.filter((o): o is string => o !== null);
    const infos = await this.objects.info(present);
    let i = 0;
    rels.forEach((rel, k) => {
      if (oids[k] === null) return;
      const info = infos[i++];
      if (!info) throw refuse(rel, "its git object is missing (a damaged or shallow clone)");
      if (info.type !== "blob") throw refuse(rel, `is a git ${escapeControl(info.type)}, not a file`);
      if (info.size > capFor(rel)) {
        throw refuse(rel, `is ${info.size} bytes, more than the ${capFor(rel)} a vault file of its kind may hold`);
      }
    });
    return oids;
  }

  async #readTrees(trees: ReadonlyArray<{ rel: string; oid: string }>): Promise<TreeEntry[][]> {
    const infos = await this.objects.info(trees.map((t) => t.oid));
    trees.forEach((t, i) => {
      const info = infos[i];
      if (!info) throw refuse(t.rel, "its git object is missing (a damaged or shallow clone)");
      if (info.type !== "tree") throw refuse(t.rel, `is a git ${escapeControl(info.type)}, not a folder`);
      if (info.size > MAX_TREE_BYTES) throw refuse(t.rel, `its git tree is larger than ${MAX_TREE_BYTES} bytes`);
    });
    const contents = await this.objects.contents(
      trees.map((t) => t.oid),
      MAX_TREE_BYTES,
    );
    return trees.map((t, i) => parseTree(t.rel, contents[i] ?? Buffer.alloc(0), this.#hashLength));
  }

  async #readTree(rel: string, oid: string): Promise<TreeEntry[]> {
    const [entries] = await this.#readTrees([{ rel, oid }]);
    return entries ?? [];
  }
}

interface TreeEntry {
  readonly mode: string;
  readonly name: Buffer;
  readonly oid: string;
}

/** Parses a git tree object: `<mode> <name>\0<raw id>` repeated. */
function parseTree(rel: string, bytes: Buffer, hashLength: number): TreeEntry[] {
  const out: TreeEntry[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const space = bytes.indexOf(0x20, pos);
    const nul = space < 0 ? -1 : bytes.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + hashLength > bytes.length) throw refuse(rel, "its git tree is malformed");
    out.push({
      mode: bytes.toString("latin1", pos, space),
      name: bytes.subarray(space + 1, nul),
      oid: bytes.toString("hex", nul + 1, nul + 1 + hashLength),
    });
    pos = nul + 1 + hashLength;
  }
  return out;
}

/**
 * Git's own rule for a tree (what \`git fsck\` checks): entries sorted by name, a folder's name
 * compared as if it ended in \`/\`, and no name twice. A writer never makes anything else, and a
 * tree that breaks it can show one entry to a lookup and another to a walk.
 */
function checkOrder(rel: string, entries: readonly TreeEntry[]): void {
  const names = new Set<string>();
  let previous: Buffer | null = null;
  for (const e of entries) {
    const key = e.mode === "40000" ? Buffer.concat([e.name, Buffer.from("/")]) : e.name;
    const name = e.name.toString("latin1");
    if (names.has(name)) throw refuse(rel, `holds two entries named ${escapeControl(showBytes(e.name))}`);
    names.add(name);
    if (previous !== null && Buffer.compare(previous, key) >= 0) {
      throw refuse(rel, "its git tree is not sorted (a tree git itself calls broken; no agent-vault writer makes one)");
    }
    previous = key;
  }
}

function describeMode(mode: string): string {
  switch (mode) {
    case "120000":
      return "a symbolic link";
    case "160000":
      return "a submodule";
    case "100755":
      return "an executable file";
    case "40000":
      return "a folder";
    case "100644":
      return "a file";
    default:
      return `an entry of git mode ${escapeControl(mode)}`;
  }
}

/** Checks an entry name's bytes (UTF-8, 1–255 bytes, no control character, not `.`/`..`). */
function checkName(dir: string, raw: Buffer): string {
  const where = (shown: string) => (dir === "" ? shown : `${dir}/${shown}`);
  if (raw.length === 0 || raw.length > 255) throw refuse(where(showBytes(raw)), "an entry name must be 1 to 255 bytes");
  let name: string;
  try {
    name = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw refuse(where(showBytes(raw)), "an entry name is not valid UTF-8");
  }
  if (/[\u0000-\u001f\u007f/]/.test(name)) throw refuse(where(name), "an entry name holds a control character or `/`");
  if (name === "." || name === "..") throw refuse(where(name), "an entry is named `.` or `..`");
  return name;
}

/** Under `integrity/`, the only folder is `shards`, and it holds only files. */
function checkFolder(rel: string): void {
  if (rel.startsWith("integrity/") && rel !== "integrity/shards") {
    throw refuse(rel, "unexpected folder in integrity/ (only statement and shards/<xx> belong there)");
  }
}

/** Files under `secrets/` and `integrity/` must be what the format puts there. */
function checkFile(rel: string): void {
  if (rel.startsWith("secrets/")) {
    const rest = rel.slice("secrets/".length);
    const secret = rest.endsWith(".enc") ? rest.slice(0, -4) : rest.endsWith(".meta") ? rest.slice(0, -5) : null;
    if (secret === null || !isSecretPath(secret)) {
      throw refuse(rel, "unexpected file in secrets/ (only <secret path>.enc and .meta belong there)");
    }
  } else if (rel.startsWith("integrity/")) {
    if (rel !== "integrity/statement" && !SHARD_FILE.test(rel)) {
      throw refuse(rel, "unexpected file in integrity/ (only statement and shards/<xx> belong there)");
    }
  }
}

/** Whether a walk of `scope` reads the folder `rel`. */
function descends(scope: Scope, rel: string): boolean {
  if (scope.kind === "all" || rel === "secrets" || !rel.startsWith("secrets/")) return true;
  return scope.path.startsWith(`${rel.slice("secrets/".length)}/`);
}

/** The largest cap among `rels` (a loop: a spread of many arguments would overflow the stack). */
function largestCap(rels: readonly string[]): number {
  let max = 0;
  for (const rel of rels) max = Math.max(max, capFor(rel));
  return max;
}
