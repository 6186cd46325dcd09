/**
 * Benchmark: the phone's memory (issue 14: RSS ≤ 60 MB idle, ≤ 70 MB in a call,
 * flat over 1,000 calls; issue 12: back to idle within a minute of a flood).
 * The real firmware (`deskphone bench` as a process of its own: controller,
 * SIP agent, journal on disk, the native media thread on exclusive ALSA
 * devices) registered over wss:// with digest auth on a lab Kamailio; the
 * caller is one of our SIP agents in this process; the handset is lifted and
 * replaced through the bench API.
 *
 * Figures, from /proc/PID/status: RSS, and its anonymous part (what the
 * process itself allocated: V8's heap, malloc, stacks — the rest is the node
 * binary's and libraries' pages, shared and reclaimable). Sampled idle
 * (registered, 5 s after), in a call (3 s into the first), every 100 calls,
 * right after the last and 45 s later (the settle, firmware/app/memory-settle.ts,
 * runs 5 s after the last call and again 34 s after that). Also the phone's CPU per call cycle and the
 * caller's dial → ringing seen (the bench API's event stream): what a flag
 * costs. With `--flood`, the flood of bench/flood-run.ts and RSS 60 s after.
 * Prints; asserts nothing.
 *
 * The phone runs as in production — Node's flags of /usr/bin/deskphone (scripts/build-deb.sh)
 * and the systemd unit's Environment= — unless --node-args or --env is given.
 *
 *   npx tsx bench/memory.ts                 (MEMORY_CALLS=1000; --flood adds the flood)
 *   npx tsx bench/memory.ts --node-args="--max-semi-space-size=1" --env=MALLOC_ARENA_MAX=2
 *   npx tsx bench/memory.ts --candidates [--only=1,7]  (each V8/glibc candidate, MEMORY_CALLS calls each)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../sip/phone-agent.ts";
import { alsaLab } from "../test/support/alsa-lab.ts";
import { startBench } from "../test/support/bench-process.ts";
import { EXCLUSIVE_AUDIO } from "../test/support/phone-config.ts";
import { createTestCa } from "../test/support/test-ca.ts";
import { productionNodeFlags, runFlood, unitEnvironment } from "./flood-run.ts";
import { cpuMsOf, type MemorySample, memoryOf, phaseStream } from "./phone-process.ts";

export type { MemorySample };

export interface MemoryFigures {
  idle: MemorySample;
  inCall: MemorySample;
  calls: number;
  /** RSS after every 100th call. */
  curve: { call: number; rssMb: number }[];
  afterCalls: MemorySample;
  /** 45 s after the last call (past the settle's two passes). */
  settled: MemorySample;
  /** The phone's CPU time per call cycle (ms). */
  cpuMsPerCall: number;
  /** Dial → the phone ringing, as the caller sees it through the bench API's events (ms). */
  ringMedianMs: number;
  ringP90Ms: number;
  /** The phone's "memory: settled …" log lines (firmware/app/memory-settle.ts). */
  settles: string[];
}

