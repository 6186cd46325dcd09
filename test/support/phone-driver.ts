/** Drives the pure controller with events on a simulated clock, for tests. */
import { DEFAULT_CLASSES } from "../../firmware/alerting/alert-class.ts";
import { CADENCES, type Cadence } from "../../firmware/alerting/cadences.ts";
import type { IncomingAlert } from "../../firmware/controller/call.ts";
import type { Effect, JournalRecord } from "../../firmware/controller/effects.ts";
import type { EndCause, Key, PhoneEvent } from "../../firmware/controller/events.ts";
import { boot, transition } from "../../firmware/controller/reduce.ts";
import { initialState, type PhoneState } from "../../firmware/controller/state.ts";

export function alertOf(className: string): IncomingAlert {
  const alertClass = DEFAULT_CLASSES[className];
  if (!alertClass) throw new Error(`no class ${className}`);
  const name = alertClass.cadence === "ring" ? "ring-us" : alertClass.cadence;
  return { alertClass, cadence: CADENCES[name] as Cadence };
}

type Without<E> = E extends unknown ? Omit<E, "at"> : never;

export class PhoneDriver {
  at = 0;
  last: Effect[] = [];
  readonly all: Effect[] = [];

  /** Starts like the app does: `boot` first, so the outputs match the state. */
  constructor(state: PhoneState = initialState()) {
    const [booted, fx] = boot(state);
    this.state = booted;
    this.all.push(...fx);
  }

  state: PhoneState;

  send(ev: Without<PhoneEvent>, afterMs = 10): Effect[] {
    this.at += afterMs;
    const [next, fx] = transition(this.state, { ...ev, at: this.at } as PhoneEvent);
    this.state = next;
    this.last = fx;
    this.all.push(...fx);
    return fx;
  }

  incoming(callId: string, className = "normal", remote = "2002") {
    return this.send({ type: "incoming", callId, remote, alert: alertOf(className) });
  }
  hookOff() {
    return this.send({ type: "hook", offHook: true });
  }
  hookOn() {
    return this.send({ type: "hook", offHook: false });
  }
  flash() {
    return this.send({ type: "flash" });
  }
  key(key: Key) {
    return this.send({ type: "key", key });
  }
  keys(keys: string) {
    return [...keys].flatMap((k) => this.key(k as Key));
  }
  /** Fires the inter-digit timer that is running now. */
  interDigitTimeout() {
    const seq = this.state.timer?.seq ?? -1;
    return this.send({ type: "timer", name: "inter-digit", seq }, this.state.config.interDigitMs);
  }
  remoteRinging(callId: string) {
    return this.send({ type: "remote-ringing", callId });
  }
  remoteAnswered(callId: string) {
    return this.send({ type: "remote-answered", callId });
  }
  remoteEnded(callId: string, cause: EndCause = "bye", code?: number) {
    return this.send({ type: "remote-ended", callId, cause, ...(code && { code }) });
  }

  /** The app's report that our 200 OK went out (ok) or that answering failed. */
  answerResult(callId: string, ok = true, reason?: string) {
    return this.send({ type: "answer-result", callId, ok, ...(reason && { reason }) }, 1);
  }
  /** Confirms every answer now in flight, as the app does once each 200 OK went out. */
  answersSent() {
    const p = this.state.phase;
    const pending = p.kind === "talking" ? [p.call, p.held, p.waiting] : [];
    return pending.flatMap((c) => (c?.answering ? this.answerResult(c.id) : []));
  }

  /** A call that rings and is answered by lifting the handset, its 200 OK gone out. */
  answered(callId: string, className = "normal") {
    return [...this.incoming(callId, className), ...this.hookOff(), ...this.answersSent()];
  }

  journal(): JournalRecord[] {
    return this.all.flatMap((e) => (e.type === "journal" ? [e.record] : []));
  }
}

export function ofType<T extends Effect["type"]>(
  fx: Effect[],
  type: T,
): Extract<Effect, { type: T }>[] {
  return fx.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}
