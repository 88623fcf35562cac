// Unit tests of the pure parts: names, timestamps, identity files, key discovery, messages,
// age header limits, URLs, error classes.
// They import the modules one by one from build/lib/ (tsc output, made by `npm test`): the
// published bundle in dist/ exports only the public API.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as sdk from "../build/lib/index.js";
import { checkName, checkSecretPath } from "../build/lib/names.js";
import { parseStoredTime, isExpired } from "../build/lib/time.js";
import { parseIdentities, chooseKeySource, loadIdentities } from "../build/lib/keys.js";
import { gitEnv } from "../build/lib/git.js";
import { escapeControl } from "../build/lib/text.js";
import { bech32Decode, parseIdentity } from "../build/lib/identity.js";
import { checkHeaderLimits } from "../build/lib/crypto.js";
import { ageEncrypt, ageKeygen } from "./forge.mjs";
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
  const one = ageKeygen();
  const two = ageKeygen();

  it("skips comments and blank lines, keeps every key, and derives each key's recipient", () => {
    const text = `# created: x\n\n  ${one.identity}  \r\n# second\n${two.identity}\n`;
    const ids = parseIdentities(text, "test");
    assert.deepEqual(ids.identities.map((i) => [i.line, i.identity.text, i.identity.recipient]), [
      [3, one.identity, one.recipient],
      [5, two.identity, two.recipient],
    ]);
    assert.deepEqual(ids.comments, ["created: x", "second"]);
  });

  it("accepts an identity in lower case (Bech32 is case-insensitive), not in mixed case", () => {
    const ids = parseIdentities(one.identity.toLowerCase(), "test");
    assert.equal(ids.identities[0].identity.text, one.identity);
    assert.equal(ids.identities[0].identity.recipient, one.recipient);
    const mixed = one.identity.slice(0, 20) + one.identity.slice(20).toLowerCase();
    assert.throws(() => parseIdentities(mixed, "test"), (e) => e instanceof sdk.FormatError && !e.message.includes(mixed.slice(16)));
    assert.equal(parseIdentity(mixed), null);
    assert.equal(bech32Decode(one.recipient).hrp, "age");
  });

  it("rejects other lines by number, never echoing them", () => {
    const corrupted = one.identity.slice(0, -1) + (one.identity.endsWith("Q") ? "P" : "Q");
    for (const text of ["hunter2", "# only comments\n", "AGE-PLUGIN-YUBIKEY-1SECRET", "AGE-SECRET-KEY-PQ-1SECRET", corrupted]) {
      assert.throws(
        () => parseIdentities(text, "test"),
        (e) => e instanceof sdk.FormatError && !/hunter2|SECRET$/.test(e.message) && !e.message.includes(corrupted.slice(16, 40)),
        text,
      );
    }
  });

  it("chooses the key source in the documented order; AGENT_VAULT_KEY set is never a fallback", () => {
    const env = { AGENT_VAULT_HOME: "/h", AGENT_VAULT_KEY: "/from/env.key" };
    assert.equal(chooseKeySource({ keyPath: "/explicit.key" }, env).path, "/explicit.key");
    assert.equal(chooseKeySource({ key: "AGE-SECRET-KEY-1X" }, env).kind, "text");
    assert.equal(chooseKeySource({ agent: "bot" }, env).path, "/h/agents/bot.key");
    assert.equal(chooseKeySource({}, env).path, "/from/env.key");
    assert.equal(chooseKeySource({}, { ...env, AGENT_VAULT_KEY: "  AGE-SECRET-KEY-1X" }).kind, "text");
    // The prefix in any letter case is key text, never a path (issue 17, item 2).
    assert.equal(chooseKeySource({}, { ...env, AGENT_VAULT_KEY: "\n age-secret-key-1xyz\n" }).kind, "text");
    for (const value of ["", "  ", "\n", "bad\uFFFDutf8"]) {
      const source = chooseKeySource({}, { ...env, AGENT_VAULT_KEY: value });
      assert.equal(source.kind, "file");
      assert.equal(source.path, "", JSON.stringify(value));
      assert.ok(source.redacted);
    }
    assert.equal(chooseKeySource({}, { AGENT_VAULT_HOME: "/h" }).path, "/h/owner.key");
    assert.equal(chooseKeySource({}, { HOME: "/x" }).path.endsWith("/.agent-vault/owner.key"), true);
  });

  it("reports AGENT_VAULT_KEY set but empty, or naming no file, without echoing it", async () => {
    const secretish = "export KEY=AGE-SECRET-KEY-1NOTREALLYAKEYBUTLOOKSLIKEONE";
    for (const value of ["", secretish, "/no/such/key/file"]) {
      await assert.rejects(loadIdentities(chooseKeySource({}, { AGENT_VAULT_HOME: "/h", AGENT_VAULT_KEY: value })), (e) => {
        assert.ok(e instanceof sdk.KeyNotFoundError && e.code === 3, String(e));
        assert.match(e.message, /AGENT_VAULT_KEY/);
        assert.ok(!e.message.includes("NOTREALLY") && !e.message.includes("/no/such"), e.message);
        return true;
      });
    }
  });

  it("reads identity files with a 1 MiB cap: /dev/zero is an error, not an endless read", async () => {
    const started = Date.now();
    await assert.rejects(loadIdentities(chooseKeySource({ keyPath: "/dev/zero" }, {})), (e) => {
      assert.ok(e instanceof sdk.FormatError, String(e));
      assert.match(e.message, /\/dev\/zero.*larger than 1048576 bytes/);
      return true;
    });
    await assert.rejects(loadIdentities(chooseKeySource({}, { AGENT_VAULT_KEY: "/dev/zero" })), sdk.FormatError);
    assert.ok(Date.now() - started < 5000);
  });
});

