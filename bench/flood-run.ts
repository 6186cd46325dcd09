/**
 * One run of "an emergency through a flood" (issue 12), as data: used by
 * bench/flood.ts (prints) and the reliability suite (asserts what must hold).
 * The real firmware (`deskphone bench`: controller, SIP agent, journal on
 * disk, the mock handset and the bench API) registered on a lab Kamailio; raw
 * UDP callers send ordinary INVITEs from `sources` addresses in 127.0.0.0/8;
 * one emergency INVITE (to 112, bound to the phone) from a source of its own
 * half way through.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { FloodCaller } from "../test/server/flood-caller.ts";
import { alsaLab } from "../test/support/alsa-lab.ts";
import { startBench } from "../test/support/bench-process.ts";
import { labAudio } from "../test/support/phone-config.ts";

export interface FloodOptions {
  sources: number;
  ratePerS: number;
  seconds: number;
  /** How long RSS is sampled after the flood (s). */
  afterS: number;
  /** NODE_OPTIONS for the phone process. */
  phoneNodeOptions?: string;
  /** Node's own flags for the phone process (default: productionNodeFlags). */
  nodeArgs?: readonly string[];
  /** Default: the systemd unit's Environment= (unitEnvironment). */
  env?: Record<string, string>;
}

/** Node's flags for the phone in production: `node_flags` of scripts/build-deb.sh (/usr/bin/deskphone). */
export function productionNodeFlags(): string[] {
  const script = readFileSync(new URL("../scripts/build-deb.sh", import.meta.url), "utf8");
  return (/^node_flags="(.*)"$/m.exec(script)?.[1] ?? "").split(" ").filter(Boolean);
}

/** The `Environment=` lines of systemd/deskphone.service: the phone's environment in production. */
export function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(new URL("../systemd/deskphone.service", import.meta.url), "utf8");
  return Object.fromEntries(
    [...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [
      m[1] as string,
      m[2] as string,
    ]),
  );
}

