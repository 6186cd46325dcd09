/**
 * How fast `deskphone run` registers, how much it holds once idle, and how
 * fast `deskphone --version` answers — beside a bare Node + sip.js phone
 * (bench/bare-phone.mjs) through the same lab Kamailio, interleaved.
 *
 *   npx tsx bench/start-up.ts [--runs N] [--cli PATH_TO_A_DESKPHONE_BIN] [--json]
 *
 * start → registered: from spawn() to the phone's own word that the exchange
 * answered its REGISTER with 200 OK (`<6>registration: registered` on stderr,
 * "registered" on the bare phone's stdout). RSS idle: VmRSS of the phone's
 * process (and of its process tree) 2 s after it registered. Importable:
 * `measureStartUp()` returns the figures (npm run bench calls it).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type LabExchange, startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { minimalConfig, writeConfig } from "../test/support/phone-config.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_CLI = join(ROOT, "bin/deskphone.mjs");
const BARE = join(ROOT, "bench/bare-phone.mjs");

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}
export interface StartUpFigures {
  /** spawn → registered, ms. */
  deskphoneRegisteredMs: Spread;
  bareRegisteredMs: Spread;
  /** CPU time of the process from its start to registered, ms (a loaded machine inflates wall time, not this). */
  deskphoneCpuMs: Spread;
  bareCpuMs: Spread;
  /** deskphone median / bare median (the target is ≤ 0.7). */
  ratio: number;
  /** The same for CPU time to registered. */
  cpuRatio: number;
  /** VmRSS of `deskphone run`'s process 2 s after registering, MB. */
  deskphoneRssMb: Spread;
  /** The same summed over its process tree (a loader's child counts). */
  deskphoneTreeRssMb: Spread;
  /** deskphone run with DESKPHONE_NO_CODE_CACHE=1 (docs/build.md): what the code cache saves. */
  noCodeCacheRegisteredMs: Spread;
  noCodeCacheCpuMs: Spread;
  bareRssMb: Spread;
  /** `deskphone --version`, spawn → exit, ms. */
  versionMs: Spread;
  node: string;
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median =
    s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number, runs: xs };
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function treeRssKb(pid: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  let sum = 0;
  const walk = (p: number) => {
    sum += rssKb(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return sum;
}

/** CPU time the process has run, ms (/proc/PID/schedstat: ns on a CPU). */
function cpuMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

interface OneStart {
  ms: number;
  /** CPU time spent until registered: what a loaded machine does not inflate. */
  cpuMs: number;
  rssKb: number;
  treeRssKb: number;
}

/** Spawns a phone, waits for `registered` on its output, measures, stops it. */
async function oneStart(
  args: string[],
  registered: RegExp,
  idleMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OneStart> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  let cpu = Number.NaN;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not registered in 15 s:\n${out}`)), 15_000);
    const on = (d: Buffer) => {
      out += d;
      if (registered.test(out)) {
        clearTimeout(timer);
        cpu = cpuMs(child.pid as number);
        resolve(performance.now() - t0);
      }
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before registering:\n${out}`));
    });
  });
  await new Promise((r) => setTimeout(r, idleMs));
  const pid = child.pid as number;
  const r = { ms, cpuMs: cpu, rssKb: rssKb(pid), treeRssKb: treeRssKb(pid) };
  child.kill("SIGTERM");
  await exited;
  return r;
}

