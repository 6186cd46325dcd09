/**
 * The conference focus's room lifecycle against the real Kamailio, the focus
 * as its own process (`deskphone-exchange focus`, INVITEs again every 1 s, at
 * most 3, media timeout 3 s): late joins, refusals INVITEd again, giving up, the
 * room ending with its caller (BYE or silence) or with its last bound user, a
 * focus stopped mid-room, and forged focus headers counting for nothing.
 * Parties are our SIP agents (sip/phone-agent.ts) sending silence over real RTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallMedia } from "../../audio/call-media.ts";
import { SILENCE } from "../../audio/frame-source.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";
import { frequenciesIn } from "../support/tone-analyser.ts";
import { type FocusProcess, startFocus } from "./focus-process.ts";
import { RawSipCaller } from "./raw-sip-caller.ts";

let ex: LabExchange;
let focus: FocusProcess;
const agents: PhoneAgent[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = (what: string, test: () => boolean, ms?: number) => focus.until(what, test, ms);

/** The focus started (INVITEs again every 1 s, at most 3; media timeout 3 s) and registered. */
async function restartFocus(): Promise<FocusProcess> {
  focus = startFocus(ex.wsUrl, [
    "--retry-every-s",
    "1",
    "--max-attempts",
    "3",
    "--media-timeout-s",
    "3",
  ]);
  await focus.registered();
  return focus;
}

/** A party: registered, sending silence on every call's media; answers incoming calls when `answer`. */
async function party(user: string, answer = true) {
  const agent = new PhoneAgent({ server: ex.wsUrl, user });
  agents.push(agent);
  const incoming: IncomingCall[] = [];
  const ended: string[] = [];
  const media = new Map<string, CallMedia>();
  /** What this party heard, 20 ms at a time, on every call. */
  const heard: Int16Array[] = [];
  agent.on("media", (id, m) => {
    media.set(id, m);
    if (!(m instanceof RtpSession)) return;
    m.startSending(SILENCE);
    // 20 ms frames as they fall due (a late timer catches up).
    const start = performance.now();
    let read = 0;
    const timer = setInterval(() => {
      for (; read < Math.floor((performance.now() - start) / 20); read++) {
        const f = new Int16Array(160);
        m.read(f);
        heard.push(f);
      }
    }, 20);
    void m.closed.then(() => clearInterval(timer));
  });
  agent.on("incoming", (c) => {
    incoming.push(c);
    if (answer) void agent.answer(c.callId).catch(() => {});
  });
  agent.on("remote-ended", (id, cause) => ended.push(`${id} ${cause}`));
  const registered = new Promise<void>((r) =>
    agent.on("registration", (s) => s === "registered" && r()),
  );
  agent.start();
  await registered;
  return { agent, incoming, ended, media, heard };
}

/** The caller dials `number` and waits for the focus's answer. */
async function dial(number: string, user: string) {
  const c = await party(user);
  const answered = new Promise<void>((r) => c.agent.once("remote-answered", () => r()));
  c.agent.dial("c", number);
  await answered;
  return c;
}

const roomLines = (f: FocusProcess, room: string) =>
  f
    .out()
    .split("\n")
    .filter((l) => l.includes(`room ${room}:`));
/** The rooms opened for `number` so far, by id. */
const roomsFor = (number: string) =>
  [...focus.out().matchAll(new RegExp(`room (\\S+): emergency ${number},`, "g"))].map(
    (m) => m[1] ?? "",
  );
/** The id of the room opened for `number` after `before` of them (its log line may be on its way). */
async function newRoom(number: string, before: number): Promise<string> {
  await until(`a new room for ${number}`, () => roomsFor(number).length > before);
  return roomsFor(number)[before] ?? "";
}

beforeAll(async () => {
  ex = await startLabExchange();
  for (const u of ["2101", "2102"]) ex.table.bind("120", u);
  for (const u of ["2201", "2202"]) ex.table.bind("121", u);
  for (const u of ["2301", "2302"]) ex.table.bind("122", u);
  await restartFocus();
}, 30_000);

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => {});
  await focus?.stop();
  await ex?.stop();
});

