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
import { runFlood } from "./flood-run.ts";

const RATE = Number(process.env.FLOOD_RATE ?? 200);
const SECONDS = Number(process.env.FLOOD_SECONDS ?? 20);
const MANY = Number(process.env.FLOOD_MANY ?? 16);
const AFTER_S = Number(process.env.FLOOD_AFTER_S ?? 60);
const RUNS = (process.env.FLOOD_SOURCES ?? `1,${MANY}`).split(",").map(Number);

function stats(xs: number[]): string {
  if (!xs.length) return "none";
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return `n=${s.length} median ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${(s.at(-1) as number).toFixed(1)} ms`;
}

async function run(sources: number): Promise<void> {
  const r = await runFlood({
    sources,
    ratePerS: RATE,
    seconds: SECONDS,
    afterS: AFTER_S,
    ...(process.env.FLOOD_PHONE_NODE_OPTIONS && {
      phoneNodeOptions: process.env.FLOOD_PHONE_NODE_OPTIONS,
    }),
  });
  console.log(
    `\n${r.count} ordinary INVITEs at ${RATE}/s for ${SECONDS} s from ${sources} source(s), one emergency INVITE in the middle (sent at ${r.emergencySentMs.toFixed(0)} ms; flood took ${r.floodMs.toFixed(0)} ms)`,
  );
  console.log(
    `  emergency INVITE → 180 at the caller: ${r.emergency180Ms !== undefined ? `${r.emergency180Ms.toFixed(1)} ms` : "no 180"} (final: ${r.emergencyFinal ?? "none yet"})`,
  );
  console.log(
    `  emergency INVITE → ring onset (journal "rung"): ${r.ringOnsetMs !== undefined ? `${r.ringOnsetMs} ms (ms resolution)` : "never rang"}`,
  );
  console.log(
    `  bench API GET /api/state during the flood: ${stats(r.apiMs)}${r.apiFailures ? `, ${r.apiFailures} failed` : ""}`,
  );
  const marks = [0, 10, 30, AFTER_S].filter((x, i, a) => x <= AFTER_S && a.indexOf(x) === i);
  console.log(
    `  phone RSS: idle ${r.idleMb.toFixed(0)} MB, peak ${r.peakMb.toFixed(0)} MB; after the flood: ${marks.map((x) => `${x} s ${r.rssAfter(x).toFixed(0)} MB`).join(", ")}`,
  );
  for (const l of r.settles) console.log(`  phone: ${l.trim()}`);
  const label: Record<string, string> = {
    "486": "486 busy (phone)",
    "487": "487 cancelled",
    "500": "500 (the phone's 503, too many waiting)",
    "503": "503 (exchange rate limit)",
  };
  console.log(
    `  ordinary callers' final answers: ${[...r.finals].map(([k, v]) => `${label[k] ?? k} ×${v}`).join(", ")}`,
  );
  console.log(
    `  180 Ringing: ${r.ordinary180.one} ordinary call(s) with one, ${r.ordinary180.more} with more; the emergency ${r.emergency180s}`,
  );
}

for (const sources of RUNS) await run(sources);
