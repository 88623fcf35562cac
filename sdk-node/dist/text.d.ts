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
