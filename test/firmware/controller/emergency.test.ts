/** The emergency rules of the call controller, one scenario each (docs/controller.md, "The rules"). */
import { describe, expect, it } from "vitest";
import { LED } from "../../../firmware/alerting/led-pattern.ts";
import { UA_PREEMPTION } from "../../../firmware/controller/call.ts";
import { boot } from "../../../firmware/controller/reduce.ts";
import { initialState } from "../../../firmware/controller/state.ts";
import { ofType, PhoneDriver } from "../../support/phone-driver.ts";

/** 2001 is talking to 2002 on call "a". */
function talking(className = "normal") {
  const d = new PhoneDriver();
  d.answered("a", className);
  expect(d.state.phase.kind).toBe("talking");
  return d;
}

describe("idle", () => {
  it("a normal call rings with the national ring and blinks the line LED", () => {
    const d = new PhoneDriver();
    const fx = d.incoming("n1");
    expect(fx).toContainEqual({ type: "send-ringing", callId: "n1" });
    expect(ofType(fx, "ringer")).toMatchObject([{ cadence: { name: "ring-us" }, level: "user" }]);
    expect(fx).toContainEqual({ type: "led", led: "line", pattern: LED.blink(500, 500) });
    expect(ofType(fx, "led").find((l) => l.led === "emergency")).toBeUndefined();
  });

  it("an emergency rings with the emergency cadence at full level and flashes the emergency LED", () => {
    const d = new PhoneDriver();
    const fx = d.incoming("e1", "emergency", "112-caller");
    expect(ofType(fx, "ringer")).toMatchObject([{ cadence: { name: "emergency" }, level: "full" }]);
    expect(fx).toContainEqual({ type: "led", led: "emergency", pattern: LED.blink(100, 100) });
    expect(d.journal().map((r) => r.event)).toEqual(["received", "rung"]);
  });

  it("lifting the handset answers, stops the ringer and connects the audio", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency");
    const fx = d.hookOff();
    expect(fx).toEqual(
      expect.arrayContaining([
        { type: "answer", callId: "e1" },
        { type: "ringer-off" },
        { type: "audio-connect", callId: "e1" },
        { type: "led", led: "emergency", pattern: LED.on },
      ]),
    );
    // The outcome is journalled once the 200 OK went out, not when the decision is taken.
    expect(d.journal().some((r) => r.outcome)).toBe(false);
    d.answerResult("e1");
    expect(d.journal().at(-1)).toMatchObject({ event: "answered", outcome: true, emergency: true });
  });

  it("a failed answer is journalled as failed, never as answered, and the call leaves", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency");
    d.hookOff();
    const fx = d.answerResult("e1", false, "SDP refused");
    const closing = d.journal().filter((r) => r.callId === "e1" && r.outcome);
    expect(closing).toEqual([
      expect.objectContaining({ event: "failed", reason: "answer failed: SDP refused" }),
    ]);
    expect(fx).toContainEqual({ type: "audio-disconnect", callId: "e1" });
    expect(d.state.phase.kind).toBe("hungUp");
  });
});

