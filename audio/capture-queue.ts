/**
 * Between a capture device and the RTP sender: frames are queued as they
 * come and taken once per 20 ms by the sender's clock. A device that
 * delivers too fast (or in bursts) cannot flood the network: past `max`
 * frames the oldest are dropped; an empty queue gives silence.
 */
import type { FrameSource } from "./frame-source.ts";

export class CaptureQueue implements FrameSource {
  private readonly frames: Int16Array[] = [];
  dropped = 0;

  constructor(private readonly max = 3) {}

  push(frame: Int16Array): void {
    this.frames.push(frame);
    while (this.frames.length > this.max) {
      this.frames.shift();
      this.dropped++;
    }
  }

  read(out: Int16Array): boolean {
    const f = this.frames.shift();
    if (!f) out.fill(0);
    else {
      out.set(f.subarray(0, out.length));
      if (f.length < out.length) out.fill(0, f.length);
    }
    return true;
  }

  clear(): void {
    this.frames.length = 0;
  }
}
