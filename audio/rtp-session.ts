/**
 * One call's media: G.711 over RTP (RFC 3550) on UDP, 20 ms packets.
 *
 * - Ports: an even RTP port from the configured range and RTCP on the next
 *   (RFC 3550 §11).
 * - Symmetric RTP (RFC 4961): media is sent from the port it is received on,
 *   and the far end's address is latched from the packets that arrive.
 * - Receiving: packets go through the adaptive jitter buffer; the session is
 *   a FrameSource that the playback device pulls once per 20 ms.
 * - Sending: frames pushed by the capture device (`sendFrame`) or pulled from
 *   a FrameSource on the monotonic clock (`startSending`).
 * - DTMF: RFC 4733 telephone-events, sent and received.
 * - RTCP: a sender or receiver report with SDES every ~5 s (§6.2).
 */
import { randomBytes, randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { EventEmitter } from "node:events";
import type { FrameSource } from "./frame-source.ts";
import { decodeG711, encodeG711, type G711Law } from "./g711.ts";
import { JitterBuffer, type JitterBufferOptions, type JitterStats } from "./jitter-buffer.ts";
import { decodeRtcp, encodeReport, type RtcpReport } from "./rtcp.ts";
import { decodeRtp, encodeRtp, looksLikeRtcp, seqDelta } from "./rtp-packet.ts";
import { decodeTelephoneEvent, encodeTelephoneEvent } from "./telephone-event.ts";

export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

export interface RtpCodec {
  law: G711Law;
  payloadType: number;
}

export interface RtpSessionOptions {
  localAddress?: string;
  /** Inclusive range the RTP port is chosen from (an even port; RTCP is +1). */
  portRange?: [number, number];
  codec?: RtpCodec;
  /** Payload type of telephone-event (RFC 4733); undefined: no DTMF events. */
  telephoneEventPt?: number;
  jitter?: JitterBufferOptions;
  rtcpIntervalMs?: number;
  cname?: string;
}

export interface RtpStats {
  sent: number;
  received: number;
  /** Packets expected but not received (RFC 3550 A.3). */
  lost: number;
  late: number;
  concealed: number;
  jitterMs: number;
  remoteReport?: RtcpReport;
  jitterBuffer: JitterStats;
}

const RATE = 8000;
const FRAME = 160;
const FRAME_MS = 20;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function bind(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    sock.once("error", onError);
    sock.bind(port, address, () => {
      sock.off("error", onError);
      resolve();
    });
  });
}

