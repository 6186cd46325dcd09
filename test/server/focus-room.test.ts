/**
 * The conference focus end to end (issue 16, "Show"): the real Kamailio, the
 * focus as its own process (`deskphone-exchange focus`), and a caller who
 * dials an emergency number bound to three phones —
 *
 *   2001  idle: a lab phone (the real Phone, JS media, earpiece on an ALSA file device);
 *   2002  in a normal call with a sipp phone: it is preempted, the sipp phone gets
 *         the RFC 4411 BYE, and 2002 is put straight into the room;
 *   2003  a `deskphone bench` process, answered through its API.
 *
 * Each party sends its own tone over real RTP on loopback (caller 500 Hz,
 * 2001 700 Hz, 2002 1100 Hz, 2003 1500 Hz): each must hear the other three
 * and not itself (the N−1 mix). The room ends when the caller hangs up.
 *
 * The exchange's database is a parameter: DESKPHONE_FOCUS_DB=sqlite (the
 * default), postgres (a private cluster, test/support/lab-postgres.ts; the run
 * in focus-room-postgres.test.ts) or a postgres:// URL (the lab's `db` option).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallMedia } from "../../audio/call-media.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import {
  type LabExchange,
  type LabExchangeOptions,
  startLabExchange,
} from "../../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { type AlsaLab, alsaLab } from "../support/alsa-lab.ts";
import { type BenchProcess, startBench } from "../support/bench-process.ts";
import { type LabPhone, startLabPhone } from "../support/lab-phone.ts";
import { header, registerPhone } from "../support/lab-phones.ts";
import { type LabPostgres, startLabPostgres } from "../support/lab-postgres.ts";
import { labAudio } from "../support/phone-config.ts";
import type { Sipp } from "../support/sipp.ts";
import { frequenciesIn } from "../support/tone-analyser.ts";
import { type FocusProcess, startFocus } from "./focus-process.ts";

const DB = process.env.DESKPHONE_FOCUS_DB ?? "sqlite";
let pg: LabPostgres | undefined;
/** The lab exchange's options for the database under test (SQLite is its default). */
async function dbOptions(): Promise<LabExchangeOptions> {
  if (DB === "sqlite") return {};
  if (DB !== "postgres") return { db: DB };
  pg = await startLabPostgres();
  return { db: await pg.createDatabase("exchange") };
}

const NUMBER = "119";
const HZ = { caller: 500, p2001: 700, p2002: 1100, p2003: 1500 } as const;
type Party = keyof typeof HZ;

let ex: LabExchange;
let labA: AlsaLab;
let labB: AlsaLab;
let dir: string;
let focus: FocusProcess;
let p2001: LabPhone;
let p2002: LabPhone;
let peer2902: Sipp;
let bench: BenchProcess;
let caller: PhoneAgent;
const callerHeard: Int16Array[] = [];
let callerReader: NodeJS.Timeout | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = (what: string, test: () => boolean, ms = 15_000) => focus.until(what, test, ms);

function tone(hz: number, seconds: number, levelDb: number): Int16Array {
  const pcm = new Int16Array(8000 * seconds);
  new ToneSource({ segments: [{ ms: 1000, freqs: [hz], levelDb }], repeat: true }).read(pcm);
  return pcm;
}

/** Goertzel power of `hz` over `x` (Hann window), normalised by length. */
function power(x: Int16Array, hz: number): number {
  const n = x.length;
  const c = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const s0 = (x[i] as number) * w + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / (n * n);
}

beforeAll(async () => {
  ex = await startLabExchange(await dbOptions());
  for (const u of ["2001", "2002", "2003"]) ex.table.bind(NUMBER, u);
  dir = mkdtempSync(join(tmpdir(), "deskphone-focus-"));
  labA = alsaLab();
  labB = alsaLab();
  focus = startFocus(ex.wsUrl, ["--retry-every-s", "2"]);
  await focus.registered(15_000);
  p2001 = await startLabPhone(ex, "2001", { lab: labA, earpiece: "earpiece", micHz: HZ.p2001 });
  p2002 = await startLabPhone(ex, "2002", { lab: labA, earpiece: "earpiece2", micHz: HZ.p2002 });
  labB.feed("mic", tone(HZ.p2003, 60, -12));
  bench = await startBench(
    dir,
    "2003",
    {
      account: { user: "2003" },
      exchange: { url: ex.wsUrl },
      audio: { ...labAudio(8000), rtpPorts: [23000, 23998] },
      journal: { path: join(dir, "journal.jsonl") },
    },
    labB.env,
  );
  await bench.waitFor("registered", (s) => s.registration === "registered");
  caller = new PhoneAgent({ server: ex.wsUrl, user: "3001" });
  const registered = new Promise<void>((r) =>
    caller.on("registration", (s) => s === "registered" && r()),
  );
  caller.start();
  await registered;
}, 60_000);

