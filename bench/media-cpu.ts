/**
 * Benchmark: CPU of one full-duplex G.711 call's media on the phone side —
 * microphone capture (arecord), encoding and sending RTP, receiving through
 * the jitter buffer, decoding and playing on the earpiece (aplay) — measured
 * over MEDIA_SECONDS (default 30) and reported per minute of call, on the
 * JACK rig (bench/jack-rig.ts). The far end runs in another process and is
 * not counted. Prints; asserts nothing.
 *
 *   npm run bench:media
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { AlsaCapture } from "../audio/alsa-capture.ts";
import { AlsaPlayback } from "../audio/alsa-playback.ts";
import { CallMediaThread } from "../audio/call-media-thread.ts";
import { RtpSession } from "../audio/rtp-session.ts";
import { measureBaresip } from "./baresip-call.ts";
import { startJackRig } from "./jack-rig.ts";
import { NativeCallAudio } from "./native-call-audio.ts";

const SECONDS = Number(process.env.MEDIA_SECONDS ?? 30);
const TICK = 100 / 1;

if (process.env.MEDIA_COMPARE) {
  // Each way in a process of its own, one after another, MEDIA_ROUNDS times over
  // (interleaved, so the machine's changing load falls on all alike); medians.
  const ways = (
    process.env.MEDIA_COMPARE === "1" ? "aplay,native,thread,baresip" : process.env.MEDIA_COMPARE
  ).split(",");
  const rounds = Number(process.env.MEDIA_ROUNDS ?? 1);
  const rows = new Map<string, { phone: number[]; total: number[]; cardIncluded: boolean }>();
  for (let round = 0; round < rounds; round++)
    for (const backend of ways) {
      const r = spawnSync(process.execPath, ["--import", "tsx", "bench/media-cpu.ts"], {
        env: { ...process.env, MEDIA_COMPARE: "", MEDIA_BACKEND: backend, MEDIA_JSON: "1" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      const line = r.stdout.split("\n").find((l) => l.startsWith("JSON "));
      if (line) {
        const j = JSON.parse(line.slice(5));
        const row = rows.get(backend) ?? { phone: [], total: [], cardIncluded: !!j.cardIncluded };
        row.phone.push(j.phone);
        row.total.push(j.phone + j.card);
        rows.set(backend, row);
      }
      process.stdout.write(r.stdout.replace(/^JSON .*\n/m, ""));
    }
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    const m = Math.floor(v.length / 2);
    return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
  };
  const med = (b: string, k: "phone" | "total") => median(rows.get(b)?.[k] ?? []);
  console.log(
    `\nmedians of ${rounds} round(s)   phone's media   with card threads   phone vs aplay   total vs baresip`,
  );
  for (const [b, r] of rows)
    console.log(
      `${b.padEnd(24)} ${r.cardIncluded ? "       —  " : `${med(b, "phone").toFixed(2).padStart(8)} %`}      ${med(b, "total").toFixed(2).padStart(8)} %        ${r.cardIncluded ? "    —" : `${(med(b, "phone") / med("aplay", "phone")).toFixed(2)} ×`}         ${(med(b, "total") / med("baresip", "total")).toFixed(2)} ×`,
    );
  process.exit(0);
} // clock ticks per second for /proc stat (getconf CLK_TCK is 100 on Linux)

function childCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
}

// A real-time paced virtual sound card: a file-backed ALSA device would be
// read and written as fast as the CPU allows, which is not what a call does.
const rig = await startJackRig(48000, Number(process.env.MEDIA_JACK_PERIOD ?? 64));
const env = rig.env;
const BACKEND = process.env.MEDIA_BACKEND ?? "thread";
if (BACKEND === "baresip") {
  const r = await measureBaresip(rig, SECONDS);
  const pct = (100 * r.cpuS) / r.wall;
  console.log(
    `media CPU (baresip), one full-duplex G.711 call, ${r.wall.toFixed(1)} s on ${cpus()[0]?.model ?? "?"}, JACK period ${rig.periodMs.toFixed(2)} ms`,
  );
  console.log(
    `  baresip, all threads (the virtual card's JACK client among them): ${pct.toFixed(2)} % of one core, ${((60 * r.cpuS) / r.wall).toFixed(2)} CPU-s per minute`,
  );
  if (process.env.MEDIA_JSON)
    console.log(
      `JSON ${JSON.stringify({ backend: "baresip", phone: pct, card: 0, cardIncluded: true })}`,
    );
  rig.stop();
  process.exit(0);
}
/**
 * Threads are told apart by name. The media thread names itself "call-media"
 * (pthread_setname_np in native/call-media/engine.c) and reports its id. The
 * ALSA jack plugin starts JACK client threads in whichever thread opens the
 * device; libjack (1.9.21 here) leaves them the name of that thread. So: the
 * card's threads opened on this thread are named "jack-client" by naming this
 * thread so for the open (synchronous, nothing else starts a thread meanwhile);
 * those the media thread opens carry its name "call-media" under another id
 * (the engine starts no thread of its own). A libjack that names its threads
 * "jack…" is recognised by that name.
 */
