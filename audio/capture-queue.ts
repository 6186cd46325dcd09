/**
 * Between a capture device and the RTP sender: frames are queued as they
 * come and taken once per 20 ms by the sender's clock. A device that
 * delivers too fast (or in bursts) cannot flood the network: past `max`
 * frames the oldest are dropped; an empty queue gives silence.
 *
 * With `prime` (as the native media thread does, with 2), reading starts
 * only once that many frames are queued, and again after the queue ran dry:
 * a device whose periods come a little late or in bursts is not heard as
 * holes of silence.
 */
import type { FrameSource } from "./frame-source.ts";

export class CaptureQueue implements FrameSource {
  private readonly frames: Int16Array[] = [];
  dropped = 0;
  /** Frames read while the queue was empty (after priming). */
  short = 0;
  private primed = false;

  constructor(
    private readonly max = 3,
    private readonly prime = 0,
  ) {}

  push(frame: Int16Array): void {
    this.frames.push(frame);
    while (this.frames.length > this.max) {
      this.frames.shift();
      this.dropped++;
    }
  }

  read(out: Int16Array): boolean {
    if (!this.primed && this.frames.length < this.prime) {
      out.fill(0);
      return true;
    }
    this.primed = true;
    const f = this.frames.shift();
    if (!f) {
      out.fill(0);
      this.short++;
      this.primed = this.prime === 0;
    } else {
      out.set(f.subarray(0, out.length));
      if (f.length < out.length) out.fill(0, f.length);
    }
    return true;
  }

  clear(): void {
    this.frames.length = 0;
    this.primed = false;
  }
}
