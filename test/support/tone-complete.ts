/**
 * Whether a steady tone arrived complete: in 10 ms blocks from its first to
 * its last full-level block, how many are weak — under 80 % of the full
 * level (the 90th percentile): silence, or concealment, which is 6 dB down.
 * A 30 ms packet cut to 20 ms leaves a third of the blocks weak; audio that
 * arrived whole leaves none. The frequency is checked over the whole span.
 */
import { frequenciesIn } from "./tone-analyser.ts";

export interface ToneCompleteness {
  /** From the first full-level block to the last, ms. */
  spanMs: number;
  weakMs: number;
  /** weakMs / spanMs */
  weakFraction: number;
  freqs: number[];
  /** Where the weak blocks are (ms from the start of `x`), for failure messages. */
  trace: string;
}

export function toneCompleteness(x: Int16Array, rate = 8000): ToneCompleteness {
  const block = Math.round(rate / 100);
  const peaks: number[] = [];
  for (let b = 0; (b + 1) * block <= x.length; b++) {
    let m = 0;
    for (let i = b * block; i < (b + 1) * block; i++) m = Math.max(m, Math.abs(x[i] as number));
    peaks.push(m);
  }
  const max = Math.max(0, ...peaks);
  const first = peaks.findIndex((p) => p > 0.6 * max);
  const last = peaks.length - 1 - [...peaks].reverse().findIndex((p) => p > 0.6 * max);
  if (first < 0) return { spanMs: 0, weakMs: 0, weakFraction: 1, freqs: [], trace: "silence" };
  const span = peaks.slice(first, last + 1);
  // The tone's full level: most blocks are at it when the audio is whole.
  const full = [...span].sort((a, b) => a - b)[Math.floor(span.length * 0.9)] as number;
  const weak = span.map((p, i) => (p < 0.8 * full ? (first + i) * 10 : -1)).filter((i) => i >= 0);
  return {
    spanMs: span.length * 10,
    weakMs: weak.length * 10,
    weakFraction: weak.length / span.length,
    freqs: frequenciesIn(x, first * block, span.length * block, rate).map(Math.round),
    trace: `span ${first * 10}-${(last + 1) * 10} ms, weak at ${weak.slice(0, 40).join(",")}${weak.length > 40 ? "…" : ""}`,
  };
}
