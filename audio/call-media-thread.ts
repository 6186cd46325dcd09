/**
 * One call's media on a native thread (native/call-media): every 20 ms on the
 * monotonic clock it reads a microphone frame, sends it as G.711 RTP, takes
 * what arrived into its jitter buffer and tops up the earpiece — one wake-up
 * a frame for both directions, and no JavaScript per frame. Packets are sent
 * at the far end's packet time (`setPacketTime`: 20 ms frames gathered into
 * 10–60 ms packets) and received at any (the jitter buffer keeps 10 ms units
 * placed by timestamp; native/call-media/engine.h). Measured against
 * the same call done in JavaScript in docs/audio.md and docs/benchmarks.md.
 *
 * It keeps the call-media contract (audio/call-media.ts), as RtpSession does;
 * RTCP and RFC 4733 events are handled here in JavaScript, since they are
 * rare. The earpiece and microphone are named with `setDevices` (the thread
 * opens and closes them) and short sounds are mixed over the call with
 * `overlay`. A device that fails is reported once ("device" event) and tried
 * again every 2 s; the call goes on without it. Without a microphone it
 * sends silence; without an earpiece the jitter buffer and the overlay are
 * still drained on time.
 *
 * Whom media is taken from: the thread applies the source rules of
 * audio/media-sources.ts to RTP (native/call-media/rtp.c) and tells us where
 * RTP goes ("remote"); RTCP is checked here by the same rules. "inactive"
 * when the far end has gone silent (audio/inactivity-watch.ts).
 */
import { randomBytes, randomInt } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { AlsaDeviceError } from "./alsa-process.ts";
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
import { InactivityWatch } from "./inactivity-watch.ts";
import { MediaSources } from "./media-sources.ts";
import { RtcpChannel } from "./rtcp-channel.ts";

type Handle = object;
type NativeEvent =
  | {
      type: "remote";
      address: string;
      port: number;
      ssrc: number;
      signalled: string;
      signalledPort: number;
    }
  | { type: "event"; payload: Uint8Array; timestamp: number; payloadType: number }
  | { type: "error" | "reopened"; device: string; message: string }
  | { type: "switched" }
  | { type: "closed"; letGoMs: number };

interface NativeCallMedia {
  open(o: Record<string, unknown>, onEvent: (e: NativeEvent) => void): Handle;
  setRemote(h: Handle, address: string, port: number): void;
  setCodec(h: Handle, law: number, payloadType: number): void;
  setEventPt(h: Handle, pt: number): void;
  setDirection(h: Handle, sending: boolean, receiving: boolean): void;
  setPacketTime(h: Handle, ms: number): void;
  setDevices(h: Handle, earpiece: string, microphone: string, handOver: boolean): void;
  dropParked(): number;
  sendPacket(h: Handle, pt: number, payload: Uint8Array, marker: boolean, ts: number): number;
  timestamp(h: Handle): number;
  skipTimestamp(h: Handle, ts: number): void;
  overlay(h: Handle, pcm: Int16Array): number;
  clearOverlay(h: Handle): void;
  stats(h: Handle): Record<string, number>;
  close(h: Handle): void;
  g711Encode(law: number, pcm: Int16Array): Uint8Array;
  g711Decode(law: number, codes: Uint8Array): Int16Array;
}

let native: NativeCallMedia | undefined | null;
/** The native module, or undefined when it was not built (no libasound2-dev). */
export function nativeCallMedia(): NativeCallMedia | undefined {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)(
        "../native/call-media/build/Release/call_media.node",
      ) as NativeCallMedia;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}

/** CallMediaThread.started(): monotonic ms, undefined until it happened. */
export interface MediaStart {
  micOpen: number | undefined;
  earOpen: number | undefined;
  firstMicSent: number | undefined;
  firstEar: number | undefined;
  firstHeard: number | undefined;
  firstReceived: number | undefined;
  firstSound: number | undefined;
  /** The last time it gave up an open device (closed it, or handed it over). */
  letGo: number | undefined;
}

/**
 * Closes the devices a call's thread handed over (`setDevices(…, true)`) that
 * no other thread has taken up; returns how many. The phone calls it before it
 * opens the devices itself, and a while after each hand-over.
 */
export function dropHandedOverDevices(): number {
  return nativeCallMedia()?.dropParked() ?? 0;
}

export interface CallMediaThreadOptions extends CallMediaOptions {
  /** Earpiece frames kept queued ahead of the device, 1–3 (default 2). */
  queueFrames?: number;
  /** SCHED_FIFO priority for the thread where allowed (default 10; 0: none). */
  realtimePriority?: number;
}

