/**
 * A session's RTCP (RFC 3550 §6): the socket on the RTP port + 1, a sender
 * or receiver report with SDES every interval (randomised 0.5–1.5 ×, §6.3.1,
 * against synchronisation), and the last report the far end sent about us.
 * What arrives is read only when `accept` takes its source (the source rules
 * of audio/media-sources.ts): a stranger's reports are dropped.
 */
import type { Socket } from "node:dgram";
import { rtcpSenderSsrc } from "./media-sources.ts";
import { decodeRtcp, encodeReport, type RtcpReport } from "./rtcp.ts";

/** What a report says, read from the session when it is due. */
export interface RtcpSnapshot {
  ssrc: number;
  /** Where our reports go (the far end's RTCP address); undefined: not yet known. */
  rtcpRemote: { address: string; port: number } | undefined;
  remoteSsrc: number | undefined;
  /** Packets expected and lost (RFC 3550 A.3), highest extended sequence number. */
  expected: number;
  lost: number;
  highestSeq: number;
  jitterMs: number;
  sentPackets: number;
  sentOctets: number;
  rtpTimestamp: number;
}

const RATE = 8000;

export class RtcpChannel {
  private timer: NodeJS.Timeout | undefined;
  private last: RtcpReport | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly snapshot: () => RtcpSnapshot,
    private readonly cname: string,
    intervalMs = 5000,
    private readonly accept: (
      address: string,
      port: number,
      ssrc: number | undefined,
    ) => boolean = () => true,
  ) {
    socket.on("message", (msg, from) => {
      if (this.accept(from.address, from.port, rtcpSenderSsrc(msg))) this.receive(msg);
    });
    const schedule = () => {
      this.timer = setTimeout(
        () => {
          this.send();
          schedule();
        },
        intervalMs * (0.5 + Math.random()),
      );
      this.timer.unref();
    };
    schedule();
  }

  /** The far end's latest report that is about us (or its latest at all). */
  get remoteReport(): RtcpReport | undefined {
    return this.last;
  }

  private receive(msg: Buffer): void {
    const { ssrc } = this.snapshot();
    const reports = decodeRtcp(msg);
    const r = reports.find((x) => x.blocks.some((b) => b.ssrc === ssrc)) ?? reports[0];
    if (r) this.last = r;
  }

  private send(): void {
    const s = this.snapshot();
    if (!s.rtcpRemote) return;
    const blocks =
      s.remoteSsrc === undefined
        ? []
        : [
            {
              ssrc: s.remoteSsrc,
              fractionLost: s.expected > 0 ? Math.max(0, s.lost) / s.expected : 0,
              cumulativeLost: s.lost,
              highestSeq: s.highestSeq,
              jitter: (s.jitterMs * RATE) / 1000,
              lsr: 0,
              dlsr: 0,
            },
          ];
    const now = Date.now();
    const sender =
      s.sentPackets > 0
        ? {
            ntpSec: Math.floor(now / 1000) + 2208988800, // NTP era 0 (RFC 5905)
            ntpFrac: Math.floor(((now % 1000) / 1000) * 2 ** 32),
            rtpTimestamp: s.rtpTimestamp,
            packets: s.sentPackets,
            octets: s.sentOctets,
          }
        : undefined;
    const packet = encodeReport(
      { type: sender ? "SR" : "RR", ssrc: s.ssrc, ...(sender && { sender }), blocks },
      this.cname,
    );
    this.socket.send(packet, s.rtcpRemote.port, s.rtcpRemote.address);
  }

  close(): void {
    clearTimeout(this.timer);
    this.socket.close();
  }
}
