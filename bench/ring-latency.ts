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
 *
 * `run()` is npm run bench's part: ring onset alone, in the firmware's
 * configuration (the in-process ringer at 48 kHz, the ring rendered and played
 * by the addon's thread with a 120 ms buffer, kept open; the journal on).
 */
import { pathToFileURL } from "node:url";
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
import { type PartResult, spread } from "./bench-table.ts";
import { type JackRig, startJackRig } from "./jack-rig.ts";
import { journalModes } from "./journal-modes.ts";

interface RingSettings {
  backend: "native" | "aplay";
  rate: number;
  frameMs: number;
  lead: number;
  alsa: { periodUs: number; bufferUs: number };
}

const TAP_FRAME = 8; // 1 ms frames from the tap (at 8 kHz; scaled with the rate)
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

/** The rig, the ringer as the settings say, and the tap that hears its first sample. */
async function ringRig(set: RingSettings) {
  const rig: JackRig = await startJackRig();
  // The in-process PCM reads the ALSA and JACK settings from this process's environment.
  Object.assign(process.env, {
    ALSA_CONFIG_PATH: rig.env.ALSA_CONFIG_PATH,
    JACK_DEFAULT_SERVER: rig.env.JACK_DEFAULT_SERVER,
    JACK_NO_AUDIO_RESERVATION: "1",
  });
  // What each backend is given, and printed as such: the in-process ringer
  // exactly as firmware/app/build-phone.ts opens it when the defaults are kept
  // (a tone's period rendered and looped by the addon's thread, ALSA buffer
  // 120 ms; 20 ms writes, 2 queued only for a source of unknown period).
  const native = { rate: set.rate, frameMs: set.frameMs, queueFrames: set.lead };
  const aplay = { rate: set.rate, frameMs: set.frameMs, leadFrames: set.lead, alsa: set.alsa };
  const settings =
    set.backend === "native"
      ? `${native.rate} Hz, the ring rendered and looped by the addon's thread, ALSA buffer ${Math.max(120, native.frameMs * (native.queueFrames + 2))} ms`
      : `${aplay.rate} Hz, writes of ${aplay.frameMs} ms, ${aplay.leadFrames} ahead, ALSA period ${aplay.alsa.periodUs / 1000} ms, buffer ${aplay.alsa.bufferUs / 1000} ms`;
  const makePlayer = (extra: { idleCloseMs?: number } = {}) =>
    set.backend === "native"
      ? new AlsaNativePlayback({ device: "ring", ...native, ...extra })
      : new AlsaPlayback({ device: "ring", env: rig.env, ...aplay, ...extra });
  const tapFrame = (TAP_FRAME * set.rate) / 8000;
  const tap = new AlsaCapture({
    device: "tap",
    rate: set.rate,
    env: rig.env,
    frameSamples: tapFrame,
    alsa: { periodUs: 1000, bufferUs: 4000 },
  });
  let waiting: ((t: number) => void) | undefined;
  tap.on("frame", (f) => {
    const at = now();
    if (!waiting) return;
    const k = f.findIndex((v) => Math.abs(v) > 200);
    // The sample left ALSA (tapFrame - k) samples before its 1 ms frame was complete.
    if (k >= 0) {
      const w = waiting;
      waiting = undefined;
      w(at - ((tapFrame - k) * 1000) / set.rate);
    }
  });
  tap.on("error", (e) => console.error(e.message));
  tap.start();
  await sleep(500);
  /** Resolves with when the tap first hears the tone, NaN after 3 s. */
  const heard = () => {
    const p = new Promise<number>((r) => {
      waiting = r;
    });
    return Promise.race([p, sleep(3000).then(() => Number.NaN)]).finally(() => {
      waiting = undefined;
    });
  };
  return {
    rig,
    settings,
    makePlayer,
    heard,
    async stop() {
      await tap.stop();
      rig.stop();
    },
  };
}
type RingRig = Awaited<ReturnType<typeof ringRig>>;

async function measure(
  r: RingRig,
  set: RingSettings,
  player: AlsaPlayback | AlsaNativePlayback,
  cold: boolean,
): Promise<number> {
  const heard = r.heard();
  const t0 = now();
  player.play(new ToneSource(CADENCES.emergency as Cadence, { rate: set.rate, rampMs: 0 }));
  const t1 = await heard;
  player.stop();
  if (cold) await player.close();
  return t1 - t0;
}

/** INVITE in on the phone's WebSocket → first ring sample, per journal mode. */
async function ringOnset(r: RingRig, runs: number, spec?: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (runs <= 0) return out;
  const ex = await startLabExchange();
  ex.table.bind("112", "2001");
  const journal = journalModes(spec);
  let mode = journal.modes[0] as (typeof journal.modes)[number];
  let inviteAt = 0;
  const agent = new PhoneAgent({
    server: ex.wsUrl,
    user: "2001",
    wireTap: (dir, msg, at) => {
      if (dir === "in" && msg.startsWith("INVITE ")) inviteAt = at;
    },
  });
  const ringer = r.makePlayer({ idleCloseMs: Number.POSITIVE_INFINITY });
  ringer.on("error", (e) => console.error(e.message));
  const phone = new Phone({ agent, ringer, journal: { append: (x) => mode.sink.append(x) } });
  try {
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
      const heard = r.heard();
      const caller = runSipp({
        xml: cancelScenario({ from: "3001", to: "112", afterMs: 300 }),
        target: `${ex.host}:${ex.udpPort}`,
      });
      const t1 = await heard;
      const xs = out.get(mode.name) ?? [];
      xs.push(inviteAt ? t1 - inviteAt : Number.NaN);
      out.set(mode.name, xs);
      await caller;
      for (let t = 0; phone.state.phase.kind !== "idle" && t < 3000; t += 10) await sleep(10);
      await sleep(150 + Math.random() * 100);
    }
  } finally {
    await phone.stop();
    await ex.stop();
    await journal.close();
  }
  return out;
}

