import type { LoadedIdentities } from "./keys.js";
/** Largest age header (after removing armor) and most recipient stanzas a reader accepts. */
export declare const MAX_HEADER_BYTES: number;
export declare const MAX_STANZAS = 4096;
/**
 * Checks the header of a binary age file without parsing it fully: its size (up to and
 * including the `---` MAC line) and its number of `->` stanzas. Throws a reason, or returns.
 */
export declare function checkHeaderLimits(file: Uint8Array): string | null;
/** A decrypter holding the identities of one key source. */
export interface Decrypter {
    /** Where the identities came from, for messages. */
    readonly origin: string;
    /** Decrypts `ciphertext` (the file `file`, for messages) of the secret `what`. */
    decrypt(ciphertext: Uint8Array, file: string, what: string): Promise<Uint8Array>;
}
/** Builds a decrypter from identities already validated by {@link parseIdentities}. */
export declare function makeDecrypter(loaded: LoadedIdentities): Promise<Decrypter>;
