/**
 * The SIP-event adapter (firmware/app/sip-events.ts): sip/'s reports become
 * the controller's events. The agent here is an EventEmitter that emits what
 * PhoneAgent emits; the end-to-end path through a real exchange is covered
 * by test/sip and emergency-production.test.ts.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_CONFIG } from "../../../firmware/alerting/alert-class.ts";
import { endCause, listenToAgent } from "../../../firmware/app/sip-events.ts";
import type { PhoneEvent } from "../../../firmware/controller/events.ts";
import type { PhoneAgent, EndCause as SipEndCause } from "../../../sip/phone-agent.ts";

function adapter() {
  const agent = new EventEmitter();
  const events: PhoneEvent[] = [];
  const media: string[] = [];
  const logs: string[] = [];
  listenToAgent(agent as unknown as PhoneAgent, {
    alertConfig: DEFAULT_ALERT_CONFIG,
    dispatch: (ev) => events.push(ev),
    media: (id) => media.push(id),
    log: (level, m) => logs.push(`${level}: ${m}`),
  });
  return { agent, events, media, logs };
}

describe("the SIP-event adapter", () => {
  it.each<[SipEndCause, string]>([
    ["bye", "bye"],
    ["cancel", "cancel"],
    ["rejected", "rejected"],
    ["failed", "failed"],
    ["no-answer", "no-answer"],
    ["media-timeout", "media-timeout"],
    ["session-expired", "session-expired"],
    ["dialog-gone", "dialog-gone"],
  ])("sip's end cause %s is the controller's %s, with the code", (sip, controller) => {
    const { agent, events } = adapter();
    agent.emit("remote-ended", "out-1", sip, 481);
    agent.emit("remote-ended", "out-2", sip, undefined);
    expect(endCause(sip)).toBe(controller);
    expect(events.map(({ at: _, ...e }) => e)).toEqual([
      { type: "remote-ended", callId: "out-1", cause: controller, code: 481 },
      { type: "remote-ended", callId: "out-2", cause: controller },
    ]);
  });

  it("an incoming INVITE is classified: the exchange's emergency mark counts only when trusted", () => {
    const { agent, events, logs } = adapter();
    const invite = {
      remote: "100",
      alertInfo: ["<http://deskphone.invalid/alert/emergency>"],
      resourcePriority: [],
      sipCallId: "x",
    };
    agent.emit("incoming", { ...invite, callId: "in-1", trusted: true });
    agent.emit("incoming", { ...invite, callId: "in-2", trusted: false });
    const classes = events.map((e) => (e.type === "incoming" ? e.alert.alertClass.name : e.type));
    expect(classes).toEqual(["emergency", "normal"]);
    expect(logs).toEqual([
      expect.stringMatching(/^warn: call in-2 from 100: .*not honoured from an untrusted source$/),
    ]);
  });

  it("registration, ringing, answered and media are passed on", () => {
    const { agent, events, media } = adapter();
    agent.emit("registration", "registered", "");
    agent.emit("registration", "unregistered", "lost");
    agent.emit("remote-ringing", "out-1");
    agent.emit("remote-answered", "out-1");
    agent.emit("media", "out-1", {});
    expect(events.map(({ at: _, ...e }) => e)).toEqual([
      { type: "registration", registered: true },
      { type: "registration", registered: false },
      { type: "remote-ringing", callId: "out-1" },
      { type: "remote-answered", callId: "out-1" },
    ]);
    expect(media).toEqual(["out-1"]);
  });
});
