/**
 * The result of our answer to an incoming call: the journal records the
 * outcome only once the 200 OK went out, and a failed answer as `failed`
 * (never as answered), and the call leaves the phone.
 */
import type { Call } from "./call.ts";
import type { PhoneEvent } from "./events.ts";
import type { Phase } from "./state.ts";
import type { Step } from "./step.ts";

type AnswerResult = Extract<PhoneEvent, { type: "answer-result" }>;

export function onAnswerResult(step: Step, ev: AnswerResult): void {
  const p = step.phase;
  if (p.kind !== "talking") return step.ignore(`no call ${ev.callId} is being answered`);
  const slot = (["call", "held", "waiting"] as const).find((k) => p[k]?.id === ev.callId);
  const call = slot && p[slot];
  if (!slot || !call?.answering) return step.ignore(`call ${ev.callId} has no answer in flight`);
  if (ev.ok) {
    step.outcome(call.answering.how, call, call.answering.reason);
    const { answering: _, ...settled } = call;
    step.phase = { ...p, [slot]: settled as Call };
    return;
  }
  step.outcome("failed", call, `answer failed: ${ev.reason ?? "unknown"}`);
  step.do({ type: "end-call", callId: call.id });
  step.phase = without(p, slot);
}

/** The talking phase without one of its calls: a held call comes back, else busy tone. */
function without(p: Extract<Phase, { kind: "talking" }>, slot: "call" | "held" | "waiting"): Phase {
  if (slot === "held")
    return { kind: "talking", call: p.call, ...(p.waiting && { waiting: p.waiting }) };
  if (slot === "waiting") return { kind: "talking", call: p.call, ...(p.held && { held: p.held }) };
  if (p.held) return { kind: "talking", call: p.held, ...(p.waiting && { waiting: p.waiting }) };
  return { kind: "hungUp", ...(p.waiting && { waiting: p.waiting }) };
}