export class RtpSession
  extends EventEmitter<{ dtmf: [string]; remote: [string, number]; error: [Error] }>
  implements FrameSource
{
  readonly port: number;
  readonly address: string;
  private remote: { address: string; port: number } | undefined;
  private codec: RtpCodec;
  private direction: MediaDirection = "sendrecv";
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomInt(0, 0x10000);
  private ts = randomBytes(4).readUInt32BE(0);
  private sendTimer: NodeJS.Timeout | undefined;
  private rtcpTimer: NodeJS.Timeout | undefined;
  private sendSource: FrameSource | undefined;
  private sendStart = 0;
  private framesSent = 0;
  private octetsSent = 0;
  private readonly jb: JitterBuffer;
  private readonly frame = new Int16Array(FRAME);
  private firstSeq: number | undefined;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private remoteSsrc: number | undefined;
  private lastEventTs: number | undefined;
  private dtmfBusy = Promise.resolve();
  private remoteReport: RtcpReport | undefined;
  private closed = false;
  private telephoneEventPt: number | undefined;

  private constructor(
    private readonly rtp: Socket,
    private readonly rtcp: Socket,
    private readonly o: RtpSessionOptions,
  ) {
    super();
    this.port = rtp.address().port;
    this.address = rtp.address().address;
    this.codec = o.codec ?? { law: "pcmu", payloadType: 0 };
    this.jb = new JitterBuffer(o.jitter);
    this.telephoneEventPt = o.telephoneEventPt;
    rtp.on("message", (msg, rinfo) => this.onRtp(msg, rinfo.address, rinfo.port));
    rtcp.on("message", (msg) => this.onRtcp(msg));
    for (const s of [rtp, rtcp]) s.on("error", (e) => this.emit("error", e));
    const interval = o.rtcpIntervalMs ?? 5000;
    // RFC 3550 §6.3.1: randomise the interval (0.5–1.5 ×) to avoid synchronisation.
    const schedule = () => {
      this.rtcpTimer = setTimeout(
        () => {
          this.sendRtcp();
          schedule();
        },
        interval * (0.5 + Math.random()),
      );
      this.rtcpTimer.unref();
    };
    schedule();
  }

  /** Binds an RTP/RTCP port pair from the range. */
  static async open(o: RtpSessionOptions = {}): Promise<RtpSession> {
    const address = o.localAddress ?? "0.0.0.0";
    const [lo, hi] = o.portRange ?? [16384, 32766];
    const span = Math.floor((hi - lo) / 2) + 1;
    const start = randomInt(0, span);
    for (let i = 0; i < Math.min(span, 64); i++) {
      const port = lo + 2 * ((start + i) % span);
      const rtp = createSocket("udp4");
      const rtcp = createSocket("udp4");
      try {
        await bind(rtp, port, address);
        await bind(rtcp, port + 1, address);
        return new RtpSession(rtp, rtcp, o);
      } catch {
        rtp.close();
        rtcp.close();
      }
    }
    throw new Error(`no free RTP port pair in ${lo}-${hi} on ${address}`);
  }

  /** Where to send (from the far end's SDP); replaced by what arrives (symmetric RTP). */
  setRemote(address: string, port: number): void {
    this.remote = { address, port };
  }

  setCodec(codec: RtpCodec): void {
    this.codec = codec;
  }

  /** The negotiated telephone-event payload type (RFC 4733), or none. */
  setTelephoneEvent(pt: number | undefined): void {
    this.telephoneEventPt = pt;
  }

  /** SDP direction (RFC 3264 §5.1, hold in §8.4): what we send and play. */
  setDirection(d: MediaDirection): void {
    this.direction = d;
  }

  /** Sends one 20 ms frame (160 samples at 8 kHz). */
  sendFrame(pcm: Int16Array): void {
    if (
      this.closed ||
      !this.remote ||
      this.direction === "recvonly" ||
      this.direction === "inactive"
    ) {
      this.ts = (this.ts + FRAME) >>> 0;
      return;
    }
    const payload = encodeG711(this.codec.law, pcm.length === FRAME ? pcm : pcm.subarray(0, FRAME));
    this.sendPacket(this.codec.payloadType, payload, this.framesSent === 0, this.ts);
    this.ts = (this.ts + FRAME) >>> 0;
  }

  private sendPacket(pt: number, payload: Uint8Array, marker: boolean, timestamp: number): void {
    if (!this.remote) return;
    const packet = encodeRtp({
      payloadType: pt,
      marker,
      sequence: this.seq,
      timestamp,
      ssrc: this.ssrc,
      payload,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.framesSent++;
    this.octetsSent += payload.length;
    this.rtp.send(packet, this.remote.port, this.remote.address);
  }

  /** Pulls frames from `source` every 20 ms on the monotonic clock and sends them. */
  startSending(source: FrameSource): void {
    this.sendSource = source;
    if (this.sendTimer) return;
    this.sendStart = nowMs();
    let sent = 0;
    // One wake-up a frame: send what is due, then sleep until the next frame.
    const tick = () => {
      const due = Math.floor((nowMs() - this.sendStart) / FRAME_MS) + 1 - sent;
      for (let i = 0; i < Math.min(due, 5); i++) {
        const src = this.sendSource;
        if (src && !src.read(this.frame)) this.sendSource = undefined;
        else if (!src) this.frame.fill(0);
        this.sendFrame(this.frame);
        sent++;
      }
      if (due > 5) sent += due - 5; // a stall: skip rather than burst
      const next = sent * FRAME_MS - (nowMs() - this.sendStart);
      this.sendTimer = setTimeout(tick, Math.max(1, next));
    };
    this.sendTimer = setTimeout(tick, 0);
  }

  stopSending(): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
    this.sendSource = undefined;
  }

  /** Sends a DTMF digit as RFC 4733 events (§2.5.1), `durationMs` long. */
  sendDtmf(digit: string, durationMs = 100): Promise<void> {
    const pt = this.telephoneEventPt;
    if (pt === undefined) return Promise.reject(new Error("telephone-event was not negotiated"));
    try {
      encodeTelephoneEvent({ digit, end: false, volume: 10, duration: 0 }); // validates the digit
    } catch (e) {
      return Promise.reject(e);
    }
    this.dtmfBusy = this.dtmfBusy.then(
      () =>
        new Promise<void>((resolve) => {
          const timestamp = this.ts;
          const total = Math.round((durationMs * RATE) / 1000);
          let duration = 0;
          let first = true;
          const tick = () => {
            duration = Math.min(total, duration + FRAME);
            const end = duration >= total;
            const payload = encodeTelephoneEvent({ digit, end, volume: 10, duration });
            for (let i = 0; i < (end ? 3 : 1); i++) this.sendPacket(pt, payload, first, timestamp);
            first = false;
            if (end) {
              clearInterval(timer);
              // The next event must start later (RFC 4733 §2.5.1.2: a new event, a new
              // timestamp), also when no audio moves the clock on.
              if ((this.ts - timestamp) >>> 0 < total + FRAME)
                this.ts = (timestamp + total + FRAME) >>> 0;
              resolve();
            }
          };
          const timer = setInterval(tick, FRAME_MS);
          tick();
        }),
    );
    return this.dtmfBusy;
  }

  private onRtp(msg: Buffer, address: string, port: number): void {
    if (this.closed || looksLikeRtcp(msg)) return;
    const p = decodeRtp(msg);
    if (!p) return;
    const isAudio = p.payloadType === this.codec.payloadType;
    const isEvent = this.telephoneEventPt !== undefined && p.payloadType === this.telephoneEventPt;
    if (!isAudio && !isEvent) return;
    if (!this.remote || this.remote.address !== address || this.remote.port !== port) {
      this.remote = { address, port };
      this.emit("remote", address, port);
    }
    this.remoteSsrc = p.ssrc;
    this.track(p.sequence);
    if (isEvent) {
      const e = decodeTelephoneEvent(p.payload);
      if (e?.end && this.lastEventTs !== p.timestamp) {
        this.lastEventTs = p.timestamp;
        this.emit("dtmf", e.digit);
      }
      return;
    }
    if (this.direction === "sendonly" || this.direction === "inactive") return;
    const pcm = decodeG711(this.codec.law, p.payload);
    this.jb.push(p.sequence, pcm, (p.timestamp / RATE) * 1000, nowMs());
  }

  /** Extended highest sequence number and packets received (RFC 3550 A.1, A.3). */
  private track(seq: number): void {
    this.received++;
    if (this.firstSeq === undefined) {
      this.firstSeq = seq;
      this.maxSeq = seq;
      return;
    }
    const d = seqDelta(this.maxSeq, seq);
    if (d > 0) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
  }

  private onRtcp(msg: Buffer): void {
    const reports = decodeRtcp(msg);
    const r = reports.find((x) => x.blocks.some((b) => b.ssrc === this.ssrc)) ?? reports[0];
    if (r) this.remoteReport = r;
  }

  private sendRtcp(): void {
    if (this.closed || !this.remote) return;
    const s = this.stats();
    const expected =
      this.firstSeq === undefined ? 0 : this.cycles + this.maxSeq - this.firstSeq + 1;
    const blocks =
      this.remoteSsrc === undefined
        ? []
        : [
            {
              ssrc: this.remoteSsrc,
              fractionLost: expected > 0 ? Math.max(0, s.lost) / expected : 0,
              cumulativeLost: s.lost,
              highestSeq: this.cycles + this.maxSeq,
              jitter: (s.jitterMs * RATE) / 1000,
              lsr: 0,
              dlsr: 0,
            },
          ];
    const now = Date.now();
    const sender =
      this.framesSent > 0
        ? {
            ntpSec: Math.floor(now / 1000) + 2208988800,
            ntpFrac: Math.floor(((now % 1000) / 1000) * 2 ** 32),
            rtpTimestamp: this.ts,
            packets: this.framesSent,
            octets: this.octetsSent,
          }
        : undefined;
    const packet = encodeReport(
      { type: sender ? "SR" : "RR", ssrc: this.ssrc, ...(sender && { sender }), blocks },
      this.o.cname ?? `deskphone@${this.address}`,
    );
    this.rtcp.send(packet, this.remote.port + 1, this.remote.address);
  }

  /** FrameSource for the playback device: the next 20 ms from the jitter buffer. */
  read(out: Int16Array): boolean {
    if (this.direction === "sendonly" || this.direction === "inactive") {
      out.fill(0);
      return true;
    }
    return this.jb.read(out);
  }

  /** The current direction (RFC 3264). */
  get mediaDirection(): MediaDirection {
    return this.direction;
  }

  stats(): RtpStats {
    const expected =
      this.firstSeq === undefined ? 0 : this.cycles + this.maxSeq - this.firstSeq + 1;
    return {
      sent: this.framesSent,
      received: this.received,
      lost: Math.max(0, expected - this.received),
      late: this.jb.stats.late,
      concealed: this.jb.stats.concealed,
      jitterMs: this.jb.stats.jitterMs,
      ...(this.remoteReport && { remoteReport: this.remoteReport }),
      jitterBuffer: { ...this.jb.stats },
    };
  }

  /** Releases both sockets and timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopSending();
    clearTimeout(this.rtcpTimer);
    this.rtp.close();
    this.rtcp.close();
  }
}
