/** What the bench page and API show of a phone: its state as plain JSON. */
import type { LedName, LedPattern } from "../alerting/led-pattern.ts";
import type { Call } from "../controller/call.ts";
import type { PhoneState } from "../controller/state.ts";
import type { Phone } from "./phone.ts";

export interface CallView {
  callId: string;
  direction: "in" | "out";
  remote: string;
  alertClass: string;
  emergency: boolean;
}

export interface PhoneView {
  user: string;
  registration: string;
  hook: "on" | "off";
  phase: PhoneState["phase"]["kind"];
  call: CallView | null;
  held: CallView | null;
  waiting: CallView | null;
  dialled: string;
  ringer: {
    cadence: string;
    level: "user" | "full";
    segments: { ms: number; freqs: readonly number[] }[];
    repeat: boolean;
  } | null;
  tone: string | null;
  leds: Record<LedName, LedPattern>;
  dnd: boolean;
  missedEmergencies: number;
}

const view = (c: Call | undefined): CallView | null =>
  c
    ? {
        callId: c.id,
        direction: c.direction,
        remote: c.remote,
        alertClass: c.alertClass.name,
        emergency: c.alertClass.emergency,
      }
    : null;

export function phoneView(user: string, phone: Phone, registration: string): PhoneView {
  const s = phone.state;
  const p = s.phase;
  const call =
    p.kind === "ringing" || p.kind === "calling" || p.kind === "talking" ? p.call : undefined;
  const ringing = p.kind === "ringing" ? p.call.cadence : undefined;
  return {
    user,
    registration,
    hook: p.kind === "idle" || p.kind === "ringing" ? "on" : "off",
    phase: p.kind,
    call: view(call),
    held: view(p.kind === "talking" ? p.held : undefined),
    waiting: view(p.kind === "talking" || p.kind === "hungUp" ? p.waiting : undefined),
    dialled: p.kind === "dialing" ? p.digits : "",
    ringer:
      s.out.ringer && ringing
        ? {
            cadence: s.out.ringer.cadence,
            level: s.out.ringer.level,
            segments: ringing.segments.map((x) => ({ ms: x.ms, freqs: x.freqs })),
            repeat: ringing.repeat,
          }
        : null,
    tone: s.out.tone,
    leds: s.out.leds,
    dnd: s.dnd,
    missedEmergencies: s.missed.length,
  };
}
