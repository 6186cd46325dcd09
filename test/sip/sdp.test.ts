/**
 * Our SDP answers to odd offers (RFC 3264 §6, RFC 4566 §6), read back with
 * sdp-transform: one `m=` line for each offered one in order, the first
 * usable audio stream accepted, every other refused with port 0 and its
 * format list kept, directions inherited from the session, static payload
 * types without rtpmap. Through the real description handler on a real
 * RTP session on loopback.
 */
import { parse } from "sdp-transform";
import { afterEach, describe, expect, it } from "vitest";
import type { CallMedia } from "../../audio/call-media.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { RtpDescriptionHandler } from "../../sip/rtp-description-handler.ts";
import { packetTime, parseSdp } from "../../sip/sdp.ts";

const handlers: RtpDescriptionHandler[] = [];
afterEach(() => {
  for (const h of handlers.splice(0)) h.close();
});

const offer = (...body: string[]) =>
  ["v=0", "o=far 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", ...body, ""].join(
    "\r\n",
  );

/** Our answer to `sdp`, parsed, and the packet time our media was given. */
async function answer(sdp: string, codecs?: ("pcmu" | "pcma")[]) {
  let packetMs: number | undefined;
  const h = new RtpDescriptionHandler({
    address: "127.0.0.1",
    portRange: [30000, 30998],
    ...(codecs && { codecs }),
    openMedia: async (o) => {
      const rtp = await RtpSession.open(o);
      const setPacketTime = rtp.setPacketTime.bind(rtp);
      rtp.setPacketTime = (ms) => {
        packetMs = ms;
        setPacketTime(ms);
      };
      return rtp as CallMedia;
    },
  });
  handlers.push(h);
  await h.setDescription(sdp);
  const body = (await h.getDescription()).body;
  return { sdp: parse(body), body, port: h.media?.port, packetMs };
}

