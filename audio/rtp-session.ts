/**
 * One call's media in JavaScript: G.711 over RTP (RFC 3550) on UDP. It keeps
 * the call-media contract (audio/call-media.ts) and is the fallback for
 * builds without the native media thread; the same class is the JavaScript
 * far end in tests and the bench.
 *
 * - Ports: an even RTP port from the configured range and RTCP on the next
 *   (RFC 3550 §11).
 * - Symmetric RTP (RFC 4961): media is sent from the port it is received on.
 *   Media is taken from the address the SDP names; a far end behind NAT may
 *   be latched once, early, and pinned to its SSRC; strangers are dropped and
 *   counted, never followed (audio/media-sources.ts).
 * - Inactivity: "inactive" when nothing came from the far end for
 *   `inactivityMs` (audio/inactivity-watch.ts).
 * - Receiving: packets of any packet time go through the adaptive jitter
 *   buffer (10 ms units placed by timestamp); the session is a FrameSource
 *   that the playback device pulls once per 20 ms.
 * - Devices: named (`setDevices`, audio/call-devices.ts) as the contract
 *   has them — or fed from outside: the session is a FrameSource for a
 *   player, and frames are pushed (`sendFrame`) or pulled from a FrameSource
 *   (`startSending`), as the firmware's JavaScript call audio does.
 * - Sending: frames from the microphone or a source on the monotonic clock, gathered into
 *   packets of the far end's packet time (`setPacketTime`, its `a=ptime`,
 *   RFC 4566 §6; 20 ms by default): a 30 ms packet leaves every other 20 ms
 *   frame and the next, 10 ms packets leave two a frame.
 * - DTMF: RFC 4733 telephone-events, sent and received.
 * - RTCP: a sender or receiver report with SDES every ~5 s (§6.2).
 */
