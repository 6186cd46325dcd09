/**
 * A call's media as a contract: what SIP and the phone may ask of the audio
 * of one call, and the rules every implementation honours — as hal/contracts.ts
 * is for the handset. Types only: nothing here runs.
 *
 * Two implementations, one contract suite (test/audio/call-media-contract.test.ts):
 * - CallMediaThread (audio/call-media-thread.ts): a native thread that owns
 *   the earpiece and microphone and does G.711, RTP and the jitter buffer
 *   every 20 ms with no JavaScript per frame. The firmware runs it.
 * - RtpSession (audio/rtp-session.ts): the same in JavaScript, the fallback
 *   for builds without native/call-media (no libasound2-dev). It can also be
 *   fed and played from outside (`startSending`, `read`).
 * docs/audio.md says which runs when.
 *
 * Rules for implementations:
 * - Start: `OpenCallMedia` binds an even RTP port from `portRange` and RTCP on
 *   the next (RFC 3550 §11); it rejects "no free RTP port pair" when none is
 *   free. `close()` releases both; `closed` resolves once the sockets and the
 *   devices are let go. After `close()` every call is harmless: setters do
 *   nothing, `sendDtmf` resolves without sending, `stats()` is the last one.
 * - Devices: the earpiece and microphone are ALSA PCM names, given at start
 *   (`earpiece`, `microphone`) or by `setDevices` at any time. The earpiece
 *   plays the far end (8 kHz) with the overlay mixed over it; the microphone
 *   is what we send. With no microphone, silence is sent. A device that fails
 *   to open or dies is reported once ("device"), tried again on its own (and
 *   "reopened" when it works); the call's RTP goes on meanwhile.
 * - Remote: media goes only to the far end the SDP names (`setRemote`) and is
 *   taken only from there, or from one source latched within `latchWindowMs`
 *   of it (a far end behind NAT, RFC 4961), pinned to its SSRC; the SDP's own
 *   address wins back over a latch; "remote" tells where RTP goes when that
 *   changes. Strangers' packets are dropped, counted (`strangerPackets`,
 *   `strangerRtcpPackets`) and never answered. A host name (RFC 4566 §5.7) is
 *   looked up first; one that does not resolve is "remote-error" and nothing
 *   is sent. Nothing is sent before the far end is known. Malformed packets
 *   are dropped and the call goes on.
 * - Direction (RFC 3264 §5.1; hold is §8.4): "sendonly" sends and plays
 *   silence, "recvonly" plays and sends nothing, "inactive" neither. RTCP goes
 *   on in every direction.
 * - Codec: G.711 μ-law or A-law on the negotiated payload type (`setCodec`);
 *   packets of other payload types than it and telephone-event are dropped.
 * - Packet time: packets leave at `setPacketTime` (the far end's `a=ptime`,
 *   RFC 4566 §6), 10–60 ms in steps of 10 (20 by default), whole and with
 *   contiguous timestamps; packets of any size are received and played whole.
 * - DTMF: RFC 4733 telephone-events on the negotiated payload type
 *   (`setTelephoneEvent`); `sendDtmf` rejects when none was negotiated; each
 *   digit received is one "dtmf".
 * - Overlay: `overlay` mixes 8 kHz samples over the call on the earpiece (the
 *   phone's tones and cues during a call), up to 4 s queued, and returns how
 *   many it took; `clearOverlay` drops what is queued.
 * - RTCP: a sender or receiver report with SDES every `rtcpIntervalMs` (about
 *   5 s by default, RFC 3550 §6.2); the far end's last report is in `stats()`.
 * - Inactivity: no RTP and no RTCP from the far end for `inactivityMs` is
 *   "inactive", once, re-armed when packets come again; suspended on hold
 *   unless the far end has sent RTCP (RFC 3550 §6.3.5 in spirit).
 */
import type { AlsaDeviceError } from "./alsa-process.ts";
import type { G711Law } from "./g711.ts";
import type { JitterBufferOptions, JitterStats } from "./jitter-buffer.ts";
import type { LatchedSource } from "./media-sources.ts";
import type { RtcpReport } from "./rtcp.ts";

