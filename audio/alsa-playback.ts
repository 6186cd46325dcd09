/**
 * Plays frames on a named ALSA PCM (ringer speaker, handset earpiece).
 *
 * Behaviour:
 * - Frames are pulled from the current source and written paced on the
 *   monotonic clock, `leadFrames` (1–3) frames (20 ms by default) ahead of real time:
 *   latency stays a few frames, never seconds of piped audio.
 * - The device stays open for the whole ring or call; between sources, and
 *   after a source ends, silence is written rather than closing. It closes
 *   after `idleCloseMs` without a source.
 * - `stop()` drops: nothing more of the source is written; at most the lead
 *   (and ALSA's 60 ms buffer) still sounds.
 * - A device that fails to open or dies is reported once (`error` event)
 *   until it works again, and reopened with backoff while a source wants it.
 *   Nothing throws into the caller; the rest of the phone keeps working.
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import {
  AlsaDeviceError,
  type AlsaProcessOptions,
  describeAlsaFailure,
  spawnAlsa,
} from "./alsa-process.ts";
import { type FrameSource, frameSamples } from "./frame-source.ts";

export interface AlsaPlaybackOptions {
  device: string;
  rate?: number;
  /** Frames written ahead of real time (1–3). */
  leadFrames?: number;
  /** The size of a written frame, ms (default 20; the ringer can use 5 for a faster start). */
  frameMs?: number;
  /** false: write as fast as the device takes (file devices in tests, batch rendering). */
  paced?: boolean;
  idleCloseMs?: number;
  env?: NodeJS.ProcessEnv;
  alsa?: Pick<AlsaProcessOptions, "periodUs" | "bufferUs">;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export class AlsaPlayback extends EventEmitter<{
  open: [];
  close: [];
  error: [AlsaDeviceError];
  finished: [];
}> {
  readonly device: string;
  readonly rate: number;
  private child: ChildProcess | undefined;
  private source: FrameSource | undefined;
  private startedAt = 0;
  private written = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private reported = false;
  private stderr = "";
  private openedAt = 0;
  private closing = false;
  private readonly frame: Int16Array;
  private readonly frameMs: number;
  /** Underruns aplay reported (and recovered from). */
  underruns = 0;

  constructor(private readonly o: AlsaPlaybackOptions) {
    super();
    this.device = o.device;
    this.rate = o.rate ?? 8000;
    this.frameMs = o.frameMs ?? 20;
    this.frame = new Int16Array(frameSamples(this.rate, this.frameMs));
  }

  get isOpen(): boolean {
    return this.child !== undefined;
  }

  /** Starts playing `source` now, replacing what played. */
  play(source: FrameSource): void {
    this.source = source;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.child && !this.reopenTimer) this.open();
    else if (this.o.paced === false) this.pump();
  }

  /** Stops the source at once (drops, does not drain); the device stays open for a while. */
  stop(): void {
    this.source = undefined;
    this.scheduleIdleClose();
  }

  /** Closes the device. With `drain`, lets the device play what it was given first. */
  close(opts: { drain?: boolean } = {}): Promise<void> {
    this.source = undefined;
    clearTimeout(this.idleTimer);
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.stopTicking();
    const child = this.child;
    if (!child) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      if (opts.drain) child.stdin?.end();
      else child.kill("SIGKILL");
    });
  }

  private open(): void {
    this.reopenTimer = undefined;
    this.stderr = "";
    this.closing = false;
    let child: ChildProcess;
    try {
      child = spawnAlsa({
        device: this.device,
        rate: this.rate,
        direction: "playback",
        env: this.o.env,
        ...this.o.alsa,
      });
    } catch (e) {
      return this.failed(
        `ALSA device "${this.device}": cannot start aplay: ${(e as Error).message}`,
      );
    }
    this.child = child;
    this.openedAt = nowMs();
    child.stderr?.on("data", (d) => {
      const text = String(d);
      // aplay recovers an underrun itself and says "underrun!!!". The device
      // restarted late, so the pacing clock restarts too; otherwise every
      // underrun would add its length to the latency for good.
      const underruns = text.match(/underrun!!!/g)?.length ?? 0;
      if (underruns > 0) {
        this.underruns += underruns;
        this.startedAt = nowMs();
        this.written = 0;
      }
      this.stderr = (this.stderr + text).slice(-2000);
    });
    child.stdin?.on("error", () => {}); // EPIPE when the child dies: handled on exit
    child.once("error", (e) => {
      this.stderr +=
        (e as NodeJS.ErrnoException).code === "ENOENT"
          ? "aplay is not installed (alsa-utils)"
          : e.message;
    });
    child.once("exit", (code) => {
      this.child = undefined;
      this.stopTicking();
      this.emit("close");
      if (this.closing) return;
      this.failed(describeAlsaFailure(this.device, this.stderr, code));
    });
    // aplay says nothing when the open works; it is open once it has not failed.
    setTimeout(() => {
      if (this.child === child && child.exitCode === null) {
        this.reported = false;
        this.backoffMs = 250;
        this.emit("open");
      }
    }, 150).unref();
    this.startedAt = nowMs();
    this.written = 0;
    if (this.o.paced === false) this.pump();
    else {
      this.ticking = true;
      this.tick();
    }
  }

  private failed(message: string): void {
    if (!this.reported) {
      this.reported = true;
      this.emit("error", new AlsaDeviceError(this.device, message));
    }
    if (this.source) {
      this.reopenTimer = setTimeout(() => this.open(), this.backoffMs);
      this.reopenTimer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    }
  }

  /** Fills the next frame from the source, or silence. */
  private nextFrame(): Buffer {
    const f = this.frame;
    if (this.source) {
      if (!this.source.read(f)) {
        this.source = undefined;
        this.emit("finished");
        this.scheduleIdleClose();
      }
    } else f.fill(0);
    return Buffer.from(f.buffer.slice(0), 0, f.byteLength);
  }

  private stopTicking(): void {
    this.ticking = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Paced: writes the frames due on the monotonic clock, `leadFrames` ahead,
   * then sleeps until the next frame is due (one wake-up per frame).
   */
  private tick(): void {
    const child = this.child;
    if (!this.ticking || !child?.stdin?.writable) return;
    const lead = Math.min(3, Math.max(1, this.o.leadFrames ?? 2));
    const elapsed = nowMs() - this.startedAt;
    const due = Math.floor(elapsed / this.frameMs) + lead - this.written;
    if (due > lead + 5) {
      // The loop stalled: skip what is late rather than bursting it out.
      this.written += due - lead;
    } else {
      for (let i = 0; i < due; i++) {
        child.stdin.write(this.nextFrame());
        this.written++;
      }
    }
    const next = (this.written - lead + 1) * this.frameMs - (nowMs() - this.startedAt);
    this.timer = setTimeout(() => this.tick(), Math.max(1, next));
  }

  /** Unpaced: writes until the source ends or the pipe is full. */
  private pump(): void {
    const child = this.child;
    if (!child?.stdin?.writable) return;
    while (this.source) {
      if (!child.stdin.write(this.nextFrame())) {
        child.stdin.once("drain", () => this.pump());
        return;
      }
    }
  }

  private scheduleIdleClose(): void {
    if (this.o.paced === false || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.source) void this.close();
    }, this.o.idleCloseMs ?? 3000);
    this.idleTimer.unref();
  }

  /** For diagnostics: how long the device has been open. */
  get openForMs(): number {
    return this.child ? nowMs() - this.openedAt : 0;
  }
}
