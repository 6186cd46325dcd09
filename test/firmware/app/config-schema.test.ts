/**
 * The config's words, pinned: every path-and-reason line users read, the
 * defaults the schema fills in, the warnings. validateConfig is checked
 * against its JSON Schema (config-schema.ts) and the checks after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../../firmware/app/config.ts";
import { PHONE_KEYMAP } from "../../../hal/tca8418.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-config-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { account: { user: "2001" }, exchange: { url: "wss://pbx:8443" } };
/** The problems of `base` with `patch` over it, as PATH: REASON lines. */
const problems = (doc: unknown) => {
  const r = validateConfig(doc);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.reason}`);
};
const over = (section: string, settings: unknown) => problems({ ...base, [section]: settings });

describe("the words of each problem", () => {
  it.each([
    [5, [": expected a mapping at the top of the file"]],
    [
      {},
      [
        "account.user: required: the phone's SIP user",
        "exchange.url: required: the exchange's WebSocket URL",
      ],
    ],
    [
      { ...base, extra: 1 },
      [
        "extra: unknown section (known: account, exchange, audio, hal, alerting, phone, journal, bench)",
      ],
    ],
  ])("document %j", (doc, lines) => {
    expect(problems(doc)).toEqual(lines);
  });

  it.each([
    ["account", { user: "a b" }, "account.user: expected 1-64 of A-Z a-z 0-9 . _ ~ + -"],
    [
      "account",
      { user: "2001", pin: 1 },
      "account.pin: unknown setting (known: user, password, passwordFile, displayName)",
    ],
    [
      "account",
      { user: "2001", password: "x", passwordFile: "/nonexistent/pw" },
      "account.passwordFile: give password or passwordFile, not both",
    ],
    [
      "account",
      { user: "2001", passwordFile: "/nonexistent/pw" },
      "account.passwordFile: cannot read /nonexistent/pw (ENOENT)",
    ],
    ["account", 5, "account: expected a mapping"],
    ["exchange", { url: "http://pbx" }, "exchange.url: expected a ws:// or wss:// URL"],
    [
      "exchange",
      { url: "wss://pbx", caFile: "/nonexistent/ca.pem" },
      "exchange.caFile: no such file: /nonexistent/ca.pem",
    ],
    [
      "exchange",
      { url: "wss://pbx", registerExpires: 10 },
      "exchange.registerExpires: expected a number from 30 to 86400",
    ],
    [
      "exchange",
      { url: "wss://pbx", rejectUnauthorized: "no" },
      "exchange.rejectUnauthorized: expected true or false",
    ],
    [
      "audio",
      { ringer: 5 },
      "audio.ringer: expected an ALSA PCM name or { device: NAME, rate: 8000|16000|48000 }",
    ],
    [
      "audio",
      { earpiece: { device: "hw:0", rate: 44100 } },
      "audio.earpiece.rate: expected 8000, 16000 or 48000",
    ],
    [
      "audio",
      { rtpPorts: [5000, 4000] },
      "audio.rtpPorts: expected [low, high], 1024–65534, low < high",
    ],
    [
      "audio",
      { rtpPorts: [80, 70000] },
      "audio.rtpPorts: expected [low, high], 1024–65534, low < high",
    ],
    [
      "audio",
      { rtpPorts: "16384-32766" },
      "audio.rtpPorts: expected [low, high], 1024–65534, low < high",
    ],
    ["audio", { ringerVolumeDb: 3 }, "audio.ringerVolumeDb: expected a number from -60 to 0"],
    ["audio", { mediaAddress: 5 }, "audio.mediaAddress: expected a string"],
    ["phone", { interDigitMs: 5 }, "phone.interDigitMs: expected a number from 1000 to 30000"],
    ["journal", { maxBytes: 1 }, "journal.maxBytes: expected a number from 16384 to 1073741824"],
    ["bench", { listen: "8088" }, "bench.listen: expected HOST:PORT"],
    [
      "bench",
      { token: "short" },
      "bench.token: expected 16-128 of A-Z a-z 0-9 . _ ~ + / = - (a bearer token, RFC 6750 §2.1)",
    ],
    ["hal", { backend: "gpio" }, "hal.gpio: the gpio backend needs gpio.chip and gpio.hook"],
    ["hal", { gpio: { chip: "c" } }, "hal.gpio.hook: expected a line name such as GPIO17"],
    [
      "hal",
      {
        backend: "sysfs",
        gpio: { chip: "c", hook: "GPIO1", matrix: { rows: ["GPIO2"], cols: ["GPIO3"] } },
      },
      "hal.gpio.matrix: a CPU-scanned matrix needs the gpio backend (sysfs is too slow to scan)",
    ],
    [
      "hal",
      { gpio: { chip: "c", hook: "GPIO1", matrix: { rows: ["GPIO1"], cols: [] } } },
      "hal.gpio.matrix.cols: expected rows: [...] and cols: [...] line names",
    ],
    [
      "hal",
      { i2c: { bus: 1, keypad: { chip: "mcp23017", address: 0x34 } } },
      "hal.i2c.keypad.address: expected an address from 0x20 to 0x27",
    ],
    [
      "hal",
      { i2c: { bus: 1, keypad: { chip: "tca8418", keymap: [["1", "x"]] } } },
      "hal.i2c.keypad.keymap: expected rows of keys (0 1 2 3 4 5 6 7 8 9 * # dnd ack) or null",
    ],
    [
      "hal",
      { i2c: { bus: 1, leds: { chip: "pca9532" } } },
      "hal.i2c.leds.map: expected { status: 0, line: 1, … }",
    ],
    ["hal", { timing: { debounceMs: 1 } }, "hal.timing.debounceMs: expected 5-100 ms"],
  ])("%s %j", (section, settings, line) => {
    expect(over(section, settings)).toContain(line);
  });

  it("one line per setting: a refused setting is not also named by the checks after the schema", () => {
    expect(over("audio", { rtpPorts: [70000, 2] })).toEqual([
      "audio.rtpPorts: expected [low, high], 1024–65534, low < high",
    ]);
    expect(over("hal", { gpio: { chip: "c", hook: "GPIO1", leds: { status: "GPIO1" } } })).toEqual([
      "hal.gpio.leds.status: line GPIO1 is already used by gpio.hook",
    ]);
  });
});

describe("defaults", () => {
  it("come from the schema, and from the setting beside them where they depend on it", () => {
    const doc = {
      ...base,
      account: { user: 2001, password: 123456 },
      audio: { earpiece: "hw:1", ringer: { device: "hw:0" } },
      hal: {
        gpio: { chip: "c", hook: "GPIO1", matrix: { rows: ["GPIO2"], cols: ["GPIO3"] } },
        i2c: { bus: 1, keypad: { chip: "mcp23017" }, leds: { chip: "pca9532", map: { line: 1 } } },
        timing: { debounceMs: 40 },
      },
    };
    const copy = structuredClone(doc);
    const r = validateConfig(doc);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(doc, "the caller's document is left as it was").toEqual(copy);
    const c = r.config;
    expect(c.account).toEqual({ user: "2001", password: "123456" });
    expect(c.exchange).toEqual({
      url: "wss://pbx:8443",
      rejectUnauthorized: true,
      registerExpires: 300,
    });
    expect(c.audio.earpiece).toEqual({ device: "hw:1", rate: 8000 });
    expect(c.audio.ringer).toEqual({ device: "hw:0", rate: 48000 });
    expect(c.audio.microphone).toEqual({ device: "default", rate: 8000 });
    expect(c.hal).toEqual({
      backend: "mock",
      gpio: {
        chip: "c",
        hook: "GPIO1",
        hookActiveLow: true,
        matrix: { rows: ["GPIO2"], cols: ["GPIO3"], keymap: PHONE_KEYMAP },
      },
      i2c: {
        bus: 1,
        keypad: { chip: "mcp23017", address: 0x20, keymap: PHONE_KEYMAP },
        leds: { chip: "pca9532", address: 0x60, map: { line: 1 } },
      },
      timing: { debounceMs: 40, flashMinMs: 100, flashMaxMs: 900 },
    });
    expect(c.phone).toEqual({ dnd: false, interDigitMs: 4000 });
    expect(c.journal).toEqual({ path: "/var/lib/deskphone/journal.jsonl", maxBytes: 1048576 });
    expect(c.bench).toEqual({ listen: "127.0.0.1:8088" });
    const plain = validateConfig(base);
    expect(plain.ok && plain.config.hal).toEqual({ backend: "mock" });
  });

  it("relative paths are taken from the config file's folder", () => {
    writeFileSync(join(dir, "ca.pem"), "");
    const r = validateConfig(
      { ...base, exchange: { url: "wss://pbx", caFile: "ca.pem" }, journal: { path: "j.jsonl" } },
      dir,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.exchange.caFile).toBe(join(dir, "ca.pem"));
    expect(r.config.journal.path).toBe(join(dir, "j.jsonl"));
  });
});

describe("warnings", () => {
  const warnings = (exchange: object, account: object = base.account) => {
    const r = validateConfig({ account, exchange });
    expect(r.ok, JSON.stringify(r.ok || r.errors)).toBe(true);
    return r.warnings;
  };

  it("say what makes an emergency mark or the password untrustworthy, and what is retired", () => {
    expect(warnings({ url: "wss://pbx:8443" })).toEqual([]);
    expect(warnings({ url: "ws://127.0.0.1:8080" })).toEqual([]);
    expect(warnings({ url: "wss://pbx", trustedHosts: ["pbx"] })).toEqual([
      "exchange.trustedHosts is retired and ignored: an emergency mark counts when it arrives over the verified connection to exchange.url (docs/sip.md)",
    ]);
    expect(warnings({ url: "wss://pbx", rejectUnauthorized: false })).toEqual([
      "exchange.rejectUnauthorized is false: the exchange is not verified, so no emergency mark will be honoured (give exchange.caFile instead)",
    ]);
    expect(warnings({ url: "ws://pbx.example.com" }, { user: "2001", password: "pw" })).toEqual([
      "exchange.url is ws:// to another machine: signalling and emergency marks travel unencrypted and unauthenticated; use wss:// outside a lab",
      "exchange.url: ws:// sends the digest exchange unencrypted; use wss:// outside a lab",
    ]);
  });
});