describe("in a call", () => {
  it("an emergency ends the call with the RFC 4411 Reason and is connected at once", () => {
    const d = talking();
    const fx = d.incoming("e1", "emergency");
    const types = fx.map((e) => e.type);
    expect(fx).toContainEqual({ type: "end-call", callId: "a", reason: UA_PREEMPTION });
    expect(UA_PREEMPTION).toBe('preemption ;cause=1 ;text="UA Preemption"');
    expect(ofType(fx, "cue")).toMatchObject([{ cadence: { name: "preemption-short" } }]);
    expect(fx).toContainEqual({ type: "answer", callId: "e1" });
    // The old call's audio goes before the emergency's comes.
    expect(types.indexOf("audio-disconnect")).toBeLessThan(types.indexOf("audio-connect"));
    expect(ofType(fx, "audio-connect")).toEqual([{ type: "audio-connect", callId: "e1" }]);
    expect(ofType(fx, "ringer")).toEqual([]);
    expect(d.state.phase).toMatchObject({ kind: "talking", call: { id: "e1" } });
    const events = d.journal().map((r) => [r.callId, r.event]);
    expect(events).toContainEqual(["a", "preempted"]);
    expect(events).not.toContainEqual(["e1", "preempted-into"]);
    d.answerResult("e1");
    expect(d.journal().map((r) => [r.callId, r.event])).toContainEqual(["e1", "preempted-into"]);
  });

  it("a normal call gets 486 Busy Here and the call goes on", () => {
    const d = talking();
    const fx = d.incoming("n2");
    expect(ofType(fx, "reject")).toEqual([
      { type: "reject", callId: "n2", code: 486, reason: "busy: in a call" },
    ]);
    expect(ofType(fx, "end-call")).toEqual([]);
    expect(d.state.phase).toMatchObject({ kind: "talking", call: { id: "a" } });
  });

  it("a call-waiting class waits with a tone; a flash holds the first and takes it", () => {
    const d = talking();
    const fx = d.incoming("p1", "priority");
    expect(fx).toContainEqual({ type: "send-ringing", callId: "p1" });
    expect(ofType(fx, "tone")).toMatchObject([{ cadence: { name: "call-waiting" } }]);
    expect(ofType(fx, "ringer")).toEqual([]);
    const flash = d.flash();
    expect(flash).toEqual(
      expect.arrayContaining([
        { type: "hold", callId: "a" },
        { type: "answer", callId: "p1" },
        { type: "audio-connect", callId: "p1" },
        { type: "tone-off" },
      ]),
    );
    // Flash again swaps back.
    expect(d.flash()).toEqual(
      expect.arrayContaining([
        { type: "hold", callId: "p1" },
        { type: "resume", callId: "a" },
      ]),
    );
  });

  it("a second emergency during an emergency waits with its own tone and LED, never preempts", () => {
    const d = talking("emergency");
    const fx = d.incoming("e2", "emergency");
    expect(ofType(fx, "reject")).toEqual([]);
    expect(ofType(fx, "end-call")).toEqual([]);
    expect(ofType(fx, "ringer")).toEqual([]);
    expect(fx).toContainEqual({ type: "send-ringing", callId: "e2" });
    expect(ofType(fx, "tone")).toMatchObject([{ cadence: { name: "emergency-waiting" } }]);
    expect(ofType(fx, "led").filter((e) => e.led === "emergency")).toEqual([
      { type: "led", led: "emergency", pattern: LED.blink(100, 100) },
    ]);
    expect(d.state.phase).toMatchObject({
      kind: "talking",
      call: { id: "a" },
      waiting: { id: "e2" },
    });
    // A flash switches: the first emergency is held, the second answered and connected.
    const flash = d.flash();
    expect(flash).toEqual(
      expect.arrayContaining([
        { type: "hold", callId: "a" },
        { type: "answer", callId: "e2" },
        { type: "audio-connect", callId: "e2" },
        { type: "tone-off" },
      ]),
    );
    d.answerResult("e2");
    expect(d.journal().filter((r) => r.callId === "e2" && r.outcome)).toMatchObject([
      { event: "answered", reason: "call waiting taken by hook flash" },
    ]);
  });

  it("a waiting emergency not taken is missed: journalled, LED on until acknowledged", () => {
    const d = talking("emergency");
    d.incoming("e2", "emergency");
    d.remoteEnded("e2", "cancel");
    expect(d.journal().at(-1)).toMatchObject({ callId: "e2", event: "missed", outcome: true });
    expect(d.state.missed.map((m) => m.callId)).toEqual(["e2"]);
    d.hookOn();
    expect(d.state.out.leds.emergency).toEqual(LED.on);
  });

  it("a third emergency is refused with 486 but journalled as missed, never silently", () => {
    const d = talking("emergency");
    d.incoming("e2", "emergency");
    const fx = d.incoming("e3", "emergency");
    expect(ofType(fx, "reject")).toMatchObject([{ callId: "e3", code: 486 }]);
    expect(d.journal().at(-1)).toMatchObject({ callId: "e3", event: "missed", outcome: true });
    expect(d.state.missed.map((m) => m.callId)).toEqual(["e3"]);
  });

  it("a second emergency while one rings waits behind it and rings if the first gives up", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency");
    const fx = d.incoming("e2", "emergency");
    expect(fx).toContainEqual({ type: "send-ringing", callId: "e2" });
    expect(ofType(fx, "reject")).toEqual([]);
    d.remoteEnded("e1", "cancel");
    expect(d.state.phase).toMatchObject({ kind: "ringing", call: { id: "e2" } });
    expect(d.state.missed.map((m) => m.callId)).toEqual(["e1"]);
    // Lifting answers e2.
    expect(d.hookOff()).toContainEqual({ type: "answer", callId: "e2" });
  });

  it("lifting with two emergencies ringing answers the first; the second waits", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency");
    d.incoming("e2", "emergency");
    const fx = d.hookOff();
    expect(fx).toContainEqual({ type: "answer", callId: "e1" });
    expect(ofType(fx, "tone")).toMatchObject([{ cadence: { name: "emergency-waiting" } }]);
    expect(d.state.phase).toMatchObject({
      kind: "talking",
      call: { id: "e1" },
      waiting: { id: "e2" },
    });
  });

  it("preemption also ends a held call and refuses a waiting one", () => {
    const d = talking();
    d.incoming("p1", "priority");
    d.flash(); // a held, p1 active
    const fx = d.incoming("e1", "emergency");
    expect(
      ofType(fx, "end-call")
        .map((e) => e.callId)
        .sort(),
    ).toEqual(["a", "p1"]);
    for (const e of ofType(fx, "end-call")) expect(e.reason).toBe(UA_PREEMPTION);
  });
});

