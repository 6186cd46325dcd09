/**
 * Benchmark: an emergency through a flood (issue 12). The real firmware
 * (`deskphone bench`: controller, SIP agent, journal on disk, the mock
 * handset and the bench API) registered on a lab Kamailio; raw UDP callers
 * send ordinary INVITEs to it at FLOOD_RATE per second for FLOOD_SECONDS, from
 * one source address and then from FLOOD_MANY sources in 127.0.0.0/8 (the
 * exchange limits each source's request rate); one emergency INVITE (to 112,
 * bound to the phone) from a source of its own in the middle.
 *
 * Prints, per run: the emergency INVITE → 180 at the caller (through the
 * exchange), → ring onset (the controller's ring decision, the journal's
 * `rung` record; the ringer effect runs in the same turn), the bench API's
 * round trips during the flood (GET /api/state, one at a time), the phone's
 * RSS idle, at its peak and 60 s after the flood, and what the ordinary
 * callers got. Targets: 180 within 50 ms, ring onset within 80 ms, memory
 * back to idle within a minute. Prints; asserts nothing.
 *
 * The callers see 503 from the exchange's rate limit (pike), 486 from the
 * phone (busy: it rings for the first call, then for the emergency) and 500
 * for the phone's own 503 (too many INVITEs waiting: sip/incoming-priority.ts),
 * which the exchange, a proxy, turns into 500 (RFC 3261 §16.7).
 *
 *   npm run bench:flood     (FLOOD_RATE=200 FLOOD_SECONDS=20 FLOOD_MANY=16 FLOOD_AFTER_S=60;
 *                            FLOOD_SOURCES=1,16 the runs; FLOOD_PHONE_NODE_OPTIONS for the phone)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { FloodCaller } from "../test/server/flood-caller.ts";
import { alsaLab } from "../test/support/alsa-lab.ts";
import { startBench } from "../test/support/bench-process.ts";

const RATE = Number(process.env.FLOOD_RATE ?? 200);
const SECONDS = Number(process.env.FLOOD_SECONDS ?? 20);
const MANY = Number(process.env.FLOOD_MANY ?? 16);
const AFTER_S = Number(process.env.FLOOD_AFTER_S ?? 60);
const RUNS = (process.env.FLOOD_SOURCES ?? `1,${MANY}`).split(",").map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function stats(xs: number[]): string {
  if (!xs.length) return "none";
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return `n=${s.length} median ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${(s.at(-1) as number).toFixed(1)} ms`;
}

async function run(sources: number): Promise<void> {
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
      audio: { ringer: { device: "ringer", rate: 8000 }, earpiece: "earpiece", microphone: "mic" },
      journal: { path: join(dir, "journal.jsonl") },
    },
    {
      ...lab.env,
      ...(process.env.FLOOD_PHONE_NODE_OPTIONS && {
        NODE_OPTIONS: process.env.FLOOD_PHONE_NODE_OPTIONS,
      }),
    },
  ).catch(async (e) => {
    await ex.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  // The flood from 127.0.0.2 up, the emergency from 127.0.1.1: a source of its own.
  const addresses = Array.from({ length: sources }, (_, i) => `127.0.0.${2 + i}`);
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
    const idleMb = Math.min(...idle);

    let sampling = true;
    const rss: { at: number; mb: number }[] = [];
    const rssSampler = (async () => {
      while (sampling) {
        rss.push({ at: performance.now(), mb: rssMb(phone.pid) });
        await sleep(250);
      }
    })();
    const api: number[] = [];
    let apiFailures = 0;
    let flooding = true;
    const apiSampler = (async () => {
      while (flooding) {
        const t0 = performance.now();
        try {
          await phone.state();
          api.push(performance.now() - t0);
        } catch {
          apiFailures += 1;
        }
        await sleep(100);
      }
    })();

    const count = RATE * SECONDS;
    let emergency: ReturnType<FloodCaller["invite"]> | undefined;
    let emergencyWallMs = 0;
    const t0 = performance.now();
    await flood.flood("2001", {
      count,
      ratePerS: RATE,
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
    await sleep(AFTER_S * 1000);
    sampling = false;
    await rssSampler;

    const journal = (await phone.journal()) as { event: string; remote?: string; time: string }[];
    const rung = journal.find((r) => r.event === "rung" && r.remote === "3999");
    const e = emergency as NonNullable<typeof emergency>;
    const e180 = e.responses.find((r) => r.code === 180);
    const calls = [...flood.calls.values()];
    const finals = new Map<string, number>();
    for (const c of calls) {
      const k = String(c.final?.code ?? "none");
      finals.set(k, (finals.get(k) ?? 0) + 1);
    }
    const ringing180 = calls.map((c) => c.responses.filter((r) => r.code === 180).length);
    const peak = Math.max(...rss.map((r) => r.mb));
    /** The RSS sampled nearest to `s` seconds after the flood's end. */
    const after = (sec: number) => {
      const at = floodEnd + sec * 1000;
      const near = rss.reduce((a, b) => (Math.abs(b.at - at) < Math.abs(a.at - at) ? b : a));
      return `${near.mb.toFixed(0)} MB`;
    };
    console.log(
      `\n${count} ordinary INVITEs at ${RATE}/s for ${SECONDS} s from ${sources} source(s), one emergency INVITE in the middle (sent at ${(e.sentAt - t0).toFixed(0)} ms; flood took ${(floodEnd - t0).toFixed(0)} ms)`,
    );
    console.log(
      `  emergency INVITE → 180 at the caller: ${e180 ? `${(e180.at - e.sentAt).toFixed(1)} ms` : "no 180"} (final: ${e.final?.code ?? "none yet"})`,
    );
    console.log(
      `  emergency INVITE → ring onset (journal "rung"): ${rung ? `${Date.parse(rung.time) - emergencyWallMs} ms (ms resolution)` : "never rang"}`,
    );
    console.log(
      `  bench API GET /api/state during the flood: ${stats(api)}${apiFailures ? `, ${apiFailures} failed` : ""}`,
    );
    const marks = [0, 10, 30, AFTER_S].filter((x, i, a) => x <= AFTER_S && a.indexOf(x) === i);
    console.log(
      `  phone RSS: idle ${idleMb.toFixed(0)} MB, peak ${peak.toFixed(0)} MB; after the flood: ${marks.map((x) => `${x} s ${after(x)}`).join(", ")}`,
    );
    const label: Record<string, string> = {
      "486": "486 busy (phone)",
      "487": "487 cancelled",
      "500": "500 (the phone's 503, too many waiting)",
      "503": "503 (exchange rate limit)",
    };
    console.log(
      `  ordinary callers' final answers: ${[...finals].map(([k, v]) => `${label[k] ?? k} ×${v}`).join(", ")}`,
    );
    console.log(
      `  180 Ringing: ${ringing180.filter((n) => n === 1).length} ordinary call(s) with one, ${ringing180.filter((n) => n > 1).length} with more; the emergency ${e.responses.filter((r) => r.code === 180).length}`,
    );
  } finally {
    flood.close();
    emergencyCaller.close();
    await phone.kill();
    await ex.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const sources of RUNS) await run(sources);
