/**
 * Call media on its thread against a sound card that keeps real time: a
 * private JACK server on its dummy driver, reached through the ALSA jack
 * plugin (bench/jack-rig.ts). The file devices of the other tests take audio
 * as fast as it comes; here the thread's pacing on the device's queue is what
 * is tested. The earpiece comes back on the microphone (JACK's loopback), so
 * the far end must hear its own tone: through RTP, the jitter buffer, the
 * earpiece, the card, the microphone and RTP again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { type JackRig, startJackRig } from "../../bench/jack-rig.ts";
import { toneReport } from "../support/tone-analyser.ts";

let rig: JackRig;
beforeAll(async () => {
  rig = await startJackRig(48000, 256); // 5.3 ms periods
  for (const k of ["ALSA_CONFIG_PATH", "JACK_DEFAULT_SERVER", "JACK_NO_AUDIO_RESERVATION"])
    process.env[k] = rig.env[k];
}, 10_000);
afterAll(() => rig?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("call media on a real-time paced sound card", () => {
  it("keeps the earpiece fed without underruns and the far end hears its tone come back", async () => {
    const opts = { localAddress: "127.0.0.1", portRange: [20000, 29998] as [number, number] };
    const phone = await CallMediaThread.open({ ...opts, earpiece: "ring", microphone: "tap" });
    const far = await RtpSession.open(opts);
    const errors: string[] = [];
    phone.on("device", (e) => errors.push(e.message));
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    far.startSending(
      new ToneSource({ segments: [{ ms: 1000, freqs: [700], levelDb: -10 }], repeat: true }),
    );
    const frames: Int16Array[] = [];
    const listen = setInterval(() => {
      const f = new Int16Array(160);
      far.read(f);
      frames.push(f);
    }, 20);
    await sleep(1000); // devices open (a JACK client each) and settle
    const s0 = phone.stats();
    const t0 = performance.now();
    await sleep(3000);
    const s1 = phone.stats();
    const ticks = (performance.now() - t0) / 20;
    clearInterval(listen);
    phone.close();
    await phone.closed;
    far.close();

    expect(errors).toEqual([]);
    const d = (k: string) => (s1.devices[k] ?? 0) - (s0.devices[k] ?? 0);
    // One frame a tick each way, on the card's clock, with nothing lost on the way.
    expect(d("earUnderruns")).toBe(0);
    expect(
      Math.abs(d("earFrames") - ticks),
      `${d("earFrames")} frames in ${ticks} ticks`,
    ).toBeLessThan(8);
    expect(
      Math.abs(d("micFrames") - ticks),
      `${d("micFrames")} frames in ${ticks} ticks`,
    ).toBeLessThan(8);
    expect(d("micShort") + d("micDropped")).toBeLessThan(4);
    expect(s1.jitterBuffer.underruns - s0.jitterBuffer.underruns).toBe(0);

    const heard = new Int16Array(frames.length * 160);
    frames.forEach((f, i) => {
      heard.set(f, i * 160);
    });
    const r = toneReport(heard, 8000, 700);
    expect(r.soundMs, r.trace).toBeGreaterThan(3000);
    expect(r.offFrequency, r.trace).toEqual([]);
    expect(r.gaps, r.trace).toEqual([]);
  }, 20_000);
});
