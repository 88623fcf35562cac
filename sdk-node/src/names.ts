/**
 * Validation of secret paths and agent/group names (docs/format.md, "Names"). A secret path is
 * validated before it is mapped to a file name: this is what keeps `../../x` out.
 */
import { InvalidInputError } from "./errors.js";
import { escapeControl } from "./text.js";

const MAX_SECRET_PATH_LEN = 200;
const MAX_SEGMENT_LEN = 100;
const MAX_NAME_LEN = 64;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const PATH_RULE =
  "use `/`-separated segments of letters, digits, `_`, `.` and `-`, each starting with a letter, digit or `_` (e.g. `stripe/api-key`)";
const NAME_RULE =
  "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters";

/** The value as it may be echoed in a message: capped, with control characters escaped. */
function shown(value: string): string {
  return `"${escapeControl([...value].slice(0, 80).join(""))}"`;
}

/** Throws {@link InvalidInputError} unless `value` is a valid secret path; returns it. */
export function checkSecretPath(value: unknown): string {
  if (typeof value !== "string") {
    throw new InvalidInputError(`invalid secret path: expected a string, got ${typeof value}`);
  }
  const bad = (reason: string): never => {
    throw new InvalidInputError(`invalid secret path ${shown(value)}: ${reason}`);
  };
  if (value.length === 0) bad("it is empty");
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_PATH_LEN) {
    bad(`it is longer than ${MAX_SECRET_PATH_LEN} bytes`);
  }
  if (value.startsWith("/")) bad("it must not start with `/`");
  for (const segment of value.split("/")) {
    if (segment.length === 0) bad(`it has an empty segment; ${PATH_RULE}`);
    if (segment.length > MAX_SEGMENT_LEN) bad(`a segment is longer than ${MAX_SEGMENT_LEN} bytes`);
    if (!SEGMENT.test(segment)) bad(PATH_RULE);
    if (segment.endsWith(".enc") || segment.endsWith(".meta")) {
      bad("segments must not end in `.enc` or `.meta`");
    }
  }
  return value;
}

/** Whether `value` is a valid secret path (the same rules, without an error). */
export function isSecretPath(value: string): boolean {
  try {
    checkSecretPath(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether `value` is a valid agent or group name. */
export function isName(value: string): boolean {
  return value.length > 0 && value.length <= MAX_NAME_LEN && NAME.test(value);
}

/** Throws {@link InvalidInputError} unless `value` is a valid agent or group name. */
export function checkName(what: "agent name" | "group name", value: unknown): string {
  if (typeof value !== "string") {
    throw new InvalidInputError(`invalid ${what}: expected a string, got ${typeof value}`);
  }
  if (value.length === 0) throw new InvalidInputError(`invalid ${what} "": it is empty`);
  if (value.length > MAX_NAME_LEN || !NAME.test(value)) {
    throw new InvalidInputError(`invalid ${what} ${shown(value)}: ${NAME_RULE}`);
  }
  return value;
}
