/**
 * Whom a call's media is taken from (the contract's "Remote" and
 * "Inactivity" rules): a far end of plain sockets exchanging real RTP and
 * RTCP (test/support/rtp-peer.ts), and strangers who send valid RTP (the
 * right payload type, their own SSRC) and RTCP mid-call. Their packets are
 * dropped and counted, nothing is sent to them, the far end keeps hearing us
 * and the earpiece keeps the far end's tone. A far end behind NAT is latched
 * once within the window, pinned to its SSRC; the SDP's address wins over a
 * latch; a re-INVITE moves the media. A far end that vanishes is reported
 * "inactive" (re-armed; suspended on hold unless it sends RTCP).
 */
import { expect, it } from "vitest";
import type { CallMedia, CallMediaOptions } from "../../../audio/call-media.ts";
import { Endpoint, endpointPair } from "../../support/rtp-peer.ts";
import {
  closeMedia,
  expectTone,
  type Implementation,
  lab,
  MIC,
  sleep,
  toneSamples,
} from "./kit.ts";

/** Resolves once `test()` holds; throws after `ms`. */
async function until(what: string, test: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`not ${what} within ${ms} ms`);
    await sleep(10);
  }
}

const PEER = 0x11111111;
const STRANGER = 0x22222222;
const OTHER = 0x33333333;
const OURS_HZ = 600;
const PEER_HZ = 1000;
const STRANGER_HZ = 400;

interface Phone {
  media: CallMedia;
  /** Where the media said RTP now goes ("remote" events), by port. */
  remotes: number[];
  /** When "inactive" came (performance.now()). */
  inactive: number[];
  /** Stops the media; what its earpiece played. */
  close(): Promise<Int16Array>;
}

