/**
 * Alert-Info values seen in vendor manuals, PBX configurations and field
 * reports (Asterisk/FreePBX, Cisco, Polycom, Yealink, Snom, Grandstream,
 * BroadWorks, RFC 7462 examples), each with the class the phone must pick
 * under the default configuration, from the trusted exchange.
 */
import { describe, expect, it } from "vitest";
import { classify } from "../../../firmware/alerting/classify.ts";

const CORPUS: [string, string][] = [
  // Emergency: the lab exchange's default, vendor info= texts, URIs naming it.
  ["<http://deskphone.invalid/alert/emergency>;info=alert-emergency", "emergency"],
  ["<http://www.notused>;info=alert-emergency", "emergency"],
  ["<http://www.notused>;info=alert-emergency;x-line-id=0", "emergency"],
  ["<http://www.notused>;info=emergency", "emergency"],
  ["info=alert-emergency", "emergency"],
  ["INFO=Alert-Emergency", "emergency"],
  ["<http://127.0.0.1/emergency>", "emergency"],
  ["<http://pbx.example.com/alert/Emergency>", "emergency"],
  ["emergency", "emergency"],
  ["<urn:alert:service:normal>, <http://x.invalid/emergency>", "emergency"],
  [";info=alert-emergency", "emergency"],
  // RFC 7462 priority.
  ["<urn:alert:priority:high>", "priority"],
  ["<URN:Alert:Priority:High>", "priority"],
  ["<urn:alert:priority:high>, <urn:alert:service:normal>", "priority"],
  ["<urn:alert:source:external>, <urn:alert:priority:high>", "priority"],
  // Bellcore distinctive ringing: Asterisk, Polycom, Cisco, Yealink spellings.
  ["Bellcore-dr1", "bellcore-dr1"],
  ["Bellcore-dr2", "bellcore-dr2"],
  ["Bellcore-dr3", "bellcore-dr3"],
  ["Bellcore-dr4", "bellcore-dr4"],
  ["Bellcore-dr5", "bellcore-dr5"],
  ["bellcore-dr3", "bellcore-dr3"],
  ["BELLCORE-DR1", "bellcore-dr1"],
  ["<http://127.0.0.1/Bellcore-dr4>", "bellcore-dr4"],
  ["<http://192.168.1.10/Bellcore-dr5>", "bellcore-dr5"],
  ["<file://Bellcore-dr2>", "bellcore-dr2"],
  ["<Bellcore-dr2>", "bellcore-dr2"],
  ["<http://www.notused>;info=Bellcore-dr3", "bellcore-dr3"],
  ["info=alert-bellcore-dr1", "bellcore-dr1"],
  ["<http://127.0.0.1/Bellcore-dr4", "bellcore-dr4"],
  ["<http://x/Bellcore-dr2>;info=alert-internal", "bellcore-dr2"],
  // Internal and external (FreePBX, Snom, RFC 7462 source).
  ["<http://www.notused>;info=alert-internal", "internal"],
  ["<http://www.notused>;info=alert-internal;x-line-id=0", "internal"],
  ["info=alert-internal", "internal"],
  ["internal", "internal"],
  ["<urn:alert:source:internal>", "internal"],
  ["<http://www.notused>;info=alert-external", "external"],
  ["<http://www.notused>;info=external", "external"],
  ["external", "external"],
  ["<urn:alert:source:external>", "external"],
  // Everything else rings normally, at once.
  ["<urn:alert:priority:normal>", "normal"],
  ["<urn:alert:priority:low>", "normal"],
  ["<urn:alert:service:normal>", "normal"],
  ["<urn:alert:service:call-waiting>", "normal"],
  ["<urn:alert:service:forward>", "normal"],
  ["<urn:alert:service:recall:callback>", "normal"],
  ["<urn:alert:service:recall:hold>", "normal"],
  ["<urn:alert:service:recall:transfer>", "normal"],
  ["<urn:alert:source:unclassified>", "normal"],
  ["<urn:alert:source:friend>", "normal"],
  ["<urn:alert:source:family>", "normal"],
  ["<urn:alert:duration:short>", "normal"],
  ["<urn:alert:duration:long>", "normal"],
  ["<urn:alert:delay:none>", "normal"],
  ["<urn:alert:delay:yes>", "normal"],
  ["<urn:alert:locale:default>", "normal"],
  ["<urn:alert:locale:country:de>", "normal"],
  ["ring1", "normal"],
  ["ring2", "normal"],
  ["ringtone-3", "normal"],
  ["<http://www.notused>;info=ringtone-3", "normal"],
  // Auto-answer and intercom are deliberately not honoured (eavesdropping risk).
  ["Auto Answer", "normal"],
  ["Intercom", "normal"],
  ["Ring Answer", "normal"],
  ["info=alert-autoanswer", "normal"],
  ["<http://www.notused>;info=alert-autoanswer", "normal"],
  ["<sip:127.0.0.1>;answer-after=0", "normal"],
  ["<http://www.notused>;info=alert-group", "normal"],
  ["<http://www.notused>;info=alert-callwaiting", "normal"],
  ["<http://www.notused>", "normal"],
  ["<http://pbx.example.com/ringtones/vip.wav>", "normal"],
  ["<sip:ring1@pbx.example.com>", "normal"],
  ["Bellcore-r7", "normal"],
  ["Bellcore-dr9", "normal"],
  ["<>", "normal"],
  ["", "normal"],
  [",,,", "normal"],
];

describe("Alert-Info corpus", () => {
  it("has at least 60 real-world values", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
  });
  it.each(CORPUS)("%j → %s", (value, expected) => {
    expect(classify({ alertInfo: [value], trusted: true }).alertClass.name).toBe(expected);
  });
});

const PRIORITY_CORPUS: [string | undefined, string | undefined, string][] = [
  ["emergency", undefined, "emergency"],
  ["Emergency", undefined, "emergency"],
  ["urgent", undefined, "priority"],
  ["non-urgent", undefined, "normal"],
  ["normal", undefined, "normal"],
  ["whatever", undefined, "normal"],
  [undefined, "dsn.routine", "normal"],
  [undefined, "dsn.priority", "precedence"],
  [undefined, "dsn.immediate", "precedence"],
  [undefined, "dsn.flash", "precedence"],
  [undefined, "dsn.flash-override", "emergency"],
  [undefined, "drsn.flash-override-override", "emergency"],
  [undefined, "q735.0", "emergency"],
  [undefined, "q735.4", "normal"],
  [undefined, "ets.0", "emergency"],
  [undefined, "ets.4", "normal"],
  [undefined, "wps.1", "precedence"],
  [undefined, "esnet.2", "precedence"],
  [undefined, "ets.2, wps.0", "emergency"],
  [undefined, "bogus.9, dsn.nope", "normal"],
];

describe("Priority and Resource-Priority corpus", () => {
  it.each(PRIORITY_CORPUS)("Priority %j, Resource-Priority %j → %s", (priority, rp, expected) => {
    const c = classify({
      ...(priority !== undefined && { priority }),
      ...(rp !== undefined && { resourcePriority: [rp] }),
      trusted: true,
    });
    expect(c.alertClass.name).toBe(expected);
  });
});
