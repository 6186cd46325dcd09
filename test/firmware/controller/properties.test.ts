/** Invariants of the call controller over random event sequences (fast-check). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Call, mayPreempt } from "../../../firmware/controller/call.ts";
import { type Effect, EMERGENCY_OUTCOMES } from "../../../firmware/controller/effects.ts";
import type { EndCause, Key } from "../../../firmware/controller/events.ts";
import { callsOf } from "../../../firmware/controller/state.ts";
import { alertOf, PhoneDriver } from "../../support/phone-driver.ts";

const CLASSES = ["normal", "emergency", "priority", "precedence", "bellcore-dr2", "internal"];
const KEYS: Key[] = ["1", "2", "5", "#", "*", "dnd", "ack"];
const CAUSES: EndCause[] = ["bye", "cancel", "rejected", "failed", "no-answer"];

type Action =
  | { a: "incoming"; cls: number; reuse: boolean }
  | { a: "ended" | "ringing" | "answered"; pick: number; cause: number }
  | { a: "hook" | "flash" | "timer" | "stale-timer" | "registration" }
  | { a: "key"; key: number }
  | { a: "answer-result"; pick: number; ok: boolean };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    a: fc.constant("incoming" as const),
    cls: fc.nat(CLASSES.length - 1),
    reuse: fc.boolean(),
  }),
  fc.record({
    a: fc.constantFrom("ended" as const, "ringing" as const, "answered" as const),
    pick: fc.nat(5),
    cause: fc.nat(CAUSES.length - 1),
  }),
  fc.record({
    a: fc.constantFrom(
      "hook" as const,
      "flash" as const,
      "timer" as const,
      "stale-timer" as const,
      "registration" as const,
    ),
  }),
  fc.record({ a: fc.constant("key" as const), key: fc.nat(KEYS.length - 1) }),
  fc.record({ a: fc.constant("answer-result" as const), pick: fc.nat(5), ok: fc.boolean() }),
);

/** Runs the actions and checks the invariants after every event. */
function run(actions: Action[]): void {
  const d = new PhoneDriver();
  const audio = new Set<string>();
  const emergencies = new Set<string>();
  let n = 0;
  for (const act of actions) {
    const calls = callsOf(d.state.phase);
    const pick = (i: number): string => {
      const outgoing = d.state.phase.kind === "calling" ? [d.state.phase.call] : [];
      const pool = [...calls, ...outgoing].map((c) => c.id);
      return pool.length ? (pool[i % pool.length] as string) : `ghost-${i}`;
    };
    let fx: Effect[];
    switch (act.a) {
      case "incoming": {
        const id = act.reuse && calls[0] ? calls[0].id : `in-${++n}`;
        const cls = CLASSES[act.cls] as string;
        const before = d.state;
        fx = d.incoming(id, cls);
        if (cls === "emergency" && !calls.some((c) => c.id === id)) {
          emergencies.add(id);
          // An emergency is never refused while idle, off-hook without a call,
          // placing a call, or in (or ringing with) a lower-precedence call.
          const current = callsOf(before.phase).find((c) => c !== undefined);
          const newCall: Call = {
            id,
            direction: "in",
            remote: "x",
            alertClass: alertOf(cls).alertClass,
            startedAt: 0,
          };
          const lower =
            before.phase.kind === "calling" ||
            !current ||
            (["ringing", "talking"].includes(before.phase.kind) &&
              mayPreempt(newCall, before.phase.kind === "talking" ? before.phase.call : current));
          if (lower) expect(fx.filter((e) => e.type === "reject" && e.callId === id)).toEqual([]);
        }
        break;
      }
      case "ended":
        fx = d.remoteEnded(pick(act.pick), CAUSES[act.cause]);
        break;
      case "ringing":
        fx = d.remoteRinging(pick(act.pick));
        break;
      case "answered":
        fx = d.remoteAnswered(pick(act.pick));
        break;
      case "hook":
        fx = ["idle", "ringing"].includes(d.state.phase.kind) ? d.hookOff() : d.hookOn();
        break;
      case "flash":
        fx = d.flash();
        break;
      case "timer":
        fx = d.interDigitTimeout();
        break;
      case "stale-timer":
        fx = d.send({ type: "timer", name: "inter-digit", seq: (d.state.timer?.seq ?? 0) - 1 });
        break;
      case "registration":
        fx = d.send({ type: "registration", registered: !d.state.registered });
        break;
      case "key":
        fx = d.key(KEYS[act.key] as Key);
        break;
      case "answer-result":
        fx = d.answerResult(pick(act.pick), act.ok, act.ok ? undefined : "refused");
        break;
    }
    // Never two calls with audio at once; audio only on a call in the state.
    for (const e of fx) {
      if (e.type === "audio-disconnect") audio.delete(e.callId);
      if (e.type === "audio-connect") {
        expect(audio.size).toBe(0);
        audio.add(e.callId);
      }
    }
    expect(audio.size).toBeLessThanOrEqual(1);
    for (const id of audio) expect(d.state.phase).toMatchObject({ kind: "talking", call: { id } });
    // The ringer rings only on-hook.
    if (d.state.out.ringer) expect(d.state.phase.kind).toBe("ringing");
    // Each emergency INVITE: one outcome once it is no longer pending, never two.
    const journal = d.journal();
    for (const id of emergencies) {
      const outcomes = journal.filter((r) => r.callId === id && r.outcome);
      expect(outcomes.length).toBeLessThanOrEqual(1);
      for (const o of outcomes) expect(EMERGENCY_OUTCOMES).toContain(o.event);
      const p = d.state.phase;
      const pending =
        (p.kind === "ringing" && (p.call.id === id || p.waiting?.id === id)) ||
        ((p.kind === "talking" || p.kind === "hungUp") && p.waiting?.id === id) ||
        callsOf(p).some((c) => c.id === id && c.answering !== undefined);
      if (!pending) expect(outcomes, `emergency ${id}`).toHaveLength(1);
    }
    // An "ignored" effect always says why.
    for (const e of fx) if (e.type === "ignored") expect(e.reason.length).toBeGreaterThan(8);
  }
}

describe("controller invariants", () => {
  it("hold over random event sequences", () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => run(actions)),
      { numRuns: 2000 },
    );
  });
});
