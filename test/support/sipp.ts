/**
 * Runs sipp (Debian `sip-tester`) as a real third-party SIP peer, with its
 * message trace kept so tests can read what arrived on the wire.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../server/kamailio/lab-exchange.ts";

export interface SippResult {
  /** sipp's exit code: 0 when every call followed the scenario. */
  code: number | null;
  messages: string[];
  errors: string;
}

export interface Sipp {
  readonly port: number;
  readonly done: Promise<SippResult>;
  /** Messages received so far (whole SIP messages, in order). */
  received(): string[];
  /** Waits until a received message matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<SippResult>;
}

export interface SippOptions {
  xml: string;
  /** host:port of the exchange's UDP socket. */
  target: string;
  /** Local port; a free one when left out. */
  port?: number;
  /** Overall limit for the run (sipp -timeout), seconds. */
  timeoutS?: number;
  /** Echo the RTP that reaches its media port back to the sender (sipp -rtp_echo). */
  rtpEcho?: boolean;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function splitMessages(log: string): string[] {
  return log
    .split(/^-+ [^\n]*\n[^\n]*message received[^\n]*\n\n/m)
    .slice(1)
    .map((m) => m.replace(/\n+$/, "").split(/\n-{10,}/)[0] ?? m);
}

export async function startSipp(o: SippOptions): Promise<Sipp> {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-sipp-"));
  const port = o.port ?? (await freePort("udp"));
  const sf = join(dir, "scenario.xml");
  const msgFile = join(dir, "messages.log");
  const errFile = join(dir, "errors.log");
  writeFileSync(sf, o.xml);
  const [host] = o.target.split(":");
  const args = [
    o.target,
    "-sf",
    sf,
    "-i",
    host ?? "127.0.0.1",
    "-p",
    String(port),
    "-m",
    "1",
    "-timeout",
    `${o.timeoutS ?? 20}s`,
    "-timeout_error",
    "-nostdin",
    // A retransmitted INFO (UDP, under load) is answered, not a failure of the call.
    "-aa",
    "-trace_msg",
    "-message_file",
    msgFile,
    "-trace_err",
    "-error_file",
    errFile,
    "-mp",
    String(await freePort("udp")),
    ...(o.rtpEcho ? ["-rtp_echo"] : []),
  ];
  const child = spawn("sipp", args, { stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const read = (f: string) => {
    try {
      return readFileSync(f, "latin1");
    } catch {
      return "";
    }
  };
  const received = () => splitMessages(read(msgFile).replaceAll("\r\n", "\n"));
  const done = new Promise<SippResult>((resolve) => {
    let finished = false;
    const finish = (code: number | null) => {
      if (finished) return;
      finished = true;
      live.delete(child);
      const result = { code, messages: received(), errors: `${stderr}${read(errFile)}` };
      rmSync(dir, { recursive: true, force: true });
      resolve(result);
    };
    child.once("error", (e) => {
      stderr +=
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "sipp is not installed" : e.message;
      finish(-1);
    });
    // 'close', not 'exit': stderr can still hold sipp's last words when the process has
    // exited; 'close' comes once its pipes are drained and closed (and after 'error').
    child.once("close", (code) => finish(code));
  });
  let ended = false;
  let final: SippResult | undefined;
  void done.then((r) => {
    final = r;
    ended = true;
  });
  const messages = () => final?.messages ?? received();
  return {
    port,
    done,
    received: messages,
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = messages().find((m) => pattern.test(m));
        if (hit) return hit;
        if (ended) throw new Error(`sipp ended before a message matched ${pattern}`);
        if (Date.now() > deadline)
          throw new Error(`no message matched ${pattern} in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (!ended) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 2000);
      const r = await done;
      clearTimeout(t);
      return r;
    },
  };
}

/** Runs a scenario to its end. */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  return (await startSipp(o)).done;
}
