/**
 * An INVITE arrives: ring, preempt, wait or refuse. Every emergency rule of
 * ARCHITECTURE.md steps 6–8 is here.
 */
import { type Call, mayPreempt, UA_PREEMPTION } from "./call.ts";
import type { PhoneEvent } from "./events.ts";
import { callsOf } from "./state.ts";
import type { Step } from "./step.ts";

type Incoming = Extract<PhoneEvent, { type: "incoming" }>;

function ring(step: Step, call: Call): void {
  step.phase = { kind: "ringing", call };
  step.do({ type: "send-ringing", callId: call.id });
  step.journal("rung", call);
}

export function onIncoming(step: Step, ev: Incoming): void {
  const p = step.phase;
  if (callsOf(p).some((c) => c.id === ev.callId)) {
    return step.ignore(`call ${ev.callId} is already known (a retransmitted INVITE)`);
  }
  const call: Call = {
    id: ev.callId,
    direction: "in",
    remote: ev.remote,
    alertClass: ev.alert.alertClass,
    cadence: ev.alert.cadence,
    startedAt: ev.at,
  };
  const cls = call.alertClass;
  step.journal("received", call);
  switch (p.kind) {
    case "idle":
      if (step.s.dnd && !cls.bypassDnd) return step.refuse(call, 486, "do-not-disturb");
      return ring(step, call);
    case "ringing":
      if (mayPreempt(call, p.call)) {
        step.refuse(p.call, 486, `superseded by ${cls.name} call ${call.id}`);
        return ring(step, call);
      }
      return step.refuse(call, 486, "busy: another call is ringing");
    case "dialing":
    case "hungUp":
      // Off-hook with no call: a call that would preempt is put through at
      // once, because the handset is already at the user's ear.
      if (cls.whenBusy === "preempt") {
        if (p.kind === "hungUp" && p.waiting) {
          step.refuse(p.waiting, 486, `superseded by ${cls.name} call ${call.id}`);
        }
        step.phase = { kind: "talking", call };
        return step.answer(call, "answered", "handset already off-hook");
      }
      return step.refuse(call, 486, "busy: handset off-hook");
    case "calling":
      if (mayPreempt(call, p.call)) {
        step.do({ type: "cancel", callId: p.call.id });
        step.journal("ended", p.call, { reason: `cancelled for ${cls.name} call ${call.id}` });
        step.phase = { kind: "talking", call };
        return step.answer(call, "preempted-into", `cancelled outgoing call ${p.call.id}`);
      }
      return step.refuse(call, 486, "busy: placing a call");
    case "talking": {
      if (mayPreempt(call, p.call)) {
        // RFC 4411 §5: the preempted call's BYE carries Reason: preemption.
        for (const ended of [p.call, p.held]) {
          if (!ended) continue;
          step.do({ type: "end-call", callId: ended.id, reason: UA_PREEMPTION });
          step.journal("preempted", ended, { reason: `for ${cls.name} call ${call.id}` });
        }
        if (p.waiting) step.refuse(p.waiting, 486, `superseded by ${cls.name} call ${call.id}`);
        step.do({ type: "cue", cadence: step.s.config.tones.preemption });
        step.phase = { kind: "talking", call };
        return step.answer(call, "preempted-into", `preempted call ${p.call.id}`);
      }
      if (cls.whenBusy === "call-waiting" && !p.waiting && !p.held) {
        step.phase = { ...p, waiting: call };
        step.do({ type: "send-ringing", callId: call.id });
        return step.journal("rung", call, { reason: "call waiting" });
      }
      return step.refuse(call, 486, mayPreemptReason(call, p.call));
    }
  }
}

function mayPreemptReason(call: Call, current: Call): string {
  if (call.alertClass.whenBusy === "preempt") {
    return `busy: in a call of equal or higher precedence (${current.alertClass.name})`;
  }
  return "busy: in a call";
}
