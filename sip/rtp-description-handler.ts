/**
 * A sip.js SessionDescriptionHandler for plain RTP/AVP audio (no WebRTC).
 * sip.js never says whether a call of getDescription/setDescription is an
 * offer or an answer, so the handler keeps the offer/answer state itself
 * (RFC 3264 §4):
 *
 *        getDescription             setDescription (answer)
 *   stable ──────────► have-local-offer ──────────────────► stable
 *     │  setDescription (offer)          getDescription (answer)
 *     └─────────────────► have-remote-offer ────────────────► stable
 *
 * Hold and resume (RFC 3264 §8.4) come as `{ hold: true | false }` in the
 * options of a re-INVITE. Our answer has one `m=` line for each offered one
 * (RFC 3264 §6; sip/sdp.ts), and the media sends packets of the far end's
 * `a=ptime` (RFC 4566 §6). The RtpSession is opened on first use and released
 * by close().
 */
import { randomInt } from "node:crypto";
import type {
  BodyAndContentType,
  SessionDescriptionHandler,
  SessionDescriptionHandlerOptions,
} from "sip.js";
import type { CallMedia, OpenCallMedia } from "../audio/call-media.ts";
import { type MediaDirection, RtpSession, type RtpSessionOptions } from "../audio/rtp-session.ts";
import {
  type AudioDescription,
  answerDirection,
  type BuildSdp,
  buildAnswer,
  buildSdp,
  commonCodec,
  packetTime,
  parseSdp,
  type SdpCodec,
  STATIC,
} from "./sdp.ts";

export interface RtpMediaOptions {
  /** Address put in our SDP and bound for RTP. */
  address: string;
  bindAddress?: string;
  portRange?: [number, number];
  /** Codecs we offer, in our order of preference. */
  codecs?: ("pcmu" | "pcma")[];
  telephoneEventPt?: number;
  jitter?: RtpSessionOptions["jitter"];
  /** A far end silent this long (no RTP, no RTCP) makes the media report "inactive". */
  inactivityMs?: number;
  /** How a call's media is opened (default: an RtpSession in this thread). */
  openMedia?: OpenCallMedia;
  /** Called once the call's media exists. */
  onMedia?: (rtp: CallMedia) => void;
}

export class NoCommonCodecError extends Error {}

/** Passed in a re-INVITE's sessionDescriptionHandlerOptions to hold or resume. */
export interface HoldOption {
  hold?: boolean;
}

type OfferState = "stable" | "have-local-offer" | "have-remote-offer";

export class RtpDescriptionHandler implements SessionDescriptionHandler {
  private rtp: CallMedia | undefined;
  private opening: Promise<CallMedia> | undefined;
  private state: OfferState = "stable";
  private remoteOffer: AudioDescription | undefined;
  private readonly sessionId = String(randomInt(1, 2 ** 31));
  private version = 0;
  private hold = false;
  private closed = false;
  private dtmfPt: number | undefined;

  constructor(private readonly o: RtpMediaOptions) {}

  get media(): CallMedia | undefined {
    return this.rtp;
  }

  get offerState(): OfferState {
    return this.state;
  }

  private ours(): SdpCodec[] {
    return (this.o.codecs ?? ["pcmu", "pcma"]).map(
      (n) => (n === "pcmu" ? STATIC[0] : STATIC[8]) as SdpCodec,
    );
  }

  private session(): Promise<CallMedia> {
    if (this.rtp) return Promise.resolve(this.rtp);
    const open = this.o.openMedia ?? ((o: RtpSessionOptions) => RtpSession.open(o));
    this.opening ??= open({
      localAddress: this.o.bindAddress ?? this.o.address,
      ...(this.o.portRange && { portRange: this.o.portRange }),
      ...(this.o.jitter && { jitter: this.o.jitter }),
      ...(this.o.inactivityMs && { inactivityMs: this.o.inactivityMs }),
    }).then((rtp) => {
      if (this.closed) {
        rtp.close();
        throw new Error("session closed");
      }
      this.rtp = rtp;
      this.o.onMedia?.(rtp);
      return rtp;
    });
    return this.opening;
  }

