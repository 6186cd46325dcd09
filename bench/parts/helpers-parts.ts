/**
 * npm run bench's parts written beside it (issue 14): each module's own
 * function called and its figures turned into the table's rows. A module
 * that is not there, or has no such function, is a part not measured (the
 * reason says which), never a figure made up.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Measured, type PartResult, type Row, spread } from "../bench-table.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Thrown when a part's module is not in the tree: not measured, and not a failure of ours. */
export class MissingPart extends Error {}

async function load(path: string, fn: string): Promise<(...a: unknown[]) => Promise<unknown>> {
  if (!existsSync(`${ROOT}/${path}`)) throw new MissingPart(`${path} is not in the tree`);
  const m = (await import(`../../${path}`)) as Record<string, unknown>;
  const f = m[fn];
  if (typeof f !== "function") throw new MissingPart(`${path} exports no ${fn}()`);
  return f as (...a: unknown[]) => Promise<unknown>;
}

/** A figure from a module's own summary: its runs if it kept them, else its median alone. */
function fromSummary(v: unknown, what: string): Measured {
  const o = v as { runs?: unknown; median?: unknown; min?: unknown; max?: unknown } | undefined;
  if (Array.isArray(o?.runs) && o.runs.every((x) => typeof x === "number"))
    return spread(o.runs as number[]);
  if (typeof v === "number" && Number.isFinite(v))
    return { n: 1, median: v, min: v, p90: v, max: v };
  return { notMeasured: `${what}: no figure in what the part returned` };
}

/** A sample figure given as {n, medianMs, p90Ms, maxMs} (no min kept): min shown as the median's. */
function fromFigures(v: unknown, what: string): Measured {
  const f = v as { n?: number; medianMs?: number; p90Ms?: number; maxMs?: number; minMs?: number };
  if (typeof f?.medianMs !== "number" || !Number.isFinite(f.medianMs))
    return { notMeasured: `${what}: no figure in what the part returned` };
  return {
    n: f.n ?? 0,
    median: f.medianMs,
    min: f.minMs ?? Number.NaN,
    p90: f.p90Ms ?? Number.NaN,
    max: f.maxMs ?? Number.NaN,
  };
}

/** bench/start-up.ts ("build"): `deskphone run` beside a bare Node + sip.js phone. */
export async function startUp(o: { quick?: boolean }): Promise<PartResult> {
  const measure = await load("bench/start-up.ts", "measureStartUp");
  const runs = o.quick ? 2 : 5;
  const f = (await measure({ runs })) as Record<string, unknown>;
  const how = `bench/start-up.ts, ${runs} starts of each after one warm-up, interleaved, one lab Kamailio; spawn → the phone's own word that it registered (its stderr/stdout); \`deskphone run\` with the ALSA null devices, journal on disk; the bare phone is bench/bare-phone.mjs (Node + sip.js, nothing else)`;
  const bare = { name: "bare Node + sip.js" };
  return {
    rows: [
      {
        id: "start-registered-bare",
        label: "start → registered, beside a bare Node + sip.js phone",
        unit: "ms",
        ours: fromSummary(f.deskphoneRegisteredMs, "deskphoneRegisteredMs"),
        ref: { ...bare, value: fromSummary(f.bareRegisteredMs, "bareRegisteredMs") },
        target: { kind: "ratioAtMost", value: 0.7 },
        config: how,
      },
      {
        id: "version",
        label: "`deskphone --version`, spawn → exit",
        unit: "ms",
        ours: fromSummary(f.versionMs, "versionMs"),
        config: "bench/start-up.ts, between the starts",
      },
    ],
  };
}