/** SDP direction (RFC 3264 §5.1). */
export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

export interface RtpCodec {
  law: G711Law;
  payloadType: number;
}

export interface CallMediaOptions {
  localAddress?: string;
  /** Inclusive range the RTP port is chosen from (an even port; RTCP is +1). */
  portRange?: [number, number];
  codec?: RtpCodec;
  /** Payload type of telephone-event (RFC 4733); undefined: no DTMF events. */
  telephoneEventPt?: number;
  jitter?: JitterBufferOptions;
  rtcpIntervalMs?: number;
  cname?: string;
  /**
   * How long after the SDP names the far end a NAT'd source may be latched
   * instead (once; RFC 4961). Default 2000 ms; 0: media only from the SDP's address.
   */
  latchWindowMs?: number;
  /**
   * "inactive" after this long with no RTP and no RTCP accepted from the far
   * end (default 30 000 ms; 0: never). Suspended on hold unless it sends RTCP.
   */
  inactivityMs?: number;
  /** The earpiece's ALSA name (none: nothing is played until `setDevices`). */
  earpiece?: string;
  /** The microphone's ALSA name (none: silence is sent). */
  microphone?: string;
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
  /** RTP packets dropped because they came from someone other than the far end. */
  strangerPackets: number;
  /** The same for RTCP. */
  strangerRtcpPackets: number;
  /** The source latched for NAT (once, early), if any. */
  latched?: LatchedSource;
}

/** The events every call media emits. */
export interface CallMediaEvents {
  /** A DTMF digit received (RFC 4733), once per event. */
  dtmf: [string];
  /** RTP now goes to this source: a NAT latch, or back to the SDP's address. */
  remote: [string, number];
  /** A socket failed. */
  error: [Error];
  /** The far end named by SDP could not be looked up. */
  "remote-error": [string];
  /** Nothing from the far end for `inactivityMs`: once, re-armed when packets come again. */
  inactive: [];
  /** The earpiece or microphone failed to open or died: once, until it works again. */
  device: [AlsaDeviceError];
  /** A device that had failed works again (its ALSA name). */
  reopened: [string];
}

export interface CallMedia {
  /** The RTP port (RTCP is the next). */
  readonly port: number;
  /** The address the sockets are bound to. */
  readonly address: string;
  /** Resolves once the sockets and devices are let go after `close()`. */
  readonly closed: Promise<void>;
  /** The far end from the SDP (offer/answer, re-INVITE): the only way to move media. */
  setRemote(address: string, port: number): void;
  setCodec(codec: RtpCodec): void;
  /** The negotiated telephone-event payload type (RFC 4733), or none. */
  setTelephoneEvent(pt: number | undefined): void;
  /** SDP direction (RFC 3264 §5.1, hold in §8.4). */
  setDirection(d: MediaDirection): void;
  readonly mediaDirection: MediaDirection;
  /** The packet time to send, ms: 10–60 in steps of 10 (default 20). */
  setPacketTime(ms: number): void;
  /**
   * The earpiece and microphone to use (undefined: none). Resolves once the
   * old ones are let go (at once when nothing changes; after `close()`, once
   * everything is).
   */
  setDevices(earpiece: string | undefined, microphone: string | undefined): Promise<void>;
  /** Mixes 8 kHz samples over the call on the earpiece (up to 4 s queued); returns how many were taken. */
  overlay(pcm: Int16Array): number;
  /** Drops what the overlay still has queued. */
  clearOverlay(): void;
  /** Sends a digit as RFC 4733 events (§2.5.1), `durationMs` long (default 100). */
  sendDtmf(digit: string, durationMs?: number): Promise<void>;
  stats(): RtpStats;
  close(): void;
  on<E extends keyof CallMediaEvents>(
    event: E,
    listener: (...args: CallMediaEvents[E]) => void,
  ): this;
}

/** Opens a call's media on a port pair from the options' range (the rules above). */
export type OpenCallMedia = (o: CallMediaOptions) => Promise<CallMedia>;
