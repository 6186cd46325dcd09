/**
 * Renders a cadence (segments of silence, one or two frequencies) into PCM at
 * 8, 16 or 48 kHz. Sounding segments start and end on a raised-cosine ramp
 * where they meet silence, so there are no clicks; a change of frequency
 * between sounding segments keeps each oscillator's phase, so it does not
 * click either. Loops until stopped when the cadence repeats.
 */
import type { FrameSource } from "./frame-source.ts";

export interface ToneSegmentSpec {
  ms: number;
  freqs: readonly number[];
  /** dBFS per frequency; default -12. */
  levelDb?: number;
}

export interface ToneSpec {
  segments: readonly ToneSegmentSpec[];
  repeat: boolean;
}

export interface ToneOptions {
  rate?: number;
  /** Added to every segment's level (the ringer volume; 0 = as specified). */
  gainDb?: number;
  rampMs?: number;
}

const FULL_SCALE = 32767;

interface Prepared {
  samples: number;
  freqs: readonly number[];
  amplitude: number;
  rampIn: number;
  rampOut: number;
}

export class ToneSource implements FrameSource {
  private readonly segs: Prepared[];
  private readonly phase: number[] = [];
  private readonly rate: number;
  private readonly repeat: boolean;
  private index = 0;
  private offset = 0;
  private ended = false;
  /**
   * When the tone repeats and one period, rendered once and played over and
   * over, sounds as this source does (each oscillator ends the period on a
   * whole cycle, so the samples are the same; or the period ends in silence,
   * so only where a tone starts after it can differ in phase): that period's
   * length in samples. A player may then loop it
   * (audio/alsa-native.ts). Undefined otherwise.
   */
  readonly periodSamples: number | undefined;
  /** When the tone plays once: its length in samples. */
  readonly totalSamples: number | undefined;

  constructor(spec: ToneSpec, opts: ToneOptions = {}) {
    this.rate = opts.rate ?? 8000;
    this.repeat = spec.repeat;
    const ramp = Math.round(((opts.rampMs ?? 5) * this.rate) / 1000);
    const n = spec.segments.length;
    const sounding = (i: number) => {
      if (!spec.repeat && (i < 0 || i >= n)) return false;
      const s = spec.segments[((i % n) + n) % n];
      return (s?.freqs.length ?? 0) > 0;
    };
    this.segs = spec.segments.map((s, i) => {
      const samples = Math.max(1, Math.round((s.ms * this.rate) / 1000));
      const amplitude = FULL_SCALE * 10 ** (((s.levelDb ?? -12) + (opts.gainDb ?? 0)) / 20);
      const on = s.freqs.length > 0;
      // A lone repeating segment (dial tone) is continuous: no ramps inside.
      const continuous = spec.repeat && n === 1;
      return {
        samples,
        freqs: s.freqs.filter((f) => f > 0 && f < this.rate / 2),
        amplitude: Math.min(amplitude, FULL_SCALE / Math.max(1, s.freqs.length)),
        rampIn: on && !continuous && !sounding(i - 1) ? Math.min(ramp, samples >> 1) : 0,
        rampOut: on && !continuous && !sounding(i + 1) ? Math.min(ramp, samples >> 1) : 0,
      };
    });
    if (this.segs.length === 0) this.ended = true;
    const samples = this.segs.reduce((t, s) => t + s.samples, 0);
    this.totalSamples = spec.repeat ? undefined : samples;
    // The phase each oscillator gains over a period, in cycles (as read() advances it).
    const cycles: number[] = [];
    for (const s of this.segs)
      s.freqs.forEach((f, k) => {
        cycles[k] = (cycles[k] ?? 0) + (f * s.samples) / this.rate;
      });
    const whole = cycles.every((c) => Math.abs(c - Math.round(c)) < 1e-6);
    const endsSilent = this.segs.at(-1)?.freqs.length === 0;
    this.periodSamples = spec.repeat && samples > 0 && (whole || endsSilent) ? samples : undefined;
  }

  read(out: Int16Array): boolean {
    const tau = 2 * Math.PI;
    for (let i = 0; i < out.length; i++) {
      if (this.ended) {
        out.fill(0, i);
        return false;
      }
      const seg = this.segs[this.index] as Prepared;
      let v = 0;
      if (seg.freqs.length > 0) {
        let env = 1;
        if (this.offset < seg.rampIn)
          env = 0.5 - 0.5 * Math.cos((Math.PI * this.offset) / seg.rampIn);
        const fromEnd = seg.samples - 1 - this.offset;
        if (fromEnd < seg.rampOut)
          env = Math.min(env, 0.5 - 0.5 * Math.cos((Math.PI * fromEnd) / seg.rampOut));
        for (let k = 0; k < seg.freqs.length; k++) {
          const p = this.phase[k] ?? 0;
          v += Math.sin(p);
          this.phase[k] = (p + (tau * (seg.freqs[k] as number)) / this.rate) % tau;
        }
        v *= seg.amplitude * env;
      }
      out[i] = Math.round(v);
      if (++this.offset >= seg.samples) {
        this.offset = 0;
        this.index += 1;
        if (this.index >= this.segs.length) {
          if (this.repeat) this.index = 0;
          else this.ended = true;
        }
      }
    }
    return !this.ended;
  }
}
