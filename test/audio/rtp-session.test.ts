/**
 * RtpSession fed and played from outside, as the firmware's JavaScript call
 * audio does (firmware/app/js-call-audio.ts): two sessions on loopback, each
 * sending a FrameSource (`startSending`) and pulled by an AlsaPlayback (a
 * session is a FrameSource), exchange tones through G.711, the jitter buffer
 * and a lossy relay. Its contract (devices by name and the rest) is tested in
 * test/audio/call-media-contract.test.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { alsaLab } from "../support/alsa-lab.ts";
import { lossyRelay } from "../support/lossy-relay.ts";
import { toneReport } from "../support/tone-analyser.ts";

const lab = alsaLab();
afterAll(() => lab.cleanup());

const tone = (hz: number) =>
  new ToneSource({ segments: [{ ms: 1000, freqs: [hz], levelDb: -10 }], repeat: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RtpSession fed and played from outside", () => {
  it("a tone crosses both ways with loss and reordering; concealment fills the holes", async () => {
    const opts = {
      localAddress: "127.0.0.1",
      portRange: [20000, 29998] as [number, number],
      rtcpIntervalMs: 300,
    };
    const a = await RtpSession.open(opts);
    const b = await RtpSession.open({ ...opts, codec: { law: "pcma", payloadType: 8 } });
    a.setCodec({ law: "pcma", payloadType: 8 });
    // A→B loses 1 packet in 12 and 2 in a row every 50th; every 7th is held back one place.
    const relay = await lossyRelay(a, b, {
      drop: (i) => i % 12 === 0 || i % 50 === 0 || i % 50 === 1,
      reorderEvery: 7,
    });
    // RTCP travels directly (relay only carries RTP); media goes via the relay.
    a.setRemote("127.0.0.1", relay.portForA);
    b.setRemote("127.0.0.1", relay.portForB);
    const earB = new AlsaPlayback({ device: "earpiece", env: lab.env, idleCloseMs: 60_000 });
    const earA = new AlsaPlayback({ device: "earpiece2", env: lab.env, idleCloseMs: 60_000 });
    earB.play(b);
    earA.play(a);
    a.startSending(tone(1000));
    b.startSending(tone(600));
    await sleep(3000);
    a.stopSending();
    b.stopSending();
    await sleep(200);
    await earA.close();
    await earB.close();
    const statsA = a.stats();
    const statsB = b.stats();
    a.close();
    b.close();
    relay.close();

    expect(relay.stats.dropped).toBeGreaterThan(10);
    expect(relay.stats.reordered).toBeGreaterThan(5);
    // Losses before the first packet and after the last one received cannot be counted
    // (RFC 3550 A.3 counts between the first and highest sequence numbers seen).
    expect(statsB.lost).toBeGreaterThanOrEqual(relay.stats.dropped - 4);
    expect(statsB.lost).toBeLessThanOrEqual(relay.stats.dropped);
    expect(statsB.concealed).toBeGreaterThan(5);
    expect(statsB.received).toBeGreaterThan(100);

    for (const [device, hz] of [
      ["earpiece", 1000],
      ["earpiece2", 600],
    ] as const) {
      const r = toneReport(lab.played(device), 8000, hz);
      // Nearly all of the 3 s is heard: losses were concealed, not heard as gaps
      // longer than the concealment limit (60 ms).
      expect(r.soundMs, r.trace).toBeGreaterThan(2800);
      expect(r.offFrequency, r.trace).toEqual([]);
      expect(r.gaps, r.trace).toEqual([]);
    }
    expect(statsA.received).toBeGreaterThan(140);
  }, 20_000);
});
