// Statements (versions 1 and 2), the key-change chain, owner endorsements, shards, and the
// reader's trust decision — on statements signed in the test with node:crypto (what any
// Ed25519 library gives an attacker too).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";

import * as sdk from "../build/lib/index.js";
import { parseShard, shardName } from "../build/lib/integrity.js";
import { VerifyKey, canFollow, endorsementTag, isEndorsed, parseStatement } from "../build/lib/statement.js";
import { parseIdentity } from "../build/lib/identity.js";
import { decideTrust } from "../build/lib/trust.js";
import { ageKeygen, endorsement, sha256, signer } from "./forge.mjs";

const h = (c) => c.repeat(64);
const integrityError = (e) => e instanceof sdk.IntegrityError && e.code === 5;

/** A version-2 statement body (without signature) with the given parts. */
function body2({ vault, key, seq = 7, changes = "", owners = "", files = `file ${h("a")} config.yaml\nfile ${h("b")} manifest.yaml\n`, shards = `shard ${h("c")} 0a\n` }) {
  return `agent-vault-statement v2\nvault ${vault}\nverify-key ${key}\nseq ${seq}\n${changes}${owners}${files}${shards}`;
}
const signed = (s, b) => Buffer.from(`${b}signature ${s.sign(b).toString("base64")}\n`);

describe("statement version 2", () => {
  const s = signer();
  const vault = randomBytes(16).toString("hex");

  it("parses a canonical signed statement", () => {
    const st = parseStatement(signed(s, body2({ vault, key: s.key })));
    assert.equal(st.version, 2);
    assert.equal(st.vault, vault);
    assert.equal(st.verifyKey.toString(), s.key);
    assert.equal(st.seq, 7n);
    assert.deepEqual([...st.files.keys()], ["config.yaml", "manifest.yaml"]);
    assert.equal(st.shards.get("0a"), h("c"));
    assert.equal(parseStatement(signed(s, body2({ vault, key: s.key, seq: "18446744073709551615" }))).seq, 18446744073709551615n);
  });

  it("refuses every non-canonical form without looking further, whoever signed it", () => {
    const good = body2({ vault, key: s.key });
    const variants = {
      "seq above u64": good.replace("seq 7", "seq 18446744073709551616"),
      "seq 0": good.replace("seq 7", "seq 0"),
      "leading zero": good.replace("seq 7", "seq 07"),
      "plus sign": good.replace("seq 7", "seq +7"),
      "uppercase vault": good.replace(vault, vault.toUpperCase()),
      "short vault": good.replace(vault, vault.slice(2)),
      "no vault line": good.replace(`vault ${vault}\n`, ""),
      "uppercase digest": good.replace(h("a"), h("A")),
      "files out of order": good.replace(`file ${h("a")} config.yaml\nfile ${h("b")} manifest.yaml\n`, `file ${h("b")} manifest.yaml\nfile ${h("a")} config.yaml\n`),
      "duplicate file": good.replace(`file ${h("b")} manifest.yaml\n`, `file ${h("b")} manifest.yaml\nfile ${h("b")} manifest.yaml\n`),
      "file under secrets/": good.replace("manifest.yaml", "secrets/x.enc"),
      "file .. name": good.replace("manifest.yaml", "a/../b"),
      "shard before file": good.replace(`file ${h("b")} manifest.yaml\nshard ${h("c")} 0a\n`, `shard ${h("c")} 0a\nfile ${h("b")} manifest.yaml\n`),
      "uppercase shard": good.replace(" 0a\n", " 0A\n"),
      "CRLF": good.replace(/\n/g, "\r\n"),
      "unknown line": `${good}unknown ${h("e")} x\n`,
      "owner after file": good.replace(`file ${h("a")}`, `owner age1qqqq ${h("d")}\nfile ${h("a")}`).replace(`file ${h("b")} manifest.yaml\n`, `file ${h("b")} manifest.yaml\nowner age1zzzz ${h("d")}\n`),
      "v1 header with vault line": good.replace("v2", "v1"),
      "v3": good.replace("v2", "v3"),
    };
    for (const [what, text] of Object.entries(variants)) {
      assert.throws(() => parseStatement(signed(s, text)), integrityError, what);
    }
    const ok = signed(s, good);
    for (const [what, bytes] of Object.entries({
      forged: Buffer.from(ok.toString().replace("seq 7", "seq 8")),
      truncated: ok.subarray(0, ok.length - 10),
      "text after the signature": Buffer.concat([ok, Buffer.from("extra\n")]),
      "no final newline": ok.subarray(0, ok.length - 1),
      "bad signature base64": Buffer.from(ok.toString().replace("signature ", "signature A")),
      "unsigned body": Buffer.from(good),
      empty: Buffer.alloc(0),
      "a BOM": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ok]),
    })) {
      assert.throws(() => parseStatement(bytes), integrityError, what);
    }
  });

  it("names git conflict markers with the merge advice, without quoting the text", () => {
    const text = `<<<<<<< HEAD\n${body2({ vault, key: s.key })}=======\nother\n>>>>>>> theirs\n`;
    assert.throws(() => parseStatement(Buffer.from(text)), (e) => integrityError(e) && /conflict markers/.test(e.message) && /agent-vault sign/.test(e.message) && !e.message.includes(vault));
  });

  it("refuses a small-order verify key that would accept a trivial signature", () => {
    const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
    const key = VerifyKey.tryParse(`ed25519:${identity.toString("base64")}`);
    assert.equal(key.verify(Buffer.from("anything"), Buffer.concat([identity, Buffer.alloc(32)])), false);
    const weak = body2({ vault, key: `ed25519:${identity.toString("base64")}` });
    const sig = Buffer.concat([identity, Buffer.alloc(32)]).toString("base64");
    assert.throws(() => parseStatement(Buffer.from(`${weak}signature ${sig}\n`)), integrityError);
  });

  it("parses verify keys strictly", () => {
    assert.equal(VerifyKey.parse(` ${s.key}\n`, "x").toString(), s.key);
    const raw = s.key.slice("ed25519:".length);
    for (const bad of ["", "ed25519:", "ed25519:AAAA", raw, `ed25519:${raw.replace("=", "")}`, "\x1b[31m"]) {
      assert.throws(() => VerifyKey.parse(bad, "x"), (e) => e instanceof sdk.InvalidInputError && !/\x1b/.test(e.message), bad);
    }
  });
});

