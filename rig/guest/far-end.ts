/**
 * The far end of a snd-aloop subdevice (rig/guest/asound.conf): what the
 * phone played, captured with arecord as it comes, each sample placed in time
 * on performance.now()'s clock (from when the first block arrived and its
 * length), so a sound's onset can be set against when something was sent.
 */
import { type ChildProcess, spawn } from "node:child_process";

export class FarEndCapture {
  private readonly chunks: Buffer[] = [];
  private readonly proc: ChildProcess;
  private firstAt: number | undefined;
  private firstFrames = 0;
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
      if (this.firstAt === undefined) {
        this.firstAt = performance.now();
        this.firstFrames = b.length / 2;
      }
      this.chunks.push(b);
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

  /** When sample `i` was captured, on performance.now()'s clock. */
  at(i: number): number {
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
