/**
 * The phone's configuration: one YAML file, validated with errors that name
 * the path and the reason. Every setting has a documented default
 * (docs/configuration.md); only the account and the exchange are required.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { AlertConfig } from "../alerting/alert-class.ts";
import { type ConfigError, parseAlertConfig } from "../alerting/alert-config.ts";
import { type HalConfig, parseHalConfig } from "./handset-config.ts";

export interface AudioDeviceConfig {
  device: string;
  rate: 8000 | 16000 | 48000;
}

export interface PhoneConfig {
  account: { user: string; password?: string; passwordFile?: string; displayName?: string };
  exchange: {
    url: string;
    caFile?: string;
    rejectUnauthorized: boolean;
    registerExpires: number;
  };
  audio: {
    ringer: AudioDeviceConfig;
    earpiece: AudioDeviceConfig;
    microphone: AudioDeviceConfig;
    ringerVolumeDb: number;
    /** Play the ringer in-process (native/alsa-pcm), kept open for a fast start. */
    nativeRinger: boolean;
    /** Carry call media (RTP, earpiece, microphone) on a native thread (native/call-media). */
    callMediaThread: boolean;
    rtpPorts: [number, number];
    mediaAddress?: string;
    /** A call with no RTP and no RTCP from the far end this long is ended (s). */
    mediaTimeoutS: number;
  };
  hal: HalConfig;
  alerting: AlertConfig;
  phone: { dnd: boolean; interDigitMs: number };
  journal: { path: string; maxBytes: number };
  /** bench.token: the bench API's bearer token (required, generated if absent, beyond loopback). */
  bench: { listen: string; token?: string };
}

export const DEFAULTS = {
  audioDevice: (rate: AudioDeviceConfig["rate"]): AudioDeviceConfig => ({
    device: "default",
    rate,
  }),
  ringerVolumeDb: -6,
  mediaTimeoutS: 30,
  rtpPorts: [16384, 32766] as [number, number],
  registerExpires: 300,
  interDigitMs: 4000,
  journalPath: "/var/lib/deskphone/journal.jsonl",
  journalMaxBytes: 1_048_576,
  benchListen: "127.0.0.1:8088",
};

export type ConfigResult =
  | { ok: true; config: PhoneConfig; warnings: string[] }
  | { ok: false; errors: ConfigError[]; warnings: string[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

class Reader {
  readonly errors: ConfigError[] = [];
  constructor(private readonly root: Record<string, unknown>) {}

  section(name: string, known: string[]): Record<string, unknown> {
    const v = this.root[name];
    if (v === undefined) return {};
    if (!isObject(v)) {
      this.errors.push({ path: name, reason: "expected a mapping" });
      return {};
    }
    for (const k of Object.keys(v)) {
      if (!known.includes(k))
        this.errors.push({
          path: `${name}.${k}`,
          reason: `unknown setting (known: ${known.join(", ")})`,
        });
    }
    return v;
  }

  string(
    obj: Record<string, unknown>,
    path: string,
    key: string,
    test?: (s: string) => string | undefined,
  ): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" && typeof v !== "number") {
      this.errors.push({ path: `${path}.${key}`, reason: "expected a string" });
      return undefined;
    }
    const s = String(v);
    const problem = test?.(s);
    if (problem) {
      this.errors.push({ path: `${path}.${key}`, reason: problem });
      return undefined;
    }
    return s;
  }

  number(
    obj: Record<string, unknown>,
    path: string,
    key: string,
    min: number,
    max: number,
    dflt: number,
  ): number {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.errors.push({
        path: `${path}.${key}`,
        reason: `expected a number from ${min} to ${max}`,
      });
      return dflt;
    }
    return v;
  }

  boolean(obj: Record<string, unknown>, path: string, key: string, dflt: boolean): boolean {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") {
      this.errors.push({ path: `${path}.${key}`, reason: "expected true or false" });
      return dflt;
    }
    return v;
  }

  device(
    obj: Record<string, unknown>,
    path: string,
    key: string,
    rate: AudioDeviceConfig["rate"],
  ): AudioDeviceConfig {
    const v = obj[key];
    if (v === undefined) return DEFAULTS.audioDevice(rate);
    if (typeof v === "string") return { device: v, rate };
    if (!isObject(v)) {
      this.errors.push({
        path: `${path}.${key}`,
        reason: "expected an ALSA PCM name or { device: NAME, rate: 8000|16000|48000 }",
      });
      return DEFAULTS.audioDevice(rate);
    }
    const device = this.string(v, `${path}.${key}`, "device") ?? "default";
    const r = v.rate ?? rate;
    if (r !== 8000 && r !== 16000 && r !== 48000) {
      this.errors.push({ path: `${path}.${key}.rate`, reason: "expected 8000, 16000 or 48000" });
      return { device, rate };
    }
    return { device, rate: r };
  }
}

