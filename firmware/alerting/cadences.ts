/**
 * Ring cadences and call-progress tones as data. A cadence is a list of
 * segments, each a duration with zero (silence), one or two frequencies, and
 * a level; it loops when `repeat` is set. audio/ renders them.
 *
 * Sources: ITU-T E.180 (and its national annex, Supplement 2) for ringing,
 * ringback, busy and dial tones; Telcordia GR-506 "Bellcore" distinctive
 * ringing dr1–dr5; the DSN preemption tone (440+620 Hz steady).
 */

export interface ToneSegment {
  /** Duration in ms. */
  ms: number;
  /** Frequencies in Hz; empty for silence. */
  freqs: readonly number[];
  /** Level in dBFS per frequency (default -12). */
  levelDb?: number;
}

export interface Cadence {
  name: string;
  segments: readonly ToneSegment[];
  /** Loops until stopped; otherwise plays once. */
  repeat: boolean;
}

export type Country = "us" | "uk" | "de" | "cn";
export const COUNTRIES: readonly Country[] = ["us", "uk", "de", "cn"];

const on = (ms: number, ...freqs: number[]): ToneSegment => ({ ms, freqs });
const off = (ms: number): ToneSegment => ({ ms, freqs: [] });
const loop = (name: string, ...segments: ToneSegment[]): Cadence => ({
  name,
  segments,
  repeat: true,
});
const once = (name: string, ...segments: ToneSegment[]): Cadence => ({
  name,
  segments,
  repeat: false,
});

/** The ringer's signal for every Bellcore pattern (the US ring's pair). */
const R = [440, 480];

/** The emergency warble: high, alternating pitches far above every other tone. */
const EMERGENCY_HIGH = 1400;
const EMERGENCY_LOW = 950;

export const CADENCES: Readonly<Record<string, Cadence>> = Object.fromEntries(
  [
    // National ringing, ITU-T E.180: tone 0.67–1.5 s (US 2 s), silence 3–5 s.
    loop("ring-us", on(2000, ...R), off(4000)),
    loop("ring-uk", on(400, 400, 450), off(200), on(400, 400, 450), off(2000)),
    loop("ring-de", on(1000, 425), off(4000)),
    loop("ring-cn", on(1000, 450), off(4000)),
    // Bellcore distinctive ringing (GR-506), ms.
    loop("bellcore-dr1", on(2000, ...R), off(4000)),
    loop("bellcore-dr2", on(800, ...R), off(400), on(800, ...R), off(4000)),
    loop(
      "bellcore-dr3",
      on(400, ...R),
      off(200),
      on(400, ...R),
      off(200),
      on(800, ...R),
      off(4000),
    ),
    loop(
      "bellcore-dr4",
      on(300, ...R),
      off(200),
      on(1000, ...R),
      off(200),
      on(300, ...R),
      off(4000),
    ),
    once("bellcore-dr5", on(500, ...R)),
    // A priority call: three short bursts, then a pause shorter than normal ringing.
    loop("priority", on(300, ...R), off(150), on(300, ...R), off(150), on(300, ...R), off(2500)),
    // MLPP precedence ringing is faster than normal ringing.
    loop("precedence", on(1000, ...R), off(1000)),
    // Emergency: a fast two-pitch warble (1.2 s) and a short gap, every 1.5 s.
    loop(
      "emergency",
      on(150, EMERGENCY_HIGH),
      on(150, EMERGENCY_LOW),
      on(150, EMERGENCY_HIGH),
      on(150, EMERGENCY_LOW),
      on(150, EMERGENCY_HIGH),
      on(150, EMERGENCY_LOW),
      on(150, EMERGENCY_HIGH),
      on(150, EMERGENCY_LOW),
      off(300),
    ),
    // Call progress tones, ITU-T E.180 Supplement 2.
    loop("ringback-us", on(2000, 440, 480), off(4000)),
    loop("ringback-uk", on(400, 400, 450), off(200), on(400, 400, 450), off(2000)),
    loop("ringback-de", on(1000, 425), off(4000)),
    loop("ringback-cn", on(1000, 450), off(4000)),
    loop("busy-us", on(500, 480, 620), off(500)),
    loop("busy-uk", on(375, 400), off(375)),
    loop("busy-de", on(480, 425), off(480)),
    loop("busy-cn", on(350, 450), off(350)),
    loop("dial-us", on(1000, 350, 440)),
    loop("dial-uk", on(1000, 350, 450)),
    loop("dial-de", on(1000, 425)),
    loop("dial-cn", on(1000, 450)),
    // Call waiting (ITU-T E.180 §8: 400-450 Hz, short bursts), repeated every 10 s.
    loop("call-waiting", on(300, 440), off(9700)),
    // A second emergency waits: the emergency warble, short and soft in the earpiece, every 2 s
    // — unlike the ordinary call-waiting beep, it cannot be mistaken or ignored for long.
    loop(
      "emergency-waiting",
      on(150, EMERGENCY_HIGH),
      on(150, EMERGENCY_LOW),
      on(150, EMERGENCY_HIGH),
      on(150, EMERGENCY_LOW),
      off(1400),
    ),
    // Preemption (RFC 4411 context, DSN): a steady tone of a few seconds.
    once("preemption", on(3000, 440, 620)),
    // The preempted user's cue before the emergency is put through.
    once("preemption-short", on(600, 440, 620)),
  ].map((c) => [c.name, c]),
);

export function cadence(name: string): Cadence | undefined {
  return CADENCES[name];
}

/** One full period of a cadence, in ms. */
export function periodMs(c: Cadence): number {
  return c.segments.reduce((t, s) => t + s.ms, 0);
}

export interface CallProgressTones {
  dial: Cadence;
  ringback: Cadence;
  busy: Cadence;
  callWaiting: Cadence;
  /** An emergency waits while the user is in another emergency (docs/controller.md). */
  emergencyWaiting: Cadence;
  preemption: Cadence;
}

export function callProgressTones(country: Country): CallProgressTones {
  const get = (name: string) => {
    const c = CADENCES[name];
    if (!c) throw new Error(`no cadence ${name}`);
    return c;
  };
  return {
    dial: get(`dial-${country}`),
    ringback: get(`ringback-${country}`),
    busy: get(`busy-${country}`),
    callWaiting: get("call-waiting"),
    emergencyWaiting: get("emergency-waiting"),
    preemption: get("preemption-short"),
  };
}
