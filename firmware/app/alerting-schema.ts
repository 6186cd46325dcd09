/**
 * The JSON Schema of the config's `alerting` section (docs/alerting.md), also
 * what `deskphone classify-alert --config` checks an alerting file against.
 * Part of config-schema.ts, the one description of the config; `x-reason` is
 * the words users read (config-errors.ts).
 *
 *   country: uk                       # national ring and tones (us, uk, de, cn)
 *   classes:                          # change a default class, or add one
 *     emergency: { ringLevel: full }
 *     vip: { cadence: bellcore-dr3, precedence: 5, whenBusy: call-waiting }
 *   rules:                            # replaces the default rules when given
 *     - { class: vip, alertInfo: [vip, "urn:alert:source:friend"] }
 */
import { CADENCES, COUNTRIES } from "../alerting/cadences.ts";
import { LED_NAMES } from "../alerting/led-pattern.ts";

const CADENCE_NAMES = ["ring", ...Object.keys(CADENCES)];
const BUSY = ["preempt", "call-waiting", "busy"] as const;
const PRIORITIES = ["non-urgent", "normal", "urgent", "emergency"] as const;

const LED_PATTERN = {
  anyOf: [
    { enum: ["off", "on"] },
    {
      type: "object",
      additionalProperties: false,
      required: ["blink"],
      properties: {
        blink: {
          description: "[onMs, offMs]",
          type: "array",
          items: { type: "number", minimum: 20 },
          minItems: 2,
          maxItems: 2,
        },
      },
    },
  ],
  "x-reason": 'expected "off", "on" or { blink: [onMs, offMs] } with both ≥ 20',
} as const;

const ALERT_CLASS = {
  description: "settings of an alert class; those not given are the class's defaults (or normal's)",
  type: "object",
  additionalProperties: false,
  properties: {
    cadence: {
      enum: CADENCE_NAMES,
      "x-reason": `unknown cadence (known: ${CADENCE_NAMES.join(", ")})`,
    },
    led: {
      type: "object",
      additionalProperties: false,
      required: ["name", "pattern"],
      properties: { name: { enum: LED_NAMES }, pattern: LED_PATTERN },
      "x-reason": { "*": `expected { name: ${LED_NAMES.join("|")}, pattern: ... }` },
    },
    precedence: { type: "integer", minimum: 0, maximum: 1000 },
    whenBusy: { enum: BUSY },
    bypassDnd: { type: "boolean" },
    ringLevel: { enum: ["user", "full"], "x-reason": 'expected "user" or "full"' },
    trustedOnly: { type: "boolean" },
    emergency: { type: "boolean" },
  },
  "x-reason": { type: "expected a mapping of class settings" },
} as const;

const ALERT_RULE = {
  type: "object",
  additionalProperties: false,
  required: ["class"],
  properties: {
    class: { type: "string", "x-reason": "expected a class name" },
    alertInfo: {
      type: ["string", "array"],
      pattern: "\\S",
      items: { type: "string", pattern: "\\S" },
      "x-reason": "expected a string or a list of non-empty strings",
    },
    priority: {
      anyOf: [{ enum: PRIORITIES }, { type: "array", items: { enum: PRIORITIES } }],
      "x-reason": `expected ${PRIORITIES.join(", ")}`,
    },
    resourcePriorityAtLeast: {
      type: "integer",
      minimum: 0,
      maximum: 5,
      "x-reason": "expected 0 to 5",
    },
  },
  anyOf: [
    { required: ["alertInfo"] },
    { required: ["priority"] },
    { required: ["resourcePriorityAtLeast"] },
  ],
  "x-reason": {
    type: "expected a mapping",
    additionalProperties: "unknown rule key",
    anyOf: "a rule needs alertInfo, priority or resourcePriorityAtLeast",
  },
} as const;

export const ALERTING_SCHEMA = {
  description: "alert classes and the rules that pick one (docs/alerting.md)",
  type: ["object", "null"],
  additionalProperties: false,
  properties: {
    country: { enum: COUNTRIES, description: "national ring and tones; default us" },
    classes: {
      type: "object",
      propertyNames: { pattern: "^[a-z][a-z0-9-]{0,31}$" },
      additionalProperties: ALERT_CLASS,
      "x-reason": {
        type: "expected a mapping of class name to settings",
        propertyNames: "class names are a-z, 0-9 and -, up to 32",
      },
    },
    rules: {
      description: "replaces the default rules when given",
      type: "array",
      items: ALERT_RULE,
      "x-reason": { type: "expected a list of rules" },
    },
  },
  "x-reason": { type: "expected a mapping" },
} as const;
