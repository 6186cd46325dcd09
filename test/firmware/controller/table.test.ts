/**
 * Every (state × event) pair and its expected outcome: the phase the phone is
 * in next and every effect, in order. The table is typed over all event types
 * (adding one fails to compile until every row says what it does) and checked
 * to cover every phase kind.
 *
 * A cell reads "<next phase> | <effects>":
 * - the phase: its kind and its calls by slot, "*" on a call whose answer is in
 *   flight — "talking c2* held c1", "ringing c1 waiting c2", "dialing [20]",
 *   "calling out-1 alerting"; "=" for the phase the row starts from, unchanged.
 * - each effect as one word: its type, then what matters — the call, the code
 *   of a reject, "preemption" on a BYE with the RFC 4411 Reason, the journal
 *   event ("*" on an emergency's one outcome), the cadence of a ringer/tone/cue
 *   and the ringer level, the LED and its pattern kind, the digit of a DTMF.
 * `I` is an ignored event: the phase unchanged and exactly one `ignored`
 * effect, whose reason is logged.
 *
 * Events: incoming is always an emergency ("new", from 3000); remote-ringing,
 * remote-answered, remote-ended (bye) and answer-result (ok) name the row's
 * first call; hook is the opposite of the current hook state; flash; key "5";
 * timer with the running timer's seq (-1 when none runs); registration flips
 * from unregistered to registered, which in every row only lights the status LED.
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
  type Phase,
  type PhoneState,
} from "../../../firmware/controller/state.ts";
import { alertOf, PhoneDriver } from "../../support/phone-driver.ts";

const I = "= | ignored";
const REGISTERED = "= | led:status:on";

interface Sample {
  build: (d: PhoneDriver) => void;
  /** The phase `build` leaves the phone in, as a cell writes it. */
  from: string;
  expect: Record<EventType, string>;
}

