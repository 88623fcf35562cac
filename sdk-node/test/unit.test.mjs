// Unit tests of the pure parts: names, timestamps, identity files, git config, error classes.
// They import the modules one by one from build/lib/ (tsc output, made by `npm test`): the
// published bundle in dist/ exports only the public API.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as sdk from "../build/lib/index.js";
import { checkName, checkSecretPath } from "../build/lib/names.js";
import { parseStoredTime, isExpired } from "../build/lib/time.js";
import { parseIdentities, chooseKeySource } from "../build/lib/keys.js";
import { gitEnv, parseGitConfig } from "../build/lib/git.js";
import { isRemoteUrl, redactUrl, clonePath } from "../build/lib/remote.js";

describe("names", () => {
  it("accepts the format's secret paths and rejects everything else", () => {
    for (const ok of ["a", "stripe/api-key", "a/b/c/d", "_x/Y.z-1", "x".repeat(100)]) checkSecretPath(ok);
    for (const bad of ["", "/a", "a/", "a//b", ".", "..", "../x", "a/./b", "-x", ".hidden", "a b", "x.enc", "a/y.meta", "é", "x".repeat(101), `${"a/".repeat(100)}a`, 5, null]) {
      assert.throws(() => checkSecretPath(bad), sdk.InvalidInputError, String(bad));
    }
  });

  it("accepts agent and group names and rejects others", () => {
    for (const ok of ["bot", "deploy-bot", "ci.1", "0x_y"]) checkName("agent name", ok);
    for (const bad of ["", "Bot", "-x", ".x", "a/b", "a".repeat(65)]) {
      assert.throws(() => checkName("group name", bad), sdk.InvalidInputError);
    }
  });
});

describe("timestamps", () => {
  it("parses every stored form", () => {
    assert.equal(parseStoredTime("2026-11-22T10:00:00Z"), Date.UTC(2026, 10, 22, 10));
    assert.equal(parseStoredTime("2026-11-22T12:00:00+02:00"), Date.UTC(2026, 10, 22, 10));
    assert.equal(parseStoredTime("2026-11-22T10:00:00.5Z"), Date.UTC(2026, 10, 22, 10) + 500);
    assert.equal(parseStoredTime("2026-11-22 10:00:00+00:00"), Date.UTC(2026, 10, 22, 10));
    assert.equal(parseStoredTime("2026-11-22"), Date.UTC(2026, 10, 22));
    for (const bad of ["", "soon", "2026-13-01", "2026-02-30", "2026-11-22T25:00:00Z", "1700000000"]) {
      assert.equal(parseStoredTime(bad), null, bad);
    }
  });

  it("calls a secret expired at or before now, never for an unreadable date", () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(isExpired("2026-01-01T00:00:00Z", now), true);
    assert.equal(isExpired("2026-01-01T00:00:01Z", now), false);
    assert.equal(isExpired("2025-12-31", now), true);
    assert.equal(isExpired(null, now), false);
    assert.equal(isExpired("garbage", now), false);
  });
});

describe("identity files", () => {
  it("skips comments and blank lines and keeps every key", () => {
    const text = "# created: x\n\n  AGE-SECRET-KEY-1AAA  \r\n# second\nAGE-SECRET-KEY-1BBB\n";
    const ids = parseIdentities(text, "test");
    assert.deepEqual(ids.identities.map((i) => [i.line, i.value]), [[3, "AGE-SECRET-KEY-1AAA"], [5, "AGE-SECRET-KEY-1BBB"]]);
  });

  it("rejects other lines by number, never echoing them", () => {
    for (const text of ["hunter2", "# only comments\n", "AGE-PLUGIN-YUBIKEY-1SECRET", "AGE-SECRET-KEY-PQ-1SECRET"]) {
      assert.throws(() => parseIdentities(text, "test"), (e) => e instanceof sdk.FormatError && !/hunter2|SECRET$/.test(e.message));
    }
  });

  it("chooses the key source in the documented order", () => {
    const env = { AGENT_VAULT_HOME: "/h", AGENT_VAULT_KEY: "/from/env.key" };
    assert.equal(chooseKeySource({ keyPath: "/explicit.key" }, env).path, "/explicit.key");
    assert.equal(chooseKeySource({ key: "AGE-SECRET-KEY-1X" }, env).kind, "text");
    assert.equal(chooseKeySource({ agent: "bot" }, env).path, "/h/agents/bot.key");
    assert.equal(chooseKeySource({}, env).path, "/from/env.key");
    assert.equal(chooseKeySource({}, { ...env, AGENT_VAULT_KEY: "  AGE-SECRET-KEY-1X" }).kind, "text");
    assert.equal(chooseKeySource({}, { ...env, AGENT_VAULT_KEY: "  " }).path, "/h/owner.key");
    assert.equal(chooseKeySource({}, { AGENT_VAULT_HOME: "/h" }).path, "/h/owner.key");
    assert.equal(chooseKeySource({}, { HOME: "/x" }).path.endsWith("/.agent-vault/owner.key"), true);
  });
});

