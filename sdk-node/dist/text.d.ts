/**
 * Text decoding as the CLI and the Python SDK do it: strict UTF-8 that keeps a leading byte
 * order mark (U+FEFF) as part of the text, and trimming that does not treat U+FEFF as
 * white space (JavaScript's `String.prototype.trim` does; Rust's and Python's do not).
 */
/** Decodes strict UTF-8, keeping a leading BOM; throws a `TypeError` on invalid UTF-8. */
export declare function decodeUtf8(bytes: Uint8Array): string;
/** `text` without leading and trailing white space; a BOM is not white space. */
export declare function trimText(text: string): string;
/** `text` without leading white space; a BOM is not white space. */
export declare function trimStartText(text: string): string;
/**
 * `text` with every control character (U+0000–U+001F, U+007F–U+009F) written as `\u{1b}`, so
 * that a name or value taken from the repository can be printed without a terminal
 * interpreting it. `keepNewlines` leaves `\n` as is (for multi-line messages this SDK wrote).
 */
export declare function escapeControl(text: string, keepNewlines?: boolean): string;
/** Bytes shown as text for a message: invalid UTF-8 replaced, control characters escaped. */
export declare function showBytes(bytes: Uint8Array): string;
/** Bytewise (UTF-8) order of strings, as the CLI sorts. */
export declare function compareBytes(a: string, b: string): number;
