/**
 * The far end of a snd-aloop subdevice (rig/guest/asound.conf): what the
 * phone played, captured with arecord as it comes, each sample placed in time
 * on performance.now()'s clock, so a sound's onset can be set against when
 * something was sent.
 *
 * Placing a sample: a block of samples reaches this process some time after
 * its last sample was captured (arecord's period, the pipe, the two processes'
 * scheduling — tens of ms under emulation, and most for the first block, which
 * comes while arecord starts). So each block only says that its samples were
 * captured no later than it arrived, each one sample period before the next;
 * sample i is placed at the tightest such bound among the blocks that hold it
 * or come after it (`at`). Never earlier than it was captured, so an onset is
 * never made to look sooner: a lost stretch (an overrun) between i and a later
 * block only makes that block's bound for i later still.
 */
import { type ChildProcess, spawn } from "node:child_process";

export class FarEndCapture {
  private readonly chunks: Buffer[] = [];
  private readonly proc: ChildProcess;
  private firstAt: number | undefined;
  private firstFrames = 0;
  /** Each block: when it arrived, and how many samples had come with it included. */
  private readonly arrivals: { at: number; frames: number }[] = [];
  private frames = 0;
  private errors = "";

  constructor(
    device: string,
    readonly rate: number,
  ) {
    this.proc = spawn(
      "arecord",
      [
        "-q",
        "-D",
        device,
        "-f",
        "S16_LE",
        "-c",
        "1",
        "-r",
        String(rate),
        "-t",
        "raw",
        "--period-time=10000",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.proc.stdout?.on("data", (b: Buffer) => {
      const now = performance.now();
      if (this.firstAt === undefined) {
        this.firstAt = now;
        this.firstFrames = b.length / 2;
      }
      this.chunks.push(b);
      this.frames += b.length / 2;
      this.arrivals.push({ at: now, frames: this.frames });
    });
    this.proc.stderr?.on("data", (b: Buffer) => {
      this.errors += b.toString();
    });
  }

  /** Until audio flows (arecord has opened the device). */
  async started(ms = 5000): Promise<void> {
    const end = performance.now() + ms;
    while (this.firstAt === undefined) {
      if (performance.now() > end || this.proc.exitCode !== null)
        throw new Error(`arecord did not start: ${this.errors.trim() || "no audio"}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  samples(): Int16Array {
    const b = Buffer.concat(this.chunks);
    return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2));
  }

  /** When sample `i` was captured at the latest, on performance.now()'s clock (see above). */
  at(i: number): number {
    let best = Number.POSITIVE_INFINITY;
    for (const a of this.arrivals) {
      if (a.frames <= i) continue; // the block that holds sample i, or a later one
      best = Math.min(best, a.at - ((a.frames - 1 - i) * 1000) / this.rate);
    }
    return Number.isFinite(best) ? best : this.firstOnly(i);
  }

  /** The placing from the first block alone (how the rig measured before `at`). */
  firstOnly(i: number): number {
    return (this.firstAt ?? 0) + ((i - this.firstFrames) * 1000) / this.rate;
  }

  /** The first sample louder than `level` (of 32767), or -1. */
  firstSound(level = 1000): number {
    return this.samples().findIndex((s) => Math.abs(s) > level);
  }

  async stop(): Promise<Int16Array> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    return this.samples();
  }
}
