/**
 * The warm-up after registering (sip/warm-up.ts): made-up calls run through
 * the incoming path — `ws` frames, the triage, sip.js, takeInvite, the phone's
 * classification and decision, the 180 — so that the first real calls do not
 * meet it cold. And it leaves no trace: nothing goes to the exchange but the
 * REGISTER, the phone is told of no call, its state, LEDs and journal stay as
 * they were, no effect is carried out. The firmware's own phone (buildPhone:
 * controller, journal on disk) over its real WebSocket, against a stand-in
 * exchange.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildPhone } from "../../firmware/app/build-phone.ts";
import { validateConfig } from "../../firmware/app/config.ts";
import { MockHandset } from "../../hal/mock.ts";
import { rememberParsedHeaders } from "../../sip/parsed-headers.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { madeUpInvite, warmUpCalls } from "../../sip/warm-up.ts";
import { FakeExchange } from "../reliability/fake-exchange.ts";

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

const LEDS = ["status", "message", "emergency"] as const;

/** The firmware's phone, registered with a stand-in exchange; what it did until the warm-up ended. */
async function firmwarePhone() {
  const ex = await FakeExchange.start();
  const dir = mkdtempSync(join(tmpdir(), "deskphone-warm-up-"));
  const journal = join(dir, "journal.jsonl");
  const c = validateConfig({
    account: { user: "2001" },
    exchange: { url: ex.url },
    audio: {
      ringer: { device: "null", rate: 48000 },
      earpiece: { device: "null", rate: 48000 },
      microphone: { device: "null", rate: 48000 },
    },
    journal: { path: journal },
  });
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  const handset = new MockHandset();
  const built = buildPhone(c.config, handset, { log: () => {} });
  stops.push(async () => {
    await built.stop();
    await ex.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { phone, agent } = built;
  // What the phone is when registered (the warm-up starts then), to compare with after it.
  let atRegistered: { state: string; journal: string; leds: number[] } | undefined;
  const snapshot = () => ({
    state: JSON.stringify(phone.state),
    journal: readFileSync(journal, "utf8"),
    leds: LEDS.map((l) => handset.leds.timeline(l).length),
  });
  const eventsAfter: string[] = [];
  phone.on("effects", (ev, fx) => {
    if (ev.type === "registration" && ev.registered) atRegistered = snapshot();
    else if (atRegistered) eventsAfter.push(`${ev.type} → ${fx.map((e) => e.type).join(",")}`);
  });
  const calls: string[] = [];
  agent.on("incoming", (x) => calls.push(x.callId));
  agent.on("refused", (id) => calls.push(`refused ${id}`));
  // Counts the phone's own handling of the made-up calls (and still runs it).
  const decided: string[] = [];
  const own = agent.warmCall;
  agent.warmCall = (x) => {
    decided.push(`${x.callId} ${x.priority ?? "-"} ${x.trusted}`);
    own?.(x);
  };
  phone.start();
  await ex.registered;
  await agent.warmedUp;
  // A stray timer or a late write of the made-up calls would land here.
  await new Promise((r) => setTimeout(r, 300));
  return { ex, phone, calls, decided, eventsAfter, atRegistered, after: snapshot() };
}

describe("the warm-up after registering", () => {
  it("answers each made-up call as a real one: 180, then 200 to its CANCEL and 487", async () => {
    const sent: string[] = [];
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const timersBefore = timers();
    await warmUpCalls({
      user: "2001",
      codecs: ["pcmu", "pcma"],
      timerOptions: { expiresS: 1800, minSeS: 90 },
      calls: 8,
      seen: (m) => sent.push(`${m.split("\r\n")[0]} ${/^CSeq:\s*(.*)$/m.exec(m)?.[1]}`),
    });
    const one = [
      "SIP/2.0 100 Trying 1 INVITE",
      "SIP/2.0 180 Ringing 1 INVITE",
      "SIP/2.0 200 OK 1 CANCEL",
      "SIP/2.0 487 Request Terminated 1 INVITE",
    ];
    expect(sent).toEqual(Array.from({ length: 8 }, () => one).flat());
    // Nothing of it is left running (no transaction, session or ping timer: one a call
    // would be 8). This test runs first, so that no phone's timers are counted; one
    // more may be the test runner's own.
    await new Promise((r) => setImmediate(r));
    expect(timers() - timersBefore).toBeLessThanOrEqual(1);
  });

  it("runs made-up calls through the phone's own handling and leaves no trace", async () => {
    const p = await firmwarePhone();
    // It ran: 40 calls, every third an emergency, trusted and not.
    expect(p.decided).toHaveLength(40);
    expect(p.decided.filter((d) => d.includes(" emergency "))).toHaveLength(13);
    expect(new Set(p.decided.map((d) => d.split(" ")[2]))).toEqual(new Set(["true", "false"]));
    // No trace: the exchange got the REGISTER only, the phone was told of no call,
    // no event reached the controller, its state, journal and LEDs are as at registering.
    expect(p.ex.received.filter((m) => !m.startsWith("REGISTER "))).toEqual([]);
    expect(p.calls).toEqual([]);
    expect(p.eventsAfter).toEqual([]);
    expect(p.atRegistered).toBeDefined();
    expect(p.after).toEqual(p.atRegistered);
    expect(p.after.journal).not.toContain("warm-");
    expect(p.phone.state.phase.kind).toBe("idle");
  }, 20_000);

  it("is not done when the phone is told not to", async () => {
    const counts = rememberParsedHeaders();
    const ex = await FakeExchange.start();
    const agent = new PhoneAgent({ server: ex.url, user: "2001", warmUp: false });
    let warmed = 0;
    agent.warmCall = () => {
      warmed += 1;
    };
    stops.push(async () => {
      await agent.stop();
      await ex.stop();
    });
    const before = counts.misses;
    agent.start();
    await ex.registered;
    await new Promise((r) => setTimeout(r, 1000));
    expect(warmed).toBe(0);
    // Only the REGISTER's 200 OK was parsed.
    expect(counts.misses - before).toBeLessThan(10);
  });

  it("makes INVITEs as an exchange forwards them, every third marked", () => {
    expect(madeUpInvite("2001", 2)).toMatch(
      /^INVITE sip:2001@192\.0\.2\.3;transport=ws SIP\/2\.0\r\n/,
    );
    expect(madeUpInvite("2001", 2)).toContain("\r\nPriority: emergency\r\n");
    expect(madeUpInvite("2001", 1)).not.toContain("Priority");
  });
});
