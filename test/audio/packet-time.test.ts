/**
 * a=ptime on both media paths (RFC 4566 §6: ptime is what the writer of the
 * SDP wants to receive): the JavaScript RtpSession and the native media
 * thread send packets of the packet time they are given, 10–60 ms, gathered
 * from their 20 ms frames with contiguous timestamps; and both play packets
 * of any size whole — a tone sent in 30 or 60 ms packets is heard complete,
 * not a third short. Real UDP on loopback, real ALSA file devices.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterAll, describe, expect, it } from "vitest";
import { AlsaPlayback } from "../../audio/alsa-playback.ts";
import type { CallMedia } from "../../audio/call-media.ts";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { decodeG711 } from "../../audio/g711.ts";
import { decodeRtp, looksLikeRtcp } from "../../audio/rtp-packet.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { alsaLab } from "../support/alsa-lab.ts";
import { toneCompleteness } from "../support/tone-complete.ts";

const lab = alsaLab();
// The thread opens the devices by name through this process's ALSA configuration.
process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
afterAll(() => lab.cleanup());

const opts = { localAddress: "127.0.0.1", portRange: [20000, 29998] as [number, number] };
const tone = (hz: number) =>
  new ToneSource({ segments: [{ ms: 1000, freqs: [hz], levelDb: -10 }], repeat: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A far end of one plain UDP socket: records the RTP packets it is sent. */
async function packetSink(): Promise<{
  port: number;
  packets: { ts: number; seq: number; payload: Uint8Array }[];
  close(): void;
}> {
  const s: Socket = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const packets: { ts: number; seq: number; payload: Uint8Array }[] = [];
  s.on("message", (msg) => {
    const p = looksLikeRtcp(msg) ? undefined : decodeRtp(msg);
    if (p) packets.push({ ts: p.timestamp, seq: p.sequence, payload: p.payload });
  });
  return { port: s.address().port, packets, close: () => s.close() };
}

type Path = "RtpSession" | "media thread";
const PATHS: Path[] = ["RtpSession", "media thread"];

describe.each(PATHS)("packet time on the %s path", (path) => {
  it.each([10, 30, 60])(
    "sends %i ms packets: whole, with contiguous timestamps and audio",
    async (ms) => {
      lab.feed(
        "mic",
        (() => {
          const x = new Int16Array(8000 * 4);
          tone(1000).read(x);
          return x;
        })(),
      );
      const sink = await packetSink();
      let media: CallMedia;
      if (path === "RtpSession") {
        const s = await RtpSession.open(opts);
        s.startSending(tone(1000));
        media = s;
      } else media = await CallMediaThread.open({ ...opts, microphone: "mic" });
      media.setPacketTime(ms);
      media.setRemote("127.0.0.1", sink.port);
      await sleep(1500);
      media.close();
      if (media instanceof CallMediaThread) await media.closed;
      sink.close();
      const p = sink.packets;
      expect(p.length).toBeGreaterThan(1300 / ms);
      expect(p.length).toBeLessThan(1700 / ms + 2);
      expect(new Set(p.map((x) => x.payload.length))).toEqual(new Set([ms * 8]));
      // Each packet follows on from the one before: timestamp + its samples, sequence + 1.
      const steps = p
        .slice(1)
        .map((x, i) => `${(x.ts - (p[i]?.ts ?? 0)) >>> 0}/${(x.seq - (p[i]?.seq ?? 0)) & 0xffff}`);
      expect(new Set(steps)).toEqual(new Set([`${ms * 8}/1`]));
      // Every packet's audio follows on from the last: the tone, complete.
      const audio = new Int16Array(p.length * ms * 8);
      p.forEach((x, i) => audio.set(decodeG711("pcmu", x.payload), i * ms * 8));
      const heard = toneCompleteness(audio);
      expect(heard.weakMs, heard.trace).toBe(0);
      expect(heard.freqs).toEqual([1000]);
    },
  );

  it.each([30, 60, 10])("plays %i ms packets whole: the tone arrives complete", async (ms) => {
    const device = path === "RtpSession" ? "earpiece2" : "earpiece";
    const far = await RtpSession.open(opts);
    far.setPacketTime(ms);
    let media: CallMedia;
    let ear: AlsaPlayback | undefined;
    if (path === "RtpSession") {
      const s = await RtpSession.open(opts);
      ear = new AlsaPlayback({ device, env: lab.env, idleCloseMs: 60_000 });
      ear.play(s);
      media = s;
    } else media = await CallMediaThread.open({ ...opts, earpiece: device });
    media.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", media.port);
    far.startSending(tone(700));
    await sleep(2000);
    far.stopSending();
    await sleep(300);
    const stats = media.stats();
    await ear?.close();
    media.close();
    if (media instanceof CallMediaThread) await media.closed;
    far.close();
    // The file device starts its recording afresh at each open: this call's alone.
    const heard = toneCompleteness(lab.played(device));
    expect(heard.weakFraction, heard.trace).toBeLessThan(0.05); // a cut packet leaves 1/3 weak
    expect(heard.spanMs, heard.trace).toBeGreaterThan(1800);
    expect(heard.freqs).toEqual([700]);
    expect(stats.received).toBeGreaterThan(1800 / ms);
    // A packet delayed past its turn on a busy machine is allowed; a packet cut short is not.
    expect(stats.jitterBuffer.late).toBeLessThanOrEqual(2);
  });
});
