/**
 * A far end made of plain UDP sockets on loopback, for the source-rule
 * tests: each endpoint sends real RTP (PCMU tone frames every 20 ms, with the
 * SSRC it is told) and RTCP sender reports, and records what it receives.
 * Unlike an RtpSession it has no rules of its own: it sends from whichever
 * socket it is told to, as a peer behind NAT or a stranger would.
 */
import { createSocket, type Socket } from "node:dgram";
import { decodeG711, encodeG711 } from "../../audio/g711.ts";
import { encodeReport } from "../../audio/rtcp.ts";
import { decodeRtp, encodeRtp, looksLikeRtcp } from "../../audio/rtp-packet.ts";
import { ToneSource } from "../../audio/tone-source.ts";

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export class Endpoint {
  /** RTP packets received, and their audio decoded as PCMU in arrival order. */
  rtpReceived = 0;
  rtcpReceived = 0;
  rtpSent = 0;
  rtcpSent = 0;
  private readonly frames: Int16Array[] = [];
  private seq = 1000;
  private ts = 50_000;

  readonly port: number;

  private constructor(readonly socket: Socket) {
    this.port = socket.address().port;
    socket.on("message", (msg) => {
      if (looksLikeRtcp(msg)) {
        this.rtcpReceived++;
        return;
      }
      const p = decodeRtp(msg);
      if (!p) return;
      this.rtpReceived++;
      this.frames.push(decodeG711("pcmu", p.payload));
    });
  }

  static bind(port = 0): Promise<Endpoint> {
    return new Promise((resolve, reject) => {
      const s = createSocket("udp4");
      s.once("error", (e) => {
        s.close();
        reject(e);
      });
      s.bind(port, "127.0.0.1", () => {
        s.removeAllListeners("error");
        resolve(new Endpoint(s));
      });
    });
  }

  /** What arrived as audio, frame after frame. */
  heard(): Int16Array {
    const out = new Int16Array(this.frames.length * 160);
    this.frames.forEach((f, i) => {
      out.set(f.subarray(0, 160), i * 160);
    });
    return out;
  }

  /** Sends a PCMU tone to 127.0.0.1:`to` every 20 ms with `ssrc` until the returned stop. */
  talk(to: number, hz: number, ssrc: number): () => void {
    const tone = new ToneSource({
      segments: [{ ms: 1000, freqs: [hz], levelDb: -10 }],
      repeat: true,
    });
    const frame = new Int16Array(160);
    const start = nowMs();
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      const due = Math.floor((nowMs() - start) / 20) + 1 - sent;
      for (let i = 0; i < Math.min(due, 5); i++) {
        tone.read(frame);
        const packet = encodeRtp({
          payloadType: 0,
          marker: sent === 0,
          sequence: this.seq,
          timestamp: this.ts,
          ssrc,
          payload: encodeG711("pcmu", frame),
        });
        this.seq = (this.seq + 1) & 0xffff;
        this.ts = (this.ts + 160) >>> 0;
        this.socket.send(packet, to, "127.0.0.1");
        this.rtpSent++;
        sent++;
      }
      if (due > 5) sent += due - 5;
      timer = setTimeout(tick, Math.max(1, sent * 20 - (nowMs() - start)));
    };
    tick();
    return () => clearTimeout(timer);
  }

  /** One RTCP sender report (with SDES) to 127.0.0.1:`to` from `ssrc`. */
  report(to: number, ssrc: number): void {
    const now = Date.now();
    const packet = encodeReport(
      {
        type: "SR",
        ssrc,
        sender: {
          ntpSec: Math.floor(now / 1000) + 2208988800,
          ntpFrac: 0,
          rtpTimestamp: this.ts,
          packets: this.rtpSent,
          octets: this.rtpSent * 160,
        },
        blocks: [],
      },
      `peer-${ssrc}@127.0.0.1`,
    );
    this.socket.send(packet, to, "127.0.0.1");
    this.rtcpSent++;
  }

  close(): void {
    this.socket.close();
  }
}

/** An RTP endpoint on an even port and its RTCP endpoint on the next (RFC 3550 §11). */
export async function endpointPair(): Promise<{ rtp: Endpoint; rtcp: Endpoint; close(): void }> {
  for (let i = 0; i < 64; i++) {
    const port = 40000 + 2 * Math.floor(Math.random() * 5000);
    let rtp: Endpoint;
    try {
      rtp = await Endpoint.bind(port);
    } catch {
      continue;
    }
    try {
      const rtcp = await Endpoint.bind(port + 1);
      return {
        rtp,
        rtcp,
        close() {
          rtp.close();
          rtcp.close();
        },
      };
    } catch {
      rtp.close();
    }
  }
  throw new Error("no free port pair for the far end");
}
