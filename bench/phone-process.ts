/**
 * What a phone process shows the benchmarks from outside: its memory and CPU
 * time (/proc/PID), and its phase through the bench API's server-sent events
 * (awaited without polling the phone).
 */
import { readFileSync } from "node:fs";

export interface MemorySample {
  rssMb: number;
  /** The anonymous part of RSS: what the process allocated itself. */
  anonMb: number;
}

/** RSS and its anonymous part of a process (/proc/PID/status), MB. */
export function memoryOf(pid: number): MemorySample {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, anonMb: kb("RssAnon") / 1024 };
}

/** User + system CPU time of a process (/proc/PID/stat, clock ticks of 10 ms), ms. */
export function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** The bench API's server-sent events: the phone's phase, awaited without polling. */
export async function phaseStream(url: string) {
  const ac = new AbortController();
  const res = await fetch(`${url}api/events`, { signal: ac.signal });
  let phase = "";
  const waiters: { kind: string; resolve: () => void }[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let buf = "";
  (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += dec.decode(value, { stream: true });
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const data = /^data: (.*)$/m.exec(buf.slice(0, i))?.[1];
        buf = buf.slice(i + 2);
        if (!data) continue;
        phase = (JSON.parse(data) as { phase: string }).phase;
        for (const w of waiters.filter((x) => x.kind === phase)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  })();
  return {
    until(kind: string, what: string, ms = 10_000): Promise<void> {
      if (phase === kind) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`phone not ${what} in ${ms} ms`)), ms);
        waiters.push({
          kind,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    close: () => ac.abort(),
  };
}
