/**
 * The phone's configuration: one YAML file, checked against its JSON Schema
 * (config-schema.ts, the one description of it) with errors that name the path
 * and the reason; then the few checks a schema cannot make (files exist, who
 * can read the password, wiring conflicts, rules naming a class) and the
 * warnings. Every setting has a documented default (docs/configuration.md);
 * only the account and the exchange are required.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { AlertConfig } from "../alerting/alert-class.ts";
import { alertConfigFrom, alertingProblems } from "./alerting-config.ts";
import { at, type ConfigError, schemaValidator } from "./config-errors.ts";
import { CONFIG_SCHEMA, type ConfigDocument } from "./config-schema.ts";
import { type HalConfig, halConfigFrom, wiringProblems } from "./handset-config.ts";

export type { ConfigError };

type Audio = ConfigDocument["audio"];

/** An ALSA PCM and the rate the phone opens it at. */
export type AudioDeviceConfig = Exclude<Audio["ringer"], string>;

/** The configuration the phone runs with: the validated document, resolved. */
export interface PhoneConfig {
  /** The password is read from `passwordFile` when that is given; paths are absolute. */
  account: { user: string; password?: string; passwordFile?: string; displayName?: string };
  exchange: Omit<ConfigDocument["exchange"], "trustedHosts">;
  audio: Omit<Audio, "ringer" | "earpiece" | "microphone" | "rtpPorts"> & {
    ringer: AudioDeviceConfig;
    earpiece: AudioDeviceConfig;
    microphone: AudioDeviceConfig;
    rtpPorts: [number, number];
  };
  hal: HalConfig;
  alerting: AlertConfig;
  phone: ConfigDocument["phone"];
  journal: ConfigDocument["journal"];
  /** bench.token: the bench API's bearer token (required, generated if absent, beyond loopback). */
  bench: ConfigDocument["bench"];
}

export type ConfigResult =
  | { ok: true; config: PhoneConfig; warnings: string[] }
  | { ok: false; errors: ConfigError[]; warnings: string[] };

const checkSchema = schemaValidator(CONFIG_SCHEMA);
const DEVICES = CONFIG_SCHEMA.properties.audio.properties;

/** Validates a parsed document. `baseDir` resolves relative file paths. */
export function validateConfig(input: unknown, baseDir = "."): ConfigResult {
  const warnings: string[] = [];
  const file = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const doc = structuredClone(input); // the schema fills defaults in
  const errors = checkSchema(doc);
  // The checks a schema cannot make, also on a document it refused, so that one
  // run names every problem: each reads only what has the right type.
  const password = accountChecks(doc, file, errors, warnings);
  exchangeChecks(doc, file, errors, warnings);
  const ports = at(doc, "audio", "rtpPorts");
  const portsRefused = errors.some((e) => e.path === "audio.rtpPorts");
  if (Array.isArray(ports) && !portsRefused && !((ports[0] as number) < (ports[1] as number)))
    errors.push({ path: "audio.rtpPorts", reason: "expected [low, high], 1024–65534, low < high" });
  errors.push(...prefixed("hal", wiringProblems(at(doc, "hal"))));
  errors.push(...prefixed("alerting", alertingProblems(at(doc, "alerting"))));
  if (errors.length) return { ok: false, errors, warnings };

  const d = doc as ConfigDocument;
  const { account: a, exchange: ex, audio: au, journal: jr } = d;
  const { trustedHosts: _retired, ...exchange } = ex;
  const device = (v: Audio["ringer"], role: "ringer" | "earpiece" | "microphone") =>
    typeof v === "string" ? { device: v, rate: DEVICES[role].properties.rate.default } : v;
  const config: PhoneConfig = {
    account: {
      user: String(a.user),
      ...(password !== undefined && { password }),
      ...(a.passwordFile && { passwordFile: file(a.passwordFile) }),
      ...(a.displayName !== undefined && { displayName: String(a.displayName) }),
    },
    exchange: { ...exchange, ...(ex.caFile && { caFile: file(ex.caFile) }) },
    audio: {
      ...au,
      ringer: device(au.ringer, "ringer"),
      earpiece: device(au.earpiece, "earpiece"),
      microphone: device(au.microphone, "microphone"),
      rtpPorts: [au.rtpPorts[0] as number, au.rtpPorts[1] as number],
    },
    hal: halConfigFrom(d.hal),
    alerting: alertConfigFrom(d.alerting),
    phone: d.phone,
    journal: { ...jr, path: file(jr.path) },
    bench: d.bench,
  };
  if (config.exchange.url.startsWith("ws://") && password !== undefined) {
    warnings.push(
      "exchange.url: ws:// sends the digest exchange unencrypted; use wss:// outside a lab",
    );
  }
  return { ok: true, config, warnings };
}

const prefixed = (section: string, errors: ConfigError[]): ConfigError[] =>
  errors.map((e) => ({ path: `${section}${e.path ? `.${e.path}` : ""}`, reason: e.reason }));

/** One of password and passwordFile; the file readable, and by the phone alone. Returns the password. */
function accountChecks(
  doc: unknown,
  file: (p: string) => string,
  errors: ConfigError[],
  warnings: string[],
): string | undefined {
  const inline = at(doc, "account", "password");
  const passwordFile = at(doc, "account", "passwordFile");
  if (inline !== undefined && passwordFile !== undefined) {
    errors.push({
      path: "account.passwordFile",
      reason: "give password or passwordFile, not both",
    });
  }
  if (typeof passwordFile !== "string" || !passwordFile)
    return inline === undefined ? undefined : String(inline);
  const path = file(passwordFile);
  try {
    const password = readFileSync(path, "utf8").trim();
    if ((statSync(path).mode & 0o077) !== 0)
      warnings.push(`account.passwordFile: ${path} is readable by others; chmod 600 it`);
    return password;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    errors.push({ path: "account.passwordFile", reason: `cannot read ${path} (${code})` });
    return undefined;
  }
}

/** The CA file exists; what makes an emergency mark untrustworthy is said. */
function exchangeChecks(
  doc: unknown,
  file: (p: string) => string,
  errors: ConfigError[],
  warnings: string[],
): void {
  const caFile = at(doc, "exchange", "caFile");
  if (typeof caFile === "string" && caFile) {
    try {
      statSync(file(caFile));
    } catch {
      errors.push({ path: "exchange.caFile", reason: `no such file: ${file(caFile)}` });
    }
  }
  // Retired: trust comes from the verified connection, not from Via text (docs/sip.md).
  if (at(doc, "exchange", "trustedHosts") !== undefined) {
    warnings.push(
      "exchange.trustedHosts is retired and ignored: an emergency mark counts when it arrives over the verified connection to exchange.url (docs/sip.md)",
    );
  }
  const url = at(doc, "exchange", "url");
  if (typeof url !== "string") return;
  if (url.startsWith("wss:") && at(doc, "exchange", "rejectUnauthorized") === false) {
    warnings.push(
      "exchange.rejectUnauthorized is false: the exchange is not verified, so no emergency mark will be honoured (give exchange.caFile instead)",
    );
  } else if (
    url.startsWith("ws:") &&
    !/^ws:\/\/(localhost|127\.[\d.]+|\[::1\])(:|\/|$)/i.test(url)
  ) {
    warnings.push(
      "exchange.url is ws:// to another machine: signalling and emergency marks travel unencrypted and unauthenticated; use wss:// outside a lab",
    );
  }
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