import { randomBytes, randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { EventEmitter } from "node:events";
import { CallDevices } from "./call-devices.ts";
import type {
  CallMedia,
  CallMediaEvents,
  CallMediaOptions,
  MediaDirection,
  RtpCodec,
  RtpStats,
} from "./call-media.ts";
import { DtmfReceiver, DtmfSender } from "./dtmf-events.ts";
import { resolveFarEnd } from "./far-end.ts";
import type { FrameSource } from "./frame-source.ts";
import { decodeG711, encodeG711 } from "./g711.ts";
import { InactivityWatch } from "./inactivity-watch.ts";
import { JitterBuffer } from "./jitter-buffer.ts";
import { MediaSources } from "./media-sources.ts";
import { RtcpChannel, type RtcpSnapshot } from "./rtcp-channel.ts";
import { decodeRtp, encodeRtp, looksLikeRtcp, seqDelta } from "./rtp-packet.ts";

/** The contract's words, here too for those who import them from the RTP session. */
export type { CallMediaEvents, MediaDirection, RtpCodec, RtpStats } from "./call-media.ts";
/** An RtpSession's options are the contract's (`earpiece`, `microphone`: see setDevices). */
export type RtpSessionOptions = CallMediaOptions;

const FRAME = 160;
const FRAME_MS = 20;
/** The longest packet sent: 60 ms. */
const MAX_PACKET = 480;
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

export class RtpSession extends EventEmitter<CallMediaEvents> implements CallMedia, FrameSource {
  readonly port: number;
  readonly address: string;
  /** Resolves once the sockets and devices are let go after `close()`. */
  readonly closed: Promise<void>;
  private whenClosed: () => void = () => {};
  /** The earpiece and microphone, once named (setDevices). */
  private devices: CallDevices | undefined;
  private readonly sources: MediaSources;
  private readonly watch: InactivityWatch;
  private signalled: string | undefined;
  private codec: RtpCodec;
  private direction: MediaDirection = "sendrecv";
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomInt(0, 0x10000);
  private ts = randomBytes(4).readUInt32BE(0);
  private sendTimer: NodeJS.Timeout | undefined;
  private readonly rtcp: RtcpChannel;
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
  private readonly dtmfIn = new DtmfReceiver();
  private readonly dtmfOut: DtmfSender;
  private isClosed = false;
  private telephoneEventPt: number | undefined;
  /** The packet being gathered: `packetSamples` long, starting at RTP timestamp `pendingTs`. */
  private packetSamples = FRAME;
  private readonly pending = new Int16Array(MAX_PACKET);
  private pendingFill = 0;
  private pendingTs = 0;
  /** The first received RTP timestamp: the jitter buffer places audio relative to it. */
  private baseTs: number | undefined;

  private constructor(
    private readonly rtp: Socket,
    rtcp: Socket,
    o: RtpSessionOptions,
  ) {
    super();
    this.port = rtp.address().port;
    this.address = rtp.address().address;
    this.closed = new Promise((resolve) => {
      this.whenClosed = resolve;
    });
    this.codec = o.codec ?? { law: "pcmu", payloadType: 0 };
    this.jb = new JitterBuffer(o.jitter);
    this.telephoneEventPt = o.telephoneEventPt;
    this.sources = new MediaSources(o.latchWindowMs ?? 2000);
    this.watch = new InactivityWatch({
      ms: o.inactivityMs ?? 30_000,
      heard: () => this.received + this.sources.rtcpHeard,
      suspended: () => this.direction !== "sendrecv" && this.sources.rtcpHeard === 0,
      onInactive: () => this.emit("inactive"),
    });
    rtp.on("message", (msg, rinfo) => this.onRtp(msg, rinfo.address, rinfo.port));
    for (const s of [rtp, rtcp]) s.on("error", (e) => this.emit("error", e));
    this.rtcp = new RtcpChannel(
      rtcp,
      () => this.rtcpSnapshot(),
      o.cname ?? `deskphone@${this.address}`,
      o.rtcpIntervalMs,
      (address, port, ssrc) => !this.isClosed && this.sources.rtcp(address, port, ssrc),
    );
    this.dtmfOut = new DtmfSender({
      timestamp: () => this.ts,
      skipTimestamp: (ts) => {
        if (((ts - this.ts) | 0) <= 0) return;
        this.flush(); // what was gathered keeps its own timestamp
        this.ts = ts >>> 0;
      },
      send: (pt, payload, marker, timestamp) => this.sendPacket(pt, payload, marker, timestamp),
    });
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
        const session = new RtpSession(rtp, rtcp, o);
        if (o.earpiece !== undefined || o.microphone !== undefined)
          void session.setDevices(o.earpiece, o.microphone);
        return session;
      } catch {
        rtp.close();
        rtcp.close();
      }
    }
    throw new Error(`no free RTP port pair in ${lo}-${hi} on ${address}`);
  }

  /**
   * The far end the SDP names: media is sent there and taken from there (or
   * from a NAT source latched early, see audio/media-sources.ts). A new
   * address (a re-INVITE) moves the media; the same one again changes
   * nothing. A host name (RFC 4566 §5.7) is looked up first.
   */
  setRemote(address: string, port: number): void {
    const named = `${address}:${port}`;
    this.signalled = named;
    if (this.isClosed) return;
    resolveFarEnd(
      address,
      () => !this.isClosed && this.signalled === named,
      (ipv4) => this.signal(ipv4, port),
      (reason) => this.emit("remote-error", reason),
    );
  }

  private signal(address: string, port: number): void {
    this.sources.signal(address, port);
    this.watch.start();
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

  /**
   * The packet time to send, ms (the far end's `a=ptime`, RFC 4566 §6): 10–60
   * in steps of 10. What was gathered at the old one leaves as it is.
   */
  setPacketTime(ms: number): void {
    const samples = Math.min(60, Math.max(10, Math.round(ms / 10) * 10)) * 8;
    if (samples === this.packetSamples) return;
    this.flush();
    this.packetSamples = samples;
  }

  /** Sends captured audio (a 20 ms frame of 160 samples, as a rule) in packets of the packet time. */
  sendFrame(pcm: Int16Array): void {
    if (
      this.isClosed ||
      !this.sources.rtpDestination ||
      this.direction === "recvonly" ||
      this.direction === "inactive"
    ) {
      this.pendingFill = 0;
      this.ts = (this.ts + pcm.length) >>> 0;
      return;
    }
    for (let at = 0; at < pcm.length; ) {
      if (this.pendingFill === 0) this.pendingTs = this.ts;
      const take = Math.min(this.packetSamples - this.pendingFill, pcm.length - at);
      this.pending.set(pcm.subarray(at, at + take), this.pendingFill);
      this.pendingFill += take;
      at += take;
      this.ts = (this.ts + take) >>> 0;
      if (this.pendingFill >= this.packetSamples) this.flush();
    }
  }

  /** Sends what has been gathered, if anything. */
  private flush(): void {
    if (this.pendingFill === 0) return;
    const payload = encodeG711(this.codec.law, this.pending.subarray(0, this.pendingFill));
    this.pendingFill = 0;
    this.sendPacket(this.codec.payloadType, payload, this.framesSent === 0, this.pendingTs);
  }

  private sendPacket(pt: number, payload: Uint8Array, marker: boolean, timestamp: number): void {
    const to = this.sources.rtpDestination;
    if (!to || this.isClosed) return;
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
    this.rtp.send(packet, to.port, to.address);
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

  /**
   * The earpiece and microphone by ALSA name (audio/call-devices.ts): from
   * now on the session plays the far end on the earpiece and sends the
   * microphone (silence without one) in place of any `startSending` source.
   * Resolves once the old devices are closed.
   */
  setDevices(earpiece: string | undefined, microphone: string | undefined): Promise<void> {
    if (this.isClosed) return this.closed;
    const devices = this.callDevices();
    const released = devices.set(earpiece, microphone);
    this.startSending(devices.microphone);
    return released;
  }

  /** Mixes 8 kHz samples over the call on the earpiece (up to 4 s queued); returns how many were taken. */
  overlay(pcm: Int16Array): number {
    return this.isClosed ? 0 : this.callDevices().overlay(pcm);
  }

  clearOverlay(): void {
    this.devices?.clearOverlay();
  }

  private callDevices(): CallDevices {
    this.devices ??= new CallDevices(this, {
      device: (e) => this.emit("device", e),
      reopened: (d) => this.emit("reopened", d),
    });
    return this.devices;
  }

  /** Sends a DTMF digit as RFC 4733 events (§2.5.1), `durationMs` long. */
  sendDtmf(digit: string, durationMs = 100): Promise<void> {
    const pt = this.telephoneEventPt;
    if (pt === undefined) return Promise.reject(new Error("telephone-event was not negotiated"));
    return this.dtmfOut.send(pt, digit, durationMs);
  }

  private onRtp(msg: Buffer, address: string, port: number): void {
    if (this.isClosed || looksLikeRtcp(msg)) return;
    const p = decodeRtp(msg);
    if (!p) return;
    const isAudio = p.payloadType === this.codec.payloadType;
    const isEvent = this.telephoneEventPt !== undefined && p.payloadType === this.telephoneEventPt;
    const verdict = this.sources.rtp(address, port, p.ssrc, isAudio || isEvent);
    if (verdict === "stranger" || verdict === "ignore") return;
    if (verdict !== "accept") this.emit("remote", address, port); // latched, or back to the SDP's
    this.remoteSsrc = p.ssrc;
    this.track(p.sequence);
    if (isEvent) {
      const digit = this.dtmfIn.accept(p.payload, p.timestamp);
      if (digit) this.emit("dtmf", digit);
      return;
    }
    if (this.direction === "sendonly" || this.direction === "inactive") return;
    const pcm = decodeG711(this.codec.law, p.payload);
    this.baseTs ??= p.timestamp;
    this.jb.push(pcm, ((p.timestamp - this.baseTs) | 0) / 8, nowMs());
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

  private expected(): number {
    return this.firstSeq === undefined ? 0 : this.cycles + this.maxSeq - this.firstSeq + 1;
  }

  private rtcpSnapshot(): RtcpSnapshot {
    const s = this.stats();
    return {
      ssrc: this.ssrc,
      rtcpRemote: this.isClosed ? undefined : this.sources.rtcpDestination,
      remoteSsrc: this.remoteSsrc,
      expected: this.expected(),
      lost: s.lost,
      highestSeq: this.cycles + this.maxSeq,
      jitterMs: s.jitterMs,
      sentPackets: this.framesSent,
      sentOctets: this.octetsSent,
      rtpTimestamp: this.ts,
    };
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
    const expected = this.expected();
    const remoteReport = this.rtcp.remoteReport;
    return {
      sent: this.framesSent,
      received: this.received,
      lost: Math.max(0, expected - this.received),
      late: this.jb.stats.late,
      concealed: this.jb.stats.concealed,
      jitterMs: this.jb.stats.jitterMs,
      ...(remoteReport && { remoteReport }),
      jitterBuffer: { ...this.jb.stats },
      strangerPackets: this.sources.strangerRtp,
      strangerRtcpPackets: this.sources.strangerRtcp,
      ...(this.sources.latched && { latched: { ...this.sources.latched } }),
    };
  }

  /** Releases both sockets, the devices and timers; `closed` resolves when they are. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.watch.stop();
    this.stopSending();
    this.rtcp.close();
    const socket = new Promise<void>((resolve) => this.rtp.close(() => resolve()));
    void Promise.all([socket, this.devices?.close()]).then(() => this.whenClosed());
  }
}
