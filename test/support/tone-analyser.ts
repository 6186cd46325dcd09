/**
 * Recovers a cadence from audio: where sound starts and stops (1 ms
 * resolution), where the frequencies change, and which frequencies sound
 * (Goertzel over a Hann window, coarse scan then fine).
 */

export interface HeardSegment {
  on: boolean;
  startMs: number;
  ms: number;
  /** Frequencies heard, ascending (empty for silence). */
  freqs: number[];
}

function goertzelPower(
  x: Int16Array | Float64Array,
  start: number,
  n: number,
  freq: number,
  rate: number,
  hann: Float64Array,
) {
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = (x[start + i] as number) * (hann[i] as number) + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

function hannWindow(n: number): Float64Array {
  const h = new Float64Array(n);
  for (let i = 0; i < n; i++) h[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / Math.max(1, n - 1));
  return h;
}

/** The frequencies present in x[start, start+n), ascending. */
export function frequenciesIn(x: Int16Array, start: number, n: number, rate: number): number[] {
  const len = Math.min(n, 4000);
  const from = start + Math.floor((n - len) / 2);
  const hann = hannWindow(len);
  const step = 5;
  const coarse: { f: number; p: number }[] = [];
  for (let f = 100; f < Math.min(4000, rate / 2 - 50); f += step) {
    coarse.push({ f, p: goertzelPower(x, from, len, f, rate, hann) });
  }
  const max = Math.max(...coarse.map((c) => c.p));
  if (max <= 0) return [];
  const peaks: number[] = [];
  for (let i = 1; i < coarse.length - 1; i++) {
    const c = coarse[i] as { f: number; p: number };
    if (c.p >= max * 0.05 && c.p >= (coarse[i - 1]?.p ?? 0) && c.p > (coarse[i + 1]?.p ?? 0)) {
      let best = c.f;
      let bestP = c.p;
      for (let f = c.f - step; f <= c.f + step; f += 0.25) {
        const p = goertzelPower(x, from, len, f, rate, hann);
        if (p > bestP) {
          bestP = p;
          best = f;
        }
      }
      peaks.push(best);
    }
  }
  return peaks;
}

export function analyse(x: Int16Array, rate: number): HeardSegment[] {
  const block = Math.max(1, Math.round(rate / 1000));
  const blocks = Math.floor(x.length / block);
  // Peak level per 1 ms block (two tones beat, so an RMS dips at each null).
  const level = new Float64Array(blocks);
  let peak = 0;
  for (let b = 0; b < blocks; b++) {
    let m = 0;
    for (let i = 0; i < block; i++) m = Math.max(m, Math.abs(x[b * block + i] as number));
    level[b] = m;
    peak = Math.max(peak, m);
  }
  const threshold = peak * 0.1;
  const raw: { on: boolean; start: number; end: number }[] = [];
  for (let b = 0; b < blocks; b++) {
    const on = (level[b] as number) > threshold;
    const last = raw.at(-1);
    if (last && last.on === on) last.end = b + 1;
    else raw.push({ on, start: b, end: b + 1 });
  }
  // A gap under 10 ms inside sound is a beat null, not silence.
  const runs: typeof raw = [];
  for (const r of raw) {
    const last = runs.at(-1);
    if (last && !r.on && r.end - r.start < 10 && r.end < blocks) {
      last.end = r.end;
    } else if (last && last.on === r.on) {
      last.end = r.end;
    } else runs.push({ ...r });
  }
  const out: HeardSegment[] = [];
  for (const r of runs) {
    if (!r.on) {
      out.push({ on: false, startMs: r.start, ms: r.end - r.start, freqs: [] });
      continue;
    }
    out.push(...splitByFrequency(x, r.start, r.end, rate, block));
  }
  return out;
}

/** Splits a sounding run where its set of frequencies changes (a warble). */
function splitByFrequency(
  x: Int16Array,
  startMs: number,
  endMs: number,
  rate: number,
  block: number,
): HeardSegment[] {
  const all = frequenciesIn(x, startMs * block, (endMs - startMs) * block, rate);
  const win = 10 * block;
  const hann = hannWindow(win);
  const labels: string[] = [];
  for (let ms = startMs; ms < endMs; ms += 1) {
    const from = Math.min(Math.max(0, (ms - 5) * block), x.length - win);
    const powers = all.map((f) => goertzelPower(x, from, win, f, rate, hann));
    const max = Math.max(...powers);
    // Frequencies closer than a 10 ms window resolves sound together.
    labels.push(
      all
        .filter((_, k) => (powers[k] as number) >= max * 0.2)
        .map((f) => Math.round(f / 250))
        .join(","),
    );
  }
  const parts: { start: number; end: number }[] = [];
  labels.forEach((l, i) => {
    const last = parts.at(-1);
    if (last && labels[last.start - startMs] === l) last.end = startMs + i + 1;
    else parts.push({ start: startMs + i, end: startMs + i + 1 });
  });
  // Merge slivers (transitions) into the part before.
  const merged: { start: number; end: number }[] = [];
  for (const p of parts) {
    const last = merged.at(-1);
    if (last && p.end - p.start < 4) last.end = p.end;
    else merged.push({ ...p });
  }
  return merged.map((p) => ({
    on: true,
    startMs: p.start,
    ms: p.end - p.start,
    freqs:
      merged.length === 1
        ? all
        : frequenciesIn(x, p.start * block, (p.end - p.start) * block, rate),
  }));
}

/**
 * What a call's listener heard of one steady tone: how long it sounded, the
 * stretches (over 200 ms) at a frequency more than 2 % off, and the silences
 * inside it longer than `gapMs` (the concealment limit) — with a trace for
 * failure messages.
 */
export function toneReport(
  x: Int16Array,
  rate: number,
  hz: number,
  gapMs = 60,
): { soundMs: number; offFrequency: HeardSegment[]; gaps: HeardSegment[]; trace: string } {
  const heard = analyse(x, rate);
  const sound = heard.filter((s) => s.on);
  const first = heard.findIndex((s) => s.on);
  return {
    soundMs: sound.reduce((t, s) => t + s.ms, 0),
    offFrequency: sound.filter((s) => s.ms > 200 && Math.abs((s.freqs[0] ?? 0) - hz) / hz >= 0.02),
    gaps: heard.slice(first, -1).filter((s) => !s.on && s.ms > gapMs),
    trace: JSON.stringify(heard.map((s) => [s.on, s.ms, s.freqs[0]])),
  };
}