describe("ringing, dialling, calling", () => {
  it("a ringing normal call is refused when an emergency arrives, and the emergency rings", () => {
    const d = new PhoneDriver();
    d.incoming("n1");
    const fx = d.incoming("e1", "emergency");
    expect(ofType(fx, "reject")).toMatchObject([{ callId: "n1", code: 486 }]);
    expect(ofType(fx, "ringer")).toMatchObject([{ cadence: { name: "emergency" } }]);
    expect(d.state.phase).toMatchObject({ kind: "ringing", call: { id: "e1" } });
  });

  it("a ringing emergency refuses a normal call", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency");
    expect(ofType(d.incoming("n1"), "reject")).toMatchObject([{ callId: "n1", code: 486 }]);
    expect(d.state.phase).toMatchObject({ kind: "ringing", call: { id: "e1" } });
  });

  it("off-hook dialling: an emergency is connected at once", () => {
    const d = new PhoneDriver();
    d.hookOff();
    d.keys("20");
    const fx = d.incoming("e1", "emergency");
    expect(fx).toEqual(
      expect.arrayContaining([
        { type: "answer", callId: "e1" },
        { type: "audio-connect", callId: "e1" },
        { type: "cancel-timer", name: "inter-digit" },
      ]),
    );
    expect(ofType(fx, "ringer")).toEqual([]);
  });

  it("an outgoing call still ringing is cancelled and the emergency taken", () => {
    const d = new PhoneDriver();
    d.hookOff();
    d.keys("2003#");
    d.remoteRinging("out-1");
    const fx = d.incoming("e1", "emergency");
    expect(fx).toEqual(
      expect.arrayContaining([
        { type: "cancel", callId: "out-1" },
        { type: "answer", callId: "e1" },
        { type: "tone-off" },
        { type: "audio-connect", callId: "e1" },
      ]),
    );
  });

  it("a normal call while dialling gets 486", () => {
    const d = new PhoneDriver();
    d.hookOff();
    expect(ofType(d.incoming("n1"), "reject")).toMatchObject([{ code: 486 }]);
  });
});

describe("do-not-disturb", () => {
  it("refuses a normal call but an emergency still rings", () => {
    const d = new PhoneDriver();
    d.key("dnd");
    expect(d.state.dnd).toBe(true);
    expect(ofType(d.incoming("n1"), "reject")).toMatchObject([
      { code: 486, reason: "do-not-disturb" },
    ]);
    expect(ofType(d.incoming("e1", "emergency"), "ringer")).toMatchObject([
      { cadence: { name: "emergency" } },
    ]);
  });
});

describe("missed emergency", () => {
  it("is journalled, keeps the emergency LED on until acknowledged", () => {
    const d = new PhoneDriver();
    d.incoming("e1", "emergency", "3001");
    const fx = d.remoteEnded("e1", "cancel");
    expect(fx).toContainEqual({ type: "ringer-off" });
    expect(fx).toContainEqual({ type: "led", led: "emergency", pattern: LED.on });
    expect(d.journal().at(-1)).toMatchObject({
      event: "missed",
      outcome: true,
      callId: "e1",
      reason: "cancel",
    });
    expect(d.state.missed).toMatchObject([{ callId: "e1", remote: "3001" }]);
    // Other calls come and go; the LED stays on.
    d.incoming("n1");
    d.hookOff();
    d.hookOn();
    expect(d.state.out.leds.emergency).toEqual(LED.on);
    const ack = d.key("ack");
    expect(ack).toContainEqual({ type: "led", led: "emergency", pattern: LED.off });
    expect(d.journal().at(-1)).toMatchObject({ event: "acknowledged", callId: "e1" });
    expect(ofType(d.key("ack"), "ignored")).toHaveLength(1);
  });

  it("a restored missed emergency relights the LED at boot", () => {
    const state = initialState(undefined, {
      missed: [{ callId: "e9", remote: "3001", at: 0, alertClass: "emergency" }],
    });
    const [, fx] = boot(state);
    expect(fx).toContainEqual({ type: "led", led: "emergency", pattern: LED.on });
    expect(fx).toContainEqual({ type: "led", led: "status", pattern: LED.blink(250, 1750) });
  });
});

