/**
 * A child process the tests and benchmarks start (a phone, the focus,
 * baresip): what it writes, as one text, and its stop.
 */
import type { ChildProcess } from "node:child_process";

/** Everything `child` writes to stdout and stderr from now on, interleaved as it came. */
export function outputOf(child: ChildProcess): () => string {
  let out = "";
  const take = (d: Buffer | string) => {
    out += d;
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  return () => out;
}

/** Sends `signal` and waits for the exit; at once if it has exited. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}
