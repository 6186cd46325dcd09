/**
 * The in-process ringer (audio/alsa-native.ts over native/alsa-pcm) on a
 * device paced by the clock like a card (test/support/alsa-exclusive: it
 * underruns when nobody writes in time, and logs each start and stop), with
 * this process's event loop blocked while it rings. What a listener heard is
 * rebuilt from the recording and the device's log: each stretch between a
 * start and the next stop or restart sits at its own time, silence between.
 */
import { describe, expect, it } from "vitest";
import { AlsaNativePlayback, nativePcm } from "../../audio/alsa-native.ts";
import { limitSource } from "../../audio/frame-source.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { CADENCES, type Cadence } from "../../firmware/alerting/cadences.ts";
import { matchCadence } from "../../rig/guest/cadence-match.ts";
import { alsaLabInProcess } from "../support/alsa-lab-in-process.ts";
import { analyse } from "../support/tone-analyser.ts";

const RATE = 48000;
const DEVICE = "hw-earpiece"; // the lab's one exclusive, clock-paced playback device
const emergency = CADENCES.emergency as Cadence;

const lab = alsaLabInProcess({ exclusive: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;
/** The event loop held, as a synchronous garbage collection or a slow machine holds it. */
function block(ms: number): void {
  const until = now() + ms;
  while (now() < until) {}
}

/** The ringer as firmware/app/build-phone.ts makes it. */
const ringer = () =>
  new AlsaNativePlayback({
    device: DEVICE,
    rate: RATE,
    frameMs: 20,
    queueFrames: 2,
    idleCloseMs: Number.POSITIVE_INFINITY,
  });

/**
 * What came out of the device, on its own clock from the first start: each
 * start's frames at their time, silence where it was stopped or underran.
 */
function heardOnTheDevice(
  sinceMs: number,
  stopAtMs: number,
): { audio: Int16Array; starts: number } {
  const x = lab().played(DEVICE);
  const all = lab()
    .deviceLog(DEVICE)
    .filter((e) => (e.event === "start" || e.event === "stop") && e.atMs >= sinceMs);
  // Up to the drop that stop() made (the silence the thread then plays is not the ring).
  const dropped = all.findIndex((e) => e.event === "stop" && e.atMs >= stopAtMs);
  const log = dropped < 0 ? all : all.slice(0, dropped + 1);
  const starts = log.filter((e) => e.event === "start");
  const t0 = starts[0]?.atMs ?? 0;
  const end = log.at(-1)?.atMs ?? t0;
  const audio = new Int16Array(Math.ceil(((end - t0) / 1000) * RATE) + 1);
  log.forEach((e, i) => {
    if (e.event !== "start") return;
    const next = log[i + 1];
    const from = e.frames ?? 0;
    const at = Math.round(((e.atMs - t0) / 1000) * RATE);
    // Until the next stop (a drop: what was queued is not heard) or restart.
    const until = next ? Math.round(((next.atMs - e.atMs) / 1000) * RATE) : x.length - from;
    const part = x.subarray(from, Math.min(x.length, from + until, next?.frames ?? x.length));
    audio.set(part.subarray(0, Math.max(0, audio.length - at)), at);
  });
  return { audio, starts: starts.length };
}

describe("the ringer with the event loop blocked", () => {
  it("rings the emergency cadence without a gap while the loop is held 300 ms four times", async () => {
    const since = now();
    const p = ringer();
    const errors: Error[] = [];
    p.on("error", (e) => errors.push(e));
    p.play(new ToneSource(emergency, { rate: RATE, gainDb: 0 }));
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      block(300);
    }
    await sleep(1200);
    const underruns = p.underruns;
    const realtime = p.realtime;
    const stopAt = now();
    p.stop(); // the ring dropped (a "stop" in the log), then silence
    await p.close();
    expect(errors).toEqual([]);
    const { audio, starts } = heardOnTheDevice(since, stopAt);
    // Said when it fails: when the device (re)started, ms from play(), and the frame it started on.
    const log = lab()
      .deviceLog(DEVICE)
      .filter((e) => e.event === "start" && e.atMs >= since && e.atMs <= stopAt)
      .map((e) => `${Math.round(e.atMs - since)} ms: frame ${e.frames}`);
    // Cut 100 ms into the last whole period's successor: where stop() cut the ring the
    // analyser can split off a sliver, and only the segment in progress is not judged.
    const period = (emergency.segments.reduce((t, g) => t + g.ms, 0) * RATE) / 1000;
    const cut = Math.floor(audio.length / period) * period + RATE / 10;
    const heard = analyse(audio.subarray(0, Math.min(audio.length, cut)), RATE);
    const trace = heard.map((s) => (s.on ? `${s.ms}@${s.freqs[0]?.toFixed(0)}` : `-${s.ms}`));
    // One start: the device never ran dry, so it never restarted.
    const about = JSON.stringify({ realtime, log, trace: trace.slice(0, 30) });
    expect({ starts, underruns }, about).toEqual({ starts: 1, underruns: 0 });
    // From the first sound on, every segment of at least one whole period, as the cadence says.
    const m = matchCadence(heard, emergency);
    expect(m.why).toMatch(/as emergency$/);
    expect(m.judged).toBeGreaterThanOrEqual(2 * emergency.segments.length);
  });

  it("stops at once: nothing of the ring is heard after stop(), then silence", async () => {
    const p = ringer();
    p.play(new ToneSource(emergency, { rate: RATE }));
    await sleep(400);
    expect(p.looping).toBe(true);
    const stopAt = now();
    p.stop();
    const returnedAt = now();
    expect(p.looping).toBe(false);
    expect(p.asleep).toBe(false); // still playing its silence
    await sleep(300);
    const log = lab().deviceLog(DEVICE);
    const asleep = p.asleep;
    await p.close();
    // snd_pcm_drop: the device stopped within the call, the 120 ms it had queued not played.
    const stop = log.find((e) => e.event === "stop" && e.atMs >= stopAt);
    expect(stop?.atMs).toBeGreaterThanOrEqual(stopAt);
    expect(stop?.atMs).toBeLessThanOrEqual(returnedAt);
    // Then the thread plays a buffer of silence, stops the stream and sleeps: all it
    // played after is zeros, and between rings the device is stopped and nothing wakes.
    const restart = log.filter((e) => e.event === "start" && e.atMs > stopAt);
    expect(restart).toHaveLength(1);
    const stopped = log.filter((e) => e.event === "stop" && e.atMs > (restart[0]?.atMs ?? 0));
    expect(stopped).toHaveLength(1);
    expect(asleep).toBe(true);
    const after = lab()
      .played(DEVICE)
      .subarray(restart[0]?.frames ?? 0);
    expect(after.length).toBeGreaterThan(0);
    expect(after.some((v) => v !== 0)).toBe(false);
  });

  it("a tone played once is heard to its end, then 'finished', and the device is quiet", async () => {
    const before = lab().played(DEVICE).length;
    const p = ringer();
    const finished = new Promise<number>((r) => p.once("finished", () => r(now())));
    const startAt = now();
    p.play(new ToneSource(CADENCES["bellcore-dr5"] as Cadence, { rate: RATE }));
    const at = await Promise.race([finished, sleep(3000).then(() => Number.NaN)]);
    expect(at - startAt).toBeGreaterThan(500);
    expect(p.looping).toBe(false);
    await p.close();
    const x = lab().played(DEVICE).subarray(before);
    const heard = analyse(x, RATE).filter((s) => s.on);
    expect(heard).toHaveLength(1);
    expect(Math.abs((heard[0]?.ms ?? 0) - 500)).toBeLessThanOrEqual(5);
    expect(heard[0]?.freqs.map(Math.round)).toEqual([440, 480]);
  });

  it("a device that is busy gives one error, and rings when it is free again", async () => {
    const pcm = nativePcm();
    if (!pcm) throw new Error("native/alsa-pcm is not built");
    const holder = pcm.open(DEVICE, false, RATE, 1, 120_000); // someone else has the card
    const p = ringer();
    const errors: Error[] = [];
    p.on("error", (e) => errors.push(e));
    p.play(new ToneSource(emergency, { rate: RATE }));
    expect(p.looping).toBe(false);
    await sleep(600);
    pcm.close(holder);
    const before = lab().played(DEVICE).length;
    for (let t = 0; !p.looping && t < 3000; t += 50) await sleep(50);
    expect(p.looping).toBe(true);
    await sleep(1600);
    p.stop();
    await p.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/ALSA device "hw-earpiece" failed: .*busy/i);
    // The ring from the start of its period: the whole first warble (the analyser
    // finds a run's frequencies around its middle, so it is given the whole run).
    const heard = analyse(
      lab()
        .played(DEVICE)
        .subarray(before, before + 1.5 * RATE),
      RATE,
    );
    expect(heard.filter((s) => s.on).map((s) => Math.round(s.freqs[0] ?? 0))).toEqual([
      1400, 950, 1400, 950, 1400, 950, 1400, 950,
    ]);
  });

  it("a source of unknown period plays through the timer path, to its end", async () => {
    const before = lab().played(DEVICE).length;
    const p = ringer();
    const finished = new Promise<void>((r) => p.once("finished", () => r()));
    // limitSource hides the tone's period: the ringer cannot render it ahead.
    p.play(limitSource(new ToneSource(CADENCES["ring-de"] as Cadence, { rate: RATE }), 300, RATE));
    expect(p.looping).toBe(false);
    await Promise.race([finished, sleep(3000)]);
    await sleep(100);
    await p.close();
    // The recording: what was written (an underrun under load would not show here).
    const heard = analyse(lab().played(DEVICE).subarray(before), RATE).filter((s) => s.on);
    expect(new Set(heard.map((s) => Math.round(s.freqs[0] ?? 0)))).toEqual(new Set([425]));
    expect(Math.abs(heard.reduce((t, s) => t + s.ms, 0) - 300)).toBeLessThanOrEqual(25);
  });
});

describe("ToneSource.periodSamples", () => {
  it("is given for every repeating cadence, and one period looped is what the source renders", () => {
    for (const c of Object.values(CADENCES)) {
      const t = new ToneSource(c, { rate: RATE, gainDb: -6 });
      if (!c.repeat) {
        expect(t.periodSamples, c.name).toBeUndefined();
        expect(t.totalSamples, c.name).toBeGreaterThan(0);
        continue;
      }
      const n = t.periodSamples as number;
      expect(n, c.name).toBe(Math.round(c.segments.reduce((s, g) => s + g.ms, 0) * (RATE / 1000)));
      const x = new Int16Array(2 * n);
      t.read(x);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs((x[i] ?? 0) - (x[n + i] ?? 0)));
      // The same samples, or the period ends in silence and only a tone's phase after it differs.
      if (worst > 1) expect(c.segments.at(-1)?.freqs, c.name).toEqual([]);
    }
  });
});
