/**
 * The contract's call cases (audio/call-media.ts): a call media with its
 * devices named, on UDP loopback against a JavaScript far end (RtpSession),
 * through real ALSA file devices — audio both ways with loss and
 * reordering, DTMF and RTCP, hold, devices that fail, switch and come back,
 * malformed packets and a far end named by host name, the overlay, ports
 * and what close leaves.
 */
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { RtpSession } from "../../../audio/rtp-session.ts";
import { freePort } from "../../../server/kamailio/lab-exchange.ts";
import { lossyRelay } from "../../support/lossy-relay.ts";
import { analyse, toneReport } from "../../support/tone-analyser.ts";
import {
  closeMedia,
  expectTone,
  type Implementation,
  lab,
  listen,
  MIC,
  opts,
  sleep,
  tone,
  toneSamples,
} from "./kit.ts";

let lateMics = 0;

export function callCases(impl: Implementation): void {
  it("carries a tone both ways through its devices, with loss and reordering concealed", async () => {
    lab.feed(MIC, toneSamples(600, 8));
    const phone = await impl.open({
      ...opts,
      codec: { law: "pcma", payloadType: 8 },
      earpiece: "earpiece",
      microphone: MIC,
    });
    const far = await RtpSession.open({ ...opts, codec: { law: "pcma", payloadType: 8 } });
    const devices: string[] = [];
    phone.on("device", (e) => devices.push(e.message));
    // far → phone loses 1 packet in 12 and 2 in a row every 50th; every 7th is held back one place.
    const relay = await lossyRelay(far, phone, {
      drop: (i) => i % 12 === 0 || i % 50 === 0 || i % 50 === 1,
      reorderEvery: 7,
    });
    far.setRemote("127.0.0.1", relay.portForA);
    phone.setRemote("127.0.0.1", relay.portForB);
    const ear = listen(far);
    far.startSending(tone(1000));
    await sleep(3000);
    far.stopSending();
    ear.stop();
    const stats = phone.stats();
    await closeMedia(phone);
    far.close();
    relay.close();

    expect(devices).toEqual([]);
    expect(relay.stats.dropped).toBeGreaterThan(10);
    expect(relay.stats.reordered).toBeGreaterThan(5);
    // Losses before the first packet and after the last one cannot be counted (RFC 3550 A.3).
    expect(stats.lost).toBeGreaterThanOrEqual(relay.stats.dropped - 4);
    expect(stats.lost).toBeLessThanOrEqual(relay.stats.dropped);
    expect(stats.concealed).toBeGreaterThan(5);
    expect(stats.sent).toBeGreaterThan(120);
    // Heard without a gap longer than the concealment limit (60 ms).
    expectTone(lab.played("earpiece"), 1000, 2500);
    expectTone(ear.heard(), 600, 2500);
  }, 20_000);

  it("sends silence with no microphone; sends and receives DTMF (RFC 4733); exchanges RTCP reports", async () => {
    const phone = await impl.open({ ...opts, telephoneEventPt: 101, rtcpIntervalMs: 200 });
    await phone.setDevices(undefined, undefined);
    const far = await RtpSession.open({ ...opts, telephoneEventPt: 101, rtcpIntervalMs: 200 });
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    const atFar: string[] = [];
    const atPhone: string[] = [];
    far.on("dtmf", (d) => atFar.push(d));
    phone.on("dtmf", (d) => atPhone.push(d));
    const ear = listen(far);
    far.startSending(tone(440));
    await phone.sendDtmf("5");
    await phone.sendDtmf("#", 60);
    await far.sendDtmf("9");
    await sleep(700);
    ear.stop();
    const report = far.stats().remoteReport;
    const ours = phone.stats();
    phone.setTelephoneEvent(undefined);
    await expect(phone.sendDtmf("1")).rejects.toThrow(/not negotiated/);
    await closeMedia(phone);
    far.close();
    expect(atFar).toEqual(["5", "#"]);
    expect(atPhone).toEqual(["9"]);
    expect(ours.sent).toBeGreaterThan(30);
    expect(far.stats().received).toBeGreaterThan(30);
    expect(ear.heard().every((s) => Math.abs(s) < 16)).toBe(true); // silence (G.711's, near 0)
    expect(report?.type).toBe("SR");
    expect(ours.remoteReport?.type).toBe("SR");
    expect(ours.remoteReport?.blocks[0]?.cumulativeLost).toBe(0);
  }, 10_000);

  it("on hold (sendonly) sends but plays nothing; inactive sends nothing", async () => {
    const phone = await impl.open({ ...opts, earpiece: "earpiece2" });
    const far = await RtpSession.open(opts);
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    far.startSending(tone(1000));
    phone.setDirection("sendonly");
    expect(phone.mediaDirection).toBe("sendonly");
    await sleep(600);
    const held = phone.stats();
    phone.setDirection("inactive");
    await sleep(400);
    const inactive = phone.stats();
    await closeMedia(phone);
    far.close();
    const played = lab.played("earpiece2");
    expect(played.length).toBeGreaterThan(8000 * 0.5);
    expect(played.every((s) => s === 0)).toBe(true);
    expect(held.sent).toBeGreaterThan(20);
    expect(inactive.sent - held.sent).toBeLessThanOrEqual(1);
  });

  it("reports a device that fails to open once, keeps the call's RTP going, and switches devices", async () => {
    const phone = await impl.open({ ...opts, earpiece: "no-such-earpiece" });
    const errors: string[] = [];
    phone.on("device", (e) => errors.push(e.message));
    const far = await RtpSession.open(opts);
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    far.startSending(tone(800));
    await sleep(2500); // past a retry or more
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no-such-earpiece/);
    const before = phone.stats();
    expect(before.received).toBeGreaterThan(80);
    expect(before.sent).toBeGreaterThan(80);
    // Another earpiece, mid-call: the old one is let go and the new one opened.
    await phone.setDevices("earpiece", undefined);
    await sleep(1000);
    await closeMedia(phone);
    far.close();
    const segments = analyse(lab.played("earpiece"), 8000).filter((s) => s.on && s.ms > 200);
    expect(segments.length).toBeGreaterThan(0);
    expect(Math.abs((segments.at(-1)?.freqs[0] ?? 0) - 800) / 800).toBeLessThan(0.02);
  }, 10_000);

  it("reopens a device that comes back, on its own, and says so", async () => {
    // A capture device fed from a file that is not there yet fails to open until it is.
    const feed = join(lab.dir, `late-mic-${++lateMics}.raw`);
    const conf = join(lab.dir, `late-${lateMics}.conf`);
    writeFileSync(
      conf,
      `<${lab.env.ALSA_CONFIG_PATH}>\npcm.latemic { type file slave.pcm "null" file "/dev/null" infile "${feed}" format "raw" }\n`,
    );
    const before = process.env.ALSA_CONFIG_PATH;
    process.env.ALSA_CONFIG_PATH = conf;
    try {
      const phone = await impl.open({ ...opts, microphone: "latemic" });
      const errors: string[] = [];
      const back: string[] = [];
      phone.on("device", (e) => errors.push(e.message));
      phone.on("reopened", (d) => back.push(d));
      const far = await RtpSession.open(opts);
      phone.setRemote("127.0.0.1", far.port);
      far.setRemote("127.0.0.1", phone.port);
      const ear = listen(far);
      await sleep(300);
      expect(phone.stats().sent).toBeGreaterThan(5); // silence goes on meanwhile
      writeFileSync(feed, Buffer.from(toneSamples(500, 8).buffer));
      await sleep(3000); // retried on its own (the thread every 2 s)
      ear.stop();
      await closeMedia(phone);
      far.close();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/latemic/);
      expect(back).toEqual(["latemic"]);
      const r = toneReport(ear.heard(), 8000, 500);
      expect(r.soundMs, r.trace).toBeGreaterThan(500);
      expect(r.offFrequency, r.trace).toEqual([]);
    } finally {
      process.env.ALSA_CONFIG_PATH = before;
    }
  }, 10_000);

  it("drops malformed packets and goes on; a far end named by host name is looked up", async () => {
    const phone = await impl.open(opts);
    await phone.setDevices(undefined, undefined);
    const far = await RtpSession.open(opts);
    const remoteErrors: string[] = [];
    phone.on("remote-error", (m) => remoteErrors.push(m));
    far.setRemote("127.0.0.1", phone.port); // far takes media only from the phone's port
    phone.setRemote("no-such-host.invalid", far.port);
    await sleep(300);
    expect(remoteErrors).toEqual([expect.stringMatching(/cannot resolve no-such-host\.invalid/)]);
    expect(phone.stats().sent).toBe(0); // nowhere to send yet
    phone.setRemote("localhost", far.port); // looked up first
    await sleep(300);
    expect(far.stats().received).toBeGreaterThan(5); // before far sent anything to latch on
    const junk = createSocket("udp4");
    const rtp = (first: number, extra: number[] = []) =>
      Buffer.from([first, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, ...extra]);
    const bad = [
      Buffer.alloc(0),
      Buffer.from([0x80, 0, 1]), // shorter than a header
      Buffer.alloc(172, 0x40), // version 1
      rtp(0x8f), // 15 CSRCs announced, none there
      rtp(0x90, [0, 0, 0xff, 0xff]), // an extension longer than the packet
      rtp(0xa0, [0xff]), // padding longer than the packet
      Buffer.from([0x80, 0xc8, 0, 1, 0, 0, 0, 0]), // RTCP on the RTP port
      Buffer.alloc(1400, 0x80), // payload type 0, 1,388 bytes
    ];
    for (let round = 0; round < 5; round++)
      for (const b of bad) junk.send(b, phone.port, "127.0.0.1");
    await sleep(200);
    const afterJunk = phone.stats();
    far.startSending(tone(900));
    await sleep(800);
    const s = phone.stats();
    junk.close();
    far.close();
    await closeMedia(phone);
    // Only the last kind counted (valid RTP, if odd: 1,388 bytes of PCMU); the media lives on.
    expect(afterJunk.received).toBe(5);
    expect(afterJunk.jitterBuffer.late + afterJunk.jitterBuffer.received).toBeLessThanOrEqual(5);
    expect(s.received - afterJunk.received).toBeGreaterThan(25);
    expect(s.sent).toBeGreaterThan(40);
  });

  it("mixes the overlay over the call (4 s at most, cleared at once); releases its ports on close", async () => {
    // A one-pair range on a port free now (not a fixed one: another run may hold it).
    const p = (await freePort("udp")) & ~1;
    const range = { localAddress: "127.0.0.1", portRange: [p, p] as [number, number] };
    const phone = await impl.open({ ...range, telephoneEventPt: 101, earpiece: "earpiece2" });
    expect(phone.port).toBe(p);
    await expect(impl.open(range)).rejects.toThrow(/no free RTP port/);
    expect(phone.overlay(toneSamples(1400, 5))).toBe(8000 * 4);
    await sleep(1000);
    phone.clearOverlay();
    await sleep(500);
    await closeMedia(phone);
    const again = await impl.open(range);
    await closeMedia(again);
    const sound = analyse(lab.played("earpiece2"), 8000).filter((s) => s.on);
    const ms = sound.reduce((t, s) => t + s.ms, 0);
    expect(ms).toBeGreaterThan(700);
    expect(ms).toBeLessThan(1300);
    expect(Math.abs((sound[0]?.freqs[0] ?? 0) - 1400) / 1400).toBeLessThan(0.02);
    // After close every call is harmless.
    expect(() => phone.setRemote("127.0.0.1", 9)).not.toThrow();
    expect(phone.overlay(toneSamples(1400, 1))).toBe(0);
    await expect(phone.sendDtmf("5")).resolves.toBeUndefined();
    await expect(phone.setDevices("earpiece", MIC)).resolves.toBeUndefined();
  }, 10_000);
}
