/**
 * Rate conversion between the 8 kHz of G.711 and devices that run at 16 or
 * 48 kHz (integer ratios only). Up: linear interpolation between samples, with
 * the last sample of the previous frame carried over so frames join without a
 * step. Down: each output sample is the mean of `ratio` inputs (a boxcar
 * low-pass; G.711 band-limits to 3.4 kHz anyway).
 */
import type { FrameSource } from "./frame-source.ts";

function ratioOf(from: number, to: number): number {
  const r = Math.max(from, to) / Math.min(from, to);
  if (!Number.isInteger(r))
    throw new RangeError(`cannot convert ${from} Hz to ${to} Hz (integer ratios only)`);
  return r;
}

/** A source at `to` Hz reading a source at `from` Hz (from ≤ to). */
export function upsampled(source: FrameSource, from: number, to: number): FrameSource {
  const r = ratioOf(from, to);
  if (r === 1) return source;
  let prev = 0;
  let buf = new Int16Array(0);
  return {
    read(out) {
      const n = Math.ceil(out.length / r);
      if (buf.length !== n) buf = new Int16Array(n);
      const more = source.read(buf);
      for (let i = 0; i < out.length; i++) {
        const k = Math.floor(i / r);
        const a = k === 0 ? prev : (buf[k - 1] as number);
        const b = buf[k] as number;
        const t = ((i % r) + 1) / r;
        out[i] = Math.round(a + (b - a) * t);
      }
      prev = buf[n - 1] as number;
      return more;
    },
  };
}

/** Turns frames at `from` Hz into frames at `to` Hz (from ≥ to). */
export function downsample(frame: Int16Array, from: number, to: number): Int16Array {
  const r = ratioOf(from, to);
  if (r === 1) return frame;
  const out = new Int16Array(Math.floor(frame.length / r));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < r; k++) sum += frame[i * r + k] as number;
    out[i] = Math.round(sum / r);
  }
  return out;
}