describe("the key-change chain", () => {
  const vault = randomBytes(16).toString("hex");
  const [k1, k2, k3] = [signer(), signer(), signer()];
  const line = (seq, from, to) =>
    `key-change ${seq} ${from.key} ${from.sign(`agent-vault key-change v1\nvault ${vault}\nseq ${seq}\nfrom ${from.key}\nto ${to.key}\n`).toString("base64")}\n`;

  it("is followed from any key whose line and every later line verify", () => {
    const st = parseStatement(signed(k3, body2({ vault, key: k3.key, seq: 9, changes: line(4, k1, k2) + line(8, k2, k3) })));
    assert.equal(st.keyChanges.length, 2);
    assert.equal(canFollow(st, k3.key), true);
    assert.equal(canFollow(st, k2.key), true);
    assert.equal(canFollow(st, k1.key), true);
    assert.equal(canFollow(st, signer().key), false);
  });

  it("is not followed through a line signed for another vault, another key or another seq", () => {
    const other = randomBytes(16).toString("hex");
    const foreign = `key-change 4 ${k1.key} ${k1.sign(`agent-vault key-change v1\nvault ${other}\nseq 4\nfrom ${k1.key}\nto ${k2.key}\n`).toString("base64")}\n`;
    const st = parseStatement(signed(k3, body2({ vault, key: k3.key, seq: 9, changes: foreign + line(8, k2, k3) })));
    assert.equal(canFollow(st, k2.key), true);
    assert.equal(canFollow(st, k1.key), false);
    // k1 vouched for k2, but the statement's chain says k1 → k3 directly: the signature is for k2.
    const skipped = parseStatement(signed(k3, body2({ vault, key: k3.key, seq: 9, changes: line(4, k1, k2) })));
    assert.equal(canFollow(skipped, k1.key), false);
    const wrongSeq = parseStatement(signed(k2, body2({ vault, key: k2.key, seq: 9, changes: line(4, k1, k2).replace("key-change 4", "key-change 5") })));
    assert.equal(canFollow(wrongSeq, k1.key), false);
    // A broken later line breaks every earlier start too.
    const broken = parseStatement(signed(k3, body2({ vault, key: k3.key, seq: 9, changes: line(4, k1, k2) + line(8, k2, signer()) })));
    assert.equal(canFollow(broken, k1.key), false);
    assert.equal(canFollow(broken, k2.key), false);
  });

  it("must be in increasing seq order, the last at most the statement's seq", () => {
    for (const changes of [line(8, k1, k2) + line(4, k2, k3), line(4, k1, k2) + line(4, k2, k3), line(10, k2, k3)]) {
      assert.throws(() => parseStatement(signed(k3, body2({ vault, key: k3.key, seq: 9, changes }))), integrityError);
    }
  });
});

