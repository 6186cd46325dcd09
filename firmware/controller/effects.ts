/** What the controller asks the rest of the phone to do, as data. firmware/app carries it out. */
import type { Cadence } from "../alerting/cadences.ts";
import type { LedName, LedPattern } from "../alerting/led-pattern.ts";
import type { EventType } from "./events.ts";

export type JournalEvent =
  | "received"
  | "rung"
  | "answered"
  | "preempted-into"
  | "preempted"
  | "missed"
  | "refused"
  | "failed"
  | "dialled"
  | "ended"
  | "acknowledged"
  | "dnd-on"
  | "dnd-off";

/** Outcomes that close an emergency INVITE; each gets exactly one. */
export const EMERGENCY_OUTCOMES: readonly JournalEvent[] = [
  "answered",
  "preempted-into",
  "missed",
  "refused",
  "failed",
];

export interface JournalRecord {
  at: number;
  event: JournalEvent;
  callId?: string;
  remote?: string;
  alertClass?: string;
  emergency: boolean;
  /** Set on the one record that closes an emergency INVITE. */
  outcome?: true;
  reason?: string;
}

export type Effect =
  /** 180 Ringing for an incoming call. */
  | { type: "send-ringing"; callId: string }
  /** A final error response to an incoming call that is not answered. */
  | { type: "reject"; callId: string; code: 486 | 480 | 603; reason: string }
  | { type: "answer"; callId: string }
  /** BYE an established call; `reason` is a Reason header value (RFC 3326, RFC 4411). */
  | { type: "end-call"; callId: string; reason?: string }
  /** CANCEL an outgoing call not yet answered. */
  | { type: "cancel"; callId: string }
  | { type: "dial"; callId: string; target: string }
  | { type: "hold"; callId: string }
  | { type: "resume"; callId: string }
  | { type: "send-dtmf"; callId: string; digit: string }
  | { type: "ringer"; cadence: Cadence; level: "user" | "full" }
  | { type: "ringer-off" }
  /** A call-progress tone in the earpiece, looping until replaced or stopped. */
  | { type: "tone"; cadence: Cadence }
  | { type: "tone-off" }
  /** A one-shot cue in the earpiece, over whatever else plays. */
  | { type: "cue"; cadence: Cadence }
  | { type: "led"; led: LedName; pattern: LedPattern }
  | { type: "audio-connect"; callId: string }
  | { type: "audio-disconnect"; callId: string }
  | { type: "start-timer"; name: "inter-digit"; ms: number; seq: number }
  | { type: "cancel-timer"; name: "inter-digit" }
  | { type: "journal"; record: JournalRecord }
  /** The event changes nothing in this state; the reason is documented and logged. */
  | { type: "ignored"; event: EventType; reason: string };
