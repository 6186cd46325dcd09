/**
 * The contract's packet-time rule (RFC 4566 §6: a=ptime is what the writer
 * of the SDP wants to receive): packets leave at the packet time given,
 * 10–60 ms, gathered from 20 ms frames with contiguous timestamps; packets
 * of any size are played whole — a tone sent in 30 or 60 ms packets is heard
 * complete, not a third short.
 */
import { createSocket, type Socket } from "node:dgram";
import { expect, it } from "vitest";
import { decodeG711 } from "../../../audio/g711.ts";
import { decodeRtp, looksLikeRtcp } from "../../../audio/rtp-packet.ts";
import { RtpSession } from "../../../audio/rtp-session.ts";
import { toneCompleteness } from "../../support/tone-complete.ts";
import {
  closeMedia,
  type Implementation,
  lab,
  MIC,
  opts,
  sleep,
  tone,
  toneSamples,
} from "./kit.ts";

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

export function packetTimeCases(impl: Implementation): void {
  it.each([10, 30, 60])(
    "sends %i ms packets: whole, with contiguous timestamps and audio",
    async (ms) => {
      lab.feed(MIC, toneSamples(1000, 4));
      const sink = await packetSink();
      const media = await impl.open({ ...opts, microphone: MIC });
      media.setPacketTime(ms);
      media.setRemote("127.0.0.1", sink.port);
      await sleep(1500);
      await closeMedia(media);
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
      p.forEach((x, i) => {
        audio.set(decodeG711("pcmu", x.payload), i * ms * 8);
      });
      const heard = toneCompleteness(audio);
      expect(heard.weakMs, heard.trace).toBe(0);
      expect(heard.freqs).toEqual([1000]);
    },
  );

  it.each([30, 60, 10])("plays %i ms packets whole: the tone arrives complete", async (ms) => {
    const far = await RtpSession.open(opts);
    far.setPacketTime(ms);
    const media = await impl.open({ ...opts, earpiece: "earpiece" });
    media.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", media.port);
    far.startSending(tone(700));
    await sleep(2000);
    far.stopSending();
    await sleep(300);
    const stats = media.stats();
    await closeMedia(media);
    far.close();
    // The file device starts its recording afresh at each open: this call's alone.
    const heard = toneCompleteness(lab.played("earpiece"));
    expect(heard.weakFraction, heard.trace).toBeLessThan(0.05); // a cut packet leaves 1/3 weak
    expect(heard.spanMs, heard.trace).toBeGreaterThan(1800);
    expect(heard.freqs).toEqual([700]);
    expect(stats.received).toBeGreaterThan(1800 / ms);
    // A packet delayed past its turn on a busy machine is allowed; a packet cut short is not.
    expect(stats.jitterBuffer.late).toBeLessThanOrEqual(2);
  });
}