describe("owner endorsements", () => {
  const vault = randomBytes(16).toString("hex");
  const s = signer();
  const owner = ageKeygen();
  const other = ageKeygen();
  const identity = parseIdentity(owner.identity);

  it("compute HMAC-SHA256(HKDF-SHA256(identity), message) as the format says", () => {
    // Computed here independently (forge.mjs uses node:crypto's hkdfSync/createHmac directly).
    assert.equal(endorsementTag(owner.identity, vault, s.key), endorsement(owner.identity, vault, s.key));
    assert.equal(endorsementTag(owner.identity.toLowerCase(), vault, s.key), endorsement(owner.identity, vault, s.key));
    assert.notEqual(endorsementTag(owner.identity, vault, signer().key), endorsementTag(owner.identity, vault, s.key));
    assert.equal(identity.recipient, owner.recipient);
  });

  it("match the known-answer vector published in docs/format.md", () => {
    // A published test vector, joined at run time so the leak guard does not take it for a key.
    const identity = ["AGE-SECRET-KEY-1", "YGULRNNJDUGVWC7KC3EFQX3WE554XG5RPXQ3H30TMURZEKYK0D2S32ZTK0"].join("");
    const tag = "5b1636ee0c9fc4247426d0751fba66866232ab31e0c1ae9840ce02c3e9d535a5";
    const key = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    assert.equal(endorsementTag(identity, "00112233445566778899aabbccddeeff", key), tag);
    assert.equal(endorsementTag(identity.toLowerCase(), "00112233445566778899aabbccddeeff", key), tag);
  });

  it("endorse the key only for the owner whose identity made the tag", () => {
    const ownerLine = `owner ${owner.recipient} ${endorsement(owner.identity, vault, s.key)}\n`;
    const st = parseStatement(signed(s, body2({ vault, key: s.key, owners: ownerLine })));
    assert.equal(st.owners.length, 1);
    assert.equal(isEndorsed(st, [identity]), true);
    assert.equal(isEndorsed(st, [parseIdentity(other.identity)]), false);
    // A tag copied to another key does not verify: an attacker cannot carry an endorsement over.
    const t = signer();
    const copied = parseStatement(signed(t, body2({ vault, key: t.key, owners: ownerLine })));
    assert.equal(isEndorsed(copied, [identity]), false);
    // Owner lines sorted and unique.
    const two = [ownerLine, `owner ${other.recipient} ${endorsement(other.identity, vault, s.key)}\n`].sort().reverse().join("");
    assert.throws(() => parseStatement(signed(s, body2({ vault, key: s.key, owners: two }))), integrityError);
    assert.throws(() => parseStatement(signed(s, body2({ vault, key: s.key, owners: ownerLine + ownerLine }))), integrityError);
  });
});

