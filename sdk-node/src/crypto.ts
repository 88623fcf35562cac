/**
 * age decryption with `age-encryption` (typage), imported lazily: loading it costs a few
 * hundred milliseconds, which listing secrets never needs to pay. Accepts binary and
 * ASCII-armored age files, after refusing a header that is too large or holds too many
 * recipient stanzas (docs/format.md, "Decryption limits"). Plaintext only ever lives in memory.
 */
import { FormatError, NotAuthorizedError } from "./errors.js";
import type { LoadedIdentities } from "./keys.js";
import { escapeControl } from "./text.js";

type Age = typeof import("age-encryption");

let agePromise: Promise<Age> | null = null;

function loadAge(): Promise<Age> {
  agePromise ??= import("age-encryption").then((age) => {
    // Node creates its web streams (which age-encryption decrypts through) on first use:
    // touch them here, while the caller still waits for git.
    void globalThis.ReadableStream;
    return age;
  });
  return agePromise;
}

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const NO_MATCH = "no identity matched any of the file's recipients";
/** Largest age header (after removing armor) and most recipient stanzas a reader accepts. */
export const MAX_HEADER_BYTES = 1 << 20;
export const MAX_STANZAS = 4096;

/**
 * Checks the header of a binary age file without parsing it fully: its size (up to and
 * including the `---` MAC line) and its number of `->` stanzas. Throws a reason, or returns.
 */
export function checkHeaderLimits(file: Uint8Array): string | null {
  const intro = "age-encryption.org/v1\n";
  if (Buffer.from(file.subarray(0, intro.length)).toString("latin1") !== intro) return "not an age v1 file";
  let pos = intro.length;
  let stanzas = 0;
  for (;;) {
    const nl = file.indexOf(0x0a, pos);
    if (nl < 0 && file.length <= MAX_HEADER_BYTES) return "its header is truncated";
    if (nl < 0 || nl + 1 > MAX_HEADER_BYTES) return `its header is larger than ${MAX_HEADER_BYTES} bytes`;
    if (file[pos] === 0x2d && file[pos + 1] === 0x3e && file[pos + 2] === 0x20) {
      if (++stanzas > MAX_STANZAS) return `its header holds more than ${MAX_STANZAS} recipient stanzas`;
    } else if (file[pos] === 0x2d && file[pos + 1] === 0x2d && file[pos + 2] === 0x2d && file[pos + 3] === 0x20) {
      return null;
    }
    pos = nl + 1;
  }
}

/** A decrypter holding the identities of one key source. */
export interface Decrypter {
  /** Where the identities came from, for messages. */
  readonly origin: string;
  /** Decrypts `ciphertext` (the file `file`, for messages) of the secret `what`. */
  decrypt(ciphertext: Uint8Array, file: string, what: string): Promise<Uint8Array>;
}

/** Builds a decrypter from identities already validated by {@link parseIdentities}. */
export async function makeDecrypter(loaded: LoadedIdentities): Promise<Decrypter> {
  const age = await loadAge();
  const decrypter = new age.Decrypter();
  for (const { line, identity } of loaded.identities) {
    try {
      decrypter.addIdentity(identity.text);
    } catch {
      throw new FormatError(`${loaded.origin}: line ${line} is not a valid age identity`);
    }
  }
  const origin = loaded.origin;
  return {
    origin,
    async decrypt(ciphertext, file, what) {
      const shownFile = escapeControl(file);
      const corrupt = (reason: string): FormatError =>
        new FormatError(
          `${shownFile}: not a valid age ciphertext (${escapeControl(reason)}); restore it from git history (\`git log -- ${shownFile}\`) or set the secret again`,
        );
      let binary = ciphertext;
      const head = Buffer.from(ciphertext.subarray(0, 200)).toString("latin1").trimStart();
      if (head.startsWith(ARMOR_BEGIN)) {
        try {
          binary = age.armor.decode(Buffer.from(ciphertext).toString("latin1"));
        } catch (e) {
          throw corrupt(e instanceof Error ? e.message : String(e));
        }
      }
      const refused = checkHeaderLimits(binary);
      if (refused) throw corrupt(refused);
      try {
        return await decrypter.decrypt(binary);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (message === NO_MATCH) {
          throw new NotAuthorizedError(
            `access denied: ${origin} cannot decrypt '${escapeControl(what)}'; ask the vault owner to run \`agent-vault grant <agent> <group>\``,
          );
        }
        throw corrupt(message);
      }
    },
  };
}