export interface FloodResult {
  count: number;
  emergencySentMs: number;
  floodMs: number;
  /** Emergency INVITE → 180 at the caller (ms), if a 180 came. */
  emergency180Ms?: number;
  emergency180s: number;
  emergencyFinal?: number;
  /** Emergency INVITE → the journal's `rung` (ms resolution), if it rang. */
  ringOnsetMs?: number;
  /** The emergency's records with `outcome` in the phone's journal. */
  emergencyOutcomes: number;
  apiMs: number[];
  apiFailures: number;
  idleMb: number;
  peakMb: number;
  /** RSS nearest to s seconds after the flood's end. */
  rssAfter(s: number): number;
  /** The phone's "memory: settled …" log lines (firmware/app/memory-settle.ts). */
  settles: string[];
  /** Final answers of the ordinary calls, by code ("none" for none). */
  finals: Map<string, number>;
  /** Ordinary calls with exactly one / more than one 180. */
  ordinary180: { one: number; more: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function runFlood(o: FloodOptions): Promise<FloodResult> {
  const ex = await startLabExchange();
  const lab = alsaLab();
  const dir = mkdtempSync(join(tmpdir(), "deskphone-flood-"));
  ex.table.bind("112", "2001");
  // A phone that fails to start must not leave the exchange behind.
  const phone = await startBench(
    dir,
    "2001",
    {
      account: { user: "2001" },
      exchange: { url: ex.wsUrl },
      audio: labAudio(8000),
      journal: { path: join(dir, "journal.jsonl") },
    },
    {
      ...lab.env,
      ...(o.env ?? unitEnvironment()),
      ...(o.phoneNodeOptions && { NODE_OPTIONS: o.phoneNodeOptions }),
    },
    o.nodeArgs ?? productionNodeFlags(),
  ).catch(async (e) => {
    await ex.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  // The flood from 127.0.0.2 up, the emergency from 127.0.1.1: a source of its own.
  const addresses = Array.from({ length: o.sources }, (_, i) => `127.0.0.${2 + i}`);
  const flood = await FloodCaller.open(ex, addresses);
  const emergencyCaller = await FloodCaller.open(ex, ["127.0.1.1"]);
  try {
    await phone.waitFor("registered", (s) => s.registration === "registered", 15_000);
    await sleep(3000);
    const idle: number[] = [];
    for (let i = 0; i < 8; i++) {
      idle.push(rssMb(phone.pid));
      await sleep(250);
    }
    let sampling = true;
    const rss: { at: number; mb: number }[] = [];
    const rssSampler = (async () => {
      while (sampling) {
        rss.push({ at: performance.now(), mb: rssMb(phone.pid) });
        await sleep(250);
      }
    })();
    const apiMs: number[] = [];
    let apiFailures = 0;
    let flooding = true;
    const apiSampler = (async () => {
      while (flooding) {
        const t0 = performance.now();
        try {
          await phone.state();
          apiMs.push(performance.now() - t0);
        } catch {
          apiFailures += 1;
        }
        await sleep(100);
      }
    })();

    const count = o.ratePerS * o.seconds;
    let emergency: ReturnType<FloodCaller["invite"]> | undefined;
    let emergencyWallMs = 0;
    const t0 = performance.now();
    await flood.flood("2001", {
      count,
      ratePerS: o.ratePerS,
      during: (sent) => {
        if (sent !== Math.floor(count / 2)) return;
        emergencyWallMs = Date.now();
        emergency = emergencyCaller.invite("112", { from: "3999" });
      },
    });
    const floodEnd = performance.now();
    flooding = false;
    await apiSampler;
    await flood.settled(10_000);
    // The one ordinary call that rang, and the emergency, are still ringing.
    flood.cancelUnanswered();
    emergencyCaller.cancelUnanswered();
    await sleep(o.afterS * 1000);
    sampling = false;
    await rssSampler;

    const journal = (await phone.journal()) as {
      event: string;
      remote?: string;
      callId?: string;
      outcome?: boolean;
      time: string;
    }[];
    const rung = journal.find((r) => r.event === "rung" && r.remote === "3999");
    const e = emergency as NonNullable<typeof emergency>;
    const e180 = e.responses.find((r) => r.code === 180);
    const finals = new Map<string, number>();
    const calls = [...flood.calls.values()];
    for (const c of calls) {
      const k = String(c.final?.code ?? "none");
      finals.set(k, (finals.get(k) ?? 0) + 1);
    }
    const ringing180 = calls.map((c) => c.responses.filter((r) => r.code === 180).length);
    return {
      count,
      emergencySentMs: e.sentAt - t0,
      floodMs: floodEnd - t0,
      ...(e180 && { emergency180Ms: e180.at - e.sentAt }),
      emergency180s: e.responses.filter((r) => r.code === 180).length,
      ...(e.final?.code !== undefined && { emergencyFinal: e.final.code }),
      ...(rung && { ringOnsetMs: Date.parse(rung.time) - emergencyWallMs }),
      emergencyOutcomes: rung
        ? journal.filter((r) => r.callId === (rung as { callId?: string }).callId && r.outcome)
            .length
        : 0,
      apiMs,
      apiFailures,
      idleMb: Math.min(...idle),
      peakMb: Math.max(...rss.map((r) => r.mb)),
      rssAfter(sec: number) {
        const at = floodEnd + sec * 1000;
        return rss.reduce((a, b) => (Math.abs(b.at - at) < Math.abs(a.at - at) ? b : a)).mb;
      },
      settles: phone
        .output()
        .split("\n")
        .filter((l) => l.includes("memory: settled")),
      finals,
      ordinary180: {
        one: ringing180.filter((n) => n === 1).length,
        more: ringing180.filter((n) => n > 1).length,
      },
    };
  } finally {
    flood.close();
    emergencyCaller.close();
    await phone.kill();
    await ex.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
