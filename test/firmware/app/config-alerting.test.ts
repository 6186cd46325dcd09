/** The alerting section: checked against its part of the schema, made into the classifier's config. */
import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_CONFIG } from "../../../firmware/alerting/alert-class.ts";
import { classify } from "../../../firmware/alerting/classify.ts";
import { parseAlertConfig } from "../../../firmware/app/alerting-config.ts";
import { validateConfig } from "../../../firmware/app/config.ts";

describe("parseAlertConfig", () => {
  it("accepts nothing as the defaults", () => {
    expect(parseAlertConfig(undefined)).toEqual({ ok: true, config: DEFAULT_ALERT_CONFIG });
    expect(parseAlertConfig(null)).toEqual({ ok: true, config: DEFAULT_ALERT_CONFIG });
  });

  it("changes a default class, adds one over normal's settings, and replaces the rules", () => {
    const r = parseAlertConfig({
      country: "uk",
      classes: {
        emergency: { ringLevel: "user", led: { name: "status", pattern: { blink: [50, 950] } } },
        vip: { cadence: "bellcore-dr3", precedence: 5, whenBusy: "call-waiting" },
      },
      rules: [{ class: "vip", alertInfo: ["vip", "urn:alert:source:friend"], priority: "urgent" }],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.country).toBe("uk");
    expect(r.config.classes.emergency).toEqual({
      ...DEFAULT_ALERT_CONFIG.classes.emergency,
      ringLevel: "user",
      led: { name: "status", pattern: { kind: "blink", onMs: 50, offMs: 950 } },
    });
    expect(r.config.classes.vip).toEqual({
      ...DEFAULT_ALERT_CONFIG.classes.normal,
      name: "vip",
      cadence: "bellcore-dr3",
      precedence: 5,
      whenBusy: "call-waiting",
    });
    expect(r.config.rules).toEqual([
      { class: "vip", alertInfo: ["vip", "urn:alert:source:friend"], priority: ["urgent"] },
    ]);
    const call = { alertInfo: ["<urn:alert:source:friend>"], trusted: true };
    expect(classify(call, r.config).alertClass.name).toBe("vip");
    // The configured rules replace the defaults.
    const marked = { alertInfo: ["info=alert-emergency"], trusted: true };
    expect(classify(marked, r.config).alertClass.name).toBe("normal");
  });

  it("names the path and the reason of every error", () => {
    const r = parseAlertConfig({
      country: "fr",
      classes: {
        emergency: { whenBusy: "sometimes", ringLevel: 11, colour: "red" },
        "Bad Name": {},
        quiet: { led: { name: "emergency", pattern: { blink: [5, 5] } } },
      },
      rules: [{ class: "nope", alertInfo: [""] }, { class: "normal" }, "x"],
      extra: 1,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.fromEntries(r.errors.map((e) => [e.path, e.reason]))).toEqual({
      country: "expected one of us, uk, de, cn",
      "classes.emergency.whenBusy": "expected one of preempt, call-waiting, busy",
      "classes.emergency.ringLevel": 'expected "user" or "full"',
      "classes.emergency.colour":
        "unknown setting (known: cadence, led, precedence, whenBusy, bypassDnd, ringLevel, trustedOnly, emergency)",
      "classes.Bad Name": "class names are a-z, 0-9 and -, up to 32",
      "classes.quiet.led.pattern":
        'expected "off", "on" or { blink: [onMs, offMs] } with both ≥ 20',
      "rules[0].alertInfo": "expected a string or a list of non-empty strings",
      "rules[0].class": 'no class named "nope"',
      "rules[1]": "a rule needs alertInfo, priority or resourcePriorityAtLeast",
      "rules[2]": "expected a mapping",
      extra: "unknown setting (known: country, classes, rules)",
    });
  });

  it("rejects a non-mapping", () => {
    expect(parseAlertConfig([1, 2])).toEqual({
      ok: false,
      errors: [{ path: "", reason: "expected a mapping" }],
    });
  });

  it("in the phone's config, paths start at alerting", () => {
    const r = validateConfig({
      account: { user: "2001" },
      exchange: { url: "wss://pbx:8443" },
      alerting: { rules: [{ class: "vip", priority: ["soon"] }] },
    });
    expect(r.ok ? [] : r.errors).toEqual([
      {
        path: "alerting.rules[0].priority",
        reason: "expected non-urgent, normal, urgent, emergency",
      },
      { path: "alerting.rules[0].class", reason: 'no class named "vip"' },
    ]);
  });
});
