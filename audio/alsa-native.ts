/**
 * Playback on an ALSA PCM opened in this process (native/alsa-pcm), paced on
 * the device's own clock: every `frameMs` the queue is read with
 * snd_pcm_delay and topped up to `queueFrames` frames. `play()` first drops
 * what is queued (snd_pcm_drop), so a ring starts with the next period, not
 * after queued silence. Same behaviour rules as AlsaPlayback otherwise:
 * open for the whole ring or call, silence between sources, failures
 * reported once and retried with backoff, nothing thrown into the caller.
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { AlsaDeviceError } from "./alsa-process.ts";
import { type FrameSource, frameSamples } from "./frame-source.ts";

interface NativePcm {
  open(name: string, capture: boolean, rate: number, channels: number, latencyUs: number): object;
  write(h: object, frames: Int16Array): number;
  read(h: object, frames: Int16Array): number;
  delay(h: object): number;
  drop(h: object): void;
  close(h: object): void;
}

let native: NativePcm | undefined | null;
/** The native module, or undefined when it was not built (no libasound2-dev). */
export function nativePcm(): NativePcm | undefined {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)(
        "../native/alsa-pcm/build/Release/alsa_pcm.node",
      ) as NativePcm;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}

export interface AlsaNativePlaybackOptions {
  device: string;
  rate?: number;
  /** Size of a write and of a pacing step, ms (default 10). */
  frameMs?: number;
  /** Frames kept queued ahead of the hardware (default 2). */
  queueFrames?: number;
  idleCloseMs?: number;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export class AlsaNativePlayback extends EventEmitter<{
  open: [];
  close: [];
  error: [AlsaDeviceError];
  finished: [];
}> {
  readonly device: string;
  readonly rate: number;
  private handle: object | undefined;
  private source: FrameSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private backoffMs = 250;
  private reported = false;
  private readonly frame: Int16Array;
  private readonly frameMs: number;
  underruns = 0;

  constructor(private readonly o: AlsaNativePlaybackOptions) {
    super();
    this.device = o.device;
    this.rate = o.rate ?? 8000;
    this.frameMs = o.frameMs ?? 10;
    this.frame = new Int16Array(frameSamples(this.rate, this.frameMs));
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  play(source: FrameSource): void {
    this.source = source;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const pcm = nativePcm();
    if (this.handle && pcm) {
      try {
        pcm.drop(this.handle); // the ring starts now, not after queued silence
      } catch (e) {
        this.fail((e as Error).message);
      }
    }
    this.tick();
  }

  stop(): void {
    this.source = undefined;
    const idle = this.o.idleCloseMs ?? 3000;
    if (this.idleTimer || !Number.isFinite(idle)) return; // kept open (the ringer)
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.source) void this.close();
    }, idle);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    this.source = undefined;
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    this.timer = undefined;
    const h = this.handle;
    this.handle = undefined;
    if (h) {
      nativePcm()?.close(h);
      this.emit("close");
    }
  }

  private open(): boolean {
    const pcm = nativePcm();
    if (!pcm) {
      this.fail("native/alsa-pcm is not built (install libasound2-dev, then npm rebuild)");
      return false;
    }
    if (nowMs() < this.retryAt) return false;
    try {
      this.handle = pcm.open(
        this.device,
        false,
        this.rate,
        1,
        Math.round(this.frameMs * 1000 * ((this.o.queueFrames ?? 2) + 2)),
      );
    } catch (e) {
      this.fail(`ALSA device "${this.device}" failed: ${(e as Error).message}`);
      return false;
    }
    this.reported = false;
    this.backoffMs = 250;
    this.emit("open");
    return true;
  }

  private fail(message: string): void {
    if (!this.reported) {
      this.reported = true;
      this.emit("error", new AlsaDeviceError(this.device, message));
    }
    this.retryAt = nowMs() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    if (this.handle) {
      nativePcm()?.close(this.handle);
      this.handle = undefined;
    }
  }

  private fill(): void {
    const f = this.frame;
    if (this.source) {
      if (!this.source.read(f)) {
        this.source = undefined;
        this.emit("finished");
        this.stop();
      }
    } else f.fill(0);
  }

  /** Tops the device queue up to `queueFrames`, then sleeps a frame. */
  private tick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.handle && !this.open()) {
      if (this.source)
        this.timer = setTimeout(() => this.tick(), Math.max(this.frameMs, this.retryAt - nowMs()));
      return;
    }
    const pcm = nativePcm() as NativePcm;
    const target = (this.o.queueFrames ?? 2) * this.frame.length;
    try {
      let queued = pcm.delay(this.handle as object);
      for (let i = 0; i < 8 && queued < target; i++) {
        this.fill();
        const n = pcm.write(this.handle as object, this.frame);
        if (n === -32) this.underruns++;
        if (n <= 0) break;
        queued += n;
      }
    } catch (e) {
      this.fail(`ALSA device "${this.device}" failed: ${(e as Error).message}`);
    }
    this.timer = setTimeout(() => this.tick(), this.frameMs);
  }
}
