/**
 * Mixes the sources that share one device: the handset earpiece plays the
 * call, a call-progress tone, and one-shot cues over both. Sums with
 * clipping; a source that ends is dropped.
 */
import type { FrameSource } from "./frame-source.ts";

export class FrameMixer implements FrameSource {
  private readonly sources = new Map<string, FrameSource>();
  private scratch = new Int16Array(0);

  set(slot: string, source: FrameSource | undefined): void {
    if (source) this.sources.set(slot, source);
    else this.sources.delete(slot);
  }

  has(slot: string): boolean {
    return this.sources.has(slot);
  }

  read(out: Int16Array): boolean {
    out.fill(0);
    if (this.scratch.length !== out.length) this.scratch = new Int16Array(out.length);
    for (const [slot, src] of this.sources) {
      if (!src.read(this.scratch)) this.sources.delete(slot);
      for (let i = 0; i < out.length; i++) {
        const v = (out[i] as number) + (this.scratch[i] as number);
        out[i] = Math.max(-32768, Math.min(32767, v));
      }
    }
    return true;
  }
}
