/**
 * Benchmark: time from "ring now" (AlsaPlayback.play) to the first tone
 * sample leaving ALSA, on a real-time paced virtual device (JACK dummy
 * driver + ALSA jack plugin). Prints figures; asserts nothing.
 *
 * Then ring onset on the phone: the firmware's Phone (controller, SIP agent,
 * journal) registered on the lab exchange, an emergency INVITE from sipp, timed
 * from the INVITE arriving on the phone's WebSocket to the first ring sample
 * leaving ALSA; RING_ONSET_RUNS of each journal mode (bench/journal-modes.ts),
 * interleaved. RING_ONSET_RUNS=0 skips it.
 *
 *   npm run bench:ring
 */
import { AlsaCapture } from "../audio/alsa-capture.ts";
import { AlsaNativePlayback } from "../audio/alsa-native.ts";
import { AlsaPlayback } from "../audio/alsa-playback.ts";
import { SILENCE } from "../audio/frame-source.ts";
import { ToneSource } from "../audio/tone-source.ts";
import { CADENCES, type Cadence } from "../firmware/alerting/cadences.ts";
import { Phone } from "../firmware/app/phone.ts";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../sip/phone-agent.ts";
import { runSipp } from "../test/support/sipp.ts";
import { cancelScenario } from "../test/support/sipp-scenarios.ts";
import { startJackRig } from "./jack-rig.ts";
import { journalModes } from "./journal-modes.ts";

const RATE = Number(process.env.RING_RATE ?? 8000);
const FRAME_MS = Number(process.env.RING_FRAME_MS ?? 20);
const LEAD = Number(process.env.RING_LEAD ?? 2);
const ALSA = {
  periodUs: Number(process.env.RING_PERIOD_US ?? 20_000),
  bufferUs: Number(process.env.RING_BUFFER_US ?? 60_000),
};
const TAP_FRAME = 8; // 1 ms frames from the tap
// The clock of the SIP agent's wire tap.
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return { n: s.length, min: s[0] as number, median: q(0.5), p90: q(0.9), max: s.at(-1) as number };
}
const fmt = (o: ReturnType<typeof stats>) =>
  `n=${o.n} min ${o.min.toFixed(1)} ms, median ${o.median.toFixed(1)} ms, p90 ${o.p90.toFixed(1)} ms, max ${o.max.toFixed(1)} ms`;

const BACKEND = process.env.RING_BACKEND ?? "aplay";
const rig = await startJackRig();
// The in-process PCM reads the ALSA and JACK settings from this process's environment.
Object.assign(process.env, {
  ALSA_CONFIG_PATH: rig.env.ALSA_CONFIG_PATH,
  JACK_DEFAULT_SERVER: rig.env.JACK_DEFAULT_SERVER,
  JACK_NO_AUDIO_RESERVATION: "1",
});
// What each backend is given, and printed as such: the in-process ringer
// exactly as firmware/app/build-phone.ts opens it when the defaults are kept
// (20 ms writes, 2 queued; its ALSA latency is (queued + 2) writes).
const NATIVE = { rate: RATE, frameMs: FRAME_MS, queueFrames: LEAD };
const APLAY = { rate: RATE, frameMs: FRAME_MS, leadFrames: LEAD, alsa: ALSA };
const SETTINGS =
  BACKEND === "native"
    ? `${NATIVE.rate} Hz, writes of ${NATIVE.frameMs} ms, ${NATIVE.queueFrames} queued, ALSA latency ${NATIVE.frameMs * (NATIVE.queueFrames + 2)} ms`
    : `${APLAY.rate} Hz, writes of ${APLAY.frameMs} ms, ${APLAY.leadFrames} ahead, ALSA period ${APLAY.alsa.periodUs / 1000} ms, buffer ${APLAY.alsa.bufferUs / 1000} ms`;
const makePlayer = (extra: { idleCloseMs?: number } = {}) =>
  BACKEND === "native"
    ? new AlsaNativePlayback({ device: "ring", ...NATIVE, ...extra })
    : new AlsaPlayback({ device: "ring", env: rig.env, ...APLAY, ...extra });
const tap = new AlsaCapture({
  device: "tap",
  rate: RATE,
  env: rig.env,
  frameSamples: TAP_FRAME,
  alsa: { periodUs: 1000, bufferUs: 4000 },
});
let waiting: ((t: number) => void) | undefined;
tap.on("frame", (f) => {
  const at = now();
  if (!waiting) return;
  const k = f.findIndex((v) => Math.abs(v) > 200);
  // The sample left ALSA (TAP_FRAME - k) samples before its 1 ms frame was complete.
  if (k >= 0) {
    const w = waiting;
    waiting = undefined;
    w(at - ((TAP_FRAME - k) * 1000) / RATE);
  }
});
tap.on("error", (e) => console.error(e.message));
tap.start();
await sleep(500);

