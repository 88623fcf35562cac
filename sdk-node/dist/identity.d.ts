/** Decodes Bech32 (all lower or all upper case); `null` if invalid. */
export declare function bech32Decode(text: string): {
    hrp: string;
    data: Buffer;
} | null;
/** Encodes Bech32 in lower case. */
export declare function bech32Encode(hrp: string, data: Uint8Array): string;
/** An X25519 identity: its canonical (upper-case) text and its recipient. */
export interface Identity {
    /** `AGE-SECRET-KEY-1…` in upper case. */
    readonly text: string;
    /** The matching recipient, `age1…`. */
    readonly recipient: string;
}
/** Parses an `AGE-SECRET-KEY-1…` identity in either letter case; `null` if it is not one. */
export declare function parseIdentity(text: string): Identity | null;
