/**
 * Playback on an ALSA PCM opened in this process (native/alsa-pcm): the
 * ringer. A ring is a tone whose sound is known ahead: a cadence's period
 * that repeats, or a tone played once. It is rendered here once and handed
 * to a thread of the addon's own, which writes it to the device over and
 * over, keeping the device's buffer (`bufferMs`, 120 ms) full. Once a ring
 * has started, nothing of it waits for this process's event loop: a stalled
 * loop (a garbage collection, a burst of SIP, a slow machine) cannot starve
 * it. `play()` drops what is queued (snd_pcm_drop) and the thread starts the
 * device with the first rendered part (150 ms), so a ring starts with the
 * next period; the rest of the period is rendered in the turns right after.
 * `stop()` drops what is queued too; the thread then writes one device buffer
 * of silence and stops the stream, and sleeps until the next ring (no wake-ups
 * on an idle phone).
 *
 * A source that says nothing of its period (any other FrameSource) is paced
 * from a timer as before: every `frameMs` the queue is read with
 * snd_pcm_delay and topped up to `queueFrames` frames.
 *
 * Same behaviour rules as AlsaPlayback otherwise: open for the whole ring or
 * call, failures reported once and retried with backoff, nothing thrown into
 * the caller.
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { AlsaDeviceError } from "./alsa-process.ts";
import { type FrameSource, frameSamples, SILENCE } from "./frame-source.ts";

interface LoopStatus {
  underruns: number;
  done: boolean;
  error: string | null;
  /** The thread got SCHED_FIFO. */
  realtime: boolean;
  /** Heard to its end and a buffer of silence after it: the stream stopped, the thread asleep. */
  parked: boolean;
}

interface NativePcm {
  open(name: string, capture: boolean, rate: number, channels: number, latencyUs: number): object;
  write(h: object, frames: Int16Array): number;
  read(h: object, frames: Int16Array): number;
  delay(h: object): number;
  drop(h: object): void;
  close(h: object): void;
  loopStart(
    h: object,
    first: Int16Array,
    samples: number,
    repeat: boolean,
    rtPriority: number,
  ): void;
  loopAppend(h: object, more: Int16Array): void;
  loopStatus(h: object): LoopStatus;
  loopStop(h: object): void;
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
  /** The device's buffer, ms: what a rendered ring keeps queued (default 120). */
  bufferMs?: number;
  /** SCHED_FIFO priority for the ring's thread where allowed (default 10, as call media; 0: none). */
  realtimePriority?: number;
  /** Timer path (a source of unknown period): size of a write and of a pacing step, ms (default 10). */
  frameMs?: number;
  /** Timer path: frames kept queued ahead of the hardware (default 2). */
  queueFrames?: number;
  idleCloseMs?: number;
}

/** A source that can be rendered ahead: ToneSource says so (audio/tone-source.ts). */
interface RenderedAhead {
  periodSamples?: number;
  totalSamples?: number;
}

