import type { LoadedIdentities } from "./keys.js";
/** A decrypter holding the identities of one key source. */
export interface Decrypter {
    /** Where the identities came from, for messages. */
    readonly origin: string;
    /** Decrypts `ciphertext` (the file `file`, for messages) of the secret `what`. */
    decrypt(ciphertext: Uint8Array, file: string, what: string): Promise<Uint8Array>;
}
/** Builds a decrypter; a malformed identity is a {@link FormatError} naming its line only. */
export declare function makeDecrypter(loaded: LoadedIdentities): Promise<Decrypter>;
