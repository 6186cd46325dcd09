/**
 * One call's audio devices in-process (native/alsa-pcm): the handset
 * earpiece and microphone on one 20 ms clock. Each tick reads what the
 * microphone captured and hands it to `onMicFrame`, and tops the earpiece
 * queue up to `queueFrames` from the current source — one wake-up a frame for
 * both directions, no child processes, no pipes.
 *
 * Bench only (bench/media-cpu.ts): a step between the JavaScript call and
 * the native media thread, kept for the CPU comparison in docs/benchmarks.md.
 * The firmware never runs it, and it is not in the package.
 */
import { EventEmitter } from "node:events";
import { nativePcm } from "../audio/alsa-native.ts";
import { AlsaDeviceError } from "../audio/alsa-process.ts";
import { type FrameSource, frameSamples } from "../audio/frame-source.ts";

export interface NativeCallAudioOptions {
  earpiece: string;
  microphone: string;
  rate?: number;
  queueFrames?: number;
}

const FRAME_MS = 20;
type Handle = object;

export class NativeCallAudio extends EventEmitter<{ error: [AlsaDeviceError] }> {
  readonly rate: number;
  private ear: Handle | undefined;
  private mic: Handle | undefined;
  private source: FrameSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private ticks = 0;
  private readonly frame: Int16Array;
  private readonly micFrame: Int16Array;
  private reported = new Set<string>();
  onMicFrame: ((f: Int16Array) => void) | undefined;

  constructor(private readonly o: NativeCallAudioOptions) {
    super();
    this.rate = o.rate ?? 8000;
    this.frame = new Int16Array(frameSamples(this.rate, FRAME_MS));
    this.micFrame = new Int16Array(frameSamples(this.rate, FRAME_MS));
  }

  private report(device: string, message: string): void {
    if (this.reported.has(device)) return;
    this.reported.add(device);
    this.emit("error", new AlsaDeviceError(device, `ALSA device "${device}" failed: ${message}`));
  }

  /** Opens both devices (or the one that opens) and starts the clock. */
  start(source: FrameSource): void {
    this.source = source;
    const pcm = nativePcm();
    if (!pcm) return this.report(this.o.earpiece, "native/alsa-pcm is not built");
    const latency = FRAME_MS * 1000 * ((this.o.queueFrames ?? 2) + 2);
    try {
      this.ear ??= pcm.open(this.o.earpiece, false, this.rate, 1, latency);
    } catch (e) {
      this.report(this.o.earpiece, (e as Error).message);
    }
    try {
      this.mic ??= (
        pcm as unknown as { open(n: string, c: boolean, r: number, ch: number, l: number): Handle }
      ).open(this.o.microphone, true, this.rate, 1, latency);
    } catch (e) {
      this.report(this.o.microphone, (e as Error).message);
    }
    if (!this.timer) {
      this.started = Number(process.hrtime.bigint()) / 1e6;
      this.ticks = 0;
      this.tick();
    }
  }

  setSource(source: FrameSource | undefined): void {
    this.source = source;
  }

  private tick(): void {
    const pcm = nativePcm() as unknown as {
      write(h: Handle, f: Int16Array): number;
      read(h: Handle, f: Int16Array): number;
      delay(h: Handle): number;
    };
    if (this.mic) {
      try {
        // Every whole frame captured since the last tick (a few at most).
        for (let i = 0; i < 4; i++) {
          const n = pcm.read(this.mic, this.micFrame);
          if (n <= 0) break;
          if (n === this.micFrame.length) this.onMicFrame?.(this.micFrame.slice());
        }
      } catch (e) {
        this.report(this.o.microphone, (e as Error).message);
      }
    }
    if (this.ear) {
      try {
        const target = (this.o.queueFrames ?? 2) * this.frame.length;
        let queued = pcm.delay(this.ear);
        for (let i = 0; i < 8 && queued < target; i++) {
          if (this.source) this.source.read(this.frame);
          else this.frame.fill(0);
          const n = pcm.write(this.ear, this.frame);
          if (n <= 0) break;
          queued += n;
        }
      } catch (e) {
        this.report(this.o.earpiece, (e as Error).message);
      }
    }
    this.ticks++;
    const next = this.started + this.ticks * FRAME_MS - Number(process.hrtime.bigint()) / 1e6;
    this.timer = setTimeout(() => this.tick(), Math.max(1, next));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pcm = nativePcm();
    for (const h of [this.ear, this.mic]) if (h) pcm?.close(h);
    this.ear = this.mic = undefined;
    this.source = undefined;
  }
}
