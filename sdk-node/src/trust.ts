/**
 * Which statement a reader trusts (docs/format.md, "Anchors" and "What a reader checks", steps
 * 2–6 and 8): a pure decision from the statement's bytes, the anchor keys, the identities in
 * use (for owner endorsements), this location and the pins. Verifying the contents (step 7)
 * and writing the pin are the caller's.
 */
import { IntegrityError } from "./errors.js";
import type { Identity } from "./identity.js";
import type { Pin, PinUpdate, PinsData } from "./pins.js";
import { ASK_OWNER, canFollow, isEndorsed, parseStatement, type Statement } from "./statement.js";
import { escapeControl } from "./text.js";

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

const ASK = ASK_OWNER.charAt(0).toUpperCase() + ASK_OWNER.slice(1);

/** Applies the reader's rules; throws {@link IntegrityError} for every failure. */
export function decideTrust(bytes: Buffer | null, ctx: TrustContext): TrustDecision {
  const { anchors, location, pins } = ctx;
  const where = escapeControl(location);
  if (bytes === null) {
    const pinned = pins.locations.has(location) || pins.legacy.has(location);
    if (anchors.length > 0 || pinned) {
      const expected = anchors.length > 0 ? `signed by ${anchors.join(" or ")}` : "signed (this machine has read it signed before)";
      throw new IntegrityError(
        `this vault should be ${expected} but has no signature (.agent-vault/integrity/statement is missing); someone with push access may have removed it. ${ASK}`,
      );
    }
    return {
      statement: null,
      update: null,
      warnings: [
        "this vault is unsigned, so tampering by anyone with push access would go unnoticed; ask the owner to review it and run `agent-vault sign`",
      ],
    };
  }
  const statement = parseStatement(bytes);
  const id = statement.vault;
  const key = statement.verifyKey.toString();
  const pinnedId = pins.locations.get(location);
  if (pinnedId !== undefined && pinnedId !== id) {
    throw new IntegrityError(
      id === null
        ? `another vault, or a downgrade: ${where} holds vault ${pinnedId} (its statements are version 2), but this statement is version 1 and names no vault. ${ASK}`
        : `another vault is at ${where}: this machine knows vault ${pinnedId} there, but the statement names vault ${id} (someone may have copied another vault's files over it). ${ASK}`,
    );
  }
  let pin: Pin | undefined;
  if (id === null) pin = pins.legacy.get(location);
  else pin = pins.vaults.get(id) ?? (pinnedId === undefined ? pins.legacy.get(location) : undefined);

  const endorsed = anchors.length === 0 && isEndorsed(statement, ctx.identities);
  const anchored = anchors.includes(key) || anchors.some((a) => canFollow(statement, a)) || endorsed;
  if (anchors.length > 0 && !anchored) {
    throw new IntegrityError(
      `this vault is signed by ${key} but ${anchors.join(" or ")} was expected (and no key change signed by it leads to ${key}); someone with push access may have re-signed it. ${ASK}`,
    );
  }
  const warnings: string[] = [];
  if (pin) {
    if (pin.verifyKey === key) {
      if (statement.seq < pin.seq) throw rollback(statement, pin);
    } else {
      if (statement.seq <= pin.seq) throw rollback(statement, pin);
      if (!anchored && !canFollow(statement, pin.verifyKey)) {
        throw new IntegrityError(
          `this vault is signed by ${key} but this machine trusts ${pin.verifyKey} for it, and no key change signed by that key leads to ${key}; someone with push access may have re-signed it. If the owner really replaced the signing key, set AGENT_VAULT_VERIFY_KEY to the new key. ${ASK}`,
        );
      }
    }
  } else if (anchors.length === 0 && !endorsed) {
    warnings.push(
      `trusting this vault's signing key ${key} on first use: nothing on this machine says which key should sign it, so a vault re-signed by someone with push access would look the same. Pin it with AGENT_VAULT_VERIFY_KEY=${key} (or the verifyKey option), or use the agent key file written by \`agent-vault add-agent\`, which names it`,
    );
  }
  const newPin = { verifyKey: key, seq: statement.seq };
  const update: PinUpdate =
    id === null ? { kind: "legacy", location, pin: newPin } : { kind: "vault", location, vault: id, pin: newPin };
  return { statement, update, warnings };
}

function rollback(statement: Statement, pin: Pin): IntegrityError {
  return new IntegrityError(
    `rollback: the vault is at signed state ${statement.seq} but this machine has already seen state ${pin.seq}; someone may have restored old files to undo a rotation or revocation. ${ASK}`,
  );
}