const USER = /^[A-Za-z0-9._~+-]{1,64}$/;

/** Validates a parsed document. `baseDir` resolves relative file paths. */
export function validateConfig(doc: unknown, baseDir = "."): ConfigResult {
  const warnings: string[] = [];
  if (!isObject(doc))
    return {
      ok: false,
      errors: [{ path: "", reason: "expected a mapping at the top of the file" }],
      warnings,
    };
  const known = ["account", "exchange", "audio", "hal", "alerting", "phone", "journal", "bench"];
  const r = new Reader(doc);
  for (const k of Object.keys(doc))
    if (!known.includes(k))
      r.errors.push({ path: k, reason: `unknown section (known: ${known.join(", ")})` });
  const file = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

  const acc = r.section("account", ["user", "password", "passwordFile", "displayName"]);
  const user = r.string(acc, "account", "user", (s) =>
    USER.test(s) ? undefined : "expected 1-64 of A-Z a-z 0-9 . _ ~ + -",
  );
  if (doc.account === undefined || acc.user === undefined)
    r.errors.push({ path: "account.user", reason: "required: the phone's SIP user" });
  let password = r.string(acc, "account", "password");
  const passwordFile = r.string(acc, "account", "passwordFile");
  if (password !== undefined && passwordFile !== undefined) {
    r.errors.push({
      path: "account.passwordFile",
      reason: "give password or passwordFile, not both",
    });
  }
  if (passwordFile) {
    try {
      password = readFileSync(file(passwordFile), "utf8").trim();
      if ((statSync(file(passwordFile)).mode & 0o077) !== 0) {
        warnings.push(
          `account.passwordFile: ${file(passwordFile)} is readable by others; chmod 600 it`,
        );
      }
    } catch (e) {
      r.errors.push({
        path: "account.passwordFile",
        reason: `cannot read ${file(passwordFile)} (${(e as NodeJS.ErrnoException).code})`,
      });
    }
  }

  const ex = r.section("exchange", [
    "url",
    "caFile",
    "rejectUnauthorized",
    "trustedHosts",
    "registerExpires",
  ]);
  const url = r.string(ex, "exchange", "url", (s) =>
    /^wss?:\/\/[^/\s]+/.test(s) ? undefined : "expected a ws:// or wss:// URL",
  );
  if (ex.url === undefined)
    r.errors.push({ path: "exchange.url", reason: "required: the exchange's WebSocket URL" });
  const caFile = r.string(ex, "exchange", "caFile");
  if (caFile) {
    try {
      statSync(file(caFile));
    } catch {
      r.errors.push({ path: "exchange.caFile", reason: `no such file: ${file(caFile)}` });
    }
  }
  // Retired: trust comes from the verified connection, not from Via text (docs/sip.md).
  if (ex.trustedHosts !== undefined) {
    warnings.push(
      "exchange.trustedHosts is retired and ignored: an emergency mark counts when it arrives over the verified connection to exchange.url (docs/sip.md)",
    );
  }
  const rejectUnauthorized = r.boolean(ex, "exchange", "rejectUnauthorized", true);
  if (url?.startsWith("wss:") && !rejectUnauthorized) {
    warnings.push(
      "exchange.rejectUnauthorized is false: the exchange is not verified, so no emergency mark will be honoured (give exchange.caFile instead)",
    );
  } else if (
    url?.startsWith("ws:") &&
    !/^ws:\/\/(localhost|127\.[\d.]+|\[::1\])(:|\/|$)/i.test(url)
  ) {
    warnings.push(
      "exchange.url is ws:// to another machine: signalling and emergency marks travel unencrypted and unauthenticated; use wss:// outside a lab",
    );
  }

  const au = r.section("audio", [
    "ringer",
    "earpiece",
    "microphone",
    "ringerVolumeDb",
    "nativeRinger",
    "callMediaThread",
    "rtpPorts",
    "mediaAddress",
    "mediaTimeoutS",
  ]);
  let rtpPorts = DEFAULTS.rtpPorts;
  if (au.rtpPorts !== undefined) {
    const p = au.rtpPorts;
    if (
      Array.isArray(p) &&
      p.length === 2 &&
      p.every((x) => Number.isInteger(x) && x >= 1024 && x <= 65534) &&
      (p[0] as number) < (p[1] as number)
    ) {
      rtpPorts = [p[0] as number, p[1] as number];
    } else
      r.errors.push({
        path: "audio.rtpPorts",
        reason: "expected [low, high], 1024–65534, low < high",
      });
  }
  const mediaAddress = r.string(au, "audio", "mediaAddress");

  const hal = parseHalConfig(doc.hal, r.errors);

  const alerting = parseAlertConfig(doc.alerting);
  if (!alerting.ok)
    for (const e of alerting.errors)
      r.errors.push({ path: `alerting${e.path ? `.${e.path}` : ""}`, reason: e.reason });

  const ph = r.section("phone", ["dnd", "interDigitMs"]);
  const jr = r.section("journal", ["path", "maxBytes"]);
  const be = r.section("bench", ["listen", "token"]);
  const listen = r.string(be, "bench", "listen", (s) =>
    /^[^:\s]+:\d{1,5}$/.test(s) ? undefined : "expected HOST:PORT",
  );
  const benchToken = r.string(be, "bench", "token", (s) =>
    /^[A-Za-z0-9._~+/=-]{16,128}$/.test(s)
      ? undefined
      : "expected 16-128 of A-Z a-z 0-9 . _ ~ + / = - (a bearer token, RFC 6750 §2.1)",
  );

  const config: PhoneConfig = {
    account: {
      user: user ?? "",
      ...(password !== undefined && { password }),
      ...(passwordFile && { passwordFile: file(passwordFile) }),
      ...(typeof acc.displayName === "string" && { displayName: acc.displayName }),
    },
    exchange: {
      url: url ?? "",
      ...(caFile && { caFile: file(caFile) }),
      rejectUnauthorized,
      registerExpires: r.number(
        ex,
        "exchange",
        "registerExpires",
        30,
        86400,
        DEFAULTS.registerExpires,
      ),
    },
    audio: {
      ringer: r.device(au, "audio", "ringer", 48000),
      earpiece: r.device(au, "audio", "earpiece", 8000),
      microphone: r.device(au, "audio", "microphone", 8000),
      ringerVolumeDb: r.number(au, "audio", "ringerVolumeDb", -60, 0, DEFAULTS.ringerVolumeDb),
      nativeRinger: r.boolean(au, "audio", "nativeRinger", true),
      callMediaThread: r.boolean(au, "audio", "callMediaThread", true),
      rtpPorts,
      ...(mediaAddress && { mediaAddress }),
      mediaTimeoutS: r.number(au, "audio", "mediaTimeoutS", 1, 3600, DEFAULTS.mediaTimeoutS),
    },
    hal,
    alerting: alerting.ok ? alerting.config : parseAlertConfigDefault(),
    phone: {
      dnd: r.boolean(ph, "phone", "dnd", false),
      interDigitMs: r.number(ph, "phone", "interDigitMs", 1000, 30000, DEFAULTS.interDigitMs),
    },
    journal: {
      path: file(r.string(jr, "journal", "path") ?? DEFAULTS.journalPath),
      maxBytes: r.number(jr, "journal", "maxBytes", 16384, 1 << 30, DEFAULTS.journalMaxBytes),
    },
    bench: { listen: listen ?? DEFAULTS.benchListen, ...(benchToken && { token: benchToken }) },
  };
  if (config.exchange.url.startsWith("ws://") && password !== undefined) {
    warnings.push(
      "exchange.url: ws:// sends the digest exchange unencrypted; use wss:// outside a lab",
    );
  }
  return r.errors.length
    ? { ok: false, errors: r.errors, warnings }
    : { ok: true, config, warnings };
}

function parseAlertConfigDefault(): AlertConfig {
  const r = parseAlertConfig(undefined);
  if (!r.ok) throw new Error("default alert config invalid");
  return r.config;
}

/** Reads and validates a config file. */
export function loadConfig(path: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return {
      ok: false,
      errors: [{ path: "", reason: `cannot read ${path} (${(e as NodeJS.ErrnoException).code})` }],
      warnings: [],
    };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return {
      ok: false,
      errors: [{ path: "", reason: `not valid YAML: ${(e as Error).message.split("\n")[0]}` }],
      warnings: [],
    };
  }
  const warnings: string[] = [];
  if (/^\s*password\s*:/m.test(text)) {
    try {
      if ((statSync(path).mode & 0o077) !== 0)
        warnings.push(`${path} holds the SIP password and is readable by others; chmod 600 it`);
    } catch {}
  }
  const r = validateConfig(doc, dirname(path));
  r.warnings.unshift(...warnings);
  return r;
}
