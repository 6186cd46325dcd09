/**
 * Every (state × event) pair: each is handled, or refused with a documented
 * reason (an "ignored" effect). The expectations are a table typed over all
 * phases and event types, so adding either fails to compile until the table
 * says what happens.
 */
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../firmware/controller/effects.ts";
import {
  EVENT_TYPES,
  type EventType,
  type PhoneEvent,
} from "../../../firmware/controller/events.ts";
import { transition } from "../../../firmware/controller/reduce.ts";
import {
  callsOf,
  PHASE_KINDS,
  type PhaseKind,
  type PhoneState,
} from "../../../firmware/controller/state.ts";
import { alertOf, PhoneDriver } from "../../support/phone-driver.ts";

type Outcome = "handled" | "ignored";
const H: Outcome = "handled";
const I: Outcome = "ignored";

interface Sample {
  phase: PhaseKind;
  build: (d: PhoneDriver) => void;
  expect: Record<EventType, Outcome>;
}

// Events: incoming, remote-ringing, remote-answered, remote-ended (the phase's first call),
// hook (the opposite of the current hook state), flash, key "5", timer (current), registration,
// answer-result (ok, for the phase's first call).
const row = (
  incoming: Outcome,
  ringing: Outcome,
  answered: Outcome,
  ended: Outcome,
  hook: Outcome,
  flash: Outcome,
  key: Outcome,
  timer: Outcome,
  answerResult: Outcome = I,
): Record<EventType, Outcome> => ({
  incoming,
  "remote-ringing": ringing,
  "remote-answered": answered,
  "remote-ended": ended,
  "answer-result": answerResult,
  hook,
  flash,
  key,
  timer,
  registration: H,
});

const SAMPLES: Record<string, Sample> = {
  idle: { phase: "idle", build: () => {}, expect: row(H, I, I, I, H, I, I, I) },
  ringing: {
    phase: "ringing",
    build: (d) => d.incoming("c1"),
    expect: row(H, I, I, H, H, I, I, I),
  },
  "ringing emergency": {
    phase: "ringing",
    build: (d) => d.incoming("c1", "emergency"),
    expect: row(H, I, I, H, H, I, I, I),
  },
  dialing: { phase: "dialing", build: (d) => d.hookOff(), expect: row(H, I, I, I, H, I, H, I) },
  "dialing digits": {
    phase: "dialing",
    build: (d) => {
      d.hookOff();
      d.keys("20");
    },
    expect: row(H, I, I, I, H, H, H, H),
  },
  calling: {
    phase: "calling",
    build: (d) => {
      d.hookOff();
      d.keys("20#");
    },
    expect: row(H, H, H, H, H, H, I, I),
  },
  talking: {
    phase: "talking",
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
      d.answersSent();
    },
    expect: row(H, I, I, H, H, I, H, I),
  },
  "talking, answer in flight": {
    phase: "talking",
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
    },
    expect: row(H, I, I, H, H, I, H, I, H),
  },
  "ringing, emergency waiting": {
    phase: "ringing",
    build: (d) => {
      d.incoming("c1", "emergency");
      d.incoming("c2", "emergency");
    },
    expect: row(H, I, I, H, H, I, I, I),
  },
  "talking, emergency waiting": {
    phase: "talking",
    build: (d) => {
      d.incoming("c1", "emergency");
      d.hookOff();
      d.answersSent();
      d.incoming("c2", "emergency");
    },
    expect: row(H, I, I, H, H, H, H, I),
  },
  "talking, call waiting": {
    phase: "talking",
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
      d.answersSent();
      d.incoming("c2", "priority");
    },
    expect: row(H, I, I, H, H, H, H, I),
  },
  "talking, call held": {
    phase: "talking",
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
      d.answersSent();
      d.incoming("c2", "priority");
      d.flash();
      d.answersSent();
    },
    expect: row(H, I, I, H, H, H, H, I),
  },
  hungUp: {
    phase: "hungUp",
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
      d.remoteEnded("c1");
    },
    expect: row(H, I, I, I, H, H, I, I),
  },
  "hungUp, call waiting": {
    phase: "hungUp",
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
      d.answersSent();
      d.incoming("c2", "priority");
      d.remoteEnded("c1");
    },
    expect: row(H, I, I, H, H, H, I, I),
  },
};

function sampleEvent(type: EventType, s: PhoneState): PhoneEvent {
  const at = 1_000_000;
  const callId = callsOf(s.phase)[0]?.id ?? "none";
  const offHook = !["idle", "ringing"].includes(s.phase.kind);
  const events: { [T in EventType]: Extract<PhoneEvent, { type: T }> } = {
    incoming: { type: "incoming", at, callId: "new", remote: "3000", alert: alertOf("emergency") },
    "remote-ringing": { type: "remote-ringing", at, callId },
    "remote-answered": { type: "remote-answered", at, callId },
    "remote-ended": { type: "remote-ended", at, callId, cause: "bye" },
    "answer-result": { type: "answer-result", at, callId, ok: true },
    hook: { type: "hook", at, offHook: !offHook },
    flash: { type: "flash", at },
    key: { type: "key", at, key: "5" },
    timer: { type: "timer", at, name: "inter-digit", seq: s.timer?.seq ?? -1 },
    registration: { type: "registration", at, registered: !s.registered },
  };
  return events[type];
}

describe("state × event table", () => {
  it("covers every phase", () => {
    const covered = new Set(Object.values(SAMPLES).map((s) => s.phase));
    expect([...covered].sort()).toEqual([...PHASE_KINDS].sort());
  });

  for (const [name, sample] of Object.entries(SAMPLES)) {
    for (const type of EVENT_TYPES) {
      it(`${name} + ${type} → ${sample.expect[type]}`, () => {
        const d = new PhoneDriver();
        sample.build(d);
        expect(d.state.phase.kind).toBe(sample.phase);
        const before = d.state;
        const [after, fx] = transition(before, sampleEvent(type, before));
        const ignored = fx.filter(
          (e): e is Extract<Effect, { type: "ignored" }> => e.type === "ignored",
        );
        if (sample.expect[type] === "ignored") {
          expect(ignored).toHaveLength(1);
          expect(ignored[0]?.reason.length).toBeGreaterThan(8);
          expect(after.phase).toEqual(before.phase);
          expect(fx.filter((e) => e.type !== "ignored" && e.type !== "journal")).toEqual([]);
        } else {
          expect(ignored).toEqual([]);
          const changed = JSON.stringify(after) !== JSON.stringify(before);
          expect(fx.length > 0 || changed).toBe(true);
        }
      });
    }
  }
});