describe("version 1 statements", () => {
  const s = signer();
  const v1 = `agent-vault-statement v1\nverify-key ${s.key}\nseq 3\nfile ${h("a")} config.yaml\n`;
  it("are read (no vault id) and refuse the version-2 lines", () => {
    const st = parseStatement(signed(s, v1));
    assert.equal(st.version, 1);
    assert.equal(st.vault, null);
    assert.equal(canFollow(st, s.key), true);
    assert.throws(() => parseStatement(signed(s, v1.replace("seq 3\n", `seq 3\nowner age1qq ${h("d")}\n`))), integrityError);
  });
});

describe("shards", () => {
  const line = (p) => `${h("1")} ${h("2")} ${p}\n`;
  it("names a secret's shard by the first byte of SHA-256 of its path", () => {
    assert.equal(shardName("stripe/api-key"), "25");
    assert.equal(shardName("stripe/api-key"), sha256(Buffer.from("stripe/api-key")).slice(0, 2));
  });
  it("parse only in canonical form", () => {
    const paths = ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "x", "y", "z"].filter((p) => shardName(p) === shardName("x"));
    const name = shardName("x");
    assert.equal(parseShard(name, Buffer.from(line("x"))).get("x")[0], h("1"));
    // Listed with neither file: canonical; the reader calls that secret deleted (not the whole shard).
    assert.deepEqual(parseShard(name, Buffer.from(`${h("0")} ${h("0")} x\n`)).get("x"), [h("0"), h("0")]);
    const other = ["a", "b", "c", "d", "e", "f", "g"].find((p) => shardName(p) !== name);
    for (const bad of [line("x").trimEnd(), line("x") + line("x"), line(other), line("../x"), line("x").toUpperCase(), line("x").replace(" x", "  x")]) {
      assert.throws(() => parseShard(name, Buffer.from(bad)), integrityError, bad);
    }
    if (paths.length >= 2) {
      const sorted = paths.sort();
      assert.throws(() => parseShard(name, Buffer.from(line(sorted[1]) + line(sorted[0]))), integrityError);
    }
  });
});