const CARD_THREAD = "jack-client";
const MEDIA_THREAD = "call-media";
const commOf = (tid: string | number) => readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
function openAsCard<T>(open: () => T): T {
  const self = `/proc/self/task/${process.pid}/comm`;
  const name = commOf(process.pid);
  writeFileSync(self, CARD_THREAD);
  try {
    return open();
  } finally {
    writeFileSync(self, name);
  }
}

// A phone takes calls in a process that has been up a while: the call opens after
// MEDIA_IDLE_S (default 10) of idling, so V8's start-up tail (its compiler and the
// memory reducer's collections on the helper threads, 0.5–0.8 % of a core for some
// 20 s after tsx loaded the modules) is not counted as the call's.
await new Promise((r) => setTimeout(r, 1000 * Number(process.env.MEDIA_IDLE_S ?? 10)));
const session =
  BACKEND === "thread"
    ? await CallMediaThread.open({
        localAddress: "127.0.0.1",
        realtimePriority: Number(process.env.MEDIA_RT_PRIORITY ?? 10),
      })
    : await RtpSession.open({ localAddress: "127.0.0.1" });
const far = spawn(process.execPath, ["--import", "tsx", "bench/far-end.ts", String(session.port)], {
  stdio: ["ignore", "pipe", "inherit"],
});
const farPort = await new Promise<number>((resolve) =>
  far.stdout?.once("data", (d) => resolve(Number(String(d).trim()))),
);
session.setRemote("127.0.0.1", farPort);

Object.assign(process.env, {
  ALSA_CONFIG_PATH: env.ALSA_CONFIG_PATH,
  JACK_DEFAULT_SERVER: env.JACK_DEFAULT_SERVER,
  JACK_NO_AUDIO_RESERVATION: "1",
});
let ear: AlsaPlayback | undefined;
let mic: AlsaCapture | undefined;
let nativeAudio: NativeCallAudio | undefined;
if (session instanceof CallMediaThread) {
  session.on("device", (e) => console.error(e.message));
  session.setDevices("ring", "tap");
} else if (BACKEND === "native") {
  nativeAudio = new NativeCallAudio({ earpiece: "ring", microphone: "tap" });
  nativeAudio.on("error", (e) => console.error(e.message));
  nativeAudio.onMicFrame = (f) => (session as RtpSession).sendFrame(f);
  openAsCard(() => nativeAudio?.start(session as RtpSession));
} else {
  ear = new AlsaPlayback({ device: "ring", env, idleCloseMs: 3_600_000 });
  mic = new AlsaCapture({ device: "tap", env });
  const rtp = session as RtpSession;
  mic.on("frame", (f) => rtp.sendFrame(f));
  for (const d of [ear, mic]) d.on("error", (e) => console.error(e.message));
  ear.play(rtp);
  mic.start();
}
await new Promise((r) => setTimeout(r, 1000)); // settle

