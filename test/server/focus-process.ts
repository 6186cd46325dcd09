/**
 * The conference focus as its own process (`deskphone-exchange focus`, as its
 * unit runs it), for the focus tests: started against an exchange, its log
 * read as it grows, stopped with SIGTERM as systemd stops it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { outputOf, stopChild } from "../support/child-output.ts";

export interface FocusProcess {
  child: ChildProcess;
  /** What it logged so far (stdout and stderr). */
  out(): string;
  /** Polls `test` until it holds; fails after `ms` with the tail of the focus's log. */
  until(what: string, test: () => boolean, ms?: number): Promise<void>;
  /** Resolves once it logged its registration with the exchange. */
  registered(ms?: number): Promise<void>;
  /** SIGTERM, and its exit awaited (at once if it has exited). */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `test` every 50 ms until it holds; after `ms`, fails naming `what`, with `log()`. */
export async function until(
  what: string,
  test: () => boolean,
  log: () => string,
  ms = 10_000,
): Promise<void> {
  const t0 = Date.now();
  while (!test()) {
    if (Date.now() - t0 > ms) throw new Error(`not ${what} within ${ms} ms; ${log()}`);
    await sleep(50);
  }
}

/** Starts the focus on the exchange at `server` (a ws:// URL), with its further `flags`. */
export function startFocus(server: string, flags: readonly string[] = []): FocusProcess {
  const child = spawn(
    process.execPath,
    ["bin/deskphone-exchange.mjs", "focus", "--server", server, ...flags],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const out = outputOf(child);
  const log = () => `focus log:\n${out().slice(-3000)}`;
  return {
    child,
    out,
    until: (what, test, ms) => until(what, test, log, ms),
    registered: (ms) =>
      until("the focus registered", () => /registration: registered/.test(out()), log, ms),
    stop: () => stopChild(child),
  };
}
