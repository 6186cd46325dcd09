/**
 * The emergency path in the production shape (issue 11): the firmware's own
 * composition (buildPhone: controller, SIP agent, journal on disk, the native
 * call-media thread on devices exclusive like hardware) registered with digest
 * auth over wss:// to a Kamailio named by host name ("localhost", a test CA's
 * certificate for DNS:localhost only). Callers are our SIP agents over the
 * same exchange. Each test names the rule of issue 11 it checks.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nativeCallMedia } from "../../../audio/call-media-thread.ts";
import { RtpSession } from "../../../audio/rtp-session.ts";
import { ToneSource } from "../../../audio/tone-source.ts";
import { freePort, startLabExchange } from "../../../server/kamailio/lab-exchange.ts";
import { type IncomingCall, PhoneAgent } from "../../../sip/phone-agent.ts";
import { type ProductionRig, startProductionRig } from "../../support/production-rig.ts";

const native = nativeCallMedia() !== undefined;
let rig: ProductionRig;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // Exclusive like hw devices, and slow to close (45 ms each) like a real card's drain.
  rig = await startProductionRig({ exclusiveCloseMs: 45 });
  rig.ex.table.bind("112", "2001");
  rig.ex.table.bind("113", "2003");
}, 30_000);
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await rig?.stop();
});

const firmwarePhone: ProductionRig["firmwarePhone"] = (user, o) => rig.firmwarePhone(user, o);
const caller: ProductionRig["caller"] = (user, o) => rig.caller(user, o);

function holdUdpPort(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    sock.once("error", reject);
    sock.bind(port, "127.0.0.1", () => resolve(sock));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, test: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${ms} ms`);
    await sleep(10);
  }
}
const ended = (a: PhoneAgent, id: string) =>
  new Promise<string>((r) => a.on("remote-ended", (c, cause) => c === id && r(cause)));

describe.skipIf(!native)(
  "the emergency path in the production shape (skipped only when native/call-media is not built)",
  () => {
    it("trust by connection: an emergency over wss://localhost rings as an emergency (Via names 127.0.0.1)", async () => {
      const p = await firmwarePhone("2001");
      const c = await caller("3001");
      c.dial("e-1", "112");
      const s = await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      expect(s.phase.kind === "ringing" && s.phase.call.alertClass.name).toBe("emergency");
      expect(s.out.ringer).toEqual({ cadence: "emergency", level: "full" });
      expect(p.handset.leds.pattern("emergency")).toMatchObject({ kind: "blink" });
      // The record is on disk once the journal synced (write-ahead, fsync batched).
      await p.built.journal.synced();
      expect(p.onDisk()).toContainEqual(
        expect.objectContaining({ event: "rung", alertClass: "emergency", emergency: true }),
      );
      c.hangUp("e-1");
      await p.waitFor("idle", (x) => x.phase.kind === "idle");
      p.handset.keypad.press("ack");
    }, 30_000);

    it("a second emergency during an emergency waits (180, never 486); a flash takes it", async () => {
      const p = await firmwarePhone("2003");
      const [c1, c2] = [await caller("3011"), await caller("3012")];
      c1.dial("e-1", "113");
      await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      const answered1 = new Promise<void>((r) => c1.once("remote-answered", () => r()));
      p.handset.lift();
      await answered1;
      const ringing2 = new Promise<void>((r) => c2.once("remote-ringing", () => r()));
      const refused2 = new Promise<string>((r) =>
        c2.once("remote-ended", (_id, cause, code) => r(`${cause} ${code}`)),
      );
      c2.dial("e-2", "113");
      const first = await Promise.race([ringing2.then(() => "ringing"), refused2]);
      expect(first).toBe("ringing");
      const s = await p.waitFor("an emergency waiting", (x) =>
        Boolean(x.phase.kind === "talking" && x.phase.waiting),
      );
      expect(s.out.tone).toBe("emergency-waiting");
      const answered2 = new Promise<void>((r) => c2.once("remote-answered", () => r()));
      p.handset.flash();
      await answered2;
      await p.waitFor("the second answered", (x) =>
        Boolean(x.phase.kind === "talking" && x.phase.held && !x.phase.call.answering),
      );
      await p.built.journal.synced();
      const outcomes = p.onDisk().filter((r) => r.outcome);
      expect(outcomes.map((r) => r.event)).toEqual(["answered", "answered"]);
      expect(outcomes[1]?.reason).toBe("call waiting taken by hook flash");
      c1.hangUp("e-1");
      c2.hangUp("e-2");
      await p.waitFor("both ended", (x) => x.phase.kind === "hungUp");
      p.handset.replace();
    }, 30_000);

    it("preemption: BYE with the RFC 4411 Reason, the emergency connected on the freed exclusive devices", async () => {
      rig.ex.table.bind("116", "2007");
      const p = await firmwarePhone("2007");
      const byes: string[] = [];
      const talker = await caller("3051", {
        wireTap: (dir, m) => dir === "in" && m.startsWith("BYE ") && byes.push(m),
      });
      const em = await caller("3052");
      talker.dial("n-1", "2007");
      await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      p.handset.lift();
      await p.waitFor("talking", (x) => x.phase.kind === "talking" && !x.phase.call.answering);
      await sleep(300); // the first call's thread has the earpiece and microphone
      const answered = new Promise<void>((r) => em.once("remote-answered", () => r()));
      const talkerEnded = ended(talker, "n-1");
      em.dial("e-1", "116");
      await answered;
      await talkerEnded;
      expect(byes).toHaveLength(1);
      expect(byes[0]).toMatch(/^Reason: preemption ;cause=1 ;text="UA Preemption"\r$/m);
      await sleep(600);
      // No "busy" device error: the emergency's thread opened what the first let go.
      expect(
        p.logs.filter((l) => /busy/i.test(l) && /device|ALSA/i.test(l)),
        p.logs.join("\n"),
      ).toEqual([]);
      await p.built.journal.synced();
      const disk = p.onDisk();
      expect(disk).toContainEqual(expect.objectContaining({ event: "preempted" }));
      expect(disk.filter((r) => r.outcome)).toEqual([
        expect.objectContaining({ event: "preempted-into", emergency: true }),
      ]);
      em.hangUp("e-1");
      await p.waitFor("hung up", (x) => x.phase.kind === "hungUp");
      p.handset.replace();
    }, 30_000);

    it("a stranger's RTP during a call is dropped and counted, and gets nothing back", async () => {
      const p = await firmwarePhone("2008");
      const c = await caller("3061");
      c.dial("n-1", "2008");
      await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      p.handset.lift();
      const s = await p.waitFor(
        "talking",
        (x) => x.phase.kind === "talking" && !x.phase.call.answering,
      );
      const callId = s.phase.kind === "talking" ? s.phase.call.id : "";
      const media = p.built.agent.media(callId);
      const far = c.media("n-1");
      if (!media || !(far instanceof RtpSession)) throw new Error("no media for the call");
      // The real far end talks first (from the address its SDP names): no latch is left to take.
      far.startSending(
        new ToneSource({ segments: [{ ms: 1000, freqs: [1000], levelDb: -10 }], repeat: true }),
      );
      // Its first packets reached the phone: the stranger comes after them, as it says above
      // (a stranger heard first, inside the latch window, would be latched as a NAT'd far end).
      await until("the far end's RTP at the phone", () => media.stats().received >= 5);
      const stranger = createSocket("udp4");
      const got: Buffer[] = [];
      stranger.on("message", (m) => got.push(m));
      await new Promise<void>((r) => stranger.bind(0, "127.0.0.1", () => r()));
      const rtp = Buffer.alloc(172);
      rtp[0] = 0x80; // RTP version 2, PCMU
      rtp.writeUInt32BE(0x5eed5eed, 8);
      for (let i = 0; i < 25; i++) {
        rtp.writeUInt16BE(i, 2);
        rtp.writeUInt32BE(i * 160, 4);
        stranger.send(rtp, media.port, "127.0.0.1");
        await sleep(20);
      }
      await until("the stranger's 25 packets counted", () => media.stats().strangerPackets >= 25);
      await sleep(200); // anything sent back to the stranger would be here by now
      stranger.close();
      expect(media.stats().strangerPackets).toBe(25);
      expect(got).toEqual([]);
      c.hangUp("n-1");
      await p.waitFor("hung up", (x) => x.phase.kind === "hungUp");
      p.handset.replace();
    }, 30_000);

    it("a far end gone silent is ended by media inactivity, journalled with the reason", async () => {
      const p = await firmwarePhone("2004", { audio: { mediaTimeoutS: 2 } });
      // This caller's media sends nothing (no microphone attached): a vanished far end.
      const c = await caller("3021");
      c.dial("n-1", "2004");
      await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      const byCaller = ended(c, "n-1");
      p.handset.lift();
      const t0 = Date.now();
      expect(await byCaller).toBe("bye");
      const after = Date.now() - t0;
      expect(after).toBeGreaterThan(1500);
      await p.waitFor("hung up", (x) => x.phase.kind === "hungUp");
      await p.built.journal.synced();
      expect(p.onDisk()).toContainEqual(
        expect.objectContaining({ event: "ended", reason: "media-timeout" }),
      );
      p.handset.replace();
    }, 30_000);

    it("a failed answer is journalled as failed, never as answered", async () => {
      rig.ex.table.bind("115", "2006");
      // The phone's RTP port range is one pair, and something else holds it: the answer
      // cannot be made (sip.js then refuses the call with 480).
      const port = (await freePort("udp")) & ~1;
      const blockers = await Promise.all([port, port + 1].map(holdUdpPort));
      stops.push(async () => {
        for (const b of blockers) b.close();
      });
      const p = await firmwarePhone("2006", { audio: { rtpPorts: [port, port + 1] } });
      const c = await caller("3041");
      c.dial("e-1", "115");
      await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      p.handset.lift();
      await p.waitFor("the answer failed", (x) => x.phase.kind === "hungUp");
      await p.built.journal.synced();
      const closing = p.onDisk().filter((r) => r.outcome);
      expect(closing).toEqual([expect.objectContaining({ event: "failed", emergency: true })]);
      expect(closing[0]?.reason).toMatch(/answer/);
      p.handset.replace();
    }, 30_000);

    it("an exchange not verified (wss without a CA, checks off) is not trusted: the emergency rings as normal", async () => {
      rig.ex.table.bind("114", "2005");
      const p = await firmwarePhone("2005", {
        exchange: { caFile: undefined, rejectUnauthorized: false },
      });
      expect(p.logs.join("\n")).toMatch(/rejectUnauthorized is false/);
      const c = await caller("3031");
      c.dial("e-1", "114");
      const s = await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
      expect(s.phase.kind === "ringing" && s.phase.call.alertClass.name).toBe("normal");
      c.hangUp("e-1");
      await p.waitFor("idle", (x) => x.phase.kind === "idle");
    }, 30_000);
  },
);

describe("trust by connection on the IPv6 loopback", () => {
  it("an emergency from an exchange on [::1] (Via [::1]) is marked trusted", async () => {
    const ex6 = await startLabExchange({ host: "::1" });
    stops.push(() => ex6.stop());
    ex6.table.bind("112", "2101");
    const agent = (user: string) => {
      // Signalling over IPv6; RTP stays on IPv4 (audio/ binds udp4 sockets only).
      const a = new PhoneAgent({ server: ex6.wsUrl, user, media: { address: "127.0.0.1" } });
      stops.push(() => a.stop());
      return a;
    };
    const callee = agent("2101");
    const from = agent("3101");
    const registered = (a: PhoneAgent) =>
      new Promise<void>((r) => {
        a.on("registration", (s) => s === "registered" && r());
        a.start();
      });
    await Promise.all([registered(callee), registered(from)]);
    const incoming = new Promise<IncomingCall>((r) => callee.once("incoming", r));
    from.dial("e-1", "112");
    const inv = await incoming;
    expect(inv.trusted).toBe(true);
    expect(inv.priority).toBe("emergency");
    expect(inv.alertInfo.length).toBeGreaterThan(0);
    callee.reject(inv.callId, 486);
    await sleep(100);
  }, 30_000);
});
