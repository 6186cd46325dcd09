/**
 * Audio moves through the phone in frames of 16-bit signed mono PCM, pulled
 * by whoever plays them (baresip's pull model): the device side asks for the
 * next frame once per packet time, the source only fills it.
 */

export interface FrameSource {
  /**
   * Fills `out` with the next samples. Returns false once the source has
   * ended (what it did not fill is silence).
   */
  read(out: Int16Array): boolean;
}

/** Samples in one frame. */
export function frameSamples(rate: number, frameMs = 20): number {
  return Math.round((rate * frameMs) / 1000);
}

/** A source that ends after `ms` of another. */
export function limitSource(source: FrameSource, ms: number, rate: number): FrameSource {
  let left = Math.round((ms * rate) / 1000);
  return {
    read(out) {
      if (left <= 0) {
        out.fill(0);
        return false;
      }
      const more = source.read(out);
      if (out.length > left) out.fill(0, left);
      left -= out.length;
      return more && left > 0;
    },
  };
}

/** Silence for ever. */
export const SILENCE: FrameSource = {
  read(out) {
    out.fill(0);
    return true;
  },
};
