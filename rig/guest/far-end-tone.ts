/**
 * A steady tone played into the far end of a loopback subdevice (what a
 * microphone hears), and where a tone first sounds in a capture.
 */
import { type ChildProcess, spawn } from "node:child_process";

export class FarEndTone {
  private readonly proc: ChildProcess;

  constructor(device: string, hz: number, seconds = 30, rate = 8000) {
    const pcm = new Int16Array(rate * seconds);
    for (let i = 0; i < pcm.length; i++)
      pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate));
    this.proc = spawn(
      "aplay",
      ["-q", "-D", device, "-f", "S16_LE", "-c", "1", "-r", String(rate), "-t", "raw"],
      { stdio: ["pipe", "ignore", "ignore"] },
    );
    this.proc.stdin?.on("error", () => {});
    this.proc.stdin?.end(Buffer.from(pcm.buffer));
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    await exited;
  }
}

/** The first 10 ms block from `from` on where `hz` sounds (amplitude over 1000 of 32767), or -1. */
export function toneOnset(x: Int16Array, rate: number, hz: number, from = 0): number {
  const n = Math.round(rate / 100);
  const c = 2 * Math.cos((2 * Math.PI * hz) / rate);
  for (let start = Math.max(0, from); start + n <= x.length; start += n) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const s0 = (x[start + i] as number) + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const amplitude = (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2))) / n;
    if (amplitude > 1000) return start;
  }
  return -1;
}
