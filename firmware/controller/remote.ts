/** The far end's side: ringing, answer and hang-up of calls. */
import type { Call } from "./call.ts";
import type { PhoneEvent } from "./events.ts";
import type { Step } from "./step.ts";

type Of<T extends PhoneEvent["type"]> = Extract<PhoneEvent, { type: T }>;

export function onRemoteRinging(step: Step, ev: Of<"remote-ringing">): void {
  const p = step.phase;
  if (p.kind !== "calling" || p.call.id !== ev.callId) {
    return step.ignore(`no outgoing call ${ev.callId} is being placed`);
  }
  if (!p.alerting) step.phase = { ...p, alerting: true };
}

export function onRemoteAnswered(step: Step, ev: Of<"remote-answered">): void {
  const p = step.phase;
  if (p.kind !== "calling" || p.call.id !== ev.callId) {
    return step.ignore(`no outgoing call ${ev.callId} is being placed`);
  }
  step.phase = { kind: "talking", call: p.call };
  step.journal("answered", p.call, { reason: "answered by the far end" });
}

function why(ev: Of<"remote-ended">): string {
  return ev.code ? `${ev.cause} (${ev.code})` : ev.cause;
}

/**
 * A call in progress ended by the far end or the network. If our answer was
 * still in flight, the answer failed (the caller gave up as we answered).
 */
function ended(step: Step, call: Call, ev: Of<"remote-ended">): void {
  if (call.answering) step.outcome("failed", call, `ended before the answer went out: ${why(ev)}`);
  step.journal("ended", call, { reason: why(ev) });
}

/** An incoming call that ended before the user took it. */
function missed(step: Step, call: Call, ev: Of<"remote-ended">): void {
  step.outcome("missed", call, why(ev));
}

export function onRemoteEnded(step: Step, ev: Of<"remote-ended">): void {
  const p = step.phase;
  switch (p.kind) {
    case "ringing":
      if (p.waiting?.id === ev.callId) {
        missed(step, p.waiting, ev);
        step.phase = { kind: "ringing", call: p.call };
        return;
      }
      if (p.call.id !== ev.callId) break;
      missed(step, p.call, ev);
      // The emergency waiting behind it rings in its place (180 already sent).
      step.phase = p.waiting ? { kind: "ringing", call: p.waiting } : { kind: "idle" };
      return;
    case "calling":
      if (p.call.id !== ev.callId) break;
      step.journal("ended", p.call, { reason: why(ev) });
      step.phase = { kind: "hungUp" };
      return;
    case "talking":
      if (p.call.id === ev.callId) {
        ended(step, p.call, ev);
        if (p.held) {
          // The held call comes back rather than leaving the user in silence.
          step.do({ type: "resume", callId: p.held.id });
          step.phase = { kind: "talking", call: p.held, ...(p.waiting && { waiting: p.waiting }) };
        } else {
          step.phase = { kind: "hungUp", ...(p.waiting && { waiting: p.waiting }) };
        }
        return;
      }
      if (p.held?.id === ev.callId) {
        ended(step, p.held, ev);
        step.phase = { kind: "talking", call: p.call, ...(p.waiting && { waiting: p.waiting }) };
        return;
      }
      if (p.waiting?.id === ev.callId) {
        missed(step, p.waiting, ev);
        step.phase = { kind: "talking", call: p.call, ...(p.held && { held: p.held }) };
        return;
      }
      break;
    case "hungUp":
      if (p.waiting?.id !== ev.callId) break;
      missed(step, p.waiting, ev);
      step.phase = { kind: "hungUp" };
      return;
    case "idle":
    case "dialing":
      break;
  }
  step.ignore(`no call ${ev.callId} in this state`);
}
