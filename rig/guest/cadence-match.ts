/**
 * Whether what was heard is a given cadence: the segments the project's
 * analyser (test/support/tone-analyser.ts) recovers from the recording, from
 * the first sound on, set against the cadence's own segments
 * (firmware/alerting/cadences.ts) — on or off, duration, frequencies — for at
 * least one whole period. The partial segment at the end is not judged.
 */
import type { Cadence } from "../../firmware/alerting/cadences.ts";
import type { HeardSegment } from "../../test/support/tone-analyser.ts";

export interface CadenceMatch {
  ok: boolean;
  /** Segments judged. */
  judged: number;
  why: string;
}

export function matchCadence(
  heard: HeardSegment[],
  cadence: Cadence,
  o: { msTolerance?: number; freqTolerance?: number } = {},
): CadenceMatch {
  const msTol = o.msTolerance ?? 30;
  const fTol = o.freqTolerance ?? 0.03;
  const first = heard.findIndex((s) => s.on);
  const seq = heard.slice(first < 0 ? heard.length : first, -1);
  const n = cadence.segments.length;
  if (seq.length < n)
    return { ok: false, judged: 0, why: `${seq.length} segments heard, a period has ${n}` };
  for (const [i, h] of seq.entries()) {
    const want = cadence.segments[i % n];
    if (!want) break;
    const wantOn = want.freqs.length > 0;
    const at = `segment ${i} (at ${h.startMs} ms)`;
    if (h.on !== wantOn)
      return {
        ok: false,
        judged: i,
        why: `${at}: ${h.on ? "sound" : "silence"}, want ${wantOn ? "sound" : "silence"}`,
      };
    if (Math.abs(h.ms - want.ms) > msTol)
      return { ok: false, judged: i, why: `${at}: ${h.ms} ms, want ${want.ms} ± ${msTol}` };
    if (wantOn) {
      const f = h.freqs[0] ?? 0;
      const near = want.freqs.some((w) => Math.abs(f - w) / w <= fTol);
      if (!near)
        return {
          ok: false,
          judged: i,
          why: `${at}: ${f.toFixed(0)} Hz, want ${want.freqs.join("+")} Hz`,
        };
    }
  }
  return { ok: true, judged: seq.length, why: `${seq.length} segments as ${cadence.name}` };
}
