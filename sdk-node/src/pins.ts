/**
 * What this machine remembers about each vault it has read (docs/format.md, "Pins"): the
 * verify key it trusts for it and the highest statement sequence number it has seen, in
 * `$AGENT_VAULT_HOME/pins.json`, shared with the CLI:
 * `{"version": 1, "vaults": {"<location>": {"verify_key": "ed25519:…", "seq": 12}}}`.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

import { FormatError } from "./errors.js";
import { HOME_ENV } from "./keys.js";

/** One remembered vault. */
export interface Pin {
  readonly verifyKey: string;
  readonly seq: bigint;
}

const U64_MARK = "@@agent-vault-u64:";

type PinsFile = { version?: unknown; vaults?: Record<string, unknown>; [key: string]: unknown };

/** The pins of one key home. */
export class Pins {
  readonly path: string;

  constructor(home: string) {
    this.path = join(home, "pins.json");
  }

  #readFile(): PinsFile {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return { version: 1, vaults: {} };
      throw new FormatError(`cannot read ${this.path} (${code ?? String(e)}); check its permissions`, { cause: e });
    }
    const corrupt = (why: string) =>
      new FormatError(
        `${this.path}: cannot parse (${why}); fix or delete it (deleting forgets which vault keys this machine trusts)`,
      );
    let parsed: unknown;
    try {
      // Sequence numbers are u64: keep them exact (as bigint) past 2^53.
      parsed = JSON.parse(text.replace(/("seq"\s*:\s*)(\d{16,})(?=\s*[,}])/g, `$1"${U64_MARK}$2"`), (_k, v: unknown) =>
        typeof v === "string" && v.startsWith(U64_MARK) && /^\d+$/.test(v.slice(U64_MARK.length))
          ? BigInt(v.slice(U64_MARK.length))
          : v,
      );
    } catch (e) {
      throw corrupt(e instanceof Error ? e.message : String(e));
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw corrupt("not a JSON object");
    const file = parsed as PinsFile;
    if (file.vaults === undefined) file.vaults = {};
    if (typeof file.vaults !== "object" || file.vaults === null || Array.isArray(file.vaults)) {
      throw corrupt("`vaults` is not an object");
    }
    return file;
  }

  /** The pin for a vault location, if any. */
  get(location: string): Pin | null {
    const entry = (this.#readFile().vaults ?? {})[location];
    if (entry === undefined) return null;
    const pin = toPin(entry);
    if (!pin) {
      throw new FormatError(
        `${this.path}: the entry for ${location} is malformed; fix or delete it (deleting forgets which vault keys this machine trusts)`,
      );
    }
    return pin;
  }

  /**
   * Records `pin` for `location`, keeping the highest sequence number if the key is the same
   * (replacing the entry if it differs). Written atomically (temp file + rename); re-read
   * and retried if another process's write replaced ours in between.
   */
  record(location: string, pin: Pin): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      const file = this.#readFile();
      const vaults = file.vaults as Record<string, unknown>;
      const old = toPin(vaults[location]);
      const seq = old && old.verifyKey === pin.verifyKey && old.seq > pin.seq ? old.seq : pin.seq;
      const extra = old && old.verifyKey === pin.verifyKey ? (vaults[location] as object) : {};
      vaults[location] = { ...extra, verify_key: pin.verifyKey, seq };
      file.version = 1;
      this.#write(file);
      const now = toPin(this.#readFile().vaults?.[location]);
      if (now && now.verifyKey === pin.verifyKey && now.seq >= seq) return;
    }
  }

  #write(file: PinsFile): void {
    const dir = dirname(this.path);
    // Sequence numbers are bigint: write them as exact JSON numbers.
    const json = JSON.stringify(file, (_k, v: unknown) => (typeof v === "bigint" ? `${U64_MARK}${v}` : v), 2);
    const text = `${json.replace(new RegExp(`"${U64_MARK}(\\d+)"`, "g"), "$1")}\n`;
    const tmp = join(dir, `.pins.json.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
      renameSync(tmp, this.path);
    } catch (e) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // The folder may not exist or be usable: nothing to clean up.
      }
      const code = (e as NodeJS.ErrnoException).code;
      throw new FormatError(
        `cannot write ${this.path} (${code ?? String(e)}), where this machine records the vault keys it trusts; fix the permissions of ${dir} or set ${HOME_ENV} to a writable folder`,
        { cause: e },
      );
    }
  }
}

function toPin(entry: unknown): Pin | null {
  if (typeof entry !== "object" || entry === null) return null;
  const { verify_key: key, seq } = entry as { verify_key?: unknown; seq?: unknown };
  if (typeof key !== "string") return null;
  if (typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0) return { verifyKey: key, seq: BigInt(seq) };
  if (typeof seq === "bigint" && seq >= 0n) return { verifyKey: key, seq };
  return null;
}