describe("git config and URLs", () => {
  it("reads branch upstreams from a git config", () => {
    const cfg = parseGitConfig('[core]\n\tbare = false\n[branch "main"]\n\tremote = origin ; comment\n\tmerge = refs/heads/main\n[Branch "feat/x"]\n  Remote = "up"\n');
    assert.equal(cfg.get("branch.main.remote"), "origin");
    assert.equal(cfg.get("branch.main.merge"), "refs/heads/main");
    assert.equal(cfg.get("branch.feat/x.remote"), "up");
  });

  it("tells URLs from paths, and never shows credentials", () => {
    for (const url of ["https://github.com/a/b.git", "ssh://git@h/x", "git@github.com:a/b.git", "file:///srv/v.git"]) {
      assert.equal(isRemoteUrl(url), true, url);
    }
    for (const path of [".", "/srv/repo", "relative/dir", "C:/x"]) assert.equal(isRemoteUrl(path), false, path);
    assert.equal(redactUrl("https://user:token@host/x.git"), "https://***@host/x.git");
    assert.notEqual(clonePath("/c", "https://h/a.git"), clonePath("/c", "https://h2/a.git"));
    assert.match(clonePath("/c", "https://h/team/vault.git"), /^\/c\/vault-[0-9a-f]{16}$/);
  });
});

describe("error classes", () => {
  it("share one root and carry the CLI's exit codes", () => {
    const codes = {
      FormatError: 1,
      InvalidInputError: 2,
      VaultNotFoundError: 3,
      SecretNotFoundError: 3,
      KeyNotFoundError: 3,
      NotAuthorizedError: 4,
      IntegrityError: 5,
    };
    for (const [name, code] of Object.entries(codes)) {
      const e = new sdk[name]("m");
      assert.ok(e instanceof sdk.AgentVaultError && e instanceof Error);
      assert.equal(e.code, code);
      assert.equal(e.name, name);
    }
  });
});

describe(".meta fast path", () => {
  it("agrees with the YAML parser on simple files and defers on everything else", async () => {
    const { parseMeta } = await import("../build/lib/format.js");
    const { parse } = await import("yaml");
    const files = [
      "name: a/b\ngroup: a\ncreated: 2026-11-22T10:00:00Z\nrotated: 2026-11-22T10:00:00Z\nexpires: '2027-01-01'\nauthorized_agents:\n- bot\n- ci\nextra_agents: []\nrecipients: sha256:abc\n",
      "name: t\ngroup: default\ncreated: 2025-01-01 10:00:00+02:00\nauthorized_agents: [bot]\n",
      "name: t\ngroup: default\nexpires: null\n",
      "name: '123'\ngroup: g\n# comment\nfuture: {x: 1}\n",
      'name: "quoted"\ngroup: g\nauthorized_agents:\n  - indented\n',
    ];
    for (const text of files) {
      const y = parse(text);
      const m = parseMeta("x.meta", Buffer.from(text));
      assert.equal(m.name, String(y.name));
      assert.equal(m.group, y.group);
      assert.equal(m.created, y.created ?? "");
      assert.equal(m.rotated, y.rotated ?? null);
      assert.equal(m.expires, y.expires ?? null);
      assert.deepEqual(m.authorizedAgents, y.authorized_agents ?? []);
    }
    for (const bad of ["name: 123\ngroup: g\n", "name: a\ngroup: g\nname: b\n", "name: a\n", "name: a\ngroup: [x]\n", "- a\n", "name: a\ngroup: g\nauthorized_agents:\n", "name: a\ngroup: g\nauthorized_agents:\ncreated: x\n"]) {
      assert.throws(() => parseMeta("x.meta", Buffer.from(bad)), sdk.FormatError, bad);
    }
  });
});

