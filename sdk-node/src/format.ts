/**
 * The vault's YAML files (docs/format.md): `config.yaml`, `manifest.yaml` and
 * `secrets/<path>.meta`. Unknown keys are ignored; malformed files are {@link FormatError}s
 * that name the file and say how to recover.
 */
import { parse as parseYaml } from "yaml";

import { FormatError } from "./errors.js";
import { isName, isSecretPath } from "./names.js";
import { decodeUtf8 } from "./text.js";

/** The format version this SDK reads. */
export const FORMAT_VERSION = 1;
/** The vault folder at the repository root. */
export const VAULT_DIR = ".agent-vault";
/** Paths of the vault's files, relative to the repository root. */
export const CONFIG_PATH = `${VAULT_DIR}/config.yaml`;
export const MANIFEST_PATH = `${VAULT_DIR}/manifest.yaml`;
export const SECRETS_DIR = `${VAULT_DIR}/secrets`;
export const AGENTS_DIR = `${VAULT_DIR}/agents`;

/** `secrets/<path>.enc` for a validated secret path. */
export const encPath = (secret: string): string => `${SECRETS_DIR}/${secret}.enc`;
/** `secrets/<path>.meta` for a validated secret path. */
export const metaPath = (secret: string): string => `${SECRETS_DIR}/${secret}.meta`;
/** An agent's public key file. */
export const agentPublicKeyPath = (agent: string): string => `${AGENTS_DIR}/${agent}/public.key`;
/** An agent's escrowed identity. */
export const agentEscrowPath = (agent: string): string => `${AGENTS_DIR}/${agent}/private.key.escrow`;

type Mapping = Record<string, unknown>;

class Fields {
  constructor(
    private readonly path: string,
    private readonly map: Mapping,
  ) {}

  private bad(reason: string): never {
    throw new FormatError(
      `${this.path}: cannot parse (${reason}); restore it from git history (\`git log -p -- ${this.path}\`)`,
    );
  }

  string(key: string, where = ""): string {
    const v = this.map[key];
    if (typeof v !== "string") this.bad(`${where}\`${key}\` must be a string`);
    return v;
  }

  stringOr(key: string, fallback: string): string {
    return this.map[key] === undefined ? fallback : this.string(key);
  }

