import type { Identity } from "./identity.js";
import type { PinUpdate, PinsData } from "./pins.js";
import { type Statement } from "./statement.js";
/** What the decision depends on besides the statement. */
export interface TrustContext {
    /** The anchor keys A (`ed25519:…`): explicit, `AGENT_VAULT_VERIFY_KEY`, or key-file comments. */
    readonly anchors: readonly string[];
    /** The identities in use (none for listings): an `owner` line of theirs can endorse the key. */
    readonly identities: readonly Identity[];
    /** The canonical location of the vault (real path of the working tree, or the URL). */
    readonly location: string;
    readonly pins: PinsData;
}
/** The outcome: the statement to verify the contents against (`null`: unsigned), what to pin, what to say. */
export interface TrustDecision {
    readonly statement: Statement | null;
    readonly update: PinUpdate | null;
    readonly warnings: readonly string[];
}
/** Applies the reader's rules; throws {@link IntegrityError} for every failure. */
export declare function decideTrust(bytes: Buffer | null, ctx: TrustContext): TrustDecision;