function bindRtcp(port: number, address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", (e) => {
      s.close();
      reject(e);
    });
    s.bind(port, address, () => {
      s.removeAllListeners("error");
      resolve(s);
    });
  });
}

export class CallMediaThread extends EventEmitter<CallMediaEvents> implements CallMedia {
  readonly port: number;
  readonly address: string;
  /** Resolves once the thread has let go of the devices and the socket. */
  readonly closed: Promise<void>;
  private signalled: string | undefined;
  private readonly sources: MediaSources;
  private readonly watch: InactivityWatch;
  private direction: MediaDirection = "sendrecv";
  private telephoneEventPt: number | undefined;
  private readonly rtcp: RtcpChannel;
  private readonly dtmfIn = new DtmfReceiver();
  private readonly dtmfOut: DtmfSender;
  private isClosed = false;
  /** Closed, with the native thread ended at the end of this turn (close()). */
  private ending: NodeJS.Immediate | undefined;
  private lastStats: Record<string, number> = {};
  private switching: (() => void)[] = [];
  private devices: string;

  private constructor(
    private readonly n: NativeCallMedia,
    private readonly h: Handle,
    port: number,
    rtcpSocket: Socket,
    whenClosed: Promise<void>,
    private readonly ssrc: number,
    o: CallMediaThreadOptions,
  ) {
    super();
    this.port = port;
    this.address = rtcpSocket.address().address;
    this.closed = whenClosed;
    this.telephoneEventPt = o.telephoneEventPt;
    this.devices = `${o.earpiece ?? ""}\n${o.microphone ?? ""}`;
    this.setCodec(o.codec ?? { law: "pcmu", payloadType: 0 });
    this.setTelephoneEvent(o.telephoneEventPt);
    rtcpSocket.on("error", (e) => this.emit("error", e));
    this.sources = new MediaSources(o.latchWindowMs ?? 2000);
    this.watch = new InactivityWatch({
      ms: o.inactivityMs ?? 30_000,
      heard: () => {
        if (!this.isClosed) this.lastStats = this.n.stats(this.h);
        return (this.lastStats.received ?? 0) + this.sources.rtcpHeard;
      },
      suspended: () => this.direction !== "sendrecv" && this.sources.rtcpHeard === 0,
      onInactive: () => this.emit("inactive"),
    });
    this.rtcp = new RtcpChannel(
      rtcpSocket,
      () => {
        const s = this.stats();
        const raw = this.lastStats;
        return {
          ssrc: this.ssrc,
          rtcpRemote: this.isClosed ? undefined : this.sources.rtcpDestination,
          remoteSsrc: raw.remoteSsrc,
          expected: raw.expected ?? 0,
          lost: s.lost,
          highestSeq: raw.highestSeq ?? 0,
          jitterMs: s.jitterMs,
          sentPackets: s.sent,
          sentOctets: raw.octets ?? 0,
          rtpTimestamp: this.isClosed ? 0 : this.n.timestamp(this.h),
        };
      },
      o.cname ?? `deskphone@${this.address}`,
      o.rtcpIntervalMs,
      (address, port, ssrc) => !this.isClosed && this.sources.rtcp(address, port, ssrc),
    );
    this.dtmfOut = new DtmfSender({
      timestamp: () => (this.isClosed ? 0 : this.n.timestamp(this.h)),
      skipTimestamp: (ts) => {
        if (!this.isClosed) this.n.skipTimestamp(this.h, ts);
      },
      send: (pt, payload, marker, ts) => {
        if (!this.isClosed) this.n.sendPacket(this.h, pt, payload, marker, ts);
      },
    });
  }