  optString(key: string, where = ""): string | null {
    const v = this.map[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") this.bad(`${where}\`${key}\` must be a string`);
    return v;
  }

  stringList(key: string, where = ""): string[] {
    const v = this.map[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string")) {
      this.bad(`${where}\`${key}\` must be a list of strings`);
    }
    return v;
  }

  mappingList(key: string): Fields[] {
    const v = this.map[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.bad(`\`${key}\` must be a list`);
    return v.map((item, i) => {
      if (item === null || typeof item !== "object" || Array.isArray(item)) {
        this.bad(`\`${key}[${i}]\` must be a mapping`);
      }
      return new Fields(this.path, item as Mapping);
    });
  }

  mapping(key: string): Fields | null {
    const v = this.map[key];
    if (v === undefined) return null;
    if (v === null || typeof v !== "object" || Array.isArray(v)) this.bad(`\`${key}\` must be a mapping`);
    return new Fields(this.path, v as Mapping);
  }

  version(): number {
    const v = this.map["version"];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      this.bad("`version` must be a non-negative integer");
    }
    if (v === 0 || v > FORMAT_VERSION) {
      throw new FormatError(
        `${this.path}: format version ${v} is not supported by this agent-vault SDK (it reads version ${FORMAT_VERSION}); upgrade the agent-vault package`,
      );
    }
    return v;
  }
}

function parseMapping(path: string, bytes: Uint8Array): Fields {
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch {
    throw new FormatError(
      `${path}: cannot parse (it is not UTF-8 text); restore it from git history (\`git log -p -- ${path}\`)`,
    );
  }
  let value: unknown;
  try {
    value = parseYaml(text, { version: "1.2", uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    // The parser's message quotes the text it read: give the position only.
    const pos = (e as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const reason = pos ? `invalid YAML at line ${pos.line}, column ${pos.col}` : "invalid YAML";
    throw new FormatError(
      `${path}: cannot parse (${reason}); restore it from git history (\`git log -p -- ${path}\`)`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new FormatError(
      `${path}: cannot parse (it is not a YAML mapping); restore it from git history (\`git log -p -- ${path}\`)`,
    );
  }
  return new Fields(path, value as Mapping);
}

/** Checks `config.yaml`: a known version and `encryption.format: age`. */
export function checkConfig(bytes: Uint8Array): void {
  const f = parseMapping(CONFIG_PATH, bytes);
  f.version();
  const encryption = f.mapping("encryption");
  const format = encryption?.string("format", "encryption.") ?? "age";
  if (format !== "age") {
    throw new FormatError(`${CONFIG_PATH}: the encryption format is not supported (only 'age' is)`);
  }
}

/** The parts of `manifest.yaml` readers use. */
export interface Manifest {
  readonly agents: ReadonlyArray<{ readonly name: string; readonly groups: readonly string[] }>;
  readonly groups: ReadonlyArray<{ readonly name: string; readonly secrets: readonly string[] }>;
}

const MANIFEST_SECTIONS: Readonly<Record<string, { readonly keys: readonly string[]; readonly list: string | null }>> = {
  owners: { keys: ["name", "public_key"], list: null },
  agents: { keys: ["name", "groups"], list: "groups" },
  groups: { keys: ["name", "secrets"], list: "secrets" },
};

/**
 * Parses the plain manifest layout writers produce (`version: N`, then `owners`/`agents`/
 * `groups` as block lists of `- name: …` mappings with block or empty lists) without a YAML
 * parser, which costs tens of milliseconds on a large manifest. Returns `null` for anything
 * else — unknown keys, quoting, comments, flow or nested values, a missing version — so the
 * full parser decides (and reports errors).
 */
export function parseSimpleManifest(bytes: Uint8Array): Manifest | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (text.includes("\uFFFD") || text.includes("\r") || text.includes("\t") || text.startsWith("\uFEFF")) return null;
  const seen = new Set<string>();
  const emptyFlow = new Set<string>();
  const out: { agents: Array<{ name: string; groups: string[] }>; groups: Array<{ name: string; secrets: string[] }> } = {
    agents: [],
    groups: [],
  };
  let version: number | null = null;
  let section: string | null = null;
  let item: Record<string, string | string[]> | null = null;
  let list: string[] | null = null;
  const items: Array<{ section: string; item: Record<string, string | string[]> }> = [];
  // A key of an item: `key: scalar`, `key: []` or `key:` opening a block list.
  const itemKey = (rest: string): boolean => {
    if (!item || !section) return false;
    const colon = rest.indexOf(":");
    if (colon <= 0) return false;
    const key = rest.slice(0, colon);
    const spec = MANIFEST_SECTIONS[section];
    if (!spec?.keys.includes(key) || key in item) return false;
    const value = rest.slice(colon + 1);
    list = null;
    if (key === spec.list) {
      if (value === " []") item[key] = [];
      else if (value === "") item[key] = list = [];
      else return false;
      return true;
    }
    if (!value.startsWith(" ")) return false;
    const scalar = simpleScalar(value.slice(1), true);
    if (scalar === undefined) return false;
    item[key] = scalar;
    return true;
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (list !== null && line.startsWith("  - ")) {
      const scalar = simpleScalar(line.slice(4), false);
      if (scalar === undefined) return null;
      (list as string[]).push(scalar);
      continue;
    }
    if (list !== null && (list as string[]).length === 0) return null; // `key:` alone is null in YAML
    list = null;
    if (line.startsWith("- ")) {
      if (section === null) return null;
      item = {};
      items.push({ section, item });
      if (!itemKey(line.slice(2))) return null;
      continue;
    }
    if (line.startsWith("  ") && !line.startsWith("   ")) {
      if (!itemKey(line.slice(2))) return null;
      continue;
    }
    // A top-level key.
    section = null;
    item = null;
    const m = /^(version|owners|agents|groups):(.*)$/.exec(line);
    if (!m || seen.has(m[1] as string)) return null;
    seen.add(m[1] as string);
    if (m[1] === "version") {
      if (!/^ [0-9]{1,9}$/.test(m[2] as string)) return null;
      version = Number(m[2]);
    } else if (m[2] === "") {
      section = m[1] as string;
    } else if (m[2] === " []") {
      emptyFlow.add(m[1] as string);
    } else {
      return null;
    }
  }
  if (list !== null && (list as string[]).length === 0) return null;
  if (version === null) return null;
  if (version === 0 || version > FORMAT_VERSION) return null; // the full parser words the error
  for (const { section: name, item: fields } of items) {
    const spec = MANIFEST_SECTIONS[name];
    if (!spec || typeof fields["name"] !== "string") return null;
    if (name === "owners") {
      if (typeof fields["public_key"] !== "string") return null;
    } else if (name === "agents") {
      out.agents.push({ name: fields["name"], groups: Array.isArray(fields["groups"]) ? fields["groups"] : [] });
    } else {
      out.groups.push({ name: fields["name"], secrets: Array.isArray(fields["secrets"]) ? fields["secrets"] : [] });
    }
  }
  // A section named but empty (`agents:` with no item) is null in YAML: the full parser decides.
  for (const name of seen) {
    if (name !== "version" && !emptyFlow.has(name) && !items.some((i) => i.section === name)) return null;
  }
  return out;
}

/** Parses `manifest.yaml`. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const simple = parseSimpleManifest(bytes);
  if (simple) return simple;
  const f = parseMapping(MANIFEST_PATH, bytes);
  f.version();
  for (const owner of f.mappingList("owners")) {
    owner.string("name", "owners[].");
    owner.string("public_key", "owners[].");
  }
  const agents = f.mappingList("agents").map((a) => ({
    name: a.string("name", "agents[]."),
    groups: a.stringList("groups", "agents[]."),
  }));
  const groups = f.mappingList("groups").map((g) => ({
    name: g.string("name", "groups[]."),
    secrets: g.stringList("secrets", "groups[]."),
  }));
  return { agents, groups };
}

/** The group whose folder agent-vault 0.1.0 stored single-segment secrets in. */
export const LEGACY_GROUP = "default";

/**
 * The single-segment secrets among `candidates` that an *unsigned* vault stores where
 * agent-vault 0.1.0 put them, `secrets/default/<secret>.*` (docs/format.md, "Vaults written by
 * agent-vault 0.1.0"): those the manifest lists while it does not list `default/<secret>`. The
 * caller applies it only when `secrets/<secret>.*` are both absent. A manifest that is missing
 * or does not parse as the CLI parses it (every name valid) moves nothing: the secret is then
 * simply not found, as with the CLI.
 */
export function legacySecrets(manifest: Uint8Array | null, candidates: readonly string[]): string[] {
  if (!manifest) return [];
  let parsed: Manifest;
  try {
    parsed = parseManifest(manifest);
  } catch {
    return [];
  }
  const names = [...parsed.agents.flatMap((a) => [a.name, ...a.groups]), ...parsed.groups.map((g) => g.name)];
  const listed = new Set(parsed.groups.flatMap((g) => g.secrets));
  if (!names.every(isName) || ![...listed].every(isSecretPath)) return [];
  return candidates.filter((s) => !s.includes("/") && listed.has(s) && !listed.has(`${LEGACY_GROUP}/${s}`));
}

/** A secret's `.meta` file. */
export interface SecretMeta {
  readonly name: string;
  readonly group: string;
  readonly created: string;
  readonly rotated: string | null;
  readonly expires: string | null;
  readonly authorizedAgents: readonly string[];
  readonly extraAgents: readonly string[];
}

const META_KEYS = new Set([
  "name",
  "group",
  "created",
  "rotated",
  "expires",
  "authorized_agents",
  "extra_agents",
  "recipients",
]);
const LIST_KEYS = new Set(["authorized_agents", "extra_agents"]);
const SAFE_PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./+:-]*$/;
const NOT_A_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+)$/;

/** A plain scalar with inner single spaces (an owner's name): no `: `, no ` #`, no trailing space. */
const SPACED_PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./+:@-]*(?: [A-Za-z0-9_./+@-][A-Za-z0-9_./+:@-]*)*$/;

/**
 * A scalar in the simple forms writers emit, or `undefined` when it needs the full parser.
 * `spaces` also allows single inner spaces (never `: ` or ` #`, which YAML reads otherwise).
 */
function simpleScalar(text: string, spaces = false): string | undefined {
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'") && !text.slice(1, -1).includes("'")) {
    return text.slice(1, -1);
  }
  const plain = spaces ? SPACED_PLAIN.test(text) && !text.includes(": ") : SAFE_PLAIN.test(text);
  if (plain && !text.endsWith(":") && !NOT_A_STRING.test(text)) return text;
  return undefined;
}

