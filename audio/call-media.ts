/**
 * What SIP needs of a call's media, whichever way it is carried: RtpSession
 * (JavaScript, with the devices fed from outside) or CallMediaThread (a
 * native thread that owns the earpiece and microphone too).
 *
 * Both take media only from the far end the SDP names (`setRemote`), or a
 * NAT source latched once within `latchWindowMs` of it; strangers are
 * dropped and counted in `stats()` (`strangerPackets`, `strangerRtcpPackets`).
 * Both report a far end gone silent for `inactivityMs` with "inactive".
 */
import type { MediaDirection, RtpCodec, RtpSessionOptions, RtpStats } from "./rtp-session.ts";

export interface CallMedia {
  readonly port: number;
  /** The far end from the SDP (offer/answer, re-INVITE): the only way to move media. */
  setRemote(address: string, port: number): void;
  setCodec(codec: RtpCodec): void;
  /** The negotiated telephone-event payload type (RFC 4733), or none. */
  setTelephoneEvent(pt: number | undefined): void;
  /** SDP direction (RFC 3264 §5.1, hold in §8.4). */
  setDirection(d: MediaDirection): void;
  /**
   * The packet time to send, ms: the far end's `a=ptime` (RFC 4566 §6), 10–60
   * in steps of 10 (default 20). Packets of any size are received.
   */
  setPacketTime(ms: number): void;
  readonly mediaDirection: MediaDirection;
  sendDtmf(digit: string, durationMs?: number): Promise<void>;
  stats(): RtpStats;
  close(): void;
  on(event: "dtmf", listener: (digit: string) => void): this;
  /**
   * No RTP and no RTCP from the far end for `inactivityMs` (RFC 3550 §6.3.5
   * in spirit; suspended on hold unless the far end sends RTCP): the far end
   * has vanished and the call should end. Once; re-armed when packets come again.
   */
  on(event: "inactive", listener: () => void): this;
}

/** Opens a call's media on a port pair from the options' range. */
export type OpenCallMedia = (o: RtpSessionOptions) => Promise<CallMedia>;