describe("SDP answers (RFC 3264 §6)", () => {
  it("audio and video offered: two m= lines, the video refused with port 0 and its formats", async () => {
    const a = await answer(
      offer(
        "m=audio 40000 RTP/AVP 0 8 101",
        "a=rtpmap:101 telephone-event/8000",
        "m=video 40002 RTP/AVP 96 97",
        "a=rtpmap:96 H264/90000",
        "a=rtpmap:97 VP8/90000",
      ),
    );
    expect(a.sdp.media.map((m) => [m.type, m.port, m.protocol, String(m.payloads)])).toEqual([
      ["audio", a.port, "RTP/AVP", "0 101"],
      ["video", 0, "RTP/AVP", "96 97"],
    ]);
    expect(a.sdp.media[0]?.ptime).toBe(20);
    expect(a.sdp.media[0]?.direction).toBe("sendrecv");
  });

  it("video first: the order is kept, the audio answered in second place", async () => {
    const a = await answer(
      offer("m=video 40002 RTP/AVP 96", "a=rtpmap:96 H264/90000", "m=audio 40000 RTP/AVP 8"),
    );
    expect(a.sdp.media.map((m) => [m.type, m.port, String(m.payloads)])).toEqual([
      ["video", 0, "96"],
      ["audio", a.port, "8"],
    ]);
  });

  it("a session-level direction applies to a stream that says none (RFC 4566 §6)", async () => {
    const a = await answer(offer("a=sendonly", "m=audio 40000 RTP/AVP 0"));
    expect(a.sdp.media[0]?.direction).toBe("recvonly");
    const b = await answer(offer("a=recvonly", "m=audio 40000 RTP/AVP 0"));
    expect(b.sdp.media[0]?.direction).toBe("sendonly");
    const c = await answer(offer("a=inactive", "m=audio 40000 RTP/AVP 0"));
    expect(c.sdp.media[0]?.direction).toBe("inactive");
  });

  it("a stream's own direction wins over the session's", async () => {
    const a = await answer(offer("a=sendonly", "m=audio 40000 RTP/AVP 0", "a=sendrecv"));
    expect(a.sdp.media[0]?.direction).toBe("sendrecv");
    expect(a.sdp.direction).toBeUndefined();
  });

  it("two audio streams: the first is taken, the second refused with port 0", async () => {
    const a = await answer(offer("m=audio 40000 RTP/AVP 0", "m=audio 40010 RTP/AVP 8 0"));
    expect(a.sdp.media.map((m) => [m.type, m.port, String(m.payloads)])).toEqual([
      ["audio", a.port, "0"],
      ["audio", 0, "8 0"],
    ]);
  });

  it("a first audio stream of codecs we do not speak is refused and the next one taken", async () => {
    const a = await answer(
      offer(
        "m=audio 40000 RTP/AVP 9 96",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:96 opus/48000/2",
        "m=audio 40010 RTP/AVP 8",
      ),
    );
    expect(a.sdp.media.map((m) => [m.port, String(m.payloads)])).toEqual([
      [0, "9 96"],
      [a.port, "8"],
    ]);
  });

  it("unknown payload types and transports are passed over, and refused in place", async () => {
    const a = await answer(
      offer(
        "m=audio 40020 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        "m=audio 40000 RTP/AVP 96 97 0 98",
        "a=rtpmap:96 opus/48000/2",
        "a=rtpmap:98 telephone-event/8000",
        "m=image 40030 udptl t38",
      ),
    );
    expect(a.sdp.media.map((m) => [m.type, m.port, m.protocol, String(m.payloads)])).toEqual([
      ["audio", 0, "RTP/SAVP", "0"],
      ["audio", a.port, "RTP/AVP", "0 98"],
      ["image", 0, "udptl", "t38"],
    ]);
    expect(a.sdp.media[1]?.rtp).toEqual([
      { payload: 0, codec: "PCMU", rate: 8000 },
      { payload: 98, codec: "telephone-event", rate: 8000 },
    ]);
  });

  it("static payload types need no rtpmap: their preference (PCMA) is taken", async () => {
    const a = await answer(offer("m=audio 40000 RTP/AVP 8 0"));
    expect(String(a.sdp.media[0]?.payloads)).toBe("8");
    expect(a.sdp.media[0]?.rtp).toEqual([{ payload: 8, codec: "PCMA", rate: 8000 }]);
  });

  it("no common codec in any stream: refused before an answer (the phone says 488)", async () => {
    await expect(
      answer(offer("m=audio 40000 RTP/AVP 9", "m=video 40002 RTP/AVP 96")),
    ).rejects.toThrow(/no common codec/);
    await expect(answer(offer("m=video 40002 RTP/AVP 96"))).rejects.toThrow(/usable/);
    // The phone's pre-check (onInvite) reads the offer the same way.
    expect(parseSdp(offer("m=audio 40000 RTP/AVP 0"), ["pcma"])?.codecs).toEqual([
      { payloadType: 0, name: "pcmu", rate: 8000 },
    ]);
    expect(
      parseSdp(offer("m=audio 40000 RTP/AVP 0", "m=audio 40010 RTP/AVP 8"), ["pcma"])?.port,
    ).toBe(40010);
  });

  it("their a=ptime is the packet time we send (RFC 4566 §6); ours says 20", async () => {
    const a = await answer(offer("m=audio 40000 RTP/AVP 0", "a=ptime:30"));
    expect(a.packetMs).toBe(30);
    expect(a.sdp.media[0]?.ptime).toBe(20);
    expect((await answer(offer("m=audio 40000 RTP/AVP 0"))).packetMs).toBe(20);
    expect((await answer(offer("a=ptime:60", "m=audio 40000 RTP/AVP 0"))).packetMs).toBe(60);
    expect([undefined, 5, 10, 24, 30, 60, 90, 0, Number.NaN].map(packetTime)).toEqual([
      20, 10, 10, 20, 30, 60, 60, 20, 20,
    ]);
  });
});