const pids = () => {
  // biome-ignore lint/suspicious/noExplicitAny: reaching the children for /proc accounting
  const e = ear as any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const m = mic as any;
  return [e?.child?.pid, m?.child?.pid] as (number | undefined)[];
};
const [earPid, micPid] = pids();
const c0 = [childCpuSeconds(earPid), childCpuSeconds(micPid)];
/** What a thread of this process is, by its name and id. */
function kind(tid: string, comm: string, mediaTid: number): string {
  if (Number(tid) === mediaTid) {
    if (comm !== MEDIA_THREAD) console.error(`the media thread ${tid} is named "${comm}"`);
    return "media thread";
  }
  if (comm === MEDIA_THREAD || comm === CARD_THREAD || /^jack/i.test(comm)) return "JACK client";
  if (Number(tid) === process.pid) return "main";
  return comm;
}
/** CPU seconds of each thread of this process, by what it is (/proc/self/task/N/{comm,schedstat}). */
/** Times each thread went on a CPU (schedstat's third field), by the same keys. */
const wakes = new Map<string, number>();
function threads(): Map<string, number> {
  const out = new Map<string, number>();
  const media = session instanceof CallMediaThread ? (session.stats().devices.threadId ?? 0) : 0;
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const comm = commOf(tid);
      // schedstat: nanoseconds on a CPU (finer than stat's 10 ms ticks).
      const [ns, , slices] = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ");
      out.set(`${kind(tid, comm, media)}#${tid}`, Number(ns) / 1e9);
      wakes.set(`${kind(tid, comm, media)}#${tid}`, Number(slices));
    } catch {}
  }
  return out;
}
const th0 = threads();
const w0 = new Map(wakes);
const u0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const wall = (performance.now() - t0) / 1000;
const u = process.cpuUsage(u0);
const th1 = threads();
const c1 = [childCpuSeconds(earPid), childCpuSeconds(micPid)];
const stats = session.stats();

const node = (u.user + u.system) / 1e6;
const aplayCpu = (c1[0] as number) - (c0[0] as number);
const arecordCpu = (c1[1] as number) - (c0[1] as number);
const pct = (s: number) => `${((100 * s) / wall).toFixed(2)} % of one core`;
const perMin = (s: number) => `${((60 * s) / wall).toFixed(2)} CPU-s per minute`;
const perThread = [...th1]
  .map(
    ([k, v]) =>
      [
        k.split("#")[0] as string,
        v - (th0.get(k) ?? 0),
        ((wakes.get(k) ?? 0) - (w0.get(k) ?? 0)) / wall,
      ] as const,
  )
  .filter(([, v]) => v > 0)
  .sort((a, b) => b[1] - a[1]);
// The ALSA jack plugin runs JACK client threads inside whatever opens the
// device; a real sound card has none. Counted apart, and in the total.
const card = perThread.filter(([k]) => k === "JACK client").reduce((t, [, v]) => t + v, 0);
const phone = node - card + aplayCpu + arecordCpu;
console.log(
  `media CPU (${BACKEND}), one full-duplex G.711 call, ${wall.toFixed(1)} s on ${cpus()[0]?.model ?? "?"}, JACK period ${rig.periodMs.toFixed(2)} ms`,
);
console.log(`  this process, all threads:                 ${pct(node)}`);
console.log(`    of which the virtual card's JACK client:  ${pct(card)}`);
// aplay and arecord open the card themselves: their JACK client threads are in their figures.
if (BACKEND === "aplay") {
  console.log(
    `  aplay (earpiece):                          ${pct(aplayCpu)} (/proc, 10 ms ticks; its JACK client included)`,
  );
  console.log(
    `  arecord (microphone):                      ${pct(arecordCpu)} (/proc, 10 ms ticks; its JACK client included)`,
  );
}
console.log(`  the phone's media:                         ${pct(phone)}, ${perMin(phone)}`);
console.log(
  `  with the virtual card's threads:           ${pct(phone + card)}, ${perMin(phone + card)}`,
);
console.log(
  `  by thread (% of one core, times on a CPU a second): ${perThread.map(([k, v, n]) => `${k} ${((100 * v) / wall).toFixed(2)} % ${n.toFixed(0)}/s`).join(", ")}`,
);
if (process.env.MEDIA_JSON)
  console.log(
    `JSON ${JSON.stringify({ backend: BACKEND, phone: (100 * phone) / wall, card: (100 * card) / wall })}`,
  );
console.log(
  `  packets sent ${stats.sent}, received ${stats.received}, lost ${stats.lost}, concealed ${stats.concealed}, jitter ${stats.jitterMs.toFixed(2)} ms`,
);
if ("devices" in stats) {
  const d = stats.devices as Record<string, number>;
  console.log(
    `  devices: mic frames ${d.micFrames} (short ${d.micShort}, dropped ${d.micDropped}), earpiece frames ${d.earFrames} (underruns ${d.earUnderruns}); jitter buffer underruns ${stats.jitterBuffer.underruns}; media thread ${d.realtime ? "real-time (SCHED_FIFO)" : "not real-time"}`,
  );
}

await ear?.close();
await mic?.stop();
nativeAudio?.stop();
session.close();
far.kill("SIGTERM");
rig.stop();