/** The longest buffer rendered ahead, s: a longer tone goes the timer path. */
const MAX_RENDER_S = 60;
/** Rendered before the device starts, ms (about 1 ms of JavaScript at 48 kHz). */
const FIRST_MS = 150;
/** Rendered right after, in the same call, ms. */
const NEXT_MS = 350;
/** The rest is rendered and handed over in parts of this, ms. */
const PART_MS = 250;
/** How often the loop's thread is asked how it goes (errors, underruns, a tone played out), ms. */
const WATCH_MS = 250;

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** A ring rendered ahead: the buffer (kept, to start again after the device failed) and how it plays. */
interface Loop {
  samples: Int16Array;
  repeat: boolean;
  /** Samples rendered so far (all of them once play() returned). */
  rendered: number;
  /** Whether the device's thread plays it now. */
  playing: boolean;
  /** Underruns the handle's thread had counted when this loop started on it. */
  underrunsAtStart: number;
}

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
  private loop: Loop | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The next part of the ring's rendering, a turn of the event loop away. */
  private rendering: NodeJS.Immediate | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private backoffMs = 250;
  private reported = false;
  private readonly frame: Int16Array;
  private readonly frameMs: number;
  /** 20 ms of silence: what the thread plays after a ring, before it stops the stream. */
  private readonly silence: Int16Array;
  private readonly rt: number;
  /** Underruns recovered (the loop's thread's and the timer path's). */
  underruns = 0;
  /** Whether the ring's thread last ran at SCHED_FIFO (read while it rings). */
  realtime = false;

  constructor(private readonly o: AlsaNativePlaybackOptions) {
    super();
    this.device = o.device;
    this.rate = o.rate ?? 8000;
    this.frameMs = o.frameMs ?? 10;
    this.frame = new Int16Array(frameSamples(this.rate, this.frameMs));
    this.silence = new Int16Array(frameSamples(this.rate, 20));
    this.rt = Math.max(0, Math.min(99, Math.round(o.realtimePriority ?? 10)));
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  /** The stream stopped and the addon's thread asleep: nothing of the ringer wakes between rings. */
  get asleep(): boolean {
    if (!this.handle || this.loop || this.source) return false;
    try {
      return (nativePcm() as NativePcm).loopStatus(this.handle).parked;
    } catch {
      return false;
    }
  }

  /** Whether a rendered ring is being played by the addon's thread. */
  get looping(): boolean {
    return this.loop?.playing === true;
  }

  play(source: FrameSource): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.forgetLoop();
    this.source = undefined;
    const ahead = source as RenderedAhead;
    const samples = ahead.periodSamples ?? ahead.totalSamples;
    if (source === SILENCE) {
      // Nothing to play: the device open and quiet, ready for the next ring.
      if (this.handle || this.open()) this.quiet();
      return;
    }
    if (samples && samples > 0 && samples <= MAX_RENDER_S * this.rate) {
      this.loop = {
        samples: new Int16Array(samples),
        repeat: ahead.periodSamples !== undefined,
        rendered: 0,
        playing: false,
        underrunsAtStart: 0,
      };
      // The device first, then the first part, then the thread: the ring sounds
      // before the rest of its period is rendered. Then, while it sounds, the
      // next 350 ms (about 2.5 ms of JavaScript at 48 kHz), so play() returns
      // half a second ahead of the device; the rest a part a turn of the event
      // loop (250 ms, about 2 ms each), so the ring's start does not hold the
      // loop the 10–20 ms a whole period takes. Only a stall of over 500 ms
      // right after play(), 750 ms a turn later and so on, before the period is
      // whole (6 turns for the emergency cadence), could still starve it.
      const l = this.loop;
      const opened = this.handle !== undefined || this.open();
      this.render(l, source, Math.round((FIRST_MS * this.rate) / 1000));
      if (opened) this.startLoop();
      else this.retryLater();
      this.render(l, source, Math.round((NEXT_MS * this.rate) / 1000));
      const part = Math.round((PART_MS * this.rate) / 1000);
      const next = () => {
        this.rendering = undefined;
        if (this.loop !== l) return; // stopped, or another ring
        this.render(l, source, part);
        if (l.rendered < l.samples.length) this.rendering = setImmediate(next);
      };
      if (l.rendered < l.samples.length) this.rendering = setImmediate(next);
      return;
    }
    this.source = source;
    this.halt();
    this.tick();
  }

  /** Stops at once: nothing of the ring left queued (snd_pcm_drop), silence from the thread. */
  stop(): void {
    this.source = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.forgetLoop();
    this.quiet();
    this.idleLater();
  }

  private idleLater(): void {
    const idle = this.o.idleCloseMs ?? 3000;
    if (this.idleTimer || !Number.isFinite(idle)) return; // kept open (the ringer)
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.source && !this.loop) void this.close();
    }, idle);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    this.source = undefined;
    this.forgetLoop();
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    this.timer = undefined;
    const h = this.handle;
    this.handle = undefined;
    if (h) {
      nativePcm()?.close(h); // joins the loop's thread, if one still runs
      this.emit("close");
    }
  }

  /** Renders up to `n` more samples of the loop's buffer, and hands them to the thread. */
  private render(l: Loop, source: FrameSource, n: number): void {
    const part = l.samples.subarray(l.rendered, Math.min(l.samples.length, l.rendered + n));
    source.read(part); // what a tone played once did not fill is silence
    l.rendered += part.length;
    if (l.playing && this.handle) {
      try {
        (nativePcm() as NativePcm).loopAppend(this.handle, part);
      } catch (e) {
        this.fail(`ALSA device "${this.device}" failed: ${(e as Error).message}`);
      }
    }
  }

  /** The device's thread starts on what is rendered (queued audio dropped first). */
  private startLoop(): void {
    const l = this.loop as Loop;
    const pcm = nativePcm() as NativePcm;
    try {
      const h = this.handle as object;
      l.underrunsAtStart = pcm.loopStatus(h).underruns;
      pcm.loopStart(h, l.samples.subarray(0, l.rendered), l.samples.length, l.repeat, this.rt);
      l.playing = true;
    } catch (e) {
      this.fail(`ALSA device "${this.device}" failed: ${(e as Error).message}`);
      this.retryLater();
      return;
    }
    this.timer = setTimeout(() => this.watch(), WATCH_MS);
  }

  /** Errors, underruns and a tone that has been heard to its end, from the thread, now and then. */
  private watch(): void {
    this.timer = undefined;
    const l = this.loop;
    if (!l) return;
    if (!l.playing) {
      // The device failed or was missing: open it again when the backoff allows.
      if (this.handle || this.open()) this.startLoop();
      else this.retryLater();
      return;
    }
    const s = (nativePcm() as NativePcm).loopStatus(this.handle as object);
    this.countUnderruns(l, s);
    this.realtime = s.realtime;
    if (s.error) {
      l.playing = false;
      this.fail(`ALSA device "${this.device}" failed: ${s.error}`);
      this.retryLater();
      return;
    }
    if (s.done) {
      // Heard to its end; the thread has stopped the stream and sleeps, as between rings.
      this.forgetLoop();
      this.emit("finished");
      this.idleLater();
      return;
    }
    this.timer = setTimeout(() => this.watch(), WATCH_MS);
  }

  private countUnderruns(l: Loop, s: LoopStatus): void {
    this.underruns += s.underruns - l.underrunsAtStart;
    l.underrunsAtStart = s.underruns;
  }

  /** The rendered ring forgotten, its underruns counted; its thread is left to what comes next. */
  private forgetLoop(): void {
    const l = this.loop;
    this.loop = undefined;
    clearImmediate(this.rendering);
    this.rendering = undefined;
    if (!l?.playing || !this.handle) return;
    try {
      this.countUnderruns(l, (nativePcm() as NativePcm).loopStatus(this.handle));
    } catch {}
  }

  /**
   * After a ring the thread writes a whole device buffer of silence (loopStart
   * drops what was queued first), then stops the stream and sleeps: a stopped
   * stream is not quiet on every device — the ALSA jack plugin repeats its
   * last period, heard on the bench's card as the ring going on after stop —
   * so the last period it is left with is silence. Between rings nothing wakes.
   */
  private quiet(): void {
    if (!this.handle) return;
    try {
      const pcm = nativePcm() as NativePcm;
      pcm.loopStart(this.handle, this.silence, this.silence.length, false, this.rt);
    } catch (e) {
      this.fail(`ALSA device "${this.device}" failed: ${(e as Error).message}`);
    }
  }

  /** Any thread joined and what is queued dropped (loopStop): the timer path starts now. */
  private halt(): void {
    if (!this.handle) return;
    try {
      (nativePcm() as NativePcm).loopStop(this.handle);
    } catch (e) {
      this.fail(`ALSA device "${this.device}" failed: ${(e as Error).message}`);
    }
  }

  private retryLater(): void {
    clearTimeout(this.timer);
    if (!this.loop) return;
    this.timer = setTimeout(() => this.watch(), Math.max(this.frameMs, this.retryAt - nowMs()));
  }

  private open(): boolean {
    const pcm = nativePcm();
    if (!pcm) {
      this.fail("native/alsa-pcm is not built (install libasound2-dev, then npm rebuild)");
      return false;
    }
    if (nowMs() < this.retryAt) return false;
    // The buffer: deep enough for a rendered ring to ride out a stalled event loop
    // on the thread's side, and at least what the timer path keeps queued.
    const timerPathMs = this.frameMs * ((this.o.queueFrames ?? 2) + 2);
    const bufferMs = Math.max(this.o.bufferMs ?? 120, timerPathMs);
    try {
      this.handle = pcm.open(this.device, false, this.rate, 1, Math.round(bufferMs * 1000));
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
    if (this.loop) this.loop.playing = false;
    if (this.handle) {
      nativePcm()?.close(this.handle);
      this.handle = undefined;
    }
  }

  private fill(): void {
    const f = this.frame;
    if (this.source) {
      if (!this.source.read(f)) {
        this.source = undefined; // its end still plays, then silence: not dropped
        this.emit("finished");
        this.idleLater();
      }
    } else f.fill(0);
  }

  /** Timer path: tops the device queue up to `queueFrames`, then sleeps a frame. */
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
