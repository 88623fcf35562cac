/**
 * Stored timestamps (docs/format.md, "Secrets"): RFC 3339 with any offset and an optional
 * fraction, `YYYY-MM-DD HH:MM:SS+HH:MM`, or a bare date (midnight UTC).
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

/**
 * Parses a stored timestamp to milliseconds since the epoch, or `null` when it is not in a
 * form the format allows (such a secret is never considered expired, as in the CLI).
 */
export function parseStoredTime(value: string): number | null {
  const text = value.trim();
  const m = DATE_TIME.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
      number, number, number, number, number, number,
    ];
    if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 60) return null;
    let ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
    if (m[7] !== undefined) ms += Number(`0.${m[7]}`) * 1000;
    if (m[9] !== undefined) {
      const oh = Number(m[10]);
      const om = Number(m[11]);
      if (oh > 23 || om > 59) return null;
      const offset = (oh * 60 + om) * 60_000;
      ms += m[9] === "+" ? -offset : offset;
    }
    return ms;
  }
  const d = DATE_ONLY.exec(text);
  if (d) {
    const [y, mo, day] = [d[1], d[2], d[3]].map(Number) as [number, number, number];
    return validDate(y, mo, day) ? Date.UTC(y, mo - 1, day) : null;
  }
  return null;
}

/** Whether a secret with this `expires` value is expired at `now` (at or before now). */
export function isExpired(expires: string | null, now: number = Date.now()): boolean {
  if (expires === null) return false;
  const t = parseStoredTime(expires);
  return t !== null && t <= Math.floor(now / 1000) * 1000;
}
