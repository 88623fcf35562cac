/**
 * age X25519 identities and recipients (Bech32, BIP 173, without its length limit, as age uses
 * it), with `node:crypto` for the curve: validating a key and deriving its recipient needs no
 * age library, so nothing heavy is loaded before decryption.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i] ?? 0;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push((c.codePointAt(0) ?? 0) >> 5);
  out.push(0);
  for (const c of hrp) out.push((c.codePointAt(0) ?? 0) & 31);
  return out;
}

function convertBits(data: readonly number[], from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    return null;
  }
  return out;
}

/** Decodes Bech32 (all lower or all upper case); `null` if invalid. */
export function bech32Decode(text: string): { hrp: string; data: Buffer } | null {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return null;
  const lower = text.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep < 1 || sep + 7 > lower.length) return null;
  const hrp = lower.slice(0, sep);
  for (const c of hrp) {
    const code = c.codePointAt(0) ?? 0;
    if (code < 33 || code > 126) return null;
  }
  const values: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) return null;
    values.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...values]) !== 1) return null;
  const bytes = convertBits(values.slice(0, -6), 5, 8, false);
  return bytes ? { hrp, data: Buffer.from(bytes) } : null;
}

/** Encodes Bech32 in lower case. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const values = convertBits([...data], 8, 5, true) ?? [];
  const mod = polymod([...hrpExpand(hrp), ...values, 0, 0, 0, 0, 0, 0]) ^ 1;
  let out = `${hrp}1`;
  for (const v of values) out += CHARSET[v];
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >> (5 * (5 - i))) & 31];
  return out;
}

const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");

/** An X25519 identity: its canonical (upper-case) text and its recipient. */
export interface Identity {
  /** `AGE-SECRET-KEY-1…` in upper case. */
  readonly text: string;
  /** The matching recipient, `age1…`. */
  readonly recipient: string;
}

/** Parses an `AGE-SECRET-KEY-1…` identity in either letter case; `null` if it is not one. */
export function parseIdentity(text: string): Identity | null {
  const decoded = bech32Decode(text);
  if (!decoded || decoded.hrp !== "age-secret-key-" || decoded.data.length !== 32) return null;
  try {
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, decoded.data]), format: "der", type: "pkcs8" });
    const spki = createPublicKey(key).export({ format: "der", type: "spki" });
    return { text: text.toUpperCase(), recipient: bech32Encode("age", spki.subarray(spki.length - 32)) };
  } catch {
    return null;
  } finally {
    decoded.data.fill(0);
  }
}
