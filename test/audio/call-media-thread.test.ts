/**
 * Call media on its native thread (native/call-media) against a JavaScript
 * RtpSession on loopback, through real ALSA PCMs (the project-local file
 * devices): tones both ways with loss and reordering, hold, DTMF, RTCP,
 * device failures, device switching, and its G.711 against the reference.
 */
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CallMediaThread, nativeCallMedia } from "../../audio/call-media-thread.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { alsaLab } from "../support/alsa-lab.ts";
import {
  refAlawCompress,
  refAlawExpand,
  refUlawCompress,
  refUlawExpand,
} from "../support/g711-reference.ts";
import { lossyRelay } from "../support/lossy-relay.ts";
import { analyse, toneReport } from "../support/tone-analyser.ts";

const lab = alsaLab();
// The thread opens the devices by name through this process's ALSA configuration.
process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
afterAll(() => lab.cleanup());

const tone = (hz: number) =>
  new ToneSource({ segments: [{ ms: 1000, freqs: [hz], levelDb: -10 }], repeat: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opts = { localAddress: "127.0.0.1", portRange: [20000, 29998] as [number, number] };

function toneSamples(hz: number, seconds: number): Int16Array {
  const out = new Int16Array(8000 * seconds);
  tone(hz).read(out);
  return out;
}

/** Collects what a JavaScript session plays, a frame every 20 ms. */
function listen(s: RtpSession): { heard: () => Int16Array; stop: () => void } {
  const frames: Int16Array[] = [];
  const t = setInterval(() => {
    const f = new Int16Array(160);
    s.read(f);
    frames.push(f);
  }, 20);
  return {
    heard: () => {
      const out = new Int16Array(frames.length * 160);
      frames.forEach((f, i) => {
        out.set(f, i * 160);
      });
      return out;
    },
    stop: () => clearInterval(t),
  };
}

describe("native/call-media", () => {
  it("is built and loads", () => {
    expect(typeof nativeCallMedia()?.open).toBe("function");
  });

  it("encodes and decodes G.711 bit-exactly with the ITU-T reference", () => {
    const n = nativeCallMedia();
    if (!n) throw new Error("native/call-media is not built");
    const all = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i - 32768;
    const codes = new Uint8Array(256).map((_, i) => i);
    for (const [law, compress, expand] of [
      [0, refUlawCompress, refUlawExpand],
      [1, refAlawCompress, refAlawExpand],
    ] as const) {
      const enc = n.g711Encode(law, all);
      const dec = n.g711Decode(law, codes);
      const badEnc = [...all].filter((s, i) => enc[i] !== compress(s));
      const badDec = [...codes].filter((c) => dec[c] !== expand(c));
      expect(badEnc.length).toBe(0);
      expect(badDec).toEqual([]);
    }
  });

  it("carries a tone both ways through real ALSA devices, with loss and reordering concealed", async () => {
    lab.feed("mic", toneSamples(600, 8));
    const phone = await CallMediaThread.open({ ...opts, earpiece: "earpiece", microphone: "mic" });
    const far = await RtpSession.open({ ...opts, codec: { law: "pcma", payloadType: 8 } });
    phone.setCodec({ law: "pcma", payloadType: 8 });
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
    phone.close();
    await phone.closed;
    far.close();
    relay.close();

    expect(devices).toEqual([]);
    expect(relay.stats.dropped).toBeGreaterThan(10);
    expect(relay.stats.reordered).toBeGreaterThan(5);
    expect(stats.lost).toBeGreaterThanOrEqual(relay.stats.dropped - 4);
    expect(stats.lost).toBeLessThanOrEqual(relay.stats.dropped);
    expect(stats.concealed).toBeGreaterThan(5);
    expect(stats.sent).toBeGreaterThan(120);
    expect(stats.devices.earFrames).toBeGreaterThan(120);
    expect(stats.devices.micFrames).toBeGreaterThan(120);

    for (const [heard, hz] of [
      [lab.played("earpiece"), 1000],
      [ear.heard(), 600],
    ] as const) {
      const r = toneReport(heard, 8000, hz);
      expect(r.soundMs, r.trace).toBeGreaterThan(2500);
      expect(r.offFrequency, r.trace).toEqual([]);
      expect(r.gaps, r.trace).toEqual([]); // none longer than the concealment limit (60 ms)
    }
  }, 20_000);

  it("sends and receives DTMF as RFC 4733 events and exchanges RTCP reports", async () => {
    const phone = await CallMediaThread.open({
      ...opts,
      telephoneEventPt: 101,
      rtcpIntervalMs: 200,
    });
    const far = await RtpSession.open({ ...opts, telephoneEventPt: 101, rtcpIntervalMs: 200 });
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    const atFar: string[] = [];
    const atPhone: string[] = [];
    far.on("dtmf", (d) => atFar.push(d));
    phone.on("dtmf", (d) => atPhone.push(d));
    far.startSending(tone(440));
    await phone.sendDtmf("5");
    await phone.sendDtmf("#", 60);
    await far.sendDtmf("9");
    await sleep(700);
    const report = far.stats().remoteReport;
    const ours = phone.stats().remoteReport;
    phone.close();
    far.close();
    await phone.closed;
    expect(atFar).toEqual(["5", "#"]);
    expect(atPhone).toEqual(["9"]);
    expect(report?.type).toBe("SR");
    expect(ours?.type).toBe("SR");
    expect(ours?.blocks[0]?.cumulativeLost).toBe(0);
    await expect(phone.sendDtmf("5")).resolves.toBeUndefined();
  }, 10_000);

  it("on hold sends but plays nothing; inactive sends nothing", async () => {
    const phone = await CallMediaThread.open({ ...opts, earpiece: "earpiece2" });
    const far = await RtpSession.open(opts);
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    far.startSending(tone(1000));
    phone.setDirection("sendonly");
    await sleep(600);
    const held = phone.stats();
    phone.setDirection("inactive");
    await sleep(400);
    const inactive = phone.stats();
    phone.close();
    far.close();
    await phone.closed;
    const played = lab.played("earpiece2");
    expect(played.length).toBeGreaterThan(8000 * 0.5);
    expect(played.every((s) => s === 0)).toBe(true);
    expect(held.sent).toBeGreaterThan(20);
    expect(inactive.sent - held.sent).toBeLessThanOrEqual(1);
  });

  it("reports a device that fails to open once, keeps the call's RTP going, and switches devices", async () => {
    const phone = await CallMediaThread.open({ ...opts, earpiece: "no-such-earpiece" });
    const far = await RtpSession.open(opts);
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    const errors: string[] = [];
    phone.on("device", (e) => errors.push(e.message));
    far.startSending(tone(800));
    await sleep(2500); // past one retry (every 2 s)
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no-such-earpiece.*open/);
    const before = phone.stats();
    expect(before.received).toBeGreaterThan(80);
    expect(before.sent).toBeGreaterThan(80);
    // Another earpiece, mid-call: the thread closes one and opens the other.
    phone.setDevices("earpiece", undefined);
    await sleep(1000);
    phone.close();
    far.close();
    await phone.closed;
    const segments = analyse(lab.played("earpiece"), 8000).filter((s) => s.on && s.ms > 200);
    expect(segments.length).toBeGreaterThan(0);
    expect(Math.abs((segments.at(-1)?.freqs[0] ?? 0) - 800) / 800).toBeLessThan(0.02);
  }, 10_000);

  it("reopens a device that comes back, on its own", async () => {
    // A capture device fed from a file that is not there yet fails to open until it is.
    const feed = join(lab.dir, "late-mic.raw");
    const conf = join(lab.dir, "late.conf");
    writeFileSync(
      conf,
      `<${lab.env.ALSA_CONFIG_PATH}>\npcm.latemic { type file slave.pcm "null" file "/dev/null" infile "${feed}" format "raw" }\n`,
    );
    const before = process.env.ALSA_CONFIG_PATH;
    process.env.ALSA_CONFIG_PATH = conf;
    const phone = await CallMediaThread.open({ ...opts, microphone: "latemic" });
    const far = await RtpSession.open(opts);
    phone.setRemote("127.0.0.1", far.port);
    far.setRemote("127.0.0.1", phone.port);
    const errors: string[] = [];
    const back: string[] = [];
    phone.on("device", (e) => errors.push(e.message));
    phone.on("reopened", (d) => back.push(d));
    const ear = listen(far);
    await sleep(300);
    expect(phone.stats().devices.micFrames).toBe(0);
    expect(phone.stats().sent).toBeGreaterThan(5); // silence goes on meanwhile
    writeFileSync(feed, Buffer.from(toneSamples(500, 8).buffer));
    await sleep(3000); // the thread tries again every 2 s
    ear.stop();
    const micFrames = phone.stats().devices.micFrames;
    phone.close();
    far.close();
    await phone.closed;
    process.env.ALSA_CONFIG_PATH = before;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/latemic/);
    expect(back).toEqual(["latemic"]);
    expect(micFrames).toBeGreaterThan(20);
    const r = toneReport(ear.heard(), 8000, 500);
    expect(r.soundMs, r.trace).toBeGreaterThan(500);
    expect(r.offFrequency, r.trace).toEqual([]);
  }, 10_000);

  it("drops malformed packets and goes on; a far end named by host name is looked up", async () => {
    const phone = await CallMediaThread.open(opts);
    const far = await RtpSession.open(opts);
    const remoteErrors: string[] = [];
    phone.on("remote-error", (m) => remoteErrors.push(m));
    far.setRemote("127.0.0.1", phone.port); // far takes media only from the phone's port
    phone.setRemote("no-such-host.invalid", far.port);
    await sleep(300);
    expect(remoteErrors).toEqual([expect.stringMatching(/cannot resolve no-such-host\.invalid/)]);
    expect(phone.stats().sent).toBe(0); // nowhere to send yet
    phone.setRemote("localhost", far.port); // looked up before the thread gets it
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
    phone.close();
    await phone.closed;
    // Only the last kind counted (valid RTP, if odd: 1,388 bytes of PCMU); the thread lives on.
    expect(afterJunk.received).toBe(5);
    expect(afterJunk.jitterBuffer.late + afterJunk.jitterBuffer.received).toBeLessThanOrEqual(5);
    expect(s.received - afterJunk.received).toBeGreaterThan(25);
    expect(s.sent).toBeGreaterThan(40);
  });

  it("mixes an overlay over the call and releases its ports on close", async () => {
    const phone = await CallMediaThread.open({
      localAddress: "127.0.0.1",
      portRange: [31100, 31100],
      earpiece: "earpiece2",
    });
    expect(phone.port).toBe(31100);
    await expect(
      CallMediaThread.open({ localAddress: "127.0.0.1", portRange: [31100, 31100] }),
    ).rejects.toThrow(/no free RTP port/);
    expect(phone.overlay(toneSamples(1400, 1))).toBe(8000);
    await sleep(1300);
    phone.close();
    await phone.closed;
    const again = await CallMediaThread.open({
      localAddress: "127.0.0.1",
      portRange: [31100, 31100],
    });
    again.close();
    await again.closed;
    const sound = analyse(lab.played("earpiece2"), 8000).filter((s) => s.on);
    expect(sound.reduce((t, s) => t + s.ms, 0)).toBeGreaterThan(900);
    expect(Math.abs((sound[0]?.freqs[0] ?? 0) - 1400) / 1400).toBeLessThan(0.02);
    expect(() => phone.setRemote("127.0.0.1", 9)).not.toThrow();
  });
});
