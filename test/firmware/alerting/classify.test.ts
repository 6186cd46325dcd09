import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_CONFIG } from "../../../firmware/alerting/alert-class.ts";
import { parseAlertConfig } from "../../../firmware/alerting/alert-config.ts";
import { classify } from "../../../firmware/alerting/classify.ts";

describe("classify", () => {
  it("says what matched", () => {
    const c = classify({ alertInfo: ["<http://www.notused>;info=alert-emergency"], trusted: true });
    expect(c.alertClass.name).toBe("emergency");
    expect(c.matchedBy).toBe('alert-info "alert-emergency" (rule 1)');
    expect(c.cadence.name).toBe("emergency");
  });

  it("does not honour a trusted-only class from an untrusted source, and says so", () => {
    const c = classify({
      alertInfo: ["info=alert-emergency"],
      priority: "emergency",
      trusted: false,
    });
    expect(c.alertClass.name).toBe("normal");
    expect(c.untrustedIgnored).toEqual(["emergency"]);
  });

  it("an untrusted source still gets classes that are not trusted-only", () => {
    expect(classify({ alertInfo: ["Bellcore-dr3"], trusted: false }).alertClass.name).toBe(
      "bellcore-dr3",
    );
  });

  it("resolves the normal ring to the national preset", () => {
    expect(classify({ trusted: true }).cadence.name).toBe("ring-us");
    const uk = parseAlertConfig({ country: "uk" });
    if (!uk.ok) throw new Error("config");
    expect(classify({ trusted: true }, uk.config).cadence.name).toBe("ring-uk");
  });

  it("an emergency rings at full level, bypasses DND and preempts", () => {
    const cls = classify({ priority: "emergency", trusted: true }).alertClass;
    expect(cls).toMatchObject({
      ringLevel: "full",
      bypassDnd: true,
      whenBusy: "preempt",
      emergency: true,
    });
    for (const other of Object.values(DEFAULT_ALERT_CONFIG.classes)) {
      if (other.name !== "emergency") expect(other.precedence).toBeLessThan(cls.precedence);
    }
  });

  it("uses configured classes and rules", () => {
    const r = parseAlertConfig({
      classes: { vip: { cadence: "bellcore-dr3", precedence: 5, whenBusy: "call-waiting" } },
      rules: [{ class: "vip", alertInfo: ["vip", "urn:alert:source:friend"] }],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(
      classify({ alertInfo: ["<urn:alert:source:friend>"], trusted: true }, r.config).alertClass,
    ).toMatchObject({
      name: "vip",
      whenBusy: "call-waiting",
      precedence: 5,
    });
    // The configured rules replace the defaults.
    expect(
      classify({ alertInfo: ["info=alert-emergency"], trusted: true }, r.config).alertClass.name,
    ).toBe("normal");
  });
});

describe("parseAlertConfig", () => {
  it("accepts nothing as the defaults", () => {
    expect(parseAlertConfig(undefined)).toEqual({ ok: true, config: DEFAULT_ALERT_CONFIG });
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
    const paths = r.errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "country",
        "classes.emergency.whenBusy",
        "classes.emergency.ringLevel",
        "classes.emergency.colour",
        "classes.Bad Name",
        "classes.quiet.led.pattern",
        "rules[0].alertInfo",
        "rules[0].class",
        "rules[1]",
        "rules[2]",
        "extra",
      ]),
    );
    for (const e of r.errors) expect(e.reason.length).toBeGreaterThan(5);
  });

  it("rejects a non-mapping", () => {
    expect(parseAlertConfig([1, 2])).toMatchObject({ ok: false });
  });
});