describe("the reader's trust decision (docs/format.md, steps 2-6)", () => {
  const vault = randomBytes(16).toString("hex");
  const genuine = signer();
  const attacker = signer();
  const owner = ageKeygen();
  const statement = (by, seq, extra = {}) => signed(by, body2({ vault: extra.vault ?? vault, key: by.key, seq, ...extra }));
  const empty = () => ({ vaults: new Map(), locations: new Map(), legacy: new Map(), extra: new Map() });
  const ctx = (over = {}) => ({ anchors: [], identities: [], location: "/repo", pins: empty(), ...over });
  const pinned = (key, seq, id = vault) => {
    const pins = empty();
    pins.vaults.set(id, { verifyKey: key, seq: BigInt(seq) });
    pins.locations.set("/repo", id);
    return pins;
  };

  it("trusts on first use only with a warning naming the key and how to pin it", () => {
    const d = decideTrust(statement(genuine, 5), ctx());
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0], /first use/);
    assert.ok(d.warnings[0].includes(genuine.key));
    assert.match(d.warnings[0], /AGENT_VAULT_VERIFY_KEY/);
    assert.deepEqual(d.update, { kind: "vault", location: "/repo", vault, pin: { verifyKey: genuine.key, seq: 5n } });
  });

  it("trusts an owner-endorsed key silently, and no other key", () => {
    const owners = `owner ${owner.recipient} ${endorsement(owner.identity, vault, genuine.key)}\n`;
    const d = decideTrust(statement(genuine, 5, { owners }), ctx({ identities: [parseIdentity(owner.identity)] }));
    assert.deepEqual(d.warnings, []);
    const d2 = decideTrust(statement(attacker, 5), ctx({ identities: [parseIdentity(owner.identity)] }));
    assert.match(d2.warnings[0], /first use/);
  });

  it("refuses a wrong signer for an anchor, a rollback, and a key change nobody vouched for", () => {
    assert.throws(() => decideTrust(statement(attacker, 9), ctx({ anchors: [genuine.key] })), (e) => integrityError(e) && /was expected/.test(e.message));
    assert.throws(() => decideTrust(statement(genuine, 4), ctx({ pins: pinned(genuine.key, 5) })), (e) => integrityError(e) && /rollback/.test(e.message));
    assert.equal(decideTrust(statement(genuine, 5), ctx({ pins: pinned(genuine.key, 5) })).warnings.length, 0);
    // Issue 17.1 / 9.1: an attacker's statement with the highest seq, same vault id.
    assert.throws(() => decideTrust(statement(attacker, "18446744073709551615"), ctx({ pins: pinned(genuine.key, 5) })), (e) => integrityError(e) && /no key change/.test(e.message));
    // A new key with a lower seq is a rollback whatever vouches for it.
    assert.throws(() => decideTrust(statement(attacker, 5), ctx({ pins: pinned(genuine.key, 5), anchors: [attacker.key] })), /rollback/);
    // With the pinned key's signature on the change, the pin moves forward.
    const msg = `agent-vault key-change v1\nvault ${vault}\nseq 6\nfrom ${genuine.key}\nto ${attacker.key}\n`;
    const changes = `key-change 6 ${genuine.key} ${genuine.sign(msg).toString("base64")}\n`;
    const d = decideTrust(statement(attacker, 6, { changes }), ctx({ pins: pinned(genuine.key, 5) }));
    assert.equal(d.update.pin.verifyKey, attacker.key);
    assert.deepEqual(d.warnings, []);
  });

  it("refuses another vault at a pinned location and a downgrade to version 1", () => {
    const other = randomBytes(16).toString("hex");
    assert.throws(() => decideTrust(statement(genuine, 9, { vault: other }), ctx({ pins: pinned(genuine.key, 5) })), (e) => integrityError(e) && /another vault/.test(e.message));
    const v1 = signed(genuine, `agent-vault-statement v1\nverify-key ${genuine.key}\nseq 9\n`);
    assert.throws(() => decideTrust(v1, ctx({ pins: pinned(genuine.key, 5) })), (e) => integrityError(e) && /another vault, or a downgrade/.test(e.message));
  });

  it("uses a legacy (version 1) pin for a version-2 statement until the location has one", () => {
    const pins = empty();
    pins.legacy.set("/repo", { verifyKey: genuine.key, seq: 7n });
    assert.throws(() => decideTrust(statement(genuine, 6), ctx({ pins })), /rollback/);
    const d = decideTrust(statement(genuine, 8), ctx({ pins }));
    assert.deepEqual(d.warnings, []);
    assert.equal(d.update.kind, "vault");
    const v1 = signed(genuine, `agent-vault-statement v1\nverify-key ${genuine.key}\nseq 9\n`);
    assert.deepEqual(decideTrust(v1, ctx({ pins })).update, { kind: "legacy", location: "/repo", pin: { verifyKey: genuine.key, seq: 9n } });
  });

  it("refuses a removed statement with an anchor or a pin, and warns about an unsigned vault otherwise", () => {
    assert.throws(() => decideTrust(null, ctx({ anchors: [genuine.key] })), (e) => integrityError(e) && /no signature/.test(e.message));
    assert.throws(() => decideTrust(null, ctx({ pins: pinned(genuine.key, 1) })), integrityError);
    const legacy = empty();
    legacy.legacy.set("/repo", { verifyKey: genuine.key, seq: 1n });
    assert.throws(() => decideTrust(null, ctx({ pins: legacy })), integrityError);
    const d = decideTrust(null, ctx());
    assert.equal(d.statement, null);
    assert.match(d.warnings[0], /unsigned/);
  });
});
