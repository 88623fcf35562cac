/**
 * Stored timestamps (docs/format.md, "Secrets"): RFC 3339 with any offset and an optional
 * fraction, `YYYY-MM-DD HH:MM:SS+HH:MM`, or a bare date (midnight UTC).
 */
/**
 * Parses a stored timestamp to milliseconds since the epoch, or `null` when it is not in a
 * form the format allows (such a secret is never considered expired, as in the CLI).
 */
export declare function parseStoredTime(value: string): number | null;
/** Whether a secret with this `expires` value is expired at `now` (at or before now). */
export declare function isExpired(expires: string | null, now?: number): boolean;
