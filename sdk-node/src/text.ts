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

/**
 * `text` with every control character (U+0000–U+001F, U+007F–U+009F) written as `\u{1b}`, so
 * that a name or value taken from the repository can be printed without a terminal
 * interpreting it. `keepNewlines` leaves `\n` as is (for multi-line messages this SDK wrote).
 */
export function escapeControl(text: string, keepNewlines = false): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 || (c >= 0x7f && c <= 0x9f)) && !(keepNewlines && c === 0x0a)) {
      out += `\\u{${c.toString(16)}}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Bytes shown as text for a message: invalid UTF-8 replaced, control characters escaped. */
export function showBytes(bytes: Uint8Array): string {
  return escapeControl(new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes));
}

/** Bytewise (UTF-8) order of strings, as the CLI sorts. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