const SAMPLES: Record<string, Sample> = {
  idle: {
    build: () => {},
    from: "idle",
    expect: {
      incoming:
        "ringing new | journal:received send-ringing:new journal:rung ringer:emergency:full led:line:blink led:emergency:blink",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": I,
      "answer-result": I,
      hook: "dialing [] | tone:dial-us led:line:on",
      flash: I,
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  ringing: {
    build: (d) => d.incoming("c1"),
    from: "ringing c1",
    expect: {
      incoming:
        "ringing new | journal:received reject:c1:486 journal:refused send-ringing:new journal:rung ringer:emergency:full led:emergency:blink",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "idle | journal:missed ringer-off led:line:off",
      "answer-result": I,
      hook: "talking c1* | answer:c1 audio-connect:c1 ringer-off led:line:on",
      flash: I,
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  "ringing emergency": {
    build: (d) => d.incoming("c1", "emergency"),
    from: "ringing c1",
    expect: {
      // A second emergency while one rings: 180 and waits behind it (never a 486).
      incoming: "ringing c1 waiting new | journal:received send-ringing:new journal:rung",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "idle | journal:missed* ringer-off led:line:off led:emergency:on",
      "answer-result": I,
      hook: "talking c1* | answer:c1 audio-connect:c1 ringer-off led:line:on led:emergency:on",
      flash: I,
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  dialing: {
    build: (d) => d.hookOff(),
    from: "dialing []",
    expect: {
      incoming:
        "talking new* | journal:received answer:new audio-connect:new tone-off led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": I,
      "answer-result": I,
      hook: "idle | tone-off led:line:off",
      flash: I,
      key: "dialing [5] | start-timer tone-off",
      timer: I,
      registration: REGISTERED,
    },
  },
  "dialing digits": {
    build: (d) => {
      d.hookOff();
      d.keys("20");
    },
    from: "dialing [20]",
    expect: {
      incoming:
        "talking new* | journal:received answer:new cancel-timer audio-connect:new led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": I,
      "answer-result": I,
      hook: "idle | cancel-timer led:line:off",
      flash: "dialing [] | cancel-timer tone:dial-us",
      key: "dialing [205] | start-timer",
      timer: "calling out-1 | dial:20 journal:dialled",
      registration: REGISTERED,
    },
  },
  calling: {
    build: (d) => {
      d.hookOff();
      d.keys("20#");
    },
    from: "calling out-1",
    expect: {
      incoming:
        "talking new* | journal:received cancel:out-1 journal:ended answer:new audio-connect:new led:emergency:on",
      "remote-ringing": "calling out-1 alerting | tone:ringback-us",
      "remote-answered": "talking out-1 | journal:answered audio-connect:out-1",
      "remote-ended": "hungUp | journal:ended tone:busy-us",
      "answer-result": I,
      hook: "idle | cancel:out-1 journal:ended led:line:off",
      flash: "dialing [] | cancel:out-1 journal:ended tone:dial-us",
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  talking: {
    build: (d) => d.answered("c1"),
    from: "talking c1",
    expect: {
      incoming:
        "talking new* | journal:received end-call:c1:preemption journal:preempted cue:preemption-short answer:new audio-disconnect:c1 audio-connect:new led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "hungUp | journal:ended audio-disconnect:c1 tone:busy-us",
      "answer-result": I,
      hook: "idle | end-call:c1 journal:ended audio-disconnect:c1 led:line:off",
      flash: I,
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  "talking, answer in flight": {
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
    },
    from: "talking c1*",
    expect: {
      incoming:
        "talking new* | journal:received journal:answered end-call:c1:preemption journal:preempted cue:preemption-short answer:new audio-disconnect:c1 audio-connect:new led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "hungUp | journal:failed journal:ended audio-disconnect:c1 tone:busy-us",
      "answer-result": "talking c1 | journal:answered",
      hook: "idle | journal:answered end-call:c1 journal:ended audio-disconnect:c1 led:line:off",
      flash: I,
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  "talking emergency": {
    build: (d) => d.answered("c1", "emergency"),
    from: "talking c1",
    expect: {
      // Equal precedence never preempts: the second emergency gets 180 and waits with
      // its own tone and the emergency LED flashing.
      incoming:
        "talking c1 waiting new | journal:received send-ringing:new journal:rung tone:emergency-waiting led:line:blink led:emergency:blink",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "hungUp | journal:ended audio-disconnect:c1 tone:busy-us led:emergency:off",
      "answer-result": I,
      hook: "idle | end-call:c1 journal:ended audio-disconnect:c1 led:line:off led:emergency:off",
      flash: I,
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  "hungUp, emergency waiting": {
    build: (d) => {
      d.answered("c1", "emergency");
      d.incoming("c2", "emergency");
      d.remoteEnded("c1");
    },
    from: "hungUp waiting c2",
    expect: {
      // Off-hook with an emergency waiting: a new emergency puts the waiting one
      // through at once (the handset is at the ear) and waits behind it.
      incoming:
        "talking c2* waiting new | journal:received answer:c2 send-ringing:new journal:rung audio-connect:c2 tone:emergency-waiting led:line:blink",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "hungUp | journal:missed* led:emergency:on",
      "answer-result": I,
      hook: "ringing c2 | ringer:emergency:full tone-off led:line:blink",
      flash: "talking c2* | answer:c2 audio-connect:c2 tone-off led:emergency:on",
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  "talking, emergency held": {
    build: (d) => {
      d.answered("c1", "emergency");
      d.incoming("c2", "emergency");
      d.flash();
      d.answersSent();
    },
    from: "talking c2 held c1",
    expect: {
      // A third emergency with one held that it cannot preempt: 486, journalled missed.
      incoming: "= | journal:received reject:new:486 journal:missed*",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "talking c1 | journal:ended resume:c1 audio-disconnect:c2 audio-connect:c1",
      "answer-result": I,
      hook: "idle | end-call:c2 journal:ended end-call:c1 journal:ended audio-disconnect:c2 led:line:off led:emergency:off",
      flash: "talking c1 held c2 | hold:c2 resume:c1 audio-disconnect:c2 audio-connect:c1",
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  "ringing, emergency waiting": {
    build: (d) => {
      d.incoming("c1", "emergency");
      d.incoming("c2", "emergency");
    },
    from: "ringing c1 waiting c2",
    expect: {
      // A third emergency: 486, but journalled missed (its outcome) — never a silent 486.
      incoming: "= | journal:received reject:new:486 journal:missed*",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "ringing c2 | journal:missed*",
      "answer-result": I,
      hook: "talking c1* waiting c2 | answer:c1 audio-connect:c1 ringer-off tone:emergency-waiting led:line:blink",
      flash: I,
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  "talking, emergency waiting": {
    build: (d) => {
      d.answered("c1", "emergency");
      d.incoming("c2", "emergency");
    },
    from: "talking c1 waiting c2",
    expect: {
      incoming: "= | journal:received reject:new:486 journal:missed*",
      "remote-ringing": I,
      "remote-answered": I,
      // The waiting emergency stays (hanging up rings it, a flash takes it, a new
      // emergency puts it through) with busy tone, its emergency LED still flashing.
      "remote-ended":
        "hungUp waiting c2 | journal:ended audio-disconnect:c1 tone:busy-us led:line:on",
      "answer-result": I,
      hook: "ringing c2 | end-call:c1 journal:ended audio-disconnect:c1 ringer:emergency:full tone-off led:line:blink",
      flash:
        "talking c2* held c1 | hold:c1 answer:c2 audio-disconnect:c1 audio-connect:c2 tone-off led:line:on led:emergency:on",
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  "talking, call waiting": {
    build: (d) => {
      d.answered("c1");
      d.incoming("c2", "priority");
    },
    from: "talking c1 waiting c2",
    expect: {
      incoming:
        "talking new* | journal:received end-call:c1:preemption journal:preempted reject:c2:486 journal:refused cue:preemption-short answer:new audio-disconnect:c1 audio-connect:new tone-off led:line:on led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended":
        "hungUp waiting c2 | journal:ended audio-disconnect:c1 tone:busy-us led:line:on",
      "answer-result": I,
      hook: "ringing c2 | end-call:c1 journal:ended audio-disconnect:c1 ringer:priority:user tone-off led:line:blink",
      flash:
        "talking c2* held c1 | hold:c1 answer:c2 audio-disconnect:c1 audio-connect:c2 tone-off led:line:on",
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  "talking, call held": {
    build: (d) => {
      d.answered("c1");
      d.incoming("c2", "priority");
      d.flash();
      d.answersSent();
    },
    from: "talking c2 held c1",
    expect: {
      incoming:
        "talking new* | journal:received end-call:c2:preemption journal:preempted end-call:c1:preemption journal:preempted cue:preemption-short answer:new audio-disconnect:c2 audio-connect:new led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "talking c1 | journal:ended resume:c1 audio-disconnect:c2 audio-connect:c1",
      "answer-result": I,
      hook: "idle | end-call:c2 journal:ended end-call:c1 journal:ended audio-disconnect:c2 led:line:off",
      flash: "talking c1 held c2 | hold:c2 resume:c1 audio-disconnect:c2 audio-connect:c1",
      key: "= | send-dtmf:5",
      timer: I,
      registration: REGISTERED,
    },
  },
  hungUp: {
    build: (d) => {
      d.incoming("c1");
      d.hookOff();
      d.remoteEnded("c1");
    },
    from: "hungUp",
    expect: {
      incoming:
        "talking new* | journal:received answer:new audio-connect:new tone-off led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": I,
      "answer-result": I,
      hook: "idle | tone-off led:line:off",
      flash: "dialing [] | tone:dial-us",
      key: I,
      timer: I,
      registration: REGISTERED,
    },
  },
  "hungUp, call waiting": {
    build: (d) => {
      d.answered("c1");
      d.incoming("c2", "priority");
      d.remoteEnded("c1");
    },
    from: "hungUp waiting c2",
    expect: {
      incoming:
        "talking new* | journal:received reject:c2:486 journal:refused answer:new audio-connect:new tone-off led:emergency:on",
      "remote-ringing": I,
      "remote-answered": I,
      "remote-ended": "hungUp | journal:missed",
      "answer-result": I,
      hook: "ringing c2 | ringer:priority:user tone-off led:line:blink",
      flash: "talking c2* | answer:c2 audio-connect:c2 tone-off",
      key: I,
      timer: I,
      registration: REGISTERED,
    },
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

const callWord = (c: { id: string; answering?: unknown }) => `${c.id}${c.answering ? "*" : ""}`;

/** A phase as a cell writes it. */
function phaseWords(p: Phase): string {
  switch (p.kind) {
    case "idle":
      return "idle";
    case "ringing":
      return `ringing ${callWord(p.call)}${p.waiting ? ` waiting ${callWord(p.waiting)}` : ""}`;
    case "dialing":
      return `dialing [${p.digits}]`;
    case "calling":
      return `calling ${callWord(p.call)}${p.alerting ? " alerting" : ""}`;
    case "talking":
      return [
        `talking ${callWord(p.call)}`,
        p.held && `held ${callWord(p.held)}`,
        p.waiting && `waiting ${callWord(p.waiting)}`,
      ]
        .filter(Boolean)
        .join(" ");
    case "hungUp":
      return `hungUp${p.waiting ? ` waiting ${callWord(p.waiting)}` : ""}`;
  }
}

/** An effect as a cell writes it. */
function effectWord(e: Effect): string {
  switch (e.type) {
    case "journal":
      return `journal:${e.record.event}${e.record.outcome ? "*" : ""}`;
    case "reject":
      return `reject:${e.callId}:${e.code}`;
    case "end-call":
      return `end-call:${e.callId}${e.reason?.startsWith("preemption ") ? ":preemption" : ""}`;
    case "ringer":
      return `ringer:${e.cadence.name}:${e.level}`;
    case "tone":
    case "cue":
      return `${e.type}:${e.cadence.name}`;
    case "led":
      return `led:${e.led}:${e.pattern.kind}`;
    case "send-dtmf":
      return `send-dtmf:${e.digit}`;
    case "dial":
      return `dial:${e.target}`;
    case "ignored":
    case "ringer-off":
    case "tone-off":
    case "start-timer":
    case "cancel-timer":
      return e.type;
    default:
      return `${e.type}:${e.callId}`;
  }
}

describe("state × event table", () => {
  it("covers every phase", () => {
    const covered = new Set(Object.values(SAMPLES).map((s) => s.from.split(" ")[0]));
    expect([...covered].sort()).toEqual([...PHASE_KINDS].sort());
  });

  for (const [name, sample] of Object.entries(SAMPLES)) {
    for (const type of EVENT_TYPES) {
      it(`${name} + ${type} → ${sample.expect[type]}`, () => {
        const d = new PhoneDriver();
        sample.build(d);
        const from = phaseWords(d.state.phase);
        expect(from).toBe(sample.from);
        const [after, fx] = transition(d.state, sampleEvent(type, d.state));
        const next = phaseWords(after.phase);
        expect(`${next === from ? "=" : next} | ${fx.map(effectWord).join(" ")}`).toBe(
          sample.expect[type],
        );
        for (const e of fx) if (e.type === "ignored") expect(e.reason.length).toBeGreaterThan(8);
      });
    }
  }
});
