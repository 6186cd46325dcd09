/** A blinking line's on and off times, from its level sampled in time. */
export interface BlinkReport {
  /** Whole on and off runs, ms (the partial first and last are left out). */
  on: number[];
  off: number[];
  medianOn: number;
  medianOff: number;
  trace: string;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

export function blinkReport(samples: [number, number][]): BlinkReport {
  const runs: { level: number; from: number; to: number }[] = [];
  for (const [t, level] of samples) {
    const last = runs.at(-1);
    if (last && last.level === level) last.to = t;
    else {
      if (last) last.to = t;
      runs.push({ level, from: t, to: t });
    }
  }
  const whole = runs.slice(1, -1);
  const on = whole.filter((r) => r.level === 1).map((r) => Math.round(r.to - r.from));
  const off = whole.filter((r) => r.level === 0).map((r) => Math.round(r.to - r.from));
  return {
    on,
    off,
    medianOn: median(on),
    medianOff: median(off),
    trace: runs
      .slice(0, 16)
      .map((r) => `${r.level ? "on" : "off"} ${Math.round(r.to - r.from)}`)
      .join(", "),
  };
}