export function sourceCases(impl: Implementation): void {
  /** The phone's side: our microphone says 600 Hz, the earpiece is recorded. */
  const openPhone = async (o: CallMediaOptions): Promise<Phone> => {
    lab.feed(MIC, toneSamples(OURS_HZ, 12));
    const m = await impl.open({
      localAddress: "127.0.0.1",
      portRange: [20000, 29998],
      rtcpIntervalMs: 300,
      ...o,
      earpiece: "earpiece",
      microphone: MIC,
    });
    const phone: Phone = {
      media: m,
      remotes: [],
      inactive: [],
      async close() {
        await closeMedia(m);
        return lab.played("earpiece");
      },
    };
    m.on("remote", (_a, port) => phone.remotes.push(port));
    m.on("inactive", () => phone.inactive.push(performance.now()));
    return phone;
  };

  it("drops a stranger's RTP and RTCP mid-call, counts them, sends it nothing; the call goes on", async () => {
    const phone = await openPhone({});
    const peer = await endpointPair();
    const stranger = await endpointPair();
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    const port = phone.media.port;
    const stopPeer = peer.rtp.talk(port, PEER_HZ, PEER);
    // The far end is heard first, RTP and its RTCP report: a stranger heard before it,
    // within the latch window, would be latched as a far end behind NAT.
    await until("the far end's RTP at the media", () => phone.media.stats().received >= 5);
    const heardAt = performance.now();
    peer.rtcp.report(port + 1, PEER);
    await until(
      "the far end's RTCP report at the media",
      () => phone.media.stats().remoteReport?.ssrc === PEER,
    );
    // Mid-call: valid RTP (PT 0, its own SSRC) and RTCP sender reports from someone else.
    const stopStranger = stranger.rtp.talk(port, STRANGER_HZ, STRANGER);
    for (let i = 0; i < 6; i++) {
      stranger.rtcp.report(port + 1, STRANGER);
      await sleep(250);
    }
    stopStranger();
    await until("every packet of the stranger's counted", () => {
      const c = phone.media.stats();
      return (
        c.strangerPackets >= stranger.rtp.rtpSent && c.strangerRtcpPackets >= stranger.rtcp.rtcpSent
      );
    });
    // The call goes on: the far end is heard 3 s in all (the tones checked below), and
    // anything sent back to the stranger would have reached it by then.
    await sleep(Math.max(200, heardAt + 3000 - performance.now()));
    stopPeer();
    await sleep(100);
    const s = phone.media.stats();
    const earpiece = await phone.close();
    peer.close();
    stranger.close();

    expect(stranger.rtp.rtpSent).toBeGreaterThan(60);
    expect(s.strangerPackets).toBe(stranger.rtp.rtpSent);
    expect(s.strangerRtcpPackets).toBe(stranger.rtcp.rtcpSent);
    // Nothing went to the stranger: no RTP, no RTCP.
    expect(stranger.rtp.rtpReceived + stranger.rtp.rtcpReceived).toBe(0);
    expect(stranger.rtcp.rtpReceived + stranger.rtcp.rtcpReceived).toBe(0);
    expect(phone.remotes).toEqual([]);
    expect(s.latched).toBeUndefined();
    // The far end's report is the one kept; ours went to the far end's RTCP port.
    expect(s.remoteReport?.ssrc).toBe(PEER);
    expect(peer.rtcp.rtcpReceived).toBeGreaterThan(0);
    // The far end heard us throughout, and the earpiece only the far end.
    expectTone(peer.rtp.heard(), OURS_HZ, 2300);
    expectTone(earpiece, PEER_HZ, 2000);
  }, 20_000);

  it("latches a far end behind NAT once, early; refuses a second source and another SSRC from it", async () => {
    const phone = await openPhone({});
    const peer = await endpointPair(); // what its SDP names: nothing is sent from there
    const nat = await Endpoint.bind(); // where its packets come from
    const natRtcp = await Endpoint.bind(); // and its RTCP, not on port + 1
    const second = await Endpoint.bind();
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    const port = phone.media.port;
    const stopPeer = nat.talk(port, PEER_HZ, PEER);
    await sleep(600);
    const latched = phone.media.stats();
    const natHeardEarly = nat.rtpReceived;
    // A hold re-INVITE names the same address again: the latch stays.
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    // Another source, mid-call, then another SSRC from the latched address itself.
    const stopSecond = second.talk(port, STRANGER_HZ, STRANGER);
    await sleep(500);
    stopSecond();
    const stopOther = nat.talk(port, STRANGER_HZ, OTHER);
    await sleep(500);
    stopOther();
    // RTCP from the NAT'd address on another port, with the latched SSRC: taken, once.
    natRtcp.report(port + 1, PEER);
    await sleep(50);
    second.report(port + 1, PEER); // the same SSRC from a stranger's port is not
    await sleep(700);
    stopPeer();
    await sleep(100);
    const s = phone.media.stats();
    const earpiece = await phone.close();
    peer.close();
    nat.close();
    natRtcp.close();
    second.close();

    expect(latched.latched).toEqual({ address: "127.0.0.1", port: nat.port, ssrc: PEER });
    expect(natHeardEarly).toBeGreaterThan(10); // we answer where it sends from (RFC 4961)
    expect(phone.remotes).toEqual([nat.port]); // latched once, never moved again
    expect(s.latched).toEqual(latched.latched);
    expect(second.rtpReceived + second.rtcpReceived).toBe(0);
    // Before the first packet from behind the NAT, media went where the SDP said.
    expect(peer.rtp.rtpReceived + peer.rtcp.rtcpReceived).toBeLessThanOrEqual(2);
    expect(s.strangerPackets).toBeGreaterThanOrEqual(second.rtpSent + 20); // + the other SSRC's
    expect(s.strangerRtcpPackets).toBe(1);
    expect(s.remoteReport?.ssrc).toBe(PEER);
    expect(natRtcp.rtcpReceived).toBeGreaterThan(0); // our reports follow its RTCP port
    expectTone(nat.heard(), OURS_HZ, 2000);
    expectTone(earpiece, PEER_HZ, 1800);
  }, 20_000);

  it("latches nothing after the window: a late source is a stranger, media stays on the SDP's address", async () => {
    const phone = await openPhone({ latchWindowMs: 300 });
    const peer = await endpointPair();
    const nat = await Endpoint.bind();
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    await sleep(500);
    const stop = nat.talk(phone.media.port, PEER_HZ, PEER);
    await sleep(600);
    stop();
    await sleep(100);
    const s = phone.media.stats();
    await phone.close();
    peer.close();
    nat.close();
    expect(s.latched).toBeUndefined();
    expect(s.strangerPackets).toBe(nat.rtpSent);
    expect(nat.rtpReceived).toBe(0);
    expect(peer.rtp.rtpReceived).toBeGreaterThan(40);
  }, 10_000);

  it("the SDP's address wins over a latch, and a re-INVITE moves the media", async () => {
    const phone = await openPhone({});
    const peer = await endpointPair();
    const nat = await Endpoint.bind();
    const moved = await endpointPair();
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    const port = phone.media.port;
    const stopNat = nat.talk(port, PEER_HZ, PEER);
    await sleep(300);
    const stopPeer = peer.rtp.talk(port, PEER_HZ, PEER);
    await sleep(300);
    const natAfterReturn = nat.rtpReceived;
    const afterReturn = phone.media.stats();
    await sleep(300);
    stopNat();
    // A hold re-INVITE names the same address again: nothing changes.
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    // A re-INVITE names another address: media moves; the old one is a stranger now.
    phone.media.setRemote("127.0.0.1", moved.rtp.port);
    const stopMoved = moved.rtp.talk(port, PEER_HZ, OTHER);
    const peerBefore = peer.rtp.rtpReceived;
    const strangersBefore = phone.media.stats().strangerPackets;
    await sleep(500);
    stopMoved();
    stopPeer();
    await sleep(100);
    const s = phone.media.stats();
    await phone.close();
    peer.close();
    nat.close();
    moved.close();

    expect(phone.remotes).toEqual([nat.port, peer.rtp.port]); // latched, then back
    expect(afterReturn.latched).toBeUndefined();
    expect(nat.rtpReceived - natAfterReturn).toBeLessThanOrEqual(2);
    expect(afterReturn.strangerPackets).toBeGreaterThan(5); // the NAT source after the return
    expect(peer.rtp.rtpReceived - peerBefore).toBeLessThanOrEqual(2);
    expect(moved.rtp.rtpReceived).toBeGreaterThan(15);
    expect(s.strangerPackets - strangersBefore).toBeGreaterThan(15); // the old address's
  }, 10_000);

  it("reports a far end that went silent, once, re-armed when it speaks again; on hold only if it sent RTCP", async () => {
    const phone = await openPhone({ inactivityMs: 400 });
    const peer = await endpointPair();
    const stranger = await Endpoint.bind();
    phone.media.setRemote("127.0.0.1", peer.rtp.port);
    const port = phone.media.port;
    let stop = peer.rtp.talk(port, PEER_HZ, PEER);
    await sleep(700);
    expect(phone.inactive).toEqual([]); // talking
    stop();
    const silentAt = performance.now();
    // A stranger keeps sending: that is not the far end.
    const stopStranger = stranger.talk(port, STRANGER_HZ, STRANGER);
    await sleep(900);
    stopStranger();
    expect(phone.inactive).toHaveLength(1);
    const firstAfter = (phone.inactive[0] ?? 0) - silentAt;
    // It speaks again, then vanishes again: reported again.
    stop = peer.rtp.talk(port, PEER_HZ, PEER);
    await sleep(300);
    stop();
    await sleep(800);
    expect(phone.inactive).toHaveLength(2);
    // On hold, a far end that sends no RTCP may rightly go quiet: no report.
    phone.media.setDirection("sendonly");
    stop = peer.rtp.talk(port, PEER_HZ, PEER);
    await sleep(300);
    stop();
    await sleep(900);
    expect(phone.inactive).toHaveLength(2);
    // Once it has sent RTCP, its silence on hold counts (RTCP goes on on hold, RFC 3264 §5.1).
    peer.rtcp.report(port + 1, PEER);
    await sleep(800);
    await phone.close();
    peer.close();
    stranger.close();
    expect(phone.inactive).toHaveLength(3);
    // Between inactivityMs and inactivityMs + one check (100 ms) after the last packet, with slack.
    expect(firstAfter).toBeGreaterThanOrEqual(380);
    expect(firstAfter).toBeLessThan(700);
  }, 15_000);
}