/** bench/memory.ts ("memory"): RSS idle, in a call, over many calls. */
export async function memory(o: { quick?: boolean; calls?: number }): Promise<PartResult> {
  const measure = await load("bench/memory.ts", "measureCalls");
  const calls = o.calls ?? (o.quick ? 50 : 1000);
  const f = (await measure({ calls })) as Record<string, { rssMb?: number } | number | undefined>;
  const one = (v: unknown, what: string) =>
    fromSummary((v as { rssMb?: number } | undefined)?.rssMb, what);
  const how = `bench/memory.ts: \`deskphone bench\` as its own process (journal on disk, native media thread on exclusive lab ALSA devices) over wss:// with digest auth; calls from one of our SIP agents, answered and hung up through the bench API; VmRSS`;
  return {
    rows: [
      {
        id: "rss-idle",
        label: "RSS idle (registered, 5 s after)",
        unit: "MB",
        ours: one(f.idle, "idle"),
        target: { kind: "atMost", value: 60 },
        config: how,
      },
      {
        id: "rss-call",
        label: "RSS in a call (3 s into the first)",
        unit: "MB",
        ours: one(f.inCall, "inCall"),
        target: { kind: "atMost", value: 70 },
        config: how,
      },
      {
        id: "rss-after-calls",
        label: `RSS after ${typeof f.calls === "number" ? f.calls : calls} calls (45 s later)`,
        unit: "MB",
        ours: one(f.settled, "settled"),
        target: {
          kind: "withinOf",
          row: "rss-idle",
          value: 1.1,
          what: "flat: ≤ 1.1 × RSS idle",
        },
        config: `${how}; ${calls} calls one after another, RSS 45 s after the last (past the settle's two passes: 5 s of quiet, then 34 s later)`,
      },
    ],
  };
}

/** bench/invite-to-180.ts ("180"): the path inside the phone, in-process, many runs. */
export async function inviteTo180(o: { quick?: boolean }): Promise<PartResult> {
  const measure = await load("bench/invite-to-180.ts", "inviteTo180");
  const runs = o.quick ? 20 : 100;
  const f = (await measure({ runs })) as Record<string, unknown>;
  const how = `bench/invite-to-180.ts, ${runs} INVITEs, ordinary and emergency interleaved: the phone as build-phone.ts builds it (journal on, ringer 48 kHz) in the bench's process, a stand-in exchange on a worker thread; INVITE frame in → 180 frame out on the phone's WebSocket (its wire tap)`;
  const rows: Row[] = [
    {
      id: "invite-180-inproc",
      label: "INVITE → 180 inside the phone, in-process (ordinary)",
      unit: "ms",
      ours: fromFigures(f.ordinary, "ordinary"),
      config: how,
    },
    {
      id: "invite-180-inproc-emergency",
      label: "INVITE → 180 inside the phone, in-process (emergency)",
      unit: "ms",
      ours: fromFigures(f.emergency, "emergency"),
      config: how,
    },
  ];
  return { rows };
}

/** bench/idle-cpu.ts ("idle"): an idle phone on the GPIO character-device backend. */
export async function idleCpu(o: { quick?: boolean }): Promise<PartResult> {
  const measure = await load("bench/idle-cpu.ts", "measureIdleCpu");
  const seconds = o.quick ? 10 : 30;
  const f = (await measure({ seconds, log: (m: string) => console.error(m) })) as {
    cpuPercent?: number;
    wakeupsPerS?: number;
    configuration?: string;
  };
  const config = `bench/idle-cpu.ts, ${seconds} s after settling: ${f.configuration ?? "`deskphone run`'s startPhone with the chardev backend on a fake kernel"}; every thread's schedstat`;
  return {
    rows: [
      {
        id: "idle-cpu",
        label: "idle CPU, chardev GPIO backend (% of one core)",
        unit: "%",
        ours: fromSummary(f.cpuPercent, "cpuPercent"),
        target: { kind: "atMost", value: 0.1 },
        config,
      },
      {
        id: "idle-wakeups",
        label: "idle wake-ups of every thread, per second",
        unit: "/s",
        ours: fromSummary(f.wakeupsPerS, "wakeupsPerS"),
        config,
      },
    ],
  };
}
