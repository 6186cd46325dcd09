/**
 * Captures 20 ms frames from a named ALSA PCM (the handset microphone).
 * Same failure rules as AlsaPlayback: reported once, reopened with backoff
 * while wanted, never thrown into the caller.
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import {
  AlsaDeviceError,
  type AlsaProcessOptions,
  describeAlsaFailure,
  spawnAlsa,
} from "./alsa-process.ts";
import { frameSamples } from "./frame-source.ts";

export interface AlsaCaptureOptions {
  device: string;
  rate?: number;
  env?: NodeJS.ProcessEnv;
  alsa?: Pick<AlsaProcessOptions, "periodUs" | "bufferUs">;
  /** Samples per emitted frame (default 20 ms). */
  frameSamples?: number;
}

export class AlsaCapture extends EventEmitter<{
  frame: [Int16Array];
  error: [AlsaDeviceError];
  open: [];
}> {
  readonly rate: number;
  private child: ChildProcess | undefined;
  private wanted = false;
  private pending: Buffer = Buffer.alloc(0);
  private reported = false;
  private backoffMs = 250;
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly frameBytes: number;

  constructor(private readonly o: AlsaCaptureOptions) {
    super();
    this.rate = o.rate ?? 8000;
    this.frameBytes = (o.frameSamples ?? frameSamples(this.rate)) * 2;
  }

  start(): void {
    this.wanted = true;
    if (!this.child && !this.reopenTimer) this.open();
  }

  stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    const child = this.child;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  private open(): void {
    this.reopenTimer = undefined;
    let stderr = "";
    const child = spawnAlsa({
      device: this.o.device,
      rate: this.rate,
      direction: "capture",
      env: this.o.env,
    });
    this.child = child;
    child.stderr?.on("data", (d) => {
      stderr = (stderr + d).slice(-2000);
    });
    child.once("error", (e) => {
      stderr +=
        (e as NodeJS.ErrnoException).code === "ENOENT"
          ? "arecord is not installed (alsa-utils)"
          : e.message;
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (this.reported) {
        this.reported = false;
        this.backoffMs = 250;
      }
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      while (this.pending.length >= this.frameBytes) {
        // Copied into its own aligned buffer (little-endian hosts: S16_LE as is).
        const frame = new Int16Array(this.frameBytes / 2);
        new Uint8Array(frame.buffer).set(this.pending.subarray(0, this.frameBytes));
        this.pending = this.pending.subarray(this.frameBytes);
        this.emit("frame", frame);
      }
    });
    child.once("exit", (code) => {
      this.child = undefined;
      if (!this.wanted) return;
      if (!this.reported) {
        this.reported = true;
        this.emit(
          "error",
          new AlsaDeviceError(this.o.device, describeAlsaFailure(this.o.device, stderr, code)),
        );
      }
      this.reopenTimer = setTimeout(() => this.open(), this.backoffMs);
      this.reopenTimer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    });
  }
}
