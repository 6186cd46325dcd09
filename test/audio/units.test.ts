import { describe, expect, it } from "vitest";
import { JitterBuffer } from "../../audio/jitter-buffer.ts";
import { downsample, upsampled } from "../../audio/resample.ts";
import { decodeRtcp, encodeReport } from "../../audio/rtcp.ts";
import { decodeRtp, encodeRtp, seqDelta } from "../../audio/rtp-packet.ts";
import { decodeTelephoneEvent, encodeTelephoneEvent } from "../../audio/telephone-event.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { frequenciesIn } from "../support/tone-analyser.ts";

const frame = (v: number) => new Int16Array(160).fill(v);

describe("RTP packets (RFC 3550 §5.1)", () => {
  it("round-trips and reads CSRC, extension and padding", () => {
    const p = {
      payloadType: 8,
      marker: true,
      sequence: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      payload: Uint8Array.of(1, 2, 3),
    };
    const back = decodeRtp(encodeRtp(p));
    expect({ ...back, payload: [...(back?.payload ?? [])] }).toEqual({ ...p, payload: [1, 2, 3] });
    const ext = Buffer.from([
      0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 9, 9, 0xbe, 0xde, 0, 1, 7, 7, 7, 7, 42, 0, 0,
      3,
    ]);
    expect([...(decodeRtp(ext)?.payload ?? [])]).toEqual([42]);
    expect(decodeRtp(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(decodeRtp(Buffer.alloc(5))).toBeUndefined();
  });
  it("compares sequence numbers across the wrap", () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(seqDelta(100, 90)).toBe(-10);
  });
});

describe("telephone-event (RFC 4733 §2.3)", () => {
  it("round-trips a digit", () => {
    const e = { digit: "#", end: true, volume: 10, duration: 800 };
    expect(decodeTelephoneEvent(encodeTelephoneEvent(e))).toEqual(e);
    expect(decodeTelephoneEvent(Uint8Array.of(99, 0, 0, 0))).toBeUndefined();
  });
});

describe("RTCP (RFC 3550 §6.4)", () => {
  it("round-trips an SR with a report block, compound with SDES", () => {
    const r = {
      type: "SR" as const,
      ssrc: 7,
      sender: { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packets: 4, octets: 5 },
      blocks: [
        {
          ssrc: 9,
          fractionLost: 0.25,
          cumulativeLost: 12,
          highestSeq: 70000,
          jitter: 33,
          lsr: 0,
          dlsr: 0,
        },
      ],
    };
    const b = encodeReport(r, "phone@example");
    expect(b.length % 4).toBe(0);
    expect(decodeRtcp(b)).toEqual([r]);
    expect(decodeRtcp(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 5]))).toEqual([
      { type: "RR", ssrc: 5, blocks: [] },
    ]);
    expect(decodeRtcp(Buffer.from([1, 2, 3]))).toEqual([]);
  });
});

describe("jitter buffer", () => {
  const read = (jb: JitterBuffer) => {
    const out = new Int16Array(160);
    jb.read(out);
    return out[0];
  };
  it("waits for the target delay, then plays in sequence order despite reordering", () => {
    const jb = new JitterBuffer({ minMs: 40 });
    jb.push(frame(11), 220, 0);
    expect(read(jb)).toBe(0); // still buffering
    jb.push(frame(10), 200, 1);
    jb.push(frame(12), 240, 2);
    expect([read(jb), read(jb), read(jb)]).toEqual([10, 11, 12]);
  });
  it("conceals a lost frame by fading the last one, and drops a frame that comes too late", () => {
    const jb = new JitterBuffer({ minMs: 40, concealMs: 60 });
    jb.push(frame(1000), 20, 0);
    jb.push(frame(2000), 40, 20);
    jb.push(frame(4000), 80, 60);
    expect([read(jb), read(jb), read(jb), read(jb)]).toEqual([1000, 2000, 1000, 4000]);
    jb.push(frame(3000), 60, 90);
    expect(jb.stats).toMatchObject({ late: 1, concealed: 2, played: 6 }); // 10 ms units
  });
  it("plays silence after the concealment limit and re-buffers with more margin", () => {
    const jb = new JitterBuffer({ minMs: 40, maxMs: 80, concealMs: 40 });
    jb.push(frame(800), 20, 0);
    jb.push(frame(800), 40, 20);
    expect([read(jb), read(jb), read(jb), read(jb), read(jb)]).toEqual([800, 800, 400, 200, 0]);
    expect(jb.stats.underruns).toBe(1);
    expect(jb.stats.targetMs).toBe(60);
  });
  it("drops the oldest frames when too much piles up", () => {
    const jb = new JitterBuffer({ minMs: 40 });
    for (let s = 0; s < 3; s++) jb.push(frame(s), s * 20, s * 20);
    read(jb);
    for (let s = 3; s < 10; s++) jb.push(frame(s), s * 20, 60);
    expect(jb.stats.dropped).toBeGreaterThan(0);
  });
  // a=ptime 10–60 ms (RFC 4566 §6): every packet size is played whole, in time order.
  const ramp = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => from + i);
  for (const samples of [80, 160, 240, 480]) {
    it(`plays ${samples}-sample packets whole: no sample truncated, padded or reordered`, () => {
      const jb = new JitterBuffer({ minMs: 40, maxMs: 80 });
      const out = new Int16Array(160);
      const heard: number[] = [];
      const total = 4800; // 600 ms
      let sent = 0;
      // Packets arrive on time (each when its audio is due); the player reads 20 ms a tick.
      for (let tick = 0; jb.stats.played < total / 80 && tick < 200; tick++) {
        const nowMs = tick * 20;
        while (sent < total && sent / 8 <= nowMs) {
          jb.push(ramp(sent + 1, samples), sent / 8, nowMs);
          sent += samples;
        }
        jb.read(out);
        heard.push(...out);
      }
      const sound = heard.filter((v) => v !== 0);
      expect(sound.length).toBe(total);
      expect(sound).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(jb.stats).toMatchObject({ late: 0, concealed: 0, dropped: 0, played: total / 80 });
    });
  }
});

describe("rate conversion", () => {
  it("8 kHz tone upsampled to 48 kHz keeps its frequency; 48 kHz down to 8 kHz too", () => {
    const src = upsampled(
      new ToneSource({ segments: [{ ms: 1000, freqs: [1000] }], repeat: true }),
      8000,
      48000,
    );
    const out = new Int16Array(48000);
    for (let i = 0; i < 50; i++) src.read(out.subarray(i * 960, (i + 1) * 960));
    expect(frequenciesIn(out, 0, 48000, 48000).map(Math.round)).toEqual([1000]);
    const down = downsample(out, 48000, 8000);
    expect(down.length).toBe(8000);
    expect(frequenciesIn(down, 0, 8000, 8000).map(Math.round)).toEqual([1000]);
    expect(() => upsampled(src, 8000, 44100)).toThrow(/integer ratios/);
  });
});
