/** The user's side: hook switch, hook flash, keypad and the inter-digit timer. */
import type { Call } from "./call.ts";
import type { DialKey, PhoneEvent } from "./events.ts";
import { OUTGOING_CLASS } from "./state.ts";
import type { Step } from "./step.ts";

type Of<T extends PhoneEvent["type"]> = Extract<PhoneEvent, { type: T }>;

/** Hanging up ends every call; a waiting call then rings (the phone "rings back"). */
function hangUp(step: Step, waiting: Call | undefined): void {
  step.phase = waiting ? { kind: "ringing", call: waiting } : { kind: "idle" };
}

export function onHook(step: Step, ev: Of<"hook">): void {
  const p = step.phase;
  if (ev.offHook) {
    switch (p.kind) {
      case "idle":
        step.phase = { kind: "dialing", digits: "" };
        return;
      case "ringing":
        // A second emergency waiting behind the ringing one becomes a waiting call.
        step.phase = {
          kind: "talking",
          call: step.answer(p.call, "answered"),
          ...(p.waiting && { waiting: p.waiting }),
        };
        return;
      case "dialing":
      case "calling":
      case "talking":
      case "hungUp":
        return step.ignore("already off-hook");
    }
  }
  switch (p.kind) {
    case "idle":
    case "ringing":
      return step.ignore("already on-hook");
    case "dialing":
      step.phase = { kind: "idle" };
      return;
    case "calling":
      step.do({ type: "cancel", callId: p.call.id });
      step.journal("ended", p.call, { reason: "caller hung up before answer" });
      step.phase = { kind: "idle" };
      return;
    case "talking":
      for (const c of [p.call, p.held]) {
        if (!c) continue;
        step.settleAnswer(c);
        step.do({ type: "end-call", callId: c.id });
        step.journal("ended", c, { reason: "hung up" });
      }
      return hangUp(step, p.waiting);
    case "hungUp":
      return hangUp(step, p.waiting);
  }
}

export function onFlash(step: Step): void {
  const p = step.phase;
  switch (p.kind) {
    case "idle":
    case "ringing":
      return step.ignore("on-hook: a flash needs the handset lifted");
    case "dialing":
      if (p.digits === "") return step.ignore("nothing dialled yet: the dial tone is already on");
      // Start again: digits cleared, dial tone back.
      step.phase = { kind: "dialing", digits: "" };
      if (step.s.timer) {
        step.s.timer = undefined;
        step.do({ type: "cancel-timer", name: "inter-digit" });
      }
      return;
    case "calling":
      step.do({ type: "cancel", callId: p.call.id });
      step.journal("ended", p.call, { reason: "abandoned by hook flash" });
      step.phase = { kind: "dialing", digits: "" };
      return;
    case "talking":
      if (p.waiting) {
        // Take the waiting call; the current one goes on hold.
        step.do({ type: "hold", callId: p.call.id });
        step.phase = {
          kind: "talking",
          call: step.answer(p.waiting, "answered", "call waiting taken by hook flash"),
          held: p.call,
        };
        return;
      }
      if (p.held) {
        step.do({ type: "hold", callId: p.call.id }, { type: "resume", callId: p.held.id });
        step.phase = { kind: "talking", call: p.held, held: p.call };
        return;
      }
      return step.ignore("no held or waiting call to flash to");
    case "hungUp":
      if (p.waiting) {
        step.phase = {
          kind: "talking",
          call: step.answer(p.waiting, "answered", "call waiting taken by hook flash"),
        };
        return;
      }
      step.phase = { kind: "dialing", digits: "" };
      return;
  }
}

export function dial(step: Step, digits: string): void {
  const call: Call = {
    id: `out-${step.s.nextCall}`,
    direction: "out",
    remote: digits,
    alertClass: OUTGOING_CLASS,
    startedAt: step.at,
  };
  step.s.nextCall += 1;
  step.do({ type: "dial", callId: call.id, target: digits });
  step.journal("dialled", call);
  step.phase = { kind: "calling", call, alerting: false };
}

export function onKey(step: Step, ev: Of<"key">): void {
  if (ev.key === "dnd") {
    step.s.dnd = !step.s.dnd;
    return step.journal(step.s.dnd ? "dnd-on" : "dnd-off");
  }
  if (ev.key === "ack") {
    if (step.s.missed.length === 0) return step.ignore("no missed emergency to acknowledge");
    for (const m of step.s.missed) {
      step.journal("acknowledged", undefined, {
        callId: m.callId,
        remote: m.remote,
        alertClass: m.alertClass,
        emergency: true,
      });
    }
    step.s.missed = [];
    return;
  }
  const key: DialKey = ev.key;
  const p = step.phase;
  switch (p.kind) {
    case "idle":
    case "ringing":
      return step.ignore("on-hook: dialling keys do nothing");
    case "calling":
      return step.ignore("the call is not answered yet: no DTMF to send");
    case "hungUp":
      return step.ignore("the call has ended: hang up or flash for a new dial tone");
    case "talking":
      // RFC 4733 telephone-event, sent by sip/.
      return step.do({ type: "send-dtmf", callId: p.call.id, digit: key });
    case "dialing":
      if (key === "#") {
        if (p.digits === "") return step.ignore("# with nothing dialled");
        return dial(step, p.digits);
      }
      if (p.digits.length >= step.s.config.maxDigits) return step.ignore("number too long");
      step.phase = { kind: "dialing", digits: p.digits + key };
      step.s.timerSeq += 1;
      step.s.timer = { seq: step.s.timerSeq };
      return step.do({
        type: "start-timer",
        name: "inter-digit",
        ms: step.s.config.interDigitMs,
        seq: step.s.timerSeq,
      });
  }
}

export function onTimer(step: Step, ev: Of<"timer">): void {
  if (step.s.timer?.seq !== ev.seq) return step.ignore("a timer that was cancelled or replaced");
  step.s.timer = undefined;
  const p = step.phase;
  if (p.kind !== "dialing" || p.digits === "") return step.ignore("nothing is being dialled");
  dial(step, p.digits);
}
