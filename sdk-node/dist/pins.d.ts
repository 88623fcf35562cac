/** One remembered vault. */
export interface Pin {
    readonly verifyKey: string;
    readonly seq: bigint;
}
/** The pins of one key home. */
export declare class Pins {
    #private;
    readonly path: string;
    constructor(home: string);
    /** The pin for a vault location, if any. */
    get(location: string): Pin | null;
    /**
     * Records `pin` for `location`, keeping the highest sequence number if the key is the same
     * (replacing the entry if it differs). Written atomically (temp file + rename); re-read
     * and retried if another process's write replaced ours in between.
     */
    record(location: string, pin: Pin): void;
}
