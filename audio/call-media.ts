/**
 * What SIP needs of a call's media, whichever way it is carried: RtpSession
 * (JavaScript, with the devices fed from outside) or CallMediaThread (a
 * native thread that owns the earpiece and microphone too).
 */
import type { MediaDirection, RtpCodec, RtpSessionOptions, RtpStats } from "./rtp-session.ts";

export interface CallMedia {
  readonly port: number;
  setRemote(address: string, port: number): void;
  setCodec(codec: RtpCodec): void;
  /** The negotiated telephone-event payload type (RFC 4733), or none. */
  setTelephoneEvent(pt: number | undefined): void;
  /** SDP direction (RFC 3264 §5.1, hold in §8.4). */
  setDirection(d: MediaDirection): void;
  readonly mediaDirection: MediaDirection;
  sendDtmf(digit: string, durationMs?: number): Promise<void>;
  stats(): RtpStats;
  close(): void;
  on(event: "dtmf", listener: (digit: string) => void): this;
}

/** Opens a call's media on a port pair from the options' range. */
export type OpenCallMedia = (o: RtpSessionOptions) => Promise<CallMedia>;
