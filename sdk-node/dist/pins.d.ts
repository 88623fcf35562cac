/** A remembered key and the highest sequence number seen with it. */
export interface Pin {
    readonly verifyKey: string;
    readonly seq: bigint;
}
/** The contents of `pins.json` (any version, read as version 2). */
export interface PinsData {
    readonly vaults: Map<string, Pin>;
    readonly locations: Map<string, string>;
    readonly legacy: Map<string, Pin>;
    /** Unknown top-level keys, preserved as read. */
    readonly extra: Map<string, unknown>;
}
/** A change to record (docs/format.md, "What a reader checks", step 8). */
export type PinUpdate = {
    readonly kind: "vault";
    readonly location: string;
    readonly vault: string;
    readonly pin: Pin;
} | {
    readonly kind: "legacy";
    readonly location: string;
    readonly pin: Pin;
};
/** Why a pin could not be written (lock not acquired, read-only home): worth a warning only. */
export declare class PinsUnwritable extends Error {
}
/** The pins of one key home. */
export declare class Pins {
    #private;
    /** `$AGENT_VAULT_HOME/pins.json`. */
    readonly path: string;
    constructor(home: string);
    /** Reads the pins; a missing file is empty. Throws {@link FormatError} for anything unreadable. */
    read(): Promise<PinsData>;
    /**
     * Applies `update` under the lock (re-reading first) and writes the file if anything
     * changed. Throws {@link PinsUnwritable} when the pin cannot be written (the caller warns),
     * {@link FormatError} when the file cannot be read or parsed.
     */
    record(update: PinUpdate): Promise<void>;
}
/** Applies a change; returns whether anything changed. A pin never moves backwards. */
export declare function apply(data: PinsData, update: PinUpdate): boolean;