describe("the conference focus's rooms (real Kamailio, the focus as a process)", () => {
  it("a bound user not registered is INVITEd again and joins late; one who hangs up is not called again; the last to leave ends the room", async () => {
    const p2101 = await party("2101");
    const caller = await dial("120", "3101");
    await until("2101 joined", () => /: 2101 joined \(attempt 1\)/.test(focus.out()));
    const inv = p2101.incoming[0];
    expect(inv).toMatchObject({
      alertInfo: [DEFAULT_EMERGENCY_ALERT_INFO],
      priority: "emergency",
      trusted: true,
      displayName: "Emergency 120",
    });
    await until("2102 refused and INVITEd again", () =>
      /: 2102 refused \(480\); INVITE again in 1 s \(attempt 2 of 3\)/.test(focus.out()),
    );
    const p2102 = await party("2102");
    await until("2102 joined late", () => /: 2102 joined \(attempt [23]\)/.test(focus.out()));
    expect(p2102.incoming[0]?.alertInfo).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);

    p2101.agent.hangUp(p2101.incoming[0]?.callId ?? "");
    await until("2101 left", () => /: 2101 left/.test(focus.out()));
    await sleep(2500); // longer than the retry interval: 2101 is not called again
    expect(p2101.incoming).toHaveLength(1);
    expect(caller.ended).toEqual([]);

    p2102.agent.hangUp(p2102.incoming[0]?.callId ?? "");
    await until("the room ended", () => /ended \(no bound user is left\)/.test(focus.out()));
    await until("the caller hung up on", () => caller.ended.includes("c bye"), 3000);
  }, 40_000);

  it("bound users that never answer are given up after the attempts; then the room ends and the caller gets BYE", async () => {
    const before = roomsFor("121").length;
    const caller = await dial("121", "3102");
    const room = await newRoom("121", before);
    await until("the room ended", () => roomLines(focus, room).some((l) => /ended/.test(l)), 8000);
    const lines = roomLines(focus, room);
    expect(lines.filter((l) => /2201 given up: refused \(480\) 3 times/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /2202 given up: refused \(480\) 3 times/.test(l))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/ended \(no bound user is left\)/);
    await until("the caller hung up on", () => caller.ended.includes("c bye"), 3000);
    // Alone in the room, the caller heard the waiting tone (425 Hz, its first second on).
    const first = Int16Array.from(caller.heard.slice(0, 50).flatMap((f) => [...f]));
    // (Read by a test timer, not a sound card: a late read leaves a gap, so sidebands ±25 Hz.)
    const found = frequenciesIn(first, 0, first.length, 8000);
    expect(
      found.some((f) => Math.abs(f - 425) <= 5),
      JSON.stringify(found),
    ).toBe(true);
    expect(
      found.every((f) => f > 350 && f < 500),
      JSON.stringify(found),
    ).toBe(true);
  }, 20_000);

  it("a caller whose media stops (no BYE) is gone within the media timeout: the room ends and the phones are hung up on", async () => {
    const p2301 = await party("2301");
    const p2302 = await party("2302");
    const caller = await dial("122", "3103");
    await until(
      "both joined",
      () => /2301 joined/.test(focus.out()) && /2302 joined/.test(focus.out()),
    );
    const t0 = Date.now();
    caller.media.get("c")?.close();
    await until(
      "the room ended",
      () => /ended \(the caller's media stopped/.test(focus.out()),
      8000,
    );
    await until(
      "2301 and 2302 hung up on",
      () => p2301.ended.length === 1 && p2302.ended.length === 1,
    );
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(p2301.ended[0]).toMatch(/ bye$/);
  }, 30_000);

  it("a focus stopped mid-room ends it loudly (BYE to all); a focus started again takes the next call", async () => {
    const p2101 = await party("2101");
    const p2102 = await party("2102");
    const before = roomsFor("120").length;
    const caller = await dial("120", "3104");
    const room = await newRoom("120", before);
    await until("both joined", () => {
      const lines = roomLines(focus, room).join("\n");
      return /2101 joined/.test(lines) && /2102 joined/.test(lines);
    });
    const old = focus;
    await old.stop();
    expect(old.out()).toMatch(/SIGTERM: stopping \(open rooms end now\)/);
    expect(old.out()).toMatch(/ended \(the focus is stopping\)/);
    await until("everyone hung up on", () =>
      [caller, p2101, p2102].every((p) => p.ended.some((e) => / bye$/.test(e))),
    );
    await restartFocus();
    const next = await dial("120", "3105");
    await until("a room again", () => /2101 joined/.test(focus.out()));
    next.agent.hangUp("c");
    await until("it ended", () => /ended \(the caller left\)/.test(focus.out()));
  }, 40_000);

  it("focus headers from anyone but the exchange count for nothing", async () => {
    const raw = await RawSipCaller.open(ex, "3901");
    try {
      // Straight to the focus with forged room headers: the exchange strips them, the focus refuses.
      const direct = await raw.invite("focus", {
        headers: ["X-Deskphone-Emergency: 120", "X-Deskphone-Bound: 2101,2102"],
      });
      expect(direct.answer?.code).toBe(403);
      await until("the refusal logged", () =>
        /INVITE from "3901" refused: needs one X-Deskphone-Emergency/.test(focus.out()),
      );
      // A forged focus request to a bound phone: not from the focus's connection, so unmarked.
      const p = await party("2401");
      const forged = await raw.invite("2401", { headers: ["X-Deskphone-Emergency: 120"] });
      expect(forged.answer?.code).toBe(200);
      expect(p.incoming[0]).toMatchObject({ alertInfo: [] });
      expect(p.incoming[0]?.priority).toBeUndefined();
      if (forged.dialog) await raw.bye(forged.dialog);
    } finally {
      raw.close();
    }
  }, 20_000);
});