describe("messages", () => {
  it("escape control characters, so a terminal never interprets repository bytes", () => {
    assert.equal(escapeControl("a\x1b[31mb\n\x7f\u0085"), "a\\u{1b}[31mb\\u{a}\\u{7f}\\u{85}");
    assert.equal(escapeControl("l1\nl2", true), "l1\nl2");
    assert.equal(escapeControl("é 中 ok"), "é 中 ok");
  });
});

describe("age header limits", () => {
  const key = ageKeygen();
  it("accept a real age file and refuse too many stanzas or a header over 1 MiB before any decryption", () => {
    const file = ageEncrypt("x", [key.recipient]);
    assert.equal(checkHeaderLimits(file), null);
    const lines = file.toString("latin1").split("\n");
    const stanza = lines.slice(1, 3).join("\n");
    const many = (n) => Buffer.from([lines[0], ...Array(n).fill(stanza), ...lines.slice(3)].join("\n"), "latin1");
    assert.equal(checkHeaderLimits(many(4096)), null);
    assert.match(checkHeaderLimits(many(4097)), /more than 4096 recipient stanzas/);
    assert.match(checkHeaderLimits(Buffer.from(`age-encryption.org/v1\n-> X25519 ${"A".repeat(1 << 20)}\n`)), /larger than 1048576/);
    assert.match(checkHeaderLimits(Buffer.from("age-encryption.org/v1\n-> X25519 abc\n")), /truncated/);
    assert.match(checkHeaderLimits(Buffer.from("not age")), /not an age v1 file/);
  });
});

describe("URLs", () => {
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

describe("manifest fast path", () => {
  it("agrees with the YAML parser on what writers produce, and defers on everything else", async () => {
    const { parseManifest, parseSimpleManifest } = await import("../build/lib/format.js");
    const { parse } = await import("yaml");
    const expected = (text) => {
      const y = parse(text, { version: "1.2" });
      return {
        agents: (y.agents ?? []).map((a) => ({ name: a.name, groups: a.groups ?? [] })),
        groups: (y.groups ?? []).map((g) => ({ name: g.name, secrets: g.secrets ?? [] })),
      };
    };
    const simple = [
      "version: 1\nowners:\n- name: Test Owner\n  public_key: owner.pub\nagents:\n- name: bot\n  groups:\n  - g1\n  - g2\n- name: ci\n  groups: []\ngroups:\n- name: g1\n  secrets:\n  - g1/a\n  - g1/b.c\n- name: empty\n  secrets: []\n",
      "version: 1\nowners: []\nagents: []\ngroups: []\n",
      "version: 1\n",
      "groups:\n- name: default\n  secrets:\n  - token\nversion: 1\n",
      "version: 1\nowners:\n- name: 'Ada: the owner'\n  public_key: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n",
    ];
    for (const text of simple) {
      const fast = parseSimpleManifest(Buffer.from(text));
      assert.ok(fast, text);
      assert.deepEqual(fast, expected(text), text);
      assert.deepEqual(parseManifest(Buffer.from(text)), expected(text));
    }
    const deferred = [
      "version: 1\nagents:\ngroups: []\n", // agents: null
      "version: 1\nagents:\n- name: bot\n  groups:\ngroups: []\n", // groups: null
      "version: 1\nowners:\n- name: a # comment\n  public_key: owner.pub\n",
      "version: 1\nowners:\n- name: a: b\n  public_key: owner.pub\n",
      "version: 1\nagents:\n- name: 123\n  groups: []\n", // a number, not a string
      "version: 1\nagents:\n- name: bot\n  future: x\n", // unknown key: preserved by writers, ignored by readers
      "version: 1\nagents:\n- name: bot\n  name: bot2\n", // duplicate key
      "version: 1\r\n",
      "version: 2\n",
      "version: 1\nagents:\n  - name: bot\n    groups: []\n", // another indentation
      'version: 1\nagents:\n- name: "bot"\n  groups: []\n',
      "version: 1\nagents: [{name: bot}]\n",
      "owners: []\n", // no version
    ];
    for (const text of deferred) assert.equal(parseSimpleManifest(Buffer.from(text)), null, text);
    // The full parser still decides those: same answers as before.
    assert.deepEqual(parseManifest(Buffer.from(deferred[9])), expected(deferred[9]));
    assert.throws(() => parseManifest(Buffer.from(deferred[4])), sdk.FormatError);
    assert.throws(() => parseManifest(Buffer.from(deferred[8])), (e) => e instanceof sdk.FormatError && /upgrade/.test(e.message));
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
    // Git, its hooks, ssh and credential helpers never see the key (issue 9, item 9).
    const clean = gitEnv({ PATH: "/bin", AGENT_VAULT_KEY: "AGE-SECRET-KEY-1X", AGENT_VAULT_HOME: "/h", AGENT_VAULT_X: "1" });
    assert.deepEqual(Object.keys(clean).filter((k) => k.startsWith("AGENT_VAULT")), []);
    // The default is process.env.
    assert.equal(gitEnv().PATH, process.env.PATH);
  });
});
