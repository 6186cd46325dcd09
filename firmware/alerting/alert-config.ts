/**
 * Alert configuration from a plain object (the `alerting` section of the
 * phone's YAML config, or a file given to `deskphone classify-alert`),
 * validated with errors that name the path and the reason.
 *
 *   country: uk                       # national ring and tones (us, uk, de, cn)
 *   classes:                          # change a default class, or add one
 *     emergency: { ringLevel: full }
 *     vip: { cadence: bellcore-dr3, precedence: 5, whenBusy: call-waiting }
 *   rules:                            # replaces the default rules when given
 *     - { class: vip, alertInfo: [vip, "urn:alert:source:friend"] }
 */
import {
  type AlertClass,
  type AlertConfig,
  type AlertRule,
  type BusyPolicy,
  DEFAULT_ALERT_CONFIG,
} from "./alert-class.ts";
import { CADENCES, COUNTRIES, type Country } from "./cadences.ts";
import { LED_NAMES, type LedName, type LedPattern } from "./led-pattern.ts";

export interface ConfigError {
  path: string;
  reason: string;
}

export type AlertConfigResult =
  | { ok: true; config: AlertConfig }
  | { ok: false; errors: ConfigError[] };

const BUSY: readonly BusyPolicy[] = ["preempt", "call-waiting", "busy"];
const CLASS_KEYS = new Set([
  "cadence",
  "led",
  "precedence",
  "whenBusy",
  "bypassDnd",
  "ringLevel",
  "trustedOnly",
  "emergency",
]);
const RULE_KEYS = new Set(["class", "alertInfo", "priority", "resourcePriorityAtLeast"]);
const PRIORITIES = ["non-urgent", "normal", "urgent", "emergency"];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function ledPattern(v: unknown, path: string, errors: ConfigError[]): LedPattern | undefined {
  if (v === "off" || v === "on") return { kind: v };
  if (isObject(v) && typeof v.blink === "object" && Array.isArray(v.blink)) {
    const [onMs, offMs] = v.blink as unknown[];
    if (typeof onMs === "number" && typeof offMs === "number" && onMs >= 20 && offMs >= 20) {
      return { kind: "blink", onMs, offMs };
    }
  }
  errors.push({ path, reason: 'expected "off", "on" or { blink: [onMs, offMs] } with both ≥ 20' });
  return undefined;
}

function classFrom(
  name: string,
  raw: unknown,
  base: AlertClass,
  errors: ConfigError[],
): AlertClass | undefined {
  const path = `classes.${name}`;
  if (!isObject(raw)) {
    errors.push({ path, reason: "expected a mapping of class settings" });
    return undefined;
  }
  const c: AlertClass = { ...base, name };
  for (const [key, v] of Object.entries(raw)) {
    const p = `${path}.${key}`;
    if (!CLASS_KEYS.has(key)) {
      errors.push({ path: p, reason: `unknown setting (known: ${[...CLASS_KEYS].join(", ")})` });
    } else if (key === "cadence") {
      if (typeof v === "string" && (v === "ring" || CADENCES[v])) c.cadence = v;
      else
        errors.push({
          path: p,
          reason: `unknown cadence (known: ring, ${Object.keys(CADENCES).join(", ")})`,
        });
    } else if (key === "led") {
      if (!isObject(v) || !LED_NAMES.includes(v.name as LedName)) {
        errors.push({ path: p, reason: `expected { name: ${LED_NAMES.join("|")}, pattern: ... }` });
      } else {
        const pattern = ledPattern(v.pattern, `${p}.pattern`, errors);
        if (pattern) c.led = { name: v.name as LedName, pattern };
      }
    } else if (key === "precedence") {
      if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 1000) c.precedence = v;
      else errors.push({ path: p, reason: "expected a whole number from 0 to 1000" });
    } else if (key === "whenBusy") {
      if (BUSY.includes(v as BusyPolicy)) c.whenBusy = v as BusyPolicy;
      else errors.push({ path: p, reason: `expected one of ${BUSY.join(", ")}` });
    } else if (key === "ringLevel") {
      if (v === "user" || v === "full") c.ringLevel = v;
      else errors.push({ path: p, reason: 'expected "user" or "full"' });
    } else if (typeof v === "boolean") {
      c[key as "bypassDnd" | "trustedOnly" | "emergency"] = v;
    } else {
      errors.push({ path: p, reason: "expected true or false" });
    }
  }
  return c;
}

