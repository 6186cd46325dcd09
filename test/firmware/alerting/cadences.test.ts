import { describe, expect, it } from "vitest";
import {
  CADENCES,
  type Cadence,
  COUNTRIES,
  periodMs,
} from "../../../firmware/alerting/cadences.ts";

const rings = COUNTRIES.map((c) => CADENCES[`ring-${c}`] as Cadence);
const emergency = CADENCES.emergency as Cadence;
// The emergency-waiting tone is the emergency's own warble, shorter and rarer, in the earpiece
// (docs/controller.md); every other preset must differ from the emergency ring.
const EMERGENCY_FAMILY = ["emergency", "emergency-waiting"];
const others = Object.values(CADENCES).filter((c) => !EMERGENCY_FAMILY.includes(c.name));

/** The on/off rhythm: durations of sound and silence, merging adjacent sounding segments. */
function rhythm(c: Cadence): number[] {
  const out: number[] = [];
  let last: boolean | undefined;
  for (const s of c.segments) {
    const sounding = s.freqs.length > 0;
    if (sounding === last) out[out.length - 1] = (out.at(-1) ?? 0) + s.ms;
    else out.push(s.ms);
    last = sounding;
  }
  return out;
}

describe("cadence presets", () => {
  it("national rings follow ITU-T E.180: each burst ≤ 2 s, silence 2–5 s, 400–480 Hz", () => {
    for (const c of rings) {
      const silences = c.segments.filter((s) => s.freqs.length === 0);
      expect(Math.max(...silences.map((s) => s.ms)), c.name).toBeGreaterThanOrEqual(2000);
      expect(Math.max(...silences.map((s) => s.ms)), c.name).toBeLessThanOrEqual(5000);
      for (const s of c.segments.filter((x) => x.freqs.length > 0)) {
        expect(s.ms).toBeLessThanOrEqual(2000);
        for (const f of s.freqs) expect(f).toBeGreaterThanOrEqual(400);
        for (const f of s.freqs) expect(f).toBeLessThanOrEqual(480);
      }
      expect(c.repeat).toBe(true);
    }
  });

  it("Bellcore dr1–dr5 have the GR-506 on/off patterns", () => {
    expect(rhythm(CADENCES["bellcore-dr1"] as Cadence)).toEqual([2000, 4000]);
    expect(rhythm(CADENCES["bellcore-dr2"] as Cadence)).toEqual([800, 400, 800, 4000]);
    expect(rhythm(CADENCES["bellcore-dr3"] as Cadence)).toEqual([400, 200, 400, 200, 800, 4000]);
    expect(rhythm(CADENCES["bellcore-dr4"] as Cadence)).toEqual([300, 200, 1000, 200, 300, 4000]);
    expect(rhythm(CADENCES["bellcore-dr5"] as Cadence)).toEqual([500]);
  });

  it("the emergency cadence differs from every other preset in pitch and in rhythm", () => {
    const emergencyFreqs = emergency.segments.flatMap((s) => s.freqs);
    const highest = Math.max(...others.flatMap((c) => c.segments.flatMap((s) => s.freqs)));
    expect(Math.min(...emergencyFreqs)).toBeGreaterThan(highest + 200);
    expect(new Set(emergencyFreqs).size).toBeGreaterThanOrEqual(2);
    for (const c of others) {
      expect(JSON.stringify(rhythm(c)), c.name).not.toBe(JSON.stringify(rhythm(emergency)));
    }
    // It repeats faster than any ring, so it is heard within 1.5 s and often.
    for (const c of rings) expect(periodMs(emergency)).toBeLessThanOrEqual(periodMs(c) / 2);
  });

  it("the emergency-waiting tone uses the emergency pitches in a rhythm of its own", () => {
    const waiting = CADENCES["emergency-waiting"] as Cadence;
    const pitches = new Set(emergency.segments.flatMap((s) => s.freqs));
    for (const f of waiting.segments.flatMap((s) => s.freqs)) expect(pitches.has(f)).toBe(true);
    expect(JSON.stringify(rhythm(waiting))).not.toBe(JSON.stringify(rhythm(emergency)));
  });

  it("every segment is a positive duration with sensible frequencies", () => {
    for (const c of Object.values(CADENCES)) {
      expect(c.segments.length).toBeGreaterThan(0);
      for (const s of c.segments) {
        expect(s.ms).toBeGreaterThan(0);
        for (const f of s.freqs) expect(f > 100 && f < 4000).toBe(true);
      }
    }
  });
});