describe("integrity: statements, shards and pins", async () => {
  const { generateKeyPairSync, sign } = await import("node:crypto");
  const { parseStatement, VerifyKey, shardName } = await import("../build/lib/integrity.js");
  const { Pins } = await import("../build/lib/pins.js");
  const { mkdtempSync, readFileSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");

  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(12);
  const vk = `ed25519:${raw.toString("base64")}`;
  const h = (c) => c.repeat(64);
  const body = `agent-vault-statement v1\nverify-key ${vk}\nseq 7\nfile ${h("a")} config.yaml\nfile ${h("b")} manifest.yaml\nshard ${h("c")} 0a\n`;
  const signed = (b) => `${b}signature ${sign(null, Buffer.from(b), privateKey).toString("base64")}\n`;

  it("parses a canonical signed statement", () => {
    const s = parseStatement(Buffer.from(signed(body)));
    assert.equal(s.verifyKey.toString(), vk);
    assert.equal(s.seq, 7n);
    assert.deepEqual([...s.files.keys()], ["config.yaml", "manifest.yaml"]);
    assert.equal(s.shards.get("0a"), h("c"));
  });

  it("rejects forged, non-canonical, truncated and padded statements", () => {
    const good = signed(body);
    const forged = [
      good.replace("seq 7", "seq 8"),
      good.replace(h("a"), h("d")),
      good.slice(0, -10),
      `${good}extra\n`,
      good.replace("signature ", "signature A"),
      signed(body.replace("seq 7", "seq 07")),
      signed(body.replace(h("a"), h("A"))),
      signed(body.replace(/file .* config.yaml\nfile .* manifest.yaml\n/, `file ${h("b")} manifest.yaml\nfile ${h("a")} config.yaml\n`)),
      signed(body.replace("\n", "\r\n")),
      signed(`${body}unknown ${h("e")} x\n`),
      body,
      "",
    ];
    for (const text of forged) {
      assert.throws(() => parseStatement(Buffer.from(text)), (e) => e instanceof sdk.IntegrityError && e.code === 5, text);
    }
  });

  it("refuses a small-order verify key that would accept a trivial signature", () => {
    // The identity point as the key, R = identity and S = 0: "verifies" for lax implementations.
    const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
    const key = VerifyKey.tryParse(`ed25519:${identity.toString("base64")}`);
    assert.equal(key.verify(Buffer.from("anything"), Buffer.concat([identity, Buffer.alloc(32)])), false);
    const weak = `agent-vault-statement v1\nverify-key ed25519:${identity.toString("base64")}\nseq 1\n`;
    const sig = Buffer.concat([identity, Buffer.alloc(32)]).toString("base64");
    assert.throws(() => parseStatement(Buffer.from(`${weak}signature ${sig}\n`)), sdk.IntegrityError);
  });

  it("parses verify keys strictly and names shards as the format says", () => {
    assert.equal(VerifyKey.parse(vk, "x").toString(), vk);
    for (const bad of ["", "ed25519:", "ed25519:AAAA", raw.toString("base64"), `ed25519:${raw.toString("base64").replace("=", "")}`]) {
      assert.throws(() => VerifyKey.parse(bad, "x"), sdk.InvalidInputError, bad);
    }
    assert.equal(shardName("stripe/api-key"), "25");
  });

  it("records pins atomically, keeps the highest seq and unknown keys, and stays exact past 2^53", () => {
    const home = mkdtempSync(join(tmpdir(), "av-pins-"));
    const file = join(home, "pins.json");
    writeFileSync(file, JSON.stringify({ version: 1, note: "kept", vaults: { "/other": { verify_key: "ed25519:x", seq: 18446744073709551615 } } }).replace("18446744073709552000", "18446744073709551615"));
    const pins = new Pins(home);
    pins.record("/v", { verifyKey: vk, seq: 5n });
    pins.record("/v", { verifyKey: vk, seq: 3n });
    assert.deepEqual(pins.get("/v"), { verifyKey: vk, seq: 5n });
    pins.record("/v", { verifyKey: "ed25519:other", seq: 1n });
    assert.deepEqual(pins.get("/v"), { verifyKey: "ed25519:other", seq: 1n });
    const text = readFileSync(file, "utf8");
    assert.match(text, /"seq": 18446744073709551615/);
    assert.equal(JSON.parse(text).note, "kept");
    assert.equal(pins.get("/other").seq, 18446744073709551615n);
    writeFileSync(file, "{not json");
    assert.throws(() => pins.get("/v"), (e) => e instanceof sdk.FormatError && /pins\.json/.test(e.message));
  });
});

describe("git processes", () => {
  it("never prompt: no terminal prompt, ssh in batch mode unless GIT_SSH_COMMAND is set", () => {
    const env = gitEnv({ PATH: "/bin", GIT_TERMINAL_PROMPT: "1" });
    assert.equal(env.GIT_TERMINAL_PROMPT, "0");
    assert.equal(env.GIT_SSH_COMMAND, "ssh -o BatchMode=yes");
    assert.equal(env.PATH, "/bin");
    assert.equal(gitEnv({ GIT_SSH_COMMAND: "ssh -i /k" }).GIT_SSH_COMMAND, "ssh -i /k");
    assert.equal(gitEnv({}).GIT_EDITOR, ":");
    // The default is process.env.
    assert.equal(gitEnv().PATH, process.env.PATH);
  });
});
