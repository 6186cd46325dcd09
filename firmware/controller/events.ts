/** Everything that can happen to the phone, as data. `at` is ms on the phone's monotonic clock. */
import type { KeyName } from "../../hal/contracts.ts";
import type { IncomingAlert } from "./call.ts";

/**
 * Keypad keys: dialling keys and the function keys do-not-disturb and
 * acknowledge — the keypad contract's own names (hal/contracts.ts, docs/layers.md).
 */
export type Key = KeyName;
export type DialKey = Exclude<KeyName, "dnd" | "ack">;

/**
 * Why the far end (or the network) ended a call, in the controller's words.
 * sip/ has its own type for how a SIP session ended (sip/calls.ts); the app
 * maps one onto the other with an exhaustive switch (firmware/app/sip-events.ts).
 */
export type EndCause =
  | "bye"
  | "cancel"
  | "rejected"
  | "failed"
  | "no-answer"
  /** No RTP or RTCP from the far end for the inactivity timeout (RFC 3550 §6.3.5). */
  | "media-timeout"
  /** No session refresh before the session interval ran out (RFC 4028 §10). */
  | "session-expired"
  /**
   * A request inside the dialog (re-INVITE, session refresh, INFO) was answered
   * 481 Call/Transaction Does Not Exist or 408 (`code`): the far end or the
   * exchange no longer knows the call (RFC 3261 §12.2.1.2).
   */
  | "dialog-gone";

export type PhoneEvent =
  | { type: "incoming"; at: number; callId: string; remote: string; alert: IncomingAlert }
  | { type: "remote-ringing"; at: number; callId: string }
  | { type: "remote-answered"; at: number; callId: string }
  | { type: "remote-ended"; at: number; callId: string; cause: EndCause; code?: number }
  /** Our 200 OK to an incoming call went out (ok), or answering it failed (the reason). */
  | { type: "answer-result"; at: number; callId: string; ok: boolean; reason?: string }
  | { type: "hook"; at: number; offHook: boolean }
  | { type: "flash"; at: number }
  | { type: "key"; at: number; key: Key }
  | { type: "timer"; at: number; name: "inter-digit"; seq: number }
  | { type: "registration"; at: number; registered: boolean };

export type EventType = PhoneEvent["type"];
export const EVENT_TYPES: readonly EventType[] = [
  "incoming",
  "remote-ringing",
  "remote-answered",
  "remote-ended",
  "answer-result",
  "hook",
  "flash",
  "key",
  "timer",
  "registration",
];