/** The firmware's ringer: what build-phone.ts opens. */
const FIRMWARE_RINGER: RingSettings = {
  backend: "native",
  rate: 48000,
  frameMs: 20,
  lead: 2,
  alsa: { periodUs: 20_000, bufferUs: 60_000 },
};

/** npm run bench's part: ring onset in the firmware's configuration, journal on. */
export async function run(o: { quick?: boolean; runs?: number } = {}): Promise<PartResult> {
  const runs = o.runs ?? (o.quick ? 5 : 20);
  const r = await ringRig(FIRMWARE_RINGER);
  let onset: Map<string, number[]>;
  try {
    onset = await ringOnset(r, runs, "on");
  } finally {
    await r.stop();
  }
  const xs = [...onset.values()][0] ?? [];
  const lost = xs.filter((x) => !Number.isFinite(x)).length;
  return {
    rows: [
      {
        id: "ring-onset",
        label: "ring onset: emergency INVITE in → first ring sample out of ALSA",
        unit: "ms",
        ours: spread(xs),
        target: { kind: "atMost", value: 30 },
        config: `the firmware's Phone in the bench's process (controller, SIP agent, journal on: written ahead, fsync on the threadpool), the in-process ringer kept open: ${r.settings}; JACK dummy card ${r.rig.periodMs.toFixed(2)} ms periods through the ALSA jack plugin, tap at 1 ms resolution; sipp calls 112 (bound to the phone) and CANCELs; timed from the INVITE on the phone's WebSocket (its wire tap)${lost ? `; ${lost} of ${xs.length} not heard within 3 s` : ""}`,
      },
    ],
  };
}

async function main() {
  const set: RingSettings = {
    backend: process.env.RING_BACKEND === "native" ? "native" : "aplay",
    rate: Number(process.env.RING_RATE ?? 8000),
    frameMs: Number(process.env.RING_FRAME_MS ?? 20),
    lead: Number(process.env.RING_LEAD ?? 2),
    alsa: {
      periodUs: Number(process.env.RING_PERIOD_US ?? 20_000),
      bufferUs: Number(process.env.RING_BUFFER_US ?? 60_000),
    },
  };
  const r = await ringRig(set);
  const warm: number[] = [];
  const ringer = r.makePlayer({ idleCloseMs: 60_000 });
  ringer.on("error", (e) => console.error(e.message));
  ringer.play(SILENCE);
  await sleep(500);
  for (let i = 0; i < 20; i++) {
    warm.push(await measure(r, set, ringer, false));
    ringer.play(SILENCE);
    await sleep(150 + Math.random() * 100);
  }
  await ringer.close();

  const cold: number[] = [];
  for (let i = 0; i < 10; i++) {
    const p = r.makePlayer();
    cold.push(await measure(r, set, p, true));
    await sleep(200);
  }

  const onset = await ringOnset(r, Number(process.env.RING_ONSET_RUNS ?? 10));
  await r.stop();

  console.log(
    `ring latency (${set.backend}), JACK dummy ${r.rig.periodMs.toFixed(2)} ms periods, ALSA jack plugin, ${r.settings}, tap resolution 1 ms`,
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
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