export interface MemoryRunOptions {
  calls: number;
  /** Node's flags for the phone process (default: production's, productionNodeFlags). */
  nodeArgs?: readonly string[];
  /** Default: the systemd unit's Environment= (unitEnvironment). */
  env?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureCalls(o: MemoryRunOptions): Promise<MemoryFigures> {
  const ca = createTestCa();
  const ex = await startLabExchange({ tls: { cert: ca.cert, key: ca.key }, auth: true });
  const lab = alsaLab({ exclusive: true });
  const dir = mkdtempSync(join(tmpdir(), "deskphone-memory-"));
  const stops: (() => unknown)[] = [
    () => ex.stop(),
    () => lab.cleanup(),
    () => ca.cleanup(),
    () => rmSync(dir, { recursive: true, force: true }),
  ];
  try {
    for (const u of ["2001", "3001"]) ex.table.setSubscriber(u, `pw-${u}`);
    const phone = await startBench(
      dir,
      "2001",
      {
        account: { user: "2001", password: "pw-2001" },
        exchange: { url: ex.wssUrl("localhost"), caFile: ca.caFile },
        audio: EXCLUSIVE_AUDIO,
        journal: { path: join(dir, "journal.jsonl") },
      },
      { ...lab.env, ...(o.env ?? unitEnvironment()) },
      o.nodeArgs ?? productionNodeFlags(),
    );
    stops.unshift(() => phone.kill());
    const caller = new PhoneAgent({
      server: ex.wssUrl("localhost"),
      user: "3001",
      password: "pw-3001",
      tls: { caFile: ca.caFile, rejectUnauthorized: true },
    });
    stops.unshift(() => caller.stop());
    await new Promise<void>((r) => {
      caller.on("registration", (s) => s === "registered" && r());
      caller.start();
    });
    await phone.waitFor("registered", (s) => s.registration === "registered", 15_000);
    const events = await phaseStream(phone.url);
    stops.unshift(() => events.close());
    await sleep(5000);
    const idle = memoryOf(phone.pid);
    const hook = (offHook: boolean) => phone.post("hook", { offHook });
    const ring: number[] = [];
    const curve: MemoryFigures["curve"] = [];
    let inCall = idle;
    const cpu0 = cpuMsOf(phone.pid);
    for (let n = 1; n <= o.calls; n++) {
      const id = `m-${n}`;
      const answered = new Promise<void>((r) =>
        caller.on("remote-answered", function onAnswer(c) {
          if (c !== id) return;
          caller.off("remote-answered", onAnswer);
          r();
        }),
      );
      const t0 = performance.now();
      caller.dial(id, "2001");
      await events.until("ringing", `ringing (call ${n})`);
      ring.push(performance.now() - t0);
      await hook(true);
      await answered;
      if (n === 1) {
        await sleep(3000);
        inCall = memoryOf(phone.pid);
      } else await sleep(20);
      caller.hangUp(id);
      await events.until("hungUp", `hung up (call ${n})`);
      await hook(false);
      await events.until("idle", `idle (call ${n})`);
      if (n % 100 === 0) curve.push({ call: n, rssMb: memoryOf(phone.pid).rssMb });
    }
    const cpuMsPerCall = (cpuMsOf(phone.pid) - cpu0) / o.calls;
    const afterCalls = memoryOf(phone.pid);
    await sleep(45_000);
    const settled = memoryOf(phone.pid);
    const s = ring.sort((a, b) => a - b);
    return {
      idle,
      inCall,
      calls: o.calls,
      curve,
      afterCalls,
      settled,
      cpuMsPerCall,
      ringMedianMs: s[s.length >> 1] ?? Number.NaN,
      ringP90Ms: s[Math.floor(s.length * 0.9)] ?? Number.NaN,
      settles: phone
        .output()
        .split("\n")
        .filter((l) => l.includes("memory: settled"))
        .map((l) => l.trim()),
    };
  } finally {
    for (const stop of stops) await Promise.resolve(stop()).catch(() => {});
  }
}

/** The V8 and glibc candidates for a 512 MB–1 GB board, compared by `--candidates`. */
export const CANDIDATES: { name: string; nodeArgs: string[]; env?: Record<string, string> }[] = [
  { name: "defaults", nodeArgs: [] },
  { name: "--max-semi-space-size=1", nodeArgs: ["--max-semi-space-size=1"] },
  { name: "MALLOC_ARENA_MAX=2", nodeArgs: [], env: { MALLOC_ARENA_MAX: "2" } },
  { name: "--single-threaded-gc", nodeArgs: ["--single-threaded-gc"] },
  { name: "--optimize-for-size", nodeArgs: ["--optimize-for-size"] },
  { name: "--lite-mode", nodeArgs: ["--lite-mode"] },
  {
    name: "--max-semi-space-size=1, MALLOC_ARENA_MAX=2",
    nodeArgs: ["--max-semi-space-size=1"],
    env: { MALLOC_ARENA_MAX: "2" },
  },
  {
    name: "--max-semi-space-size=1 --optimize-for-size, MALLOC_ARENA_MAX=2",
    nodeArgs: ["--max-semi-space-size=1", "--optimize-for-size"],
    env: { MALLOC_ARENA_MAX: "2" },
  },
  {
    name: "--max-semi-space-size=1 --lite-mode, MALLOC_ARENA_MAX=2",
    nodeArgs: ["--max-semi-space-size=1", "--lite-mode"],
    env: { MALLOC_ARENA_MAX: "2" },
  },
];

const f0 = (x: number) => x.toFixed(0);
const mem = (m: MemorySample) => `${f0(m.rssMb)} (anon ${f0(m.anonMb)})`;

function line(name: string, r: MemoryFigures): string {
  return `| ${name} | ${mem(r.idle)} | ${mem(r.inCall)} | ${mem(r.afterCalls)} | ${mem(r.settled)} | ${r.ringMedianMs.toFixed(1)} / ${r.ringP90Ms.toFixed(1)} | ${r.cpuMsPerCall.toFixed(1)} |`;
}
const HEAD = (calls: number) =>
  `| phone's flags | RSS idle MB | in a call | after ${calls} calls | 45 s later | dial → ringing median / p90 ms | phone CPU ms a call |\n|---|---:|---:|---:|---:|---:|---:|`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      candidates: { type: "boolean" },
      /** With --candidates: only these (their numbers in CANDIDATES, from 1, comma-separated). */
      only: { type: "string" },
      flood: { type: "boolean" },
      "node-args": { type: "string" },
      env: { type: "string", multiple: true },
    },
  });
  const calls = Number(process.env.MEMORY_CALLS ?? 1000);
  const nodeArgs = values["node-args"]?.split(" ").filter(Boolean) ?? productionNodeFlags();
  const given = Object.fromEntries(
    (values.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
  // The phone as the systemd unit starts it, unless told otherwise.
  const env = values.env ? given : unitEnvironment();
  if (values.candidates) {
    console.log(HEAD(calls));
    const only = values.only?.split(",").map(Number);
    for (const [i, c] of CANDIDATES.entries()) {
      if (only && !only.includes(i + 1)) continue;
      const r = await measureCalls({ calls, nodeArgs: c.nodeArgs, env: c.env ?? {} });
      console.log(line(c.name, r));
    }
    return;
  }
  const name = [...nodeArgs, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(" ");
  const r = await measureCalls({ calls, nodeArgs, env });
  console.log(HEAD(calls));
  console.log(line(name || "no flags", r));
  console.log(`RSS by call: ${r.curve.map((c) => `${c.call}:${f0(c.rssMb)}`).join(" ")}`);
  for (const l of r.settles) console.log(`phone: ${l}`);
  if (values.flood) {
    const f = await runFlood({
      sources: 16,
      ratePerS: 200,
      seconds: 10,
      afterS: 60,
      nodeArgs,
      env,
    });
    console.log(
      `flood (2,000 INVITEs at 200/s from 16 sources): RSS idle ${f0(f.idleMb)}, peak ${f0(f.peakMb)}, ${[10, 20, 30, 60].map((s) => `${s} s after ${f0(f.rssAfter(s))}`).join(", ")} MB`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
