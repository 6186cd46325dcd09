/**
 * Malformed input, part 1: at least 100,000 generated Alert-Info, Priority and
 * Resource-Priority values through the classifier (firmware/alerting). Mixed
 * from the dialects real exchanges send (FACTS: Bellcore tokens, info= texts,
 * URIs, RFC 7462 URNs, RFC 4412 namespaces) and from arbitrary text: control
 * characters, lone surrogates, unbalanced brackets and quotes, 8 KB values.
 * It must never throw, always name a class of its configuration with a
 * cadence, and never give an untrusted request a trusted-only (emergency) class.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_CONFIG } from "../../firmware/alerting/alert-class.ts";
import { classify } from "../../firmware/alerting/classify.ts";
import { record } from "./ledger.ts";

const RUNS = 100_000;

const token = fc.constantFrom(
  "Bellcore-dr1",
  "Bellcore-dr3",
  "ring2",
  "Auto Answer",
  "Intercom",
  "emergency",
  "alert-emergency",
  "info=alert-emergency",
  "info=<alert-emergency>",
  "<http://127.0.0.1/Bellcore-dr4>",
  "<http://www.notused>;info=alert-emergency",
  "<http://deskphone.invalid/alert/emergency>;info=alert-emergency",
  "<file://Bellcore-dr2>",
  "<sip:ring@example.com>",
  "<urn:alert:service:normal>",
  "<urn:alert:priority:high>",
  "<urn:alert:source:internal>",
  "<urn:alert:locale:country:de>",
  ";x-line-id=0",
  "<",
  ">",
  ";",
  ",",
  '"',
  "=",
  "\\",
  "%00",
);
const noise = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("\r\n", "\0", "\t", "\uD800", "\uDFFF", "\u202E", " ".repeat(300)),
  fc.nat(8192).map((n) => "a".repeat(n)),
);
const piece = fc.oneof({ weight: 3, arbitrary: token }, { weight: 2, arbitrary: noise });
const line = fc
  .array(piece, { maxLength: 6 })
  .chain((parts) => fc.constantFrom(",", ", ", ";", "", " ").map((sep) => parts.join(sep)));
const priority = fc.oneof(
  fc.constantFrom("emergency", "urgent", "normal", "non-urgent", "EMERGENCY", " emergency ", ""),
  noise,
);
const resourcePriority = fc.oneof(
  fc.constantFrom(
    "dsn.flash",
    "dsn.flash-override",
    "drsn.flash-override-override",
    "q735.0",
    "ets.4",
    "wps.0",
    "esnet.1",
    "dsn.routine, dsn.priority",
    "dsn.",
    ".flash",
    "dsn.flash.flash",
  ),
  noise,
);
const headers = fc.record({
  alertInfo: fc.array(line, { maxLength: 4 }),
  priority: fc.option(fc.oneof(priority, fc.array(priority, { maxLength: 3 })), { nil: undefined }),
  resourcePriority: fc.array(resourcePriority, { maxLength: 3 }),
  trusted: fc.boolean(),
});

describe("malformed input: Alert-Info, Priority, Resource-Priority through the classifier", () => {
  it(`${RUNS} generated header sets: never a throw, always a class, never a trusted-only class untrusted`, () => {
    const classes = DEFAULT_ALERT_CONFIG.classes;
    let tried = 0;
    let held = 0;
    let emergencies = 0;
    const started = performance.now();
    fc.assert(
      fc.property(headers, (h) => {
        tried += 1;
        const c = classify(h, DEFAULT_ALERT_CONFIG);
        expect(classes[c.alertClass.name]).toBeDefined();
        expect(c.cadence.segments.length).toBeGreaterThan(0);
        if (!h.trusted) expect(c.alertClass.trustedOnly).toBe(false);
        if (c.alertClass.emergency) emergencies += 1;
        held += 1;
      }),
      { numRuns: RUNS },
    );
    const ms = performance.now() - started;
    // The generator must reach the emergency rules too, or the run proves little.
    expect(emergencies).toBeGreaterThan(RUNS / 100);
    record({
      area: "malformed",
      probe: "generated Alert-Info / Priority / Resource-Priority through the classifier",
      tried,
      survived: held,
      lost: tried - held,
      figures: `${emergencies} classed emergency (all trusted); ${((ms * 1000) / tried).toFixed(1)} µs each`,
    });
  });
});
