/**
 * The earpiece and microphone of a call carried in JavaScript (RtpSession),
 * named as the native media thread names them (audio/call-media.ts): the
 * earpiece (aplay, paced on the monotonic clock) plays the call with the
 * overlay mixed over it; the microphone (arecord) fills a capture queue the
 * RTP sender takes a frame from every 20 ms (silence when it has none).
 * A device that fails is reported once and reopened with backoff by
 * AlsaPlayback / AlsaCapture; "reopened" when it works again.
 */
import { AlsaCapture } from "./alsa-capture.ts";
import { AlsaPlayback } from "./alsa-playback.ts";
import type { AlsaDeviceError } from "./alsa-process.ts";
import { CaptureQueue } from "./capture-queue.ts";
import type { FrameSource } from "./frame-source.ts";
import { FrameMixer } from "./mixer.ts";

/** The overlay holds at most 4 s, as the native thread's. */
const OVERLAY_SAMPLES = 8000 * 4;

/** Samples queued to be mixed over the call, played as they are read. */
class OverlayQueue implements FrameSource {
  private readonly chunks: Int16Array[] = [];
  private queued = 0;

  push(pcm: Int16Array): number {
    const take = Math.min(pcm.length, OVERLAY_SAMPLES - this.queued);
    if (take > 0) this.chunks.push(pcm.slice(0, take));
    this.queued += take;
    return take;
  }

  clear(): void {
    this.chunks.length = 0;
    this.queued = 0;
  }

  read(out: Int16Array): boolean {
    out.fill(0);
    for (let at = 0; at < out.length && this.chunks.length > 0; ) {
      const c = this.chunks[0] as Int16Array;
      const n = Math.min(c.length, out.length - at);
      out.set(c.subarray(0, n), at);
      at += n;
      this.queued -= n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    return true;
  }
}

export interface CallDeviceEvents {
  device(e: AlsaDeviceError): void;
  reopened(device: string): void;
}

export class CallDevices {
  private ear: AlsaPlayback | undefined;
  private mic: AlsaCapture | undefined;
  private micName: string | undefined;
  private readonly mix = new FrameMixer();
  private readonly overlayQueue = new OverlayQueue();
  /** What the microphone captured, taken by the RTP sender every 20 ms (2 frames primed, as the thread). */
  readonly microphone = new CaptureQueue(3, 2);

  constructor(
    /** What the earpiece plays of the call (the far end, 8 kHz). */
    call: FrameSource,
    private readonly events: CallDeviceEvents,
  ) {
    this.mix.set("call", call);
    this.mix.set("overlay", this.overlayQueue);
  }

  /** Opens the named devices in place of the old ones; resolves once the old ones are closed. */
  set(earpiece: string | undefined, microphone: string | undefined): Promise<void> {
    const closing: Promise<void>[] = [];
    if (this.ear?.device !== earpiece) {
      if (this.ear) closing.push(this.ear.close());
      this.ear = earpiece === undefined ? undefined : this.openEarpiece(earpiece);
    }
    if (this.micName !== microphone) {
      if (this.mic) closing.push(this.mic.stop());
      this.microphone.clear();
      this.micName = microphone;
      this.mic = microphone === undefined ? undefined : this.openMicrophone(microphone);
    }
    return Promise.all(closing).then(() => {});
  }

  overlay(pcm: Int16Array): number {
    return this.overlayQueue.push(pcm);
  }

  clearOverlay(): void {
    this.overlayQueue.clear();
  }

  close(): Promise<void> {
    return this.set(undefined, undefined);
  }

  private openEarpiece(device: string): AlsaPlayback {
    const ear = new AlsaPlayback({ device, idleCloseMs: 2 ** 31 - 1 });
    let failed = false;
    ear.on("error", (e) => {
      failed = true;
      this.events.device(e);
    });
    ear.on("open", () => {
      if (failed) this.events.reopened(device);
      failed = false;
    });
    ear.play(this.mix);
    return ear;
  }

  private openMicrophone(device: string): AlsaCapture {
    const mic = new AlsaCapture({ device });
    let failed = false;
    mic.on("error", (e) => {
      failed = true;
      this.events.device(e);
    });
    mic.on("frame", (f) => {
      if (failed) this.events.reopened(device);
      failed = false;
      this.microphone.push(f);
    });
    mic.start();
    return mic;
  }
}
