/**
 * The phone's call state.
 *
 *            incoming                 hook off
 *   idle ─────────────► ringing ───────────────► talking ◄─┐
 *    │ ▲ hook on           │ remote ends           │  ▲     │ remote answers
 *    │ └───────────────────┘ (missed)              │  │     │
 *    │ hook off        dial (# or timeout)         │  │  calling
 *    └────► dialing ──────────────────────────────────┼──►  │
 *              ▲ flash          remote ends          │      │ rejected / remote ends
 *              └──────────── hungUp ◄────────────────┴──────┘
 *
 * On-hook phases: idle, ringing. Off-hook phases: dialing, calling, talking,
 * hungUp. `talking` may also hold one call on hold and one call waiting;
 * `ringing` may hold a second emergency waiting behind the one that rings.
 */
import type { AlertClass } from "../alerting/alert-class.ts";
import { DEFAULT_CLASSES } from "../alerting/alert-class.ts";
import { type CallProgressTones, callProgressTones } from "../alerting/cadences.ts";
import { LED, type LedName, type LedPattern } from "../alerting/led-pattern.ts";
import type { Call } from "./call.ts";

export type Phase =
  | { kind: "idle" }
  /** `waiting`: a second emergency that arrived while one rings (docs/controller.md). */
  | { kind: "ringing"; call: Call; waiting?: Call }
  | { kind: "dialing"; digits: string }
  | { kind: "calling"; call: Call; alerting: boolean }
  | { kind: "talking"; call: Call; held?: Call; waiting?: Call }
  | { kind: "hungUp"; waiting?: Call };

export type PhaseKind = Phase["kind"];
export const PHASE_KINDS: readonly PhaseKind[] = [
  "idle",
  "ringing",
  "dialing",
  "calling",
  "talking",
  "hungUp",
];

export interface MissedEmergency {
  callId: string;
  remote: string;
  at: number;
  alertClass: string;
}

export interface ControllerConfig {
  /** Dial after this long without a key (ms). */
  interDigitMs: number;
  /** Digits kept in a dialled number. */
  maxDigits: number;
  tones: CallProgressTones;
  /** A handset part could not be read at start: the status LED says so (docs/install.md). */
  degraded?: boolean;
}

export const DEFAULT_CONTROLLER_CONFIG: ControllerConfig = {
  interDigitMs: 4000,
  maxDigits: 32,
  tones: callProgressTones("us"),
};

/** What the phone is showing and playing now; effects are the differences. */
export interface Outputs {
  leds: Record<LedName, LedPattern>;
  ringer: { cadence: string; level: "user" | "full" } | null;
  tone: string | null;
  audio: string | null;
}

export interface PhoneState {
  phase: Phase;
  dnd: boolean;
  registered: boolean;
  /** Emergencies that rang unanswered and are not yet acknowledged. */
  missed: readonly MissedEmergency[];
  /** Numbers the next outgoing call id. */
  nextCall: number;
  /** The inter-digit timer now running, if any. */
  timer?: { seq: number };
  timerSeq: number;
  config: ControllerConfig;
  out: Outputs;
}

export const OUTGOING_CLASS: AlertClass = DEFAULT_CLASSES.normal as AlertClass;

export function initialState(
  config: ControllerConfig = DEFAULT_CONTROLLER_CONFIG,
  restored: { missed?: readonly MissedEmergency[]; dnd?: boolean } = {},
): PhoneState {
  return {
    phase: { kind: "idle" },
    dnd: restored.dnd ?? false,
    registered: false,
    missed: restored.missed ?? [],
    nextCall: 1,
    timerSeq: 0,
    config,
    out: {
      leds: { status: LED.off, line: LED.off, message: LED.off, emergency: LED.off },
      ringer: null,
      tone: null,
      audio: null,
    },
  };
}

/** Every call the phase holds. */
export function callsOf(phase: Phase): Call[] {
  switch (phase.kind) {
    case "idle":
    case "dialing":
      return [];
    case "ringing":
      return phase.waiting ? [phase.call, phase.waiting] : [phase.call];
    case "calling":
      return [phase.call];
    case "talking":
      return [phase.call, phase.held, phase.waiting].filter((c): c is Call => c !== undefined);
    case "hungUp":
      return phase.waiting ? [phase.waiting] : [];
  }
}
