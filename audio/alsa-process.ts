/**
 * One aplay or arecord child for a named ALSA PCM. Audio I/O runs in the
 * child, off the phone's event loop; a failure to open is read from the
 * child's stderr and reported once, clearly.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface AlsaProcessOptions {
  /** The ALSA PCM name, e.g. "default", "plughw:1,0" or a name from asound.conf. */
  device: string;
  rate: number;
  direction: "playback" | "capture";
  /** ALSA period and buffer, µs (default 20 ms and 60 ms). */
  periodUs?: number;
  bufferUs?: number;
  env?: NodeJS.ProcessEnv;
}

export class AlsaDeviceError extends Error {
  constructor(
    readonly device: string,
    message: string,
  ) {
    super(message);
  }
}

/** Turns aplay's stderr into one line a person can act on. */
export function describeAlsaFailure(device: string, stderr: string, code: number | null): string {
  const line = stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /error|unknown|no such|cannot|invalid|busy/i.test(l));
  return `ALSA device "${device}" failed${code !== null ? ` (exit ${code})` : ""}: ${line ?? (stderr.trim() || "no message")}`;
}

export function spawnAlsa(o: AlsaProcessOptions): ChildProcess {
  const tool = o.direction === "playback" ? "aplay" : "arecord";
  const args = [
    "-q",
    "-D",
    o.device,
    "-t",
    "raw",
    "-f",
    "S16_LE",
    "-c",
    "1",
    "-r",
    String(o.rate),
    `--period-time=${o.periodUs ?? 20_000}`,
    `--buffer-time=${o.bufferUs ?? 60_000}`,
    // Start the device as soon as the first period is written, not when the
    // buffer is full: otherwise a paced writer keeps the whole buffer queued
    // (60 ms of latency for ever).
    ...(o.direction === "playback" ? ["--start-delay=1"] : []),
  ];
  return spawn(tool, args, {
    env: o.env ?? process.env,
    // Its own process group: a Ctrl-C on the terminal reaches the phone, which
    // closes its devices in order, not the children behind its back. They still
    // end by themselves if the phone dies (EOF on stdin, EPIPE on stdout).
    detached: true,
    stdio: o.direction === "playback" ? ["pipe", "ignore", "pipe"] : ["ignore", "pipe", "pipe"],
  });
}