function stringList(v: unknown, path: string, errors: ConfigError[]): string[] | undefined {
  const list = typeof v === "string" ? [v] : v;
  if (Array.isArray(list) && list.every((s) => typeof s === "string" && s.trim().length > 0)) {
    return list as string[];
  }
  errors.push({ path, reason: "expected a string or a list of non-empty strings" });
  return undefined;
}

export function parseAlertConfig(
  raw: unknown,
  base: AlertConfig = DEFAULT_ALERT_CONFIG,
): AlertConfigResult {
  const errors: ConfigError[] = [];
  if (raw === undefined || raw === null) return { ok: true, config: base };
  if (!isObject(raw)) return { ok: false, errors: [{ path: "", reason: "expected a mapping" }] };
  let country = base.country;
  const classes: Record<string, AlertClass> = { ...base.classes };
  let rules = base.rules;
  for (const [key, v] of Object.entries(raw)) {
    if (key === "country") {
      if (COUNTRIES.includes(v as Country)) country = v as Country;
      else errors.push({ path: "country", reason: `expected one of ${COUNTRIES.join(", ")}` });
    } else if (key === "classes") {
      if (!isObject(v)) {
        errors.push({ path: "classes", reason: "expected a mapping of class name to settings" });
        continue;
      }
      for (const [name, settings] of Object.entries(v)) {
        if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) {
          errors.push({
            path: `classes.${name}`,
            reason: "class names are a-z, 0-9 and -, up to 32",
          });
          continue;
        }
        const basis = classes[name] ?? (classes.normal as AlertClass);
        const c = classFrom(name, settings, basis, errors);
        if (c) classes[name] = c;
      }
    } else if (key === "rules") {
      if (!Array.isArray(v)) {
        errors.push({ path: "rules", reason: "expected a list of rules" });
        continue;
      }
      const parsed: AlertRule[] = [];
      for (const [i, r] of (v as unknown[]).entries()) {
        const path = `rules[${i}]`;
        if (!isObject(r)) {
          errors.push({ path, reason: "expected a mapping" });
          continue;
        }
        for (const k of Object.keys(r)) {
          if (!RULE_KEYS.has(k)) errors.push({ path: `${path}.${k}`, reason: "unknown rule key" });
        }
        const rule: AlertRule = { class: String(r.class) };
        if (typeof r.class !== "string")
          errors.push({ path: `${path}.class`, reason: "expected a class name" });
        if (r.alertInfo !== undefined) {
          const l = stringList(r.alertInfo, `${path}.alertInfo`, errors);
          if (l) Object.assign(rule, { alertInfo: l });
        }
        if (r.priority !== undefined) {
          const l = stringList(r.priority, `${path}.priority`, errors);
          if (l?.every((p) => PRIORITIES.includes(p))) Object.assign(rule, { priority: l });
          else if (l)
            errors.push({ path: `${path}.priority`, reason: `expected ${PRIORITIES.join(", ")}` });
        }
        if (r.resourcePriorityAtLeast !== undefined) {
          const n = r.resourcePriorityAtLeast;
          if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 5) {
            Object.assign(rule, { resourcePriorityAtLeast: n });
          } else
            errors.push({ path: `${path}.resourcePriorityAtLeast`, reason: "expected 0 to 5" });
        }
        if (!rule.alertInfo && !rule.priority && rule.resourcePriorityAtLeast === undefined) {
          errors.push({
            path,
            reason: "a rule needs alertInfo, priority or resourcePriorityAtLeast",
          });
        }
        parsed.push(rule);
      }
      rules = parsed;
    } else {
      errors.push({ path: key, reason: "unknown setting (known: country, classes, rules)" });
    }
  }
  for (const [i, r] of rules.entries()) {
    if (!classes[r.class])
      errors.push({ path: `rules[${i}].class`, reason: `no class named "${r.class}"` });
  }
  return errors.length ? { ok: false, errors } : { ok: true, config: { classes, rules, country } };
}
