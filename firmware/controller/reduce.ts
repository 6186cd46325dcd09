/**
 * The call controller: a pure transition `(state, event) → [state, effects]`.
 * It performs no I/O; firmware/app carries out the effects.
 */
import { onAnswerResult } from "./answer.ts";
import type { Effect } from "./effects.ts";
import type { PhoneEvent } from "./events.ts";
import { onFlash, onHook, onKey, onTimer } from "./handset.ts";
import { onIncoming } from "./incoming.ts";
import { outputEffects } from "./outputs.ts";
import { onRemoteAnswered, onRemoteEnded, onRemoteRinging } from "./remote.ts";
import { initialState, type PhoneState } from "./state.ts";
import { Step } from "./step.ts";

function assertNever(x: never): never {
  throw new Error(`unhandled event ${JSON.stringify(x)}`);
}

export function transition(state: PhoneState, ev: PhoneEvent): [PhoneState, Effect[]] {
  const step = new Step(state, ev.at, ev.type);
  switch (ev.type) {
    case "incoming":
      onIncoming(step, ev);
      break;
    case "remote-ringing":
      onRemoteRinging(step, ev);
      break;
    case "remote-answered":
      onRemoteAnswered(step, ev);
      break;
    case "remote-ended":
      onRemoteEnded(step, ev);
      break;
    case "answer-result":
      onAnswerResult(step, ev);
      break;
    case "hook":
      onHook(step, ev);
      break;
    case "flash":
      onFlash(step);
      break;
    case "key":
      onKey(step, ev);
      break;
    case "timer":
      onTimer(step, ev);
      break;
    case "registration":
      if (step.s.registered === ev.registered) step.ignore("registration unchanged");
      step.s.registered = ev.registered;
      break;
    default:
      assertNever(ev);
  }
  if (step.s.timer && step.phase.kind !== "dialing") {
    step.s.timer = undefined;
    step.do({ type: "cancel-timer", name: "inter-digit" });
  }
  const [out, fx] = outputEffects(step.s);
  step.s.out = out;
  return [step.s, [...step.fx, ...fx]];
}

/**
 * The effects that make the phone show what a (restored) state says, from
 * everything off: called once at start, e.g. to relight the emergency LED for
 * a missed emergency that was not acknowledged before a restart.
 */
export function boot(state: PhoneState): [PhoneState, Effect[]] {
  const [out, fx] = outputEffects({ ...state, out: initialState(state.config).out });
  return [{ ...state, out }, fx];
}
