/**
 * age decryption with `age-encryption` (typage), imported lazily: loading it costs a few
 * hundred milliseconds, which listing secrets never needs to pay. Accepts binary and
 * ASCII-armored age files. Plaintext only ever lives in memory.
 */
import { FormatError, NotAuthorizedError } from "./errors.js";
import type { LoadedIdentities } from "./keys.js";

type Age = typeof import("age-encryption");

let agePromise: Promise<Age> | null = null;

function loadAge(): Promise<Age> {
  agePromise ??= import("age-encryption");
  return agePromise;
}

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const NO_MATCH = "no identity matched any of the file's recipients";

/** A decrypter holding the identities of one key source. */
export interface Decrypter {
  /** Where the identities came from, for messages. */
  readonly origin: string;
  /** Decrypts `ciphertext` (the file `file`, for messages) of the secret `what`. */
  decrypt(ciphertext: Uint8Array, file: string, what: string): Promise<Uint8Array>;
}

/** Builds a decrypter; a malformed identity is a {@link FormatError} naming its line only. */
export async function makeDecrypter(loaded: LoadedIdentities): Promise<Decrypter> {
  const age = await loadAge();
  const decrypter = new age.Decrypter();
  for (const { line, value } of loaded.identities) {
    try {
      decrypter.addIdentity(value);
      // addIdentity only checks the prefix; deriving the recipient validates the key.
      await age.identityToRecipient(value);
    } catch {
      throw new FormatError(`${loaded.origin}: line ${line} is not a valid age identity`);
    }
  }
  const origin = loaded.origin;
  return {
    origin,
    async decrypt(ciphertext, file, what) {
      let binary = ciphertext;
      const head = Buffer.from(ciphertext.subarray(0, 200)).toString("latin1").trimStart();
      const corrupt = (reason: string): FormatError =>
        new FormatError(
          `${file}: not a valid age ciphertext (${reason}); restore it from git history (\`git log -- ${file}\`) or set the secret again`,
        );
      if (head.startsWith(ARMOR_BEGIN)) {
        try {
          binary = age.armor.decode(Buffer.from(ciphertext).toString("latin1"));
        } catch (e) {
          throw corrupt(e instanceof Error ? e.message : String(e));
        }
      }
      try {
        return await decrypter.decrypt(binary);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (message === NO_MATCH) {
          throw new NotAuthorizedError(
            `access denied: ${origin} cannot decrypt '${what}'; ask the vault owner to run \`agent-vault grant <agent> <group>\``,
          );
        }
        throw corrupt(message);
      }
    },
  };
}