  async getDescription(
    options?: SessionDescriptionHandlerOptions & HoldOption,
  ): Promise<BodyAndContentType> {
    if (options && typeof options.hold === "boolean") this.hold = options.hold;
    const rtp = await this.session();
    this.version++;
    const te = this.o.telephoneEventPt ?? 101;
    const ours = (
      codecs: SdpCodec[],
      direction: MediaDirection,
      telephoneEventPt?: number,
    ): BuildSdp => ({
      sessionId: this.sessionId,
      version: this.version,
      address: this.o.address,
      port: rtp.port,
      codecs,
      ...(telephoneEventPt !== undefined && { telephoneEventPt }),
      direction,
    });
    const sdp = (body: string): BodyAndContentType => ({ contentType: "application/sdp", body });
    if (this.state === "have-remote-offer" && this.remoteOffer) {
      // Our answer: their preferred codec we speak, the mirrored direction (RFC 3264 §6.1),
      // and every other offered stream refused with port 0 (§6).
      const offer = this.remoteOffer;
      const codec = commonCodec(
        offer.codecs,
        this.ours().map((c) => c.name),
      ) as SdpCodec;
      const direction = answerDirection(offer.direction, this.hold);
      this.apply(offer, codec, direction);
      this.state = "stable";
      return sdp(buildAnswer(offer, ours([codec], direction, offer.telephoneEventPt)));
    }
    this.state = "have-local-offer";
    return sdp(buildSdp(ours(this.ours(), this.hold ? "sendonly" : "sendrecv", te)));
  }

  async setDescription(
    sdp: string,
    options?: SessionDescriptionHandlerOptions & HoldOption,
  ): Promise<void> {
    if (options && typeof options.hold === "boolean") this.hold = options.hold;
    const desc = parseSdp(
      sdp,
      this.ours().map((c) => c.name),
    );
    if (!desc) throw new Error("SDP without a usable m=audio RTP/AVP line");
    const codec = commonCodec(
      desc.codecs,
      this.ours().map((c) => c.name),
    );
    if (!codec)
      throw new NoCommonCodecError(
        `no common codec in ${desc.codecs.map((c) => c.name).join(", ") || "nothing"}`,
      );
    await this.session();
    if (this.state === "have-local-offer") {
      // Their answer: RFC 3264 §6 — their direction is the mirror of ours.
      const mirror: Record<MediaDirection, MediaDirection> = {
        sendrecv: "sendrecv",
        sendonly: "recvonly",
        recvonly: "sendonly",
        inactive: "inactive",
      };
      this.apply(desc, codec, mirror[desc.direction]);
      this.state = "stable";
      return;
    }
    this.remoteOffer = desc;
    this.state = "have-remote-offer";
  }

  private apply(remote: AudioDescription, codec: SdpCodec, direction: MediaDirection): void {
    const rtp = this.rtp as CallMedia;
    rtp.setCodec({ law: codec.name as "pcmu" | "pcma", payloadType: codec.payloadType });
    rtp.setDirection(remote.port === 0 ? "inactive" : direction);
    rtp.setPacketTime(packetTime(remote.ptime));
    if (remote.port > 0) rtp.setRemote(remote.address, remote.port);
    this.dtmfPt = remote.telephoneEventPt;
    rtp.setTelephoneEvent(remote.telephoneEventPt);
  }

  hasDescription(contentType: string): boolean {
    return contentType === "application/sdp";
  }

  async rollbackDescription(): Promise<void> {
    this.state = "stable";
  }

  /** RFC 4733 events when negotiated; false tells the caller to fall back to SIP INFO. */
  sendDtmf(tones: string): boolean {
    if (!this.rtp || this.dtmfPt === undefined) return false;
    for (const t of tones) void this.rtp.sendDtmf(t).catch(() => {});
    return true;
  }

  close(): void {
    this.closed = true;
    this.rtp?.close();
  }
}
