// pins.json (docs/format.md, "Pins"): version 2, the O_EXCL lock protocol, migration of
// version 1, refusal of what cannot be read, and "cannot write" as a warning.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import * as sdk from "../build/lib/index.js";
import { Pins, PinsUnwritable } from "../build/lib/pins.js";
import { SDK_DIR, tempDir } from "./helpers.mjs";

const ID = "0123456789abcdef0123456789abcdef";
const K1 = "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const K2 = "ed25519:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";
const vaultUpdate = (seq, key = K1, location = "/repo", vault = ID) => ({ kind: "vault", location, vault, pin: { verifyKey: key, seq: BigInt(seq) } });

function home() {
  const dir = join(tempDir("av-pins-"), "home");
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

describe("pins.json", () => {
  it("records version 2 (0600), keeps the highest seq, never moves backwards, exact past 2^53", async () => {
    const dir = home();
    const pins = new Pins(dir);
    await pins.record(vaultUpdate(5));
    await pins.record(vaultUpdate(3));
    let data = await pins.read();
    assert.deepEqual(data.vaults.get(ID), { verifyKey: K1, seq: 5n });
    assert.equal(data.locations.get("/repo"), ID);
    assert.equal(statSync(join(dir, "pins.json")).mode & 0o777, 0o600);
    // Another key with a lower or equal seq does not replace the pin (the decision refuses it anyway).
    await pins.record(vaultUpdate(5, K2));
    assert.equal((await pins.read()).vaults.get(ID).verifyKey, K1);
    await pins.record(vaultUpdate("18446744073709551615", K2));
    data = await pins.read();
    assert.deepEqual(data.vaults.get(ID), { verifyKey: K2, seq: 18446744073709551615n });
    const text = readFileSync(join(dir, "pins.json"), "utf8");
    assert.match(text, /"seq": 18446744073709551615\}/);
    assert.equal(JSON.parse(text).version, 2);
    assert.equal(existsSync(join(dir, "pins.json.lock")), false, "the lock is removed");
  });

  it("reads a version-1 file as legacy pins, migrates on write, and keeps unknown keys", async () => {
    const dir = home();
    writeFileSync(
      join(dir, "pins.json"),
      `{"version": 1, "note": {"kept": [1, 2], "seq": 12345678901234567890}, "vaults": {"/repo": {"verify_key": "${K1}", "seq": 9007199254740993}, "/other": {"verify_key": "${K2}", "seq": 2}}}`,
    );
    const pins = new Pins(dir);
    const data = await pins.read();
    assert.deepEqual(data.legacy.get("/repo"), { verifyKey: K1, seq: 9007199254740993n });
    assert.equal(data.vaults.size, 0);
    await pins.record(vaultUpdate(9007199254740994));
    const after = await pins.read();
    assert.equal(after.legacy.has("/repo"), false, "the location's legacy pin is replaced by the vault pin");
    assert.deepEqual(after.legacy.get("/other"), { verifyKey: K2, seq: 2n });
    assert.equal(after.locations.get("/repo"), ID);
    const text = readFileSync(join(dir, "pins.json"), "utf8");
    assert.match(text, /"note": \{"kept":\[1,2\],"seq":12345678901234567890\}/);
    // A legacy update keeps the higher seq.
    await pins.record({ kind: "legacy", location: "/other", pin: { verifyKey: K2, seq: 1n } });
    assert.equal((await pins.read()).legacy.get("/other").seq, 2n);
  });

  it("refuses a newer version, a corrupt or unreadable file, and never overwrites them", async () => {
    for (const [text, pattern] of [
      ['{"version": 3, "vaults": {}}', /version 3.*upgrade/],
      ["{not json", /cannot parse/],
      ['{"vaults": {}}', /version/],
      ['{"version": 2, "vaults": {"x": {"verify_key": 5, "seq": 1}}}', /malformed/],
      ['{"version": 2, "vaults": {"x": {"verify_key": "k", "seq": -1}}}', /malformed/],
      ["[]", /not a JSON object/],
      ['{"version": 2, "locations": []}', /locations/],
    ]) {
      const dir = home();
      writeFileSync(join(dir, "pins.json"), text);
      const pins = new Pins(dir);
      await assert.rejects(pins.read(), (e) => e instanceof sdk.FormatError && e.code === 1 && pattern.test(e.message) && /pins\.json/.test(e.message), text);
      await assert.rejects(pins.record(vaultUpdate(1)), sdk.FormatError);
      assert.equal(readFileSync(join(dir, "pins.json"), "utf8"), text, "left as it is");
    }
    const dir = home();
    mkdirSync(join(dir, "pins.json"));
    await assert.rejects(new Pins(dir).read(), sdk.FormatError);
    const big = home();
    writeFileSync(join(big, "pins.json"), Buffer.alloc((16 << 20) + 10, 0x20));
    await assert.rejects(new Pins(big).read(), /larger than/);
  });

  it("waits for a held lock, then gives up with PinsUnwritable; a stale lock is taken over", async () => {
    const dir = home();
    const pins = new Pins(dir);
    const lock = join(dir, "pins.json.lock");
    writeFileSync(lock, "");
    const started = Date.now();
    await assert.rejects(pins.record(vaultUpdate(1)), (e) => e instanceof PinsUnwritable && /held by another process/.test(e.message));
    const waited = Date.now() - started;
    assert.ok(waited >= 1900 && waited < 6000, `waited ${waited} ms`);
    assert.equal(existsSync(join(dir, "pins.json")), false);
    assert.equal(existsSync(lock), true, "someone else's lock is not removed");
    // Released while we wait: taken.
    const released = Date.now();
    setTimeout(() => unlinkSync(lock), 300);
    await pins.record(vaultUpdate(2));
    assert.ok(Date.now() - released >= 290);
    assert.equal((await pins.read()).vaults.get(ID).seq, 2n);
    // Older than 10 s: a crashed holder's, removed.
    writeFileSync(lock, "");
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lock, old, old);
    await pins.record(vaultUpdate(3));
    assert.equal((await pins.read()).vaults.get(ID).seq, 3n);
    assert.equal(existsSync(lock), false);
  });

  it("serializes concurrent writers (processes): no update is lost", async () => {
    const dir = home();
    const script = `
      const { Pins } = await import(${JSON.stringify(join(SDK_DIR, "build/lib/pins.js"))});
      const pins = new Pins(${JSON.stringify(dir)});
      const n = Number(process.argv[1]);
      for (let i = 0; i < 10; i++) {
        await pins.record({ kind: "vault", location: "/loc" + n + "-" + i, vault: "v" + n + "-" + i, pin: { verifyKey: "k", seq: 1n } });
      }`;
    const run = (n) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script, String(n)], { stdio: "inherit" });
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${n} exit ${code}`))));
      });
    await Promise.all([0, 1, 2, 3].map(run));
    const data = await new Pins(dir).read();
    assert.equal(data.vaults.size, 40);
    assert.equal(data.locations.size, 40);
  });

  it("creates the key home (0700) only when its parent exists; otherwise the pin is unwritable", async () => {
    const parent = tempDir("av-pins-");
    const created = join(parent, "new-home");
    await new Pins(created).record(vaultUpdate(1));
    assert.equal(statSync(created).mode & 0o777, 0o700);
    const orphan = join(parent, "missing", "home");
    await assert.rejects(new Pins(orphan).record(vaultUpdate(1)), PinsUnwritable);
    assert.equal(existsSync(join(parent, "missing")), false);
    const file = join(parent, "a-file");
    writeFileSync(file, "x");
    await assert.rejects(new Pins(file).record(vaultUpdate(1)), PinsUnwritable);
    assert.deepEqual((await new Pins(orphan).read()).vaults.size, 0, "a missing file is no pins");
  });
});
