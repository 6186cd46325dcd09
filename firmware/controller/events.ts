/** Everything that can happen to the phone, as data. `at` is ms on the phone's monotonic clock. */
import type { IncomingAlert } from "./call.ts";

export type DialKey = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#";
/** Keypad keys: dialling keys and the function keys do-not-disturb and acknowledge. */
export type Key = DialKey | "dnd" | "ack";

/** Why the far end (or the network) ended a call. */
export type EndCause = "bye" | "cancel" | "rejected" | "failed" | "no-answer";

export type PhoneEvent =
  | { type: "incoming"; at: number; callId: string; remote: string; alert: IncomingAlert }
  | { type: "remote-ringing"; at: number; callId: string }
  | { type: "remote-answered"; at: number; callId: string }
  | { type: "remote-ended"; at: number; callId: string; cause: EndCause; code?: number }
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
  "hook",
  "flash",
  "key",
  "timer",
  "registration",
];