afterAll(async () => {
  clearInterval(callerReader);
  await caller?.stop();
  await bench?.kill();
  await p2001?.stop();
  await p2002?.stop();
  await peer2902?.stop();
  await focus?.stop();
  await ex?.stop();
  await pg?.stop();
  labA?.cleanup();
  labB?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`the conference focus, end to end (real Kamailio, ${DB} database)`, () => {
  it("a caller and three bound phones (idle, preempted, bench) in one room: N−1 audio; the room ends with the caller", async () => {
    // 2002 in a normal call with a sipp phone.
    peer2902 = await registerPhone(ex, "2902");
    p2002.phone.hook(true);
    for (const k of "2902#") p2002.phone.key(k as "2");
    await p2002.waitFor("talking to 2902", (s) => s.phase.kind === "talking");

    // The caller dials the number and sends its tone once the focus answers.
    caller.on("media", (_id, media: CallMedia) => {
      if (!(media instanceof RtpSession))
        throw new Error("the caller's media is not an RtpSession");
      media.startSending(
        new ToneSource({
          segments: [{ ms: 1000, freqs: [HZ.caller], levelDb: -12 }],
          repeat: true,
        }),
      );
      // The caller's ear: 20 ms frames as they fall due (a late timer catches up).
      const start = performance.now();
      callerReader = setInterval(() => {
        const due = Math.floor((performance.now() - start) / 20) - callerHeard.length;
        for (let i = 0; i < due; i++) {
          const frame = new Int16Array(160);
          media.read(frame);
          callerHeard.push(frame);
        }
      }, 20);
    });
    const answered = new Promise<void>((r) => caller.once("remote-answered", () => r()));
    caller.dial("c-1", NUMBER);
    await answered;

    // 2002's peer gets the RFC 4411 BYE; 2002 is in the room without ringing.
    const bye = await peer2902.waitFor(/^BYE /, 15_000);
    expect(header(bye, "Reason")).toEqual(['preemption ;cause=1 ;text="UA Preemption"']);
    const s2002 = await p2002.waitFor(
      "talking with the focus",
      (s) => s.phase.kind === "talking" && s.phase.call.alertClass.name === "emergency",
    );
    expect(s2002.phase.kind).toBe("talking");

    // 2001 rings as for any emergency and is answered by lifting.
    const ringing = await p2001.waitFor("ringing", (s) => s.phase.kind === "ringing", 15_000);
    expect(ringing.phase.kind === "ringing" && ringing.phase.call.alertClass.name).toBe(
      "emergency",
    );
    p2001.phone.hook(true);

    // 2003 rings as an emergency and is answered through the bench API.
    const r2003 = await bench.waitFor("ringing", (s) => s.phase === "ringing", 15_000);
    expect(r2003.call).toMatchObject({ alertClass: "emergency", emergency: true });
    await bench.post("hook", { offHook: true });
    await bench.waitFor("talking", (s) => s.phase === "talking");

    await until("all three joined the room", () =>
      ["2001", "2002", "2003"].every((u) => new RegExp(`: ${u} joined`).test(focus.out())),
    );
    // One room: one "calling" line for the number.
    expect(focus.out().match(/room \S+: emergency 119, calling 2001, 2002, 2003/g)).toHaveLength(1);

    // Let the jitter buffers settle, then listen for 2 s at every party.
    await sleep(1000);
    const marks = {
      caller: callerHeard.length,
      p2001: labA.played("earpiece").length,
      p2002: labA.played("earpiece2").length,
      p2003: labB.played("earpiece").length,
    };
    await sleep(2000);
    const heard: Record<Party, Int16Array> = {
      caller: Int16Array.from(callerHeard.slice(marks.caller).flatMap((f) => [...f])),
      p2001: labA.played("earpiece").subarray(marks.p2001),
      p2002: labA.played("earpiece2").subarray(marks.p2002),
      p2003: labB.played("earpiece").subarray(marks.p2003),
    };
    const parties = Object.keys(HZ) as Party[];
    const report: Record<string, unknown> = {};
    for (const who of parties) {
      const x = heard[who];
      expect(x.length, `${who} heard too little audio`).toBeGreaterThan(8000);
      const others = parties.filter((p) => p !== who);
      // Every other party's tone is recovered (the project's tone analyser, peaks ≥ 5 % of the strongest)…
      const found = frequenciesIn(x, 0, x.length, 8000).map((f) => Math.round(f / 10) * 10);
      const ownDb = 10 * Math.log10(power(x, HZ[who]) + 1e-9);
      const othersDb = others.map((p) => 10 * Math.log10(power(x, HZ[p]) + 1e-9));
      report[who] = { found, ownDb: ownDb.toFixed(1), othersDb: othersDb.map((d) => d.toFixed(1)) };
      expect(found, `${who}: ${JSON.stringify(report)}`).toEqual(
        expect.arrayContaining(others.map((p) => HZ[p])),
      );
      // …and its own is not echoed back: 30 dB under the weakest other.
      expect(ownDb, `${who}: ${JSON.stringify(report)}`).toBeLessThan(Math.min(...othersDb) - 30);
    }

    if (process.env.FOCUS_TEST_VERBOSE) console.log(JSON.stringify(report), focus.out());
    // The caller hangs up: the room ends within a few seconds, every phone is hung up on.
    const t0 = Date.now();
    caller.hangUp("c-1");
    await until("the room ended", () => /ended \(the caller left\)/.test(focus.out()), 5000);
    await p2001.waitFor("hung up on", (s) => s.phase.kind === "hungUp", 5000);
    await p2002.waitFor("hung up on", (s) => s.phase.kind === "hungUp", 5000);
    await bench.waitFor("hung up on", (s) => s.phase === "hungUp", 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 90_000);
});