describe("outgoing calls, hang-up and flash", () => {
  it("dials after the inter-digit timeout, plays ringback, connects on answer", () => {
    const d = new PhoneDriver();
    expect(ofType(d.hookOff(), "tone")).toMatchObject([{ cadence: { name: "dial-us" } }]);
    const first = d.key("2");
    expect(first).toContainEqual({ type: "tone-off" });
    expect(ofType(first, "start-timer")).toMatchObject([{ ms: 4000 }]);
    d.keys("003");
    expect(ofType(d.interDigitTimeout(), "dial")).toEqual([
      { type: "dial", callId: "out-1", target: "2003" },
    ]);
    expect(ofType(d.remoteRinging("out-1"), "tone")).toMatchObject([
      { cadence: { name: "ringback-us" } },
    ]);
    const answered = d.remoteAnswered("out-1");
    expect(answered).toContainEqual({ type: "audio-connect", callId: "out-1" });
    expect(answered).toContainEqual({ type: "tone-off" });
    expect(d.key("5")).toContainEqual({ type: "send-dtmf", callId: "out-1", digit: "5" });
  });

  it("# dials at once; a stale timer is ignored", () => {
    const d = new PhoneDriver();
    d.hookOff();
    d.keys("12");
    const stale = d.state.timer?.seq ?? 0;
    expect(ofType(d.key("#"), "dial")).toMatchObject([{ target: "12" }]);
    const fx = d.send({ type: "timer", name: "inter-digit", seq: stale });
    expect(ofType(fx, "ignored")).toHaveLength(1);
    expect(ofType(fx, "dial")).toEqual([]);
  });

  it("a busy far end gives busy tone until hang-up", () => {
    const d = new PhoneDriver();
    d.hookOff();
    d.keys("2003#");
    const fx = d.remoteEnded("out-1", "rejected", 486);
    expect(ofType(fx, "tone")).toMatchObject([{ cadence: { name: "busy-us" } }]);
    expect(d.state.phase.kind).toBe("hungUp");
    d.hookOn();
    expect(d.state.phase.kind).toBe("idle");
  });

  it("remote hang-up of a talking call leaves busy tone; flash gives a new dial tone", () => {
    const d = talking();
    const fx = d.remoteEnded("a");
    expect(fx).toContainEqual({ type: "audio-disconnect", callId: "a" });
    expect(d.state.phase.kind).toBe("hungUp");
    expect(ofType(d.flash(), "tone")).toMatchObject([{ cadence: { name: "dial-us" } }]);
  });

  it("hanging up ends the call; a waiting call then rings", () => {
    const d = talking();
    d.incoming("p1", "priority");
    const fx = d.hookOn();
    expect(fx).toContainEqual({ type: "end-call", callId: "a" });
    expect(ofType(fx, "ringer")).toMatchObject([{ cadence: { name: "priority" } }]);
    expect(d.state.phase).toMatchObject({ kind: "ringing", call: { id: "p1" } });
  });

  it("hanging up while the far end rings cancels the call", () => {
    const d = new PhoneDriver();
    d.hookOff();
    d.keys("2003#");
    expect(d.hookOn()).toContainEqual({ type: "cancel", callId: "out-1" });
  });

  it("a held call comes back when the active one hangs up", () => {
    const d = talking();
    d.incoming("p1", "priority");
    d.flash();
    const fx = d.remoteEnded("p1");
    expect(fx).toContainEqual({ type: "resume", callId: "a" });
    expect(fx).toContainEqual({ type: "audio-connect", callId: "a" });
  });

  it("registration drives the status LED", () => {
    const d = new PhoneDriver();
    expect(d.send({ type: "registration", registered: true })).toContainEqual({
      type: "led",
      led: "status",
      pattern: LED.on,
    });
    expect(d.send({ type: "registration", registered: false })).toContainEqual({
      type: "led",
      led: "status",
      pattern: LED.blink(250, 1750),
    });
  });
});

describe("an emergency on hold", () => {
  it("is never preempted by a new emergency that preempts the active call (equal precedence)", () => {
    const d = talking("emergency");
    d.incoming("p1", "priority"); // waits during the emergency call
    d.flash(); // p1 taken, the emergency "a" on hold
    d.answersSent();
    const fx = d.incoming("e2", "emergency");
    expect(ofType(fx, "end-call")).toEqual([
      { type: "end-call", callId: "p1", reason: UA_PREEMPTION },
    ]);
    expect(d.state.phase).toMatchObject({ kind: "talking", call: { id: "e2" }, held: { id: "a" } });
  });
});
