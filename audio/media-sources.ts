/**
 * Whom a call's media is taken from, and where it is sent (the same rules
 * as native/call-media/rtp.c, which applies them to RTP on the thread).
 *
 * - RTP is accepted from the address and port the SDP names (`signal`), with
 *   any SSRC: a PBX or media relay may change its stream's SSRC.
 * - Symmetric RTP for a far end behind NAT (RFC 4961; the "comedia" idea):
 *   ONE latch in a call, only while no RTP has been accepted yet and only
 *   within `latchWindowMs` of the SDP naming the far end (default 2 s; 0:
 *   never). The latched source is pinned to
 *   the SSRC of its first packet: another SSRC from it is refused (RFC 3550
 *   §8.2: a collision or a loop is not followed). RTP is then sent to it.
 * - The signalled address always wins: a packet from it after a latch moves
 *   our sending back to it and ends latching for that address.
 * - RTCP (RFC 3550 §6, on the RTP port + 1, §11) is accepted from the
 *   signalled address's RTP port + 1, or from the latched source's port + 1;
 *   behind NAT its RTCP may come from another port of the latched address:
 *   the first RTCP packet from that address carrying the latched SSRC fixes
 *   that port, once (RTCP is first sent 2.5–7.5 s into a call, §6.3.1, after
 *   the RTP window, so this latch is bound to the RTP one instead of a time).
 * - Everything else is dropped and counted (`strangerRtp`, `strangerRtcp`),
 *   never followed. A re-INVITE that names another address (`signal` with a
 *   new address) is the legitimate way to move media: RTP goes there and is
 *   taken from there, a latch is dropped, and no new latch is possible once
 *   RTP has flowed (the old far end's last packets must not be latched).
 */

export interface MediaAddress {
  address: string;
  port: number;
}

export interface LatchedSource extends MediaAddress {
  ssrc: number;
}

export type RtpVerdict = "accept" | "latched" | "returned" | "ignore" | "stranger";

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const same = (a: MediaAddress | undefined, address: string, port: number) =>
  a !== undefined && a.address === address && a.port === port;

export class MediaSources {
  private signalled: MediaAddress | undefined;
  private latch: LatchedSource | undefined;
  private rtcpLatch: MediaAddress | undefined;
  private latchOpen = false;
  private rtpHeard = false;
  private windowEnds = 0;
  strangerRtp = 0;
  strangerRtcp = 0;
  /** RTCP packets accepted (activity for the inactivity watch). */
  rtcpHeard = 0;

  constructor(private readonly latchWindowMs = 2000) {}

  /**
   * The far end the SDP names (an IP address). Returns false when it is the
   * one already signalled (a hold re-INVITE repeats it): nothing changes, a
   * latch stays.
   */
  signal(address: string, port: number): boolean {
    if (same(this.signalled, address, port)) return false;
    this.signalled = { address, port };
    this.latch = undefined;
    this.rtcpLatch = undefined;
    this.latchOpen = this.latchWindowMs > 0 && !this.rtpHeard;
    this.windowEnds = monotonicMs() + this.latchWindowMs;
    return true;
  }

  get signalledAddress(): MediaAddress | undefined {
    return this.signalled;
  }

  get latched(): LatchedSource | undefined {
    return this.latch;
  }

  /** Where RTP goes: the latched source, else the signalled address. */
  get rtpDestination(): MediaAddress | undefined {
    return this.latch ?? this.signalled;
  }

  /** Where RTCP goes: the RTCP port latched, else the RTP destination's port + 1 (§11). */
  get rtcpDestination(): MediaAddress | undefined {
    if (this.rtcpLatch) return this.rtcpLatch;
    const d = this.rtpDestination;
    return d && { address: d.address, port: d.port + 1 };
  }

  /**
   * One RTP packet from address:port with its SSRC; `media` when its payload
   * type is one negotiated (only those may latch). "latched" and "returned"
   * are accepted packets that moved the RTP destination.
   */
  rtp(address: string, port: number, ssrc: number, media: boolean): RtpVerdict {
    if (same(this.signalled, address, port)) {
      if (!media) return "ignore";
      this.latchOpen = false;
      this.rtpHeard = true;
      if (!this.latch) return "accept";
      this.latch = undefined;
      this.rtcpLatch = undefined;
      return "returned";
    }
    if (this.latch && same(this.latch, address, port)) {
      if (ssrc !== this.latch.ssrc) {
        this.strangerRtp++;
        return "stranger";
      }
      return media ? "accept" : "ignore";
    }
    if (media && this.signalled && this.latchOpen && monotonicMs() <= this.windowEnds) {
      this.latchOpen = false; // once
      this.rtpHeard = true;
      this.latch = { address, port, ssrc: ssrc >>> 0 };
      return "latched";
    }
    this.strangerRtp++;
    return "stranger";
  }

  /**
   * What the media thread decided for RTP (its "remote" event): a latch, or
   * back to the signalled address. Ignored when it was decided for an
   * address signalled before (a re-INVITE crossed it).
   */
  mirror(to: LatchedSource, signalled: MediaAddress): void {
    if (!same(this.signalled, signalled.address, signalled.port)) return;
    this.latchOpen = false;
    this.rtpHeard = true;
    if (same(this.signalled, to.address, to.port)) {
      this.latch = undefined;
      this.rtcpLatch = undefined;
    } else this.latch = { ...to, ssrc: to.ssrc >>> 0 };
  }

  /** One RTCP packet from address:port whose first report names `ssrc` as its sender. */
  rtcp(address: string, port: number, ssrc: number | undefined): boolean {
    if (!this.rtcpAccepted(address, port, ssrc)) {
      this.strangerRtcp++;
      return false;
    }
    if (ssrc === undefined) return false; // not RTCP: from the far end, but nothing to read
    this.rtcpHeard++;
    return true;
  }

  private rtcpAccepted(address: string, port: number, ssrc: number | undefined): boolean {
    const s = this.signalled;
    if (s && s.address === address && s.port + 1 === port) return true;
    const l = this.latch;
    if (!l || l.address !== address) return false;
    if (this.rtcpLatch) return this.rtcpLatch.port === port;
    if (l.port + 1 === port) return true;
    if (ssrc === undefined || ssrc >>> 0 !== l.ssrc) return false;
    this.rtcpLatch = { address, port };
    return true;
  }
}

/** The sender SSRC of a compound RTCP packet (its first packet is an SR or RR, RFC 3550 §6.1). */
export function rtcpSenderSsrc(msg: Uint8Array): number | undefined {
  if (msg.length < 8 || (msg[0] as number) >> 6 !== 2) return undefined;
  const pt = msg[1] as number;
  if (pt < 200 || pt > 204) return undefined;
  return (
    (((msg[4] as number) << 24) |
      ((msg[5] as number) << 16) |
      ((msg[6] as number) << 8) |
      (msg[7] as number)) >>>
    0
  );
}
