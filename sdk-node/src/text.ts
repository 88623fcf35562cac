/**
 * Text decoding as the CLI and the Python SDK do it: strict UTF-8 that keeps a leading byte
 * order mark (U+FEFF) as part of the text, and trimming that does not treat U+FEFF as
 * white space (JavaScript's `String.prototype.trim` does; Rust's and Python's do not).
 */

/** Decodes strict UTF-8, keeping a leading BOM; throws a `TypeError` on invalid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

// Unicode White_Space (what Rust's `str::trim` removes), which leaves out U+FEFF.
const WS = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const LEADING = new RegExp(`^${WS}+`);
const TRAILING = new RegExp(`${WS}+$`);

/** `text` without leading and trailing white space; a BOM is not white space. */
export function trimText(text: string): string {
  return text.replace(LEADING, "").replace(TRAILING, "");
}

/** `text` without leading white space; a BOM is not white space. */
export function trimStartText(text: string): string {
  return text.replace(LEADING, "");
}