export async function measureStartUp(
  o: {
    runs?: number;
    exchange?: LabExchange;
    idleMs?: number;
    /** The deskphone command to measure (bin/deskphone.mjs). */
    cli?: string;
  } = {},
): Promise<StartUpFigures> {
  const DESKPHONE = o.cli ?? DEFAULT_CLI;
  const runs = o.runs ?? 7;
  const idleMs = o.idleMs ?? 2000;
  const ex = o.exchange ?? (await startLabExchange());
  const dir = mkdtempSync(join(tmpdir(), "deskphone-start-up-"));
  try {
    const config = writeConfig(join(dir, "config.yaml"), minimalConfig("2001", ex.wsUrl, dir));
    const ours: OneStart[] = [];
    const bare: OneStart[] = [];
    const noCache: OneStart[] = [];
    const version: number[] = [];
    const withoutCache = { ...process.env, DESKPHONE_NO_CODE_CACHE: "1" };
    // One warm-up of each (the page cache), then interleaved runs.
    await oneStart([DESKPHONE, "run", "--config", config], /registration: registered/, 0);
    await oneStart([BARE, ex.wsUrl, "2002", ex.domain], /^registered$/m, 0);
    for (let i = 0; i < runs; i++) {
      ours.push(
        await oneStart([DESKPHONE, "run", "--config", config], /registration: registered/, idleMs),
      );
      bare.push(await oneStart([BARE, ex.wsUrl, "2002", ex.domain], /^registered$/m, idleMs));
      noCache.push(
        await oneStart(
          [DESKPHONE, "run", "--config", config],
          /registration: registered/,
          0,
          withoutCache,
        ),
      );
      const t0 = performance.now();
      const v = spawnSync(process.execPath, [DESKPHONE, "--version"], { encoding: "utf8" });
      if (v.status !== 0) throw new Error(`deskphone --version failed: ${v.stderr}`);
      version.push(performance.now() - t0);
    }
    const mb = (kb: number) => Math.round(kb / 102.4) / 10;
    const deskphoneRegisteredMs = spread(ours.map((r) => Math.round(r.ms)));
    const bareRegisteredMs = spread(bare.map((r) => Math.round(r.ms)));
    const deskphoneCpuMs = spread(ours.map((r) => Math.round(r.cpuMs)));
    const bareCpuMs = spread(bare.map((r) => Math.round(r.cpuMs)));
    return {
      deskphoneRegisteredMs,
      bareRegisteredMs,
      deskphoneCpuMs,
      bareCpuMs,
      cpuRatio: Math.round((deskphoneCpuMs.median / bareCpuMs.median) * 100) / 100,
      ratio: Math.round((deskphoneRegisteredMs.median / bareRegisteredMs.median) * 100) / 100,
      deskphoneRssMb: spread(ours.map((r) => mb(r.rssKb))),
      deskphoneTreeRssMb: spread(ours.map((r) => mb(r.treeRssKb))),
      noCodeCacheRegisteredMs: spread(noCache.map((r) => Math.round(r.ms))),
      noCodeCacheCpuMs: spread(noCache.map((r) => Math.round(r.cpuMs))),
      bareRssMb: spread(bare.map((r) => mb(r.rssKb))),
      versionMs: spread(version.map((v) => Math.round(v))),
      node: process.version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!o.exchange) await ex.stop();
  }
}

export function formatStartUp(f: StartUpFigures): string {
  const row = (name: string, s: Spread, unit: string) =>
    `| ${name} | ${s.median} ${unit} | ${s.min}–${s.max} ${unit} |`;
  return [
    `start-up (node ${f.node}, ${f.deskphoneRegisteredMs.runs.length} interleaved runs)`,
    "| | median | spread |",
    "|---|---|---|",
    row("deskphone run: start → registered", f.deskphoneRegisteredMs, "ms"),
    row("bare Node + sip.js phone: start → registered", f.bareRegisteredMs, "ms"),
    `| ratio deskphone / bare (target ≤ 0.7) | ${f.ratio} | |`,
    row("deskphone run: CPU time start → registered", f.deskphoneCpuMs, "ms"),
    row("bare phone: CPU time start → registered", f.bareCpuMs, "ms"),
    `| CPU ratio deskphone / bare | ${f.cpuRatio} | |`,
    row(
      "deskphone run without its code cache: start → registered",
      f.noCodeCacheRegisteredMs,
      "ms",
    ),
    row("deskphone run without its code cache: CPU time", f.noCodeCacheCpuMs, "ms"),
    row("deskphone run: RSS idle (process)", f.deskphoneRssMb, "MB"),
    row("deskphone run: RSS idle (process tree)", f.deskphoneTreeRssMb, "MB"),
    row("bare phone: RSS idle", f.bareRssMb, "MB"),
    row("deskphone --version", f.versionMs, "ms"),
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const runs = at("--runs");
  const cli = at("--cli");
  const f = await measureStartUp({
    ...(runs && { runs: Number(runs) }),
    ...(cli && { cli: resolve(cli) }),
  });
  process.stdout.write(`${formatStartUp(f)}\n`);
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(f)}\n`);
}
