import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALERT_INFO_LIMITS,
  alertInfoMatches,
  parseAlertInfo,
} from "../../../firmware/alerting/alert-info.ts";

describe("parseAlertInfo (RFC 3261 §20.4 and field dialects)", () => {
  it("reads a URI with generic parameters", () => {
    const [v] = parseAlertInfo(["<http://www.notused>;info=alert-emergency;x-line-id=0"]);
    expect(v).toMatchObject({
      uri: "http://www.notused",
      info: "alert-emergency",
      params: { info: "alert-emergency", "x-line-id": "0" },
    });
    expect(v?.token).toBeUndefined();
  });

  it("splits values on commas and across header lines, in order", () => {
    const values = parseAlertInfo([
      "<urn:alert:service:normal>, <http://127.0.0.1/Bellcore-dr4>",
      "Bellcore-dr3",
    ]);
    expect(values.map((v) => v.urn ?? v.token)).toEqual([
      "urn:alert:service:normal",
      "bellcore-dr4",
      "bellcore-dr3",
    ]);
  });

  it("does not split inside angle brackets or quoted parameter values", () => {
    const values = parseAlertInfo(['<http://x/a,b>;info="one, two", ring2']);
    expect(values).toHaveLength(2);
    expect(values[0]?.info).toBe("one, two");
    expect(values[1]?.token).toBe("ring2");
  });

  it.each([
    ["Auto Answer", { token: "auto answer" }],
    ["  Intercom ", { token: "intercom" }],
    ["info=alert-autoanswer", { info: "alert-autoanswer" }],
    ["<file://Bellcore-dr2>", { uri: "file://bellcore-dr2", token: "bellcore-dr2" }],
    ["<Bellcore-dr2>", { token: "bellcore-dr2" }],
    ["<sip:ring1@pbx.example.com>", { uri: "sip:ring1@pbx.example.com" }],
    ["<URN:Alert:Priority:High>", { urn: "urn:alert:priority:high" }],
    ["<http://127.0.0.1/Bellcore-dr4", { token: "bellcore-dr4" }],
    ["<http://pbx/tones/My%20Ring.wav?x=1>", { token: "my ring.wav" }],
  ])("reads %j", (raw, expected) => {
    expect(parseAlertInfo([raw])[0]).toMatchObject(expected);
  });

  it("ignores empty values and non-strings", () => {
    expect(parseAlertInfo(["", " , ,", "<>"])).toEqual([]);
    expect(parseAlertInfo(undefined)).toEqual([]);
    expect(parseAlertInfo([42 as unknown as string])).toEqual([]);
  });

  it("keeps at most the value limit", () => {
    const many = Array.from({ length: 100 }, (_, i) => `ring${i}`).join(",");
    expect(parseAlertInfo([many])).toHaveLength(ALERT_INFO_LIMITS.values);
  });

  it("never throws on arbitrary input up to 64 KiB", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 16_384, unit: "binary" }), { maxLength: 4 }),
        (lines) => {
          const values = parseAlertInfo(lines);
          expect(values.length).toBeLessThanOrEqual(ALERT_INFO_LIMITS.values);
          for (const v of values)
            expect(v.raw.length).toBeLessThanOrEqual(ALERT_INFO_LIMITS.valueChars);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("stays fast on a hostile 64 KiB header", () => {
    const hostile = `<${"<".repeat(30_000)}${";a=".repeat(10_000)}`;
    const t0 = performance.now();
    parseAlertInfo([hostile, hostile]);
    // Not a timing assertion on the machine: a bound on the work (linear scan).
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("alertInfoMatches", () => {
  const [v] = parseAlertInfo(["<urn:alert:service:recall:callback>"]);
  it("matches a URN and its less specific parents (RFC 7462)", () => {
    expect(v && alertInfoMatches(v, "urn:alert:service:recall:callback")).toBe(true);
    expect(v && alertInfoMatches(v, "urn:alert:service:recall")).toBe(true);
    expect(v && alertInfoMatches(v, "urn:alert:service:rec")).toBe(false);
    expect(v && alertInfoMatches(v, "urn:alert:service:recall:callback:x")).toBe(false);
  });
  it("matches token and info text without case", () => {
    const [w] = parseAlertInfo(["<http://x/Bellcore-dr3>;info=Alert-Internal"]);
    expect(w && alertInfoMatches(w, "BELLCORE-DR3")).toBe(true);
    expect(w && alertInfoMatches(w, "alert-internal")).toBe(true);
    expect(w && alertInfoMatches(w, "")).toBe(false);
  });
});
