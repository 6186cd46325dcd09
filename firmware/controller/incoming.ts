/**
 * An INVITE arrives: ring, preempt, wait or refuse. Every emergency rule of
 * the emergency call's steps 6–8 (docs/controller.md) is here.
 */
import { type Call, mayPreempt, UA_PREEMPTION } from "./call.ts";
import type { PhoneEvent } from "./events.ts";
import { callsOf, type Phase } from "./state.ts";
import type { Step } from "./step.ts";

type Incoming = Extract<PhoneEvent, { type: "incoming" }>;

function ring(step: Step, call: Call): void {
  step.phase = { kind: "ringing", call };
  step.do({ type: "send-ringing", callId: call.id });
  step.journal("rung", call);
}

/** A waiting call gets 180 (RFC 3261 §13.3.1.1) like a ringing one. */
function wait(step: Step, call: Call, reason: string): void {
  step.do({ type: "send-ringing", callId: call.id });
  step.journal("rung", call, { reason });
}

/**
 * The `received` record and the call's answer on the wire (180, a refusal, a
 * 200 OK): an emergency's record is written ahead of its answer, so a crash
 * between the two still leaves the emergency in the journal (and at restart
 * it is missed until acknowledged, journal-restart.ts). An ordinary call's
 * answer leaves first and its record follows at once, in the same turn and
 * before any other record of that call, so the journal reads the same
 * (docs/controller.md, "Journal"; docs/sip.md, "INVITE → 180").
 */
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
  const from = step.fx.length;
  if (call.alertClass.emergency) {
    step.journal("received", call);
    return decide(step, call);
  }
  decide(step, call);
  step.journalAfterAnswer(from, "received", call);
}

function decide(step: Step, call: Call): void {
  const p = step.phase;
  const cls = call.alertClass;
  switch (p.kind) {
    case "idle":
      if (step.s.dnd && !cls.bypassDnd) return step.refuse(call, 486, "do-not-disturb");
      return ring(step, call);
    case "ringing":
      if (mayPreempt(call, p.call)) {
        step.refuse(p.call, 486, `superseded by ${cls.name} call ${call.id}`);
        if (p.waiting && !p.waiting.alertClass.emergency) {
          step.refuse(p.waiting, 486, `superseded by ${cls.name} call ${call.id}`);
        }
        ring(step, call);
        if (p.waiting?.alertClass.emergency)
          step.phase = { kind: "ringing", call, waiting: p.waiting };
        return;
      }
      if (cls.emergency) {
        // Two emergencies at once: the second waits behind the one that rings,
        // and is offered as a waiting call once the user answers (or rings
        // if the first caller gives up).
        if (p.waiting) return step.missBusy(call, "busy: two emergencies already ring");
        step.phase = { ...p, waiting: call };
        return wait(step, call, `emergency waiting behind ${p.call.id}`);
      }
      return step.refuse(call, 486, "busy: another call is ringing");
    case "dialing":
    case "hungUp":
      return offHookNoCall(step, p, call);
    case "calling":
      if (mayPreempt(call, p.call)) {
        step.do({ type: "cancel", callId: p.call.id });
        step.journal("ended", p.call, { reason: `cancelled for ${cls.name} call ${call.id}` });
        step.phase = {
          kind: "talking",
          call: step.answer(call, "preempted-into", `cancelled outgoing call ${p.call.id}`),
        };
        return;
      }
      if (cls.emergency) return step.missBusy(call, "busy: placing a call of equal precedence");
      return step.refuse(call, 486, "busy: placing a call");
    case "talking":
      return whileTalking(step, p, call);
  }
}

/** Off-hook with no call: a call that would preempt is put through at once (the handset is at the ear). */
function offHookNoCall(step: Step, p: Extract<Phase, { kind: "dialing" | "hungUp" }>, call: Call) {
  const cls = call.alertClass;
  const waiting = p.kind === "hungUp" ? p.waiting : undefined;
  if (cls.whenBusy !== "preempt") return step.refuse(call, 486, "busy: handset off-hook");
  if (waiting && !mayPreempt(call, waiting)) {
    // An emergency already waits for this user: it is put through first, the
    // new one waits behind it.
    step.phase = {
      kind: "talking",
      call: step.answer(waiting, "answered", "handset already off-hook"),
      waiting: call,
    };
    return wait(step, call, `emergency waiting behind ${waiting.id}`);
  }
  if (waiting) step.refuse(waiting, 486, `superseded by ${cls.name} call ${call.id}`);
  step.phase = { kind: "talking", call: step.answer(call, "answered", "handset already off-hook") };
}

function whileTalking(step: Step, p: Extract<Phase, { kind: "talking" }>, call: Call): void {
  const cls = call.alertClass;
  if (mayPreempt(call, p.call)) {
    // RFC 4411 §5: the preempted call's BYE carries Reason: preemption. A held call
    // of equal or higher precedence (an emergency put on hold) is never preempted:
    // it stays on hold behind the new call.
    const keptHeld = p.held && !mayPreempt(call, p.held) ? p.held : undefined;
    for (const ended of [p.call, p.held]) {
      if (!ended || ended === keptHeld) continue;
      step.settleAnswer(ended);
      step.do({ type: "end-call", callId: ended.id, reason: UA_PREEMPTION });
      step.journal("preempted", ended, { reason: `for ${cls.name} call ${call.id}` });
    }
    let waiting = p.waiting;
    if (waiting && !(waiting.alertClass.emergency && !mayPreempt(call, waiting))) {
      step.refuse(waiting, 486, `superseded by ${cls.name} call ${call.id}`);
      waiting = undefined;
    }
    step.do({ type: "cue", cadence: step.s.config.tones.preemption });
    step.phase = {
      kind: "talking",
      call: step.answer(call, "preempted-into", `preempted call ${p.call.id}`),
      ...(keptHeld && { held: keptHeld }),
      ...(waiting && { waiting }),
    };
    return;
  }
  if (cls.emergency) return emergencyWhileTalking(step, p, call);
  if (cls.whenBusy === "call-waiting" && !p.waiting && !p.held) {
    step.phase = { ...p, waiting: call };
    return wait(step, call, "call waiting");
  }
  step.refuse(call, 486, busyReason(call, p.call));
}

/**
 * An emergency that cannot preempt the call in progress (another emergency):
 * it waits with its own tone and LED, and a hook flash switches to it
 * (docs/controller.md). A lower waiting call gives way; a lower held call is
 * preempted to make room.
 */
function emergencyWhileTalking(step: Step, p: Extract<Phase, { kind: "talking" }>, call: Call) {
  const cls = call.alertClass;
  if (p.waiting?.alertClass.emergency) {
    return step.missBusy(call, "busy: in an emergency call with another emergency waiting");
  }
  if (p.held && !mayPreempt(call, p.held)) {
    return step.missBusy(call, "busy: in an emergency call with another on hold");
  }
  if (p.held) {
    step.do({ type: "end-call", callId: p.held.id, reason: UA_PREEMPTION });
    step.journal("preempted", p.held, { reason: `for ${cls.name} call ${call.id}` });
  }
  if (p.waiting) step.refuse(p.waiting, 486, `superseded by ${cls.name} call ${call.id}`);
  step.phase = { kind: "talking", call: p.call, waiting: call };
  wait(step, call, `emergency waiting behind ${p.call.id}`);
}

function busyReason(call: Call, current: Call): string {
  if (call.alertClass.whenBusy === "preempt") {
    return `busy: in a call of equal or higher precedence (${current.alertClass.name})`;
  }
  return "busy: in a call";
}