  /** Binds an RTP/RTCP port pair from the range and starts the thread. */
  static async open(o: CallMediaThreadOptions = {}): Promise<CallMediaThread> {
    const n = nativeCallMedia();
    if (!n) throw new Error("native/call-media is not built (needs libasound2-dev)");
    const address = o.localAddress ?? "0.0.0.0";
    const [lo, hi] = o.portRange ?? [16384, 32766];
    const span = Math.floor((hi - lo) / 2) + 1;
    const start = randomInt(0, span);
    const ssrc = randomBytes(4).readUInt32BE(0);
    for (let i = 0; i < Math.min(span, 64); i++) {
      const port = lo + 2 * ((start + i) % span);
      let rtcp: Socket;
      try {
        rtcp = await bindRtcp(port + 1, address);
      } catch {
        continue;
      }
      let onEvent: (e: NativeEvent) => void = () => {};
      const whenClosed = new Promise<void>((resolve) => {
        onEvent = (e) => {
          if (e.type === "closed") resolve();
          media?.onNative(e);
        };
      });
      let media: CallMediaThread | undefined;
      let h: Handle;
      try {
        h = n.open(
          {
            address,
            port,
            earpiece: o.earpiece ?? "",
            microphone: o.microphone ?? "",
            queueFrames: o.queueFrames ?? 2,
            realtimePriority: o.realtimePriority ?? 10,
            jitterMinMs: o.jitter?.minMs ?? 40,
            jitterMaxMs: o.jitter?.maxMs ?? 80,
            concealMs: o.jitter?.concealMs ?? 60,
            ssrc,
            seq: randomInt(0, 0x10000),
            timestamp: randomBytes(4).readUInt32BE(0),
            latchWindowMs: o.latchWindowMs ?? 2000,
          },
          (e) => onEvent(e),
        );
      } catch (e) {
        rtcp.close();
        if ((e as { code?: string }).code === "EADDRINUSE") continue;
        throw e;
      }
      media = new CallMediaThread(n, h, port, rtcp, whenClosed, ssrc, o);
      return media;
    }
    throw new Error(`no free RTP port pair in ${lo}-${hi} on ${address}`);
  }

  private onNative(e: NativeEvent): void {
    switch (e.type) {
      case "remote":
        this.sources.mirror(
          { address: e.address, port: e.port, ssrc: e.ssrc },
          { address: e.signalled, port: e.signalledPort },
        );
        this.emit("remote", e.address, e.port);
        return;
      case "event": {
        if (e.payloadType !== this.telephoneEventPt) return;
        const digit = this.dtmfIn.accept(e.payload, e.timestamp);
        if (digit) this.emit("dtmf", digit);
        return;
      }
      case "error":
        this.emit(
          "device",
          new AlsaDeviceError(e.device, `ALSA device "${e.device}" failed: ${e.message}`),
        );
        return;
      case "closed":
        // When it let go of the devices, if it did as it ended (after its last stats).
        this.lastStats = { ...this.lastStats, letGoMs: e.letGoMs };
        for (const done of this.switching.splice(0)) done();
        return;
      case "switched":
        for (const done of this.switching.splice(0)) done();
        return;
      case "reopened":
        this.emit("reopened", e.device);
        return;
    }
  }

  /**
   * The far end the SDP names: media is sent there and taken from there (or
   * from a NAT source latched early; audio/media-sources.ts). A new address
   * (a re-INVITE) moves the media; the same one again changes nothing. The
   * thread takes IPv4 literals; a host name in `c=` (RFC 4566 §5.7 allows
   * one) is looked up first, and one that does not resolve is reported
   * (`device` is for devices: this is `remote-error`) while nothing is sent.
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
    this.n.setRemote(this.h, address, port);
    this.watch.start();
  }

  setCodec(codec: RtpCodec): void {
    if (!this.isClosed) this.n.setCodec(this.h, codec.law === "pcma" ? 1 : 0, codec.payloadType);
  }

  setTelephoneEvent(pt: number | undefined): void {
    this.telephoneEventPt = pt;
    if (!this.isClosed) this.n.setEventPt(this.h, pt ?? -1);
  }

  /** SDP direction (RFC 3264 §5.1, hold in §8.4): what we send and play. */
  setDirection(d: MediaDirection): void {
    this.direction = d;
    if (this.isClosed) return;
    this.n.setDirection(
      this.h,
      d === "sendrecv" || d === "sendonly",
      d === "sendrecv" || d === "recvonly",
    );
  }

  get mediaDirection(): MediaDirection {
    return this.direction;
  }

  /** The packet time to send, ms (the far end's `a=ptime`, RFC 4566 §6): 10–60 in steps of 10. */
  setPacketTime(ms: number): void {
    if (!this.isClosed) this.n.setPacketTime(this.h, Math.round(ms));
  }

