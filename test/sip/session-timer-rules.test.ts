/**
 * The RFC 4028 rules of sip/session-timer.ts on messages parsed by sip.js's
 * own parser (compact forms included); the timers themselves run against the
 * lab exchange in session-timer.test.ts.
 */
import { Core } from "sip.js";
import { describe, expect, it } from "vitest";
import {
  answerRequest,
  expiryMs,
  readAnswer,
  readMinSe,
  readSessionExpires,
  supportsTimer,
} from "../../sip/session-timer.ts";

const logger = { log() {}, warn() {}, error() {}, debug() {} } as unknown as Core.Logger;

function invite(...headers: string[]) {
  const text = [
    "INVITE sip:2001@ex SIP/2.0",
    "Via: SIP/2.0/WSS 10.0.0.1;branch=z9hG4bK1",
    "From: <sip:3001@ex>;tag=a",
    "To: <sip:2001@ex>",
    "Call-ID: c1",
    "CSeq: 1 INVITE",
    "Max-Forwards: 70",
    ...headers,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const m = Core.Parser.parseMessage(text, logger);
  if (!m) throw new Error("unparsable");
  return m;
}

const ours = { expiresS: 1800, minSeS: 90 };

describe("RFC 4028 rules", () => {
  it("reads Session-Expires, Min-SE and Supported, long and compact forms", () => {
    expect(readSessionExpires(invite("Session-Expires: 1800;refresher=UAC"))).toEqual({
      intervalS: 1800,
      refresher: "uac",
    });
    expect(readSessionExpires(invite("x: 600 ; refresher = uas"))).toEqual({
      intervalS: 600,
      refresher: "uas",
    });
    expect(readSessionExpires(invite("Session-Expires: 90;foo=bar"))).toEqual({ intervalS: 90 });
    expect(readSessionExpires(invite("Session-Expires: soon"))).toBeUndefined();
    expect(readSessionExpires(invite())).toBeUndefined();
    expect(readMinSe(invite("Min-SE: 120"))).toBe(120);
    expect(supportsTimer(invite("Supported: replaces, timer"))).toBe(true);
    expect(supportsTimer(invite("k: 100rel", "k: timer"))).toBe(true);
    expect(supportsTimer(invite("Supported: timers"))).toBe(false);
  });

  it("answers as the UAS (§9): the caller's refresher, else uac when it supports timers, else us", () => {
    expect(answerRequest(invite("Supported: timer", "Session-Expires: 300"), ours)).toEqual({
      kind: "timer",
      intervalS: 300,
      refresher: "remote",
      headers: ["Session-Expires: 300;refresher=uac", "Require: timer"],
    });
    expect(
      answerRequest(invite("Supported: timer", "Session-Expires: 300;refresher=uas"), ours),
    ).toMatchObject({
      refresher: "local",
      headers: ["Session-Expires: 300;refresher=uas", "Require: timer"],
    });
    // No timer support and no Session-Expires: we ask for ours and refresh it, no Require.
    expect(answerRequest(invite(), ours)).toEqual({
      kind: "timer",
      intervalS: 1800,
      refresher: "local",
      headers: ["Session-Expires: 1800;refresher=uas"],
    });
    // Ours, but not below the caller's Min-SE.
    expect(answerRequest(invite("Supported: timer", "Min-SE: 3600"), ours)).toMatchObject({
      intervalS: 3600,
      refresher: "remote",
    });
    // Below our Min-SE: 422 with it (§6).
    expect(answerRequest(invite("Session-Expires: 60"), ours)).toEqual({
      kind: "too-small",
      minSeS: 90,
    });
  });

  it("reads the 2xx to our INVITE (§7.2) and places the expiry (§10)", () => {
    expect(readAnswer(invite("Session-Expires: 900;refresher=uas"), 1800)).toEqual({
      intervalS: 900,
      refresher: "remote",
    });
    expect(readAnswer(invite(), 1800)).toEqual({ intervalS: 1800, refresher: "local" });
    expect(expiryMs(1800)).toBe(1768_000);
    expect(expiryMs(90)).toBe(60_000);
    expect(expiryMs(6)).toBe(4000);
  });
});
