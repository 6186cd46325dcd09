/** Every cadence preset played through a real ALSA PCM into a file, then recovered by analysis. */
import { afterAll, describe, expect, it } from "vitest";
import { AlsaCapture } from "../../audio/alsa-capture.ts";
import { AlsaPlayback } from "../../audio/alsa-playback.ts";
import type { AlsaDeviceError } from "../../audio/alsa-process.ts";
import { limitSource } from "../../audio/frame-source.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { CADENCES, type Cadence, periodMs } from "../../firmware/alerting/cadences.ts";
import { alsaLab } from "../support/alsa-lab.ts";
import { analyse, type HeardSegment } from "../support/tone-analyser.ts";

const lab = alsaLab();
afterAll(() => lab.cleanup());

/** The cadence as a listener hears it: adjacent segments with the same sound merged. */
function expected(c: Cadence): { on: boolean; ms: number; freqs: number[] }[] {
  const out: { on: boolean; ms: number; freqs: number[] }[] = [];
  for (const s of c.segments) {
    const key = [...s.freqs].sort((a, b) => a - b);
    const last = out.at(-1);
    if (last && JSON.stringify(last.freqs) === JSON.stringify(key)) last.ms += s.ms;
    else out.push({ on: key.length > 0, ms: s.ms, freqs: key });
  }
  return out;
}

async function playToFile(name: string, c: Cadence, rate: number, ms: number): Promise<Int16Array> {
  const device = `ringer`;
  const p = new AlsaPlayback({ device, rate, paced: false, env: lab.env });
  const errors: AlsaDeviceError[] = [];
  p.on("error", (e) => errors.push(e));
  const done = new Promise<void>((r) => p.once("finished", () => r()));
  p.play(limitSource(new ToneSource(c, { rate }), ms, rate));
  await done;
  await p.close({ drain: true });
  expect(errors, name).toEqual([]);
  return lab.played(device);
}

function compare(
  name: string,
  heard: HeardSegment[],
  want: ReturnType<typeof expected>,
  continuous: boolean,
) {
  // The 5 ms ramp hides the first millisecond or so of sound.
  const h = heard.filter((s, i) => !(i === 0 && !s.on && s.ms < 10));
  if (continuous) {
    expect(h, name).toHaveLength(1);
  }
  const n = continuous ? 1 : want.length;
  for (let i = 0; i < n; i++) {
    const got = h[i];
    const w = want[i];
    expect(got, `${name} segment ${i}`).toBeDefined();
    if (!got || !w) return;
    expect(got.on, `${name} segment ${i} on/off`).toBe(w.on);
    if (!continuous)
      expect(
        Math.abs(got.ms - w.ms),
        `${name} segment ${i}: ${got.ms} ms, want ${w.ms}`,
      ).toBeLessThanOrEqual(10);
    expect(got.freqs.length, `${name} segment ${i} freqs ${got.freqs}`).toBe(w.freqs.length);
    got.freqs.forEach((f, k) => {
      const wf = w.freqs[k] as number;
      expect(
        Math.abs(f - wf) / wf,
        `${name} segment ${i}: ${f} Hz, want ${wf}`,
      ).toBeLessThanOrEqual(0.02);
    });
  }
}

describe("cadence presets through ALSA", () => {
  // Serially: each run plays into the same file device, as the ringer does.
  it.each(Object.keys(CADENCES))("%s is played and recovered (8 kHz)", async (name) => {
    const c = CADENCES[name] as Cadence;
    const want = expected(c);
    const continuous = c.repeat && want.length === 1;
    const ms = c.repeat ? Math.max(2000, periodMs(c) + 500) : periodMs(c) + 500;
    const samples = await playToFile(name, c, 8000, ms);
    const rendered = c.repeat ? ms : periodMs(c);
    expect(samples.length).toBeGreaterThanOrEqual((rendered * 8000) / 1000);
    compare(name, analyse(samples.subarray(0, (ms * 8000) / 1000), 8000), want, continuous);
  });

  it("renders at 48 kHz as well", async () => {
    const c = CADENCES.emergency as Cadence;
    const samples = await playToFile("emergency@48k", c, 48000, 2000);
    compare("emergency@48k", analyse(samples.subarray(0, 96000), 48000), expected(c), false);
  });

  it("the emergency cadence is told apart from every other preset by analysis", async () => {
    const heard = (s: Int16Array) =>
      analyse(s, 8000)
        .filter((x) => x.on)
        .map((x) => x.freqs.map(Math.round).join("+"));
    const em = new Set(
      heard(await playToFile("emergency", CADENCES.emergency as Cadence, 8000, 1500)),
    );
    // The emergency's own call-waiting tone (an emergency waiting during another, in the
    // earpiece) is meant to be heard as the emergency warble: it must, every other preset must not.
    const emergencyLike = new Set(["emergency", "emergency-waiting"]);
    for (const [name, c] of Object.entries(CADENCES)) {
      if (name === "emergency") continue;
      const other = new Set(heard(await playToFile(name, c, 8000, 1500)));
      if (emergencyLike.has(name)) {
        expect(
          [...other].every((f) => em.has(f)),
          `${name} is the emergency warble`,
        ).toBe(true);
        continue;
      }
      for (const f of other) expect(em.has(f), `${name} sounds like emergency (${f})`).toBe(false);
    }
  });
});

describe("device failures", () => {
  it("a device that fails to open gives one clear error, no crash, and keeps trying quietly", async () => {
    const p = new AlsaPlayback({ device: "no_such_ringer", env: lab.env });
    const errors: Error[] = [];
    p.on("error", (e) => errors.push(e));
    p.play(new ToneSource(CADENCES["ring-us"] as Cadence));
    await new Promise((r) => setTimeout(r, 1500));
    await p.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(
      /ALSA device "no_such_ringer" failed \(exit 1\): .*Unknown PCM no_such_ringer/,
    );
  });

  it("capture delivers 20 ms frames of what the microphone device is fed", async () => {
    const fed = Int16Array.from({ length: 1600 }, (_, i) => ((i * 37) % 2000) - 1000);
    lab.feed("mic", fed);
    const cap = new AlsaCapture({ device: "mic", env: lab.env });
    const frames: Int16Array[] = [];
    const got = new Promise<void>((resolve) =>
      cap.on("frame", (f) => {
        frames.push(f);
        if (frames.length === 10) resolve();
      }),
    );
    cap.start();
    await got;
    await cap.stop();
    expect(frames[0]?.length).toBe(160);
    const joined = Int16Array.from(frames.flatMap((f) => [...f]));
    expect([...joined.subarray(0, 1600)]).toEqual([...fed]);
  });

  it("a capture device that fails gives one clear error", async () => {
    const cap = new AlsaCapture({ device: "no_such_mic", env: lab.env });
    const errors: Error[] = [];
    cap.on("error", (e) => errors.push(e));
    cap.start();
    await new Promise((r) => setTimeout(r, 1200));
    await cap.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('ALSA device "no_such_mic" failed');
  });
});