const emergency = CADENCES.emergency as Cadence;
async function measure(player: AlsaPlayback | AlsaNativePlayback, cold: boolean): Promise<number> {
  const heard = new Promise<number>((r) => {
    waiting = r;
  });
  const t0 = now();
  player.play(new ToneSource(emergency, { rate: RATE, rampMs: 0 }));
  const t1 = await Promise.race([heard, sleep(3000).then(() => Number.NaN)]);
  player.stop();
  if (cold) await player.close();
  return t1 - t0;
}

/** INVITE in on the phone's WebSocket → first ring sample, per journal mode. */
async function ringOnset(runs: number): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (runs <= 0) return out;
  const ex = await startLabExchange();
  ex.table.bind("112", "2001");
  const journal = journalModes();
  let mode = journal.modes[0] as (typeof journal.modes)[number];
  let inviteAt = 0;
  const agent = new PhoneAgent({
    server: ex.wsUrl,
    user: "2001",
    wireTap: (dir, msg, at) => {
      if (dir === "in" && msg.startsWith("INVITE ")) inviteAt = at;
    },
  });
  const ringer = makePlayer({ idleCloseMs: Number.POSITIVE_INFINITY });
  ringer.on("error", (e) => console.error(e.message));
  const phone = new Phone({ agent, ringer, journal: { append: (r) => mode.sink.append(r) } });
  phone.start();
  for (let t = 0; !phone.state.registered; t += 20) {
    if (t > 10_000) throw new Error("the phone did not register");
    await sleep(20);
  }
  // As the firmware runs it: the ringer is open before the first call.
  ringer.play(SILENCE);
  await sleep(500);
  for (let i = 0; i < runs * journal.modes.length; i++) {
    mode = journal.modes[i % journal.modes.length] as typeof mode;
    inviteAt = 0;
    const heard = new Promise<number>((r) => {
      waiting = r;
    });
    const caller = runSipp({
      xml: cancelScenario({ from: "3001", to: "112", afterMs: 300 }),
      target: `${ex.host}:${ex.udpPort}`,
    });
    const t1 = await Promise.race([heard, sleep(3000).then(() => Number.NaN)]);
    waiting = undefined;
    const xs = out.get(mode.name) ?? [];
    xs.push(inviteAt ? t1 - inviteAt : Number.NaN);
    out.set(mode.name, xs);
    await caller;
    for (let t = 0; phone.state.phase.kind !== "idle" && t < 3000; t += 10) await sleep(10);
    await sleep(150 + Math.random() * 100);
  }
  await phone.stop();
  await ex.stop();
  await journal.close();
  return out;
}

const warm: number[] = [];
const ringer = makePlayer({ idleCloseMs: 60_000 });
ringer.on("error", (e) => console.error(e.message));
ringer.play(SILENCE);
await sleep(500);
for (let i = 0; i < 20; i++) {
  warm.push(await measure(ringer, false));
  ringer.play(SILENCE);
  await sleep(150 + Math.random() * 100);
}
await ringer.close();

const cold: number[] = [];
for (let i = 0; i < 10; i++) {
  const p = makePlayer();
  cold.push(await measure(p, true));
  await sleep(200);
}

const ONSET_RUNS = Number(process.env.RING_ONSET_RUNS ?? 10);
const onset = await ringOnset(ONSET_RUNS);

await tap.stop();
rig.stop();

console.log(
  `ring latency (${BACKEND}), JACK dummy ${rig.periodMs.toFixed(2)} ms periods, ALSA jack plugin, ${SETTINGS}, tap resolution 1 ms`,
);

console.log(
  `  device already open (ringer kept open): ${fmt(stats(warm.filter(Number.isFinite)))}`,
);
console.log(
  `  device closed (opened by play):         ${fmt(stats(cold.filter(Number.isFinite)))}`,
);
for (const [name, xs] of onset)
  console.log(
    `  ring onset on the phone, INVITE in → first ring sample, ${name}: ${fmt(stats(xs.filter(Number.isFinite)))}` +
      (xs.some((x) => !Number.isFinite(x))
        ? ` (${xs.filter((x) => !Number.isFinite(x)).length} lost)`
        : ""),
  );
console.log(
  `  lost measurements: ${warm.filter((x) => !Number.isFinite(x)).length + cold.filter((x) => !Number.isFinite(x)).length}`,
);
