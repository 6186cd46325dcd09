/**
 * LEDs, ringer, earpiece tone and audio path follow from the state alone;
 * after each event the controller emits only what changed. This keeps every
 * rule for what the user sees and hears in one place.
 */
import {
  LED,
  LED_NAMES,
  type LedName,
  type LedPattern,
  sameLedPattern,
} from "../alerting/led-pattern.ts";
import type { Effect } from "./effects.ts";
import type { Outputs, PhoneState } from "./state.ts";

const UNREGISTERED = LED.blink(250, 1750);
const CALL_WAITING = LED.blink(250, 250);
/** The handset is degraded (hook switch or keypad unreadable): two short blinks every 2 s. */
export const DEGRADED: LedPattern = {
  kind: "sequence",
  steps: [
    { on: true, ms: 150 },
    { on: false, ms: 150 },
    { on: true, ms: 150 },
    { on: false, ms: 1550 },
  ],
};

export function ledsFor(s: PhoneState): Record<LedName, LedPattern> {
  const p = s.phase;
  let line: LedPattern = LED.off;
  let emergency: LedPattern = s.missed.length > 0 ? LED.on : LED.off;
  if (p.kind === "ringing") {
    const led = p.call.alertClass.led;
    line = led.name === "line" ? led.pattern : LED.blink(500, 500);
    if (led.name === "emergency") emergency = led.pattern;
  } else if (p.kind !== "idle") {
    line = p.kind === "talking" && p.waiting ? CALL_WAITING : LED.on;
  }
  if (p.kind === "talking" && p.call.alertClass.emergency) emergency = LED.on;
  // A second emergency waiting (behind a ringing one, during a call, or behind busy tone) flashes
  // the emergency LED with its class's pattern until it is taken or missed.
  const waiting =
    p.kind === "talking" || p.kind === "ringing" || p.kind === "hungUp" ? p.waiting : undefined;
  if (waiting?.alertClass.emergency && waiting.alertClass.led.name === "emergency") {
    emergency = waiting.alertClass.led.pattern;
  }
  return {
    status: s.config.degraded ? DEGRADED : s.registered ? LED.on : UNREGISTERED,
    line,
    // Until a dedicated LED is wired, the message LED shows do-not-disturb.
    message: s.dnd ? LED.on : LED.off,
    emergency,
  };
}

export function outputsFor(s: PhoneState): Outputs {
  const p = s.phase;
  const t = s.config.tones;
  let tone: string | null = null;
  if (p.kind === "dialing" && p.digits === "") tone = t.dial.name;
  else if (p.kind === "calling" && p.alerting) tone = t.ringback.name;
  else if (p.kind === "hungUp") tone = t.busy.name;
  else if (p.kind === "talking" && p.waiting?.alertClass.emergency) tone = t.emergencyWaiting.name;
  else if (p.kind === "talking" && p.waiting) tone = t.callWaiting.name;
  return {
    leds: ledsFor(s),
    ringer:
      p.kind === "ringing" && p.call.cadence
        ? { cadence: p.call.cadence.name, level: p.call.alertClass.ringLevel }
        : null,
    tone,
    audio: p.kind === "talking" ? p.call.id : null,
  };
}

/** The effects that take the phone from what it showed to what the state says. */
export function outputEffects(s: PhoneState): [Outputs, Effect[]] {
  const want = outputsFor(s);
  const had = s.out;
  const fx: Effect[] = [];
  // Audio first off, then on: never two calls with audio at once.
  if (had.audio !== want.audio) {
    if (had.audio) fx.push({ type: "audio-disconnect", callId: had.audio });
    if (want.audio) fx.push({ type: "audio-connect", callId: want.audio });
  }
  const p = s.phase;
  if (JSON.stringify(had.ringer) !== JSON.stringify(want.ringer)) {
    if (want.ringer && p.kind === "ringing" && p.call.cadence) {
      fx.push({ type: "ringer", cadence: p.call.cadence, level: want.ringer.level });
    } else fx.push({ type: "ringer-off" });
  }
  if (had.tone !== want.tone) {
    const t = Object.values(s.config.tones).find((c) => c.name === want.tone);
    fx.push(t ? { type: "tone", cadence: t } : { type: "tone-off" });
  }
  for (const name of LED_NAMES) {
    if (!sameLedPattern(had.leds[name], want.leds[name])) {
      fx.push({ type: "led", led: name, pattern: want.leds[name] });
    }
  }
  return [want, fx];
}