  /**
   * The earpiece and microphone to use (undefined: none). The thread is woken
   * and switches over at once; the promise resolves once it has let go of the old
   * ones (at once when nothing changes; when the media is closed, once the
   * thread has ended). `handOver`: the ones given up are not closed but kept
   * open for the next call's thread, which takes them up as they are when it is
   * given the same names (native/call-media/handover.c); `dropParked` closes
   * them if none does.
   */
  setDevices(
    earpiece: string | undefined,
    microphone: string | undefined,
    handOver = false,
  ): Promise<void> {
    const want = `${earpiece ?? ""}\n${microphone ?? ""}`;
    if (this.isClosed) {
      // Closed in this turn and still ending: the devices may yet be handed over.
      if (this.ending && want === "\n" && this.devices !== want) {
        this.devices = want;
        this.n.setDevices(this.h, "", "", handOver);
        return new Promise((resolve) => this.switching.push(resolve)); // or "closed"
      }
      return this.closed; // the thread lets go of everything as it ends
    }
    if (want === this.devices) return Promise.resolve();
    this.devices = want;
    this.n.setDevices(this.h, earpiece ?? "", microphone ?? "", handOver);
    return new Promise((resolve) => this.switching.push(resolve));
  }

  /** Mixes 8 kHz samples over the call on the earpiece (up to 4 s queued); returns how many were taken. */
  overlay(pcm: Int16Array): number {
    return this.isClosed ? 0 : this.n.overlay(this.h, pcm);
  }

  clearOverlay(): void {
    if (!this.isClosed) this.n.clearOverlay(this.h);
  }

  sendDtmf(digit: string, durationMs = 100): Promise<void> {
    const pt = this.telephoneEventPt;
    if (pt === undefined) return Promise.reject(new Error("telephone-event was not negotiated"));
    return this.dtmfOut.send(pt, digit, durationMs);
  }

  /** RtpSession's statistics, plus the devices' own counts. */
  stats(): RtpStats & { devices: Record<string, number> } {
    if (!this.isClosed) this.lastStats = this.n.stats(this.h);
    const s = this.lastStats;
    const v = (k: string) => s[k] ?? 0;
    const remoteReport = this.rtcp?.remoteReport;
    return {
      sent: v("sent"),
      received: v("received"),
      lost: Math.max(0, v("expected") - v("received")),
      late: v("jbLate"),
      concealed: v("jbConcealed"),
      jitterMs: v("jitterMs"),
      ...(remoteReport && { remoteReport }),
      strangerPackets: v("strangers"),
      strangerRtcpPackets: this.sources.strangerRtcp,
      ...(this.sources.latched && { latched: { ...this.sources.latched } }),
      jitterBuffer: {
        received: v("jbReceived"),
        played: v("jbPlayed"),
        concealed: v("jbConcealed"),
        late: v("jbLate"),
        dropped: v("jbDropped"),
        underruns: v("jbUnderruns"),
        jitterMs: v("jitterMs"),
        targetMs: v("targetMs"),
      },
      devices: {
        threadId: v("threadId"),
        realtime: v("realtime"),
        micFrames: v("micFrames"),
        micShort: v("micShort"),
        micDropped: v("micDropped"),
        earFrames: v("earFrames"),
        earUnderruns: v("earUnderruns"),
      },
    };
  }

  /**
   * When the call's media started on the thread, monotonic ms (process.hrtime's
   * clock; undefined: not yet): the microphone and earpiece last opened, the first
   * RTP packet with a microphone frame in it sent, the first frame written to the
   * earpiece, and the first with the far end's audio (not silence) in it; the first
   * RTP audio packet received, and the first with sound in it (a sample over -30 dBFS).
   */
  started(): MediaStart {
    if (!this.isClosed || this.ending) this.lastStats = this.n.stats(this.h);
    const t = (k: string) => (this.lastStats[k] ? this.lastStats[k] : undefined);
    return {
      micOpen: t("micOpenMs"),
      earOpen: t("earOpenMs"),
      firstMicSent: t("firstMicSentMs"),
      firstEar: t("firstEarMs"),
      firstHeard: t("firstHeardMs"),
      firstReceived: t("firstReceivedMs"),
      firstSound: t("firstSoundMs"),
      letGo: t("letGoMs"),
    };
  }

  /**
   * Ends the thread (it closes the devices); `closed` resolves when it is done.
   * A thread that still has the earpiece or microphone stops sending at once and
   * ends at the end of the event-loop turn: the call ended by a BYE in the
   * phone's step that connects the next call (a preemption), and the phone
   * hands the devices over in that step (`setDevices(…, true)`).
   */
  close(): void {
    if (this.isClosed) return;
    this.stats();
    this.isClosed = true;
    this.watch.stop();
    this.rtcp.close();
    if (this.devices === "\n") return this.n.close(this.h);
    this.n.setDirection(this.h, false, false);
    this.ending = setImmediate(() => {
      this.ending = undefined;
      this.n.close(this.h);
    });
  }
}