/**
 * Parses the plain `.meta` layout writers produce (`key: scalar` lines and `- item` block
 * lists) without a YAML parser, which is several times slower. Returns `null` for anything
 * else — unknown keys, quoting, comments, flow or nested values — so the full parser decides.
 */
function parseSimpleMeta(bytes: Uint8Array): Record<string, string | string[]> | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (text.includes("\uFFFD") || text.includes("\r")) return null;
  const out: Record<string, string | string[]> = {};
  let list: string[] | null = null;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("- ") && list !== null) {
      const item = simpleScalar(line.slice(2));
      if (item === undefined) return null;
      list.push(item);
      continue;
    }
    if (list !== null && list.length === 0) return null; // `key:` alone is null in YAML
    list = null;
    const colon = line.indexOf(":");
    if (colon <= 0) return null;
    const key = line.slice(0, colon);
    if (!META_KEYS.has(key) || key in out) return null;
    const rest = line.slice(colon + 1);
    if (LIST_KEYS.has(key)) {
      if (rest === " []") out[key] = [];
      else if (rest === "") out[key] = list = [];
      else return null;
      continue;
    }
    if (!rest.startsWith(" ")) return null;
    const value = simpleScalar(rest.slice(1));
    if (value === undefined) return null;
    out[key] = value;
  }
  return list !== null && list.length === 0 ? null : out;
}

/** Parses a `.meta` file found at `path`. */
export function parseMeta(path: string, bytes: Uint8Array): SecretMeta {
  const simple = parseSimpleMeta(bytes);
  if (simple !== null && typeof simple["name"] === "string" && typeof simple["group"] === "string") {
    const str = (k: string): string | null => (typeof simple[k] === "string" ? (simple[k] as string) : null);
    const list = (k: string): string[] => (Array.isArray(simple[k]) ? (simple[k] as string[]) : []);
    return {
      name: simple["name"],
      group: simple["group"],
      created: str("created") ?? "",
      rotated: str("rotated"),
      expires: str("expires"),
      authorizedAgents: list("authorized_agents"),
      extraAgents: list("extra_agents"),
    };
  }
  const f = parseMapping(path, bytes);
  const name = f.string("name");
  const group = f.string("group");
  return {
    name,
    group,
    created: f.stringOr("created", ""),
    rotated: f.optString("rotated"),
    expires: f.optString("expires"),
    authorizedAgents: f.stringList("authorized_agents"),
    extraAgents: f.stringList("extra_agents"),
  };
}
