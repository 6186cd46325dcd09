import { describe, expect, it } from "vitest";
import { type AlertConfig, DEFAULT_ALERT_CONFIG } from "../../../firmware/alerting/alert-class.ts";
import { rulesNamingNoClass } from "../../../firmware/alerting/alert-config.ts";
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
    const uk: AlertConfig = { ...DEFAULT_ALERT_CONFIG, country: "uk" };
    expect(classify({ trusted: true }, uk).cadence.name).toBe("ring-uk");
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
    const normal = DEFAULT_ALERT_CONFIG.classes.normal;
    if (!normal) throw new Error("no normal class");
    const vip = { ...normal, name: "vip", cadence: "bellcore-dr3", precedence: 5 };
    const config: AlertConfig = {
      ...DEFAULT_ALERT_CONFIG,
      classes: { ...DEFAULT_ALERT_CONFIG.classes, vip: { ...vip, whenBusy: "call-waiting" } },
      rules: [{ class: "vip", alertInfo: ["vip", "urn:alert:source:friend"] }],
    };
    expect(
      classify({ alertInfo: ["<urn:alert:source:friend>"], trusted: true }, config).alertClass,
    ).toMatchObject({
      name: "vip",
      whenBusy: "call-waiting",
      precedence: 5,
    });
    // The configured rules replace the defaults.
    expect(
      classify({ alertInfo: ["info=alert-emergency"], trusted: true }, config).alertClass.name,
    ).toBe("normal");
  });
});

describe("rulesNamingNoClass", () => {
  it("names each rule whose class the configuration does not have", () => {
    expect(rulesNamingNoClass(DEFAULT_ALERT_CONFIG)).toEqual([]);
    const rules = [{ class: "normal" }, { class: "vip" }, { class: "emergency" }, {}];
    expect(rulesNamingNoClass({ classes: DEFAULT_ALERT_CONFIG.classes, rules })).toEqual([
      { path: "rules[1].class", reason: 'no class named "vip"' },
    ]);
  });
});
