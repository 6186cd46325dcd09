/**
 * Emergencies first under load (issue 12), on our phone (the real Phone:
 * controller and SIP agent) registered on the lab Kamailio, with raw UDP
 * callers from loopback addresses of their own (test/server/flood-caller.ts):
 *
 * - a call the phone rings gets exactly one 180 (the controller's), a call it
 *   refuses (486, 488, 422) none;
 * - an emergency INVITE in a flood of ordinary ones is answered with its 180
 *   ahead of the ordinary INVITEs that were waiting when it came, and every
 *   ordinary INVITE gets exactly one final answer;
 * - an INVITE CANCELled while it waits ends 487, and the phone never sees it.
 *
 * What goes in and out is read on the phone's own WebSocket (the agent's wire tap).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type FloodCall, FloodCaller } from "../server/flood-caller.ts";
import { type LabPhone, startLabPhone } from "../support/lab-phone.ts";

interface Wire {
  seq: number;
  dir: "in" | "out";
  start: string;
  callId: string;
  method: string;
  message: string;
}

let ex: LabExchange;
let phone: LabPhone;
let wire: Wire[] = [];
const callers: FloodCaller[] = [];
let seq = 0;
const header = (m: string, name: string) =>
  new RegExp(`^${name}\\s*:\\s*(.*)$`, "im").exec(m)?.[1]?.trim() ?? "";

beforeAll(async () => {
  ex = await startLabExchange();
  ex.table.bind("112", "2001");
  phone = await startLabPhone(ex, "2001", {
    agent: {
      // RFC 4028: a Session-Expires below this gets 422 (the 422 case below).
      minSessionExpiresS: 90,
      wireTap: (dir, message) => {
        const start = message.slice(0, message.indexOf("\r\n"));
        const method = header(message, "CSeq").split(/\s+/)[1] ?? "";
        wire.push({ seq: ++seq, dir, start, callId: header(message, "Call-ID"), method, message });
      },
    },
  });
}, 30_000);
afterEach(async () => {
  for (const c of callers.splice(0)) {
    c.cancelUnanswered();
    await c.settled(3000);
    c.close();
  }
  await phone.waitFor("idle", (s) => s.phase.kind === "idle", 10_000);
  wire = [];
});
afterAll(async () => {
  await phone?.stop();
  await ex?.stop();
});

async function open(addresses: string[]): Promise<FloodCaller> {
  const c = await FloodCaller.open(ex, addresses);
  callers.push(c);
  return c;
}

/** Responses the phone sent for a call (by Call-ID), as status codes in order. */
const sent = (callId: string) =>
  wire
    .filter((w) => w.dir === "out" && w.callId === callId && w.start.startsWith("SIP/2.0 "))
    .map((w) => ({ code: Number(w.start.split(" ")[1]), method: w.method, seq: w.seq }));
const ringings = (c: FloodCall) => c.responses.filter((r) => r.code === 180).length;
async function until(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("180 only for a call the phone rings", () => {
  it("one 180 for the call it rings; none for those it refuses with 486, 488 and 422", async () => {
    const c = await open(["127.0.0.11"]);
    const rung = c.invite("2001");
    await phone.waitFor("ringing", (s) => s.phase.kind === "ringing");
    const busy = c.invite("2001");
    const noCodec = c.invite("2001", { codecs: [[3, "GSM/8000"]] });
    const tooShort = c.invite("2001", { headers: ["Session-Expires: 30", "Supported: timer"] });
    await until("three final answers", () => [busy, noCodec, tooShort].every((x) => x.final));
    for (const [call, code] of [
      [busy, 486],
      [noCodec, 488],
      [tooShort, 422],
    ] as const) {
      expect(call.final?.code, call.callId).toBe(code);
      expect(ringings(call), `180s before ${code}`).toBe(0);
      expect(sent(call.callId).filter((r) => r.code === 180)).toEqual([]);
    }
    expect(rung.final).toBeUndefined();
    expect(ringings(rung)).toBe(1);
    expect(sent(rung.callId).filter((r) => r.code === 180)).toHaveLength(1);
  }, 30_000);
});

describe("an emergency through a flood", () => {
  it("the emergency's 180 goes out ahead of the ordinary INVITEs waiting before it; each ordinary INVITE gets one final answer", async () => {
    // 16 sources: each stays under the exchange's per-source limit (100 per 2 s).
    const flood = await open(Array.from({ length: 16 }, (_, i) => `127.0.0.${20 + i}`));
    const emergencyCaller = await open(["127.0.1.2"]);
    let emergency: FloodCall | undefined;
    await flood.flood("2001", {
      count: 1000,
      ratePerS: 200,
      during: (n) => {
        if (n === 500) emergency = emergencyCaller.invite("112", { from: "3999" });
      },
    });
    const e = emergency as FloodCall;
    await phone.waitFor(
      "ringing for the emergency",
      (s) => s.phase.kind === "ringing" && s.phase.call.alertClass.emergency,
    );
    await until(
      "every ordinary call answered but the one that rang",
      () => [...flood.calls.values()].filter((c) => !c.final).length <= 1,
    );
    const eIn = wire.find((w) => w.dir === "in" && w.callId === e.callId && w.method === "INVITE");
    const e180 = sent(e.callId).find((r) => r.code === 180);
    expect(eIn, "the emergency INVITE reached the phone").toBeDefined();
    expect(e180, "the phone sent 180 for the emergency").toBeDefined();
    expect(ringings(e)).toBe(1);

    // Ordinary INVITEs that reached the phone before the emergency and had no
    // answer yet when it came: they were waiting. The emergency went first.
    const firstAnswer = new Map<string, number>();
    for (const w of wire)
      if (w.dir === "out" && w.method === "INVITE" && w.start.startsWith("SIP/2.0 "))
        if (!firstAnswer.has(w.callId) && !w.start.startsWith("SIP/2.0 100"))
          firstAnswer.set(w.callId, w.seq);
    const waiting = wire.filter(
      (w) =>
        w.dir === "in" &&
        w.method === "INVITE" &&
        w.start.startsWith("INVITE ") &&
        w.seq < (eIn as Wire).seq &&
        (firstAnswer.get(w.callId) ?? Number.POSITIVE_INFINITY) > (eIn as Wire).seq,
    );
    expect(waiting.length, "ordinary INVITEs waiting when the emergency came").toBeGreaterThan(5);
    for (const w of waiting) {
      const answered = firstAnswer.get(w.callId);
      // The one ordinary call the phone was ringing rang before: it is not waiting.
      if (answered === undefined) continue;
      expect(answered, `${w.callId} answered after the emergency's 180`).toBeGreaterThan(
        (e180 as { seq: number }).seq,
      );
    }

    // Each ordinary caller: one final answer — 486 (busy), 500 (the exchange's word
    // for the phone's 503 when too many waited, RFC 3261 §16.7) or, for the one the
    // phone rang before the emergency superseded it, 486 too — and a 180 only for
    // that one.
    flood.cancelUnanswered();
    await flood.settled(5000);
    const calls = [...flood.calls.values()];
    for (const c of calls) {
      // One answer. Over UDP the exchange repeats a final answer until our ACK reaches it
      // (RFC 3261 §17.2.1, Timer G: 500 ms), and under load the ACK can be that late: a
      // repeat has the same status, so the statuses are counted, not the datagrams.
      const finals = c.responses.filter((r) => r.code >= 200).map((r) => r.code);
      expect(new Set(finals), `${c.callId}: ${finals}`).toEqual(new Set([c.final?.code]));
      expect([486, 487, 500]).toContain(c.final?.code);
      // The phone itself answered its INVITE once at most (the 500s are the exchange's).
      const own = sent(c.callId).filter((r) => r.method === "INVITE" && r.code >= 200);
      expect(own.length, c.callId).toBeLessThanOrEqual(1);
    }
    expect(calls.filter((c) => ringings(c) > 0).length).toBeLessThanOrEqual(1);
    // The phone's own 503s carry a Retry-After (RFC 3261 §21.5.4).
    const shed = wire.filter((w) => w.dir === "out" && w.start.startsWith("SIP/2.0 503"));
    expect(shed.length).toBeGreaterThan(0);
    for (const w of shed) expect(w.message).toMatch(/^Retry-After: \d+/m);
    // The phone's journal has the emergency rung.
    expect(phone.journal).toContainEqual(
      expect.objectContaining({ event: "rung", remote: "3999", emergency: true }),
    );
  }, 60_000);

  it("an INVITE CANCELled while it waits ends 487 (200 OK to the CANCEL); the phone never sees it", async () => {
    const c = await open(["127.0.0.40", "127.0.0.41"]);
    const seen: string[] = [];
    phone.agent.on("incoming", (call) => seen.push(call.sipCallId));
    // The first rings; at most 10 pass at once (the burst), the rest wait their turn
    // (at most 16 wait, so none of these 16 is refused for lack of room).
    const burst = Array.from({ length: 16 }, (_, i) => c.invite("2001", { source: i }));
    // The victim is one the phone holds waiting: the triage's own 100 Trying says so
    // (the INVITEs of two sources cross Kamailio's workers in any order, so a fixed
    // index may be one of the burst that passes at once and gets 486). The last
    // to be told to wait has the longest wait left (a token each 50 ms).
    const waitedOn = () => wire.filter((w) => w.dir === "out" && w.start.startsWith("SIP/2.0 100"));
    await until("the phone to hold five INVITEs waiting", () => waitedOn().length >= 5, 3000);
    const stillWaiting = waitedOn().filter((w) => sent(w.callId).every((r) => r.code < 180));
    const victim = c.calls.get(stillWaiting.at(-1)?.callId ?? "") as FloodCall;
    expect(victim).toBeDefined();
    c.cancel(victim);
    await c.settled(3000);
    expect(victim.final?.code).toBe(487);
    expect(victim.cancelAnswer).toBe(200);
    expect(ringings(victim)).toBe(0);
    // Answered by the triage on the wire: 100 Trying while it waited (so the exchange
    // could CANCEL it, RFC 3261 §9.1), then 200 to the CANCEL and 487 to the INVITE.
    expect(sent(victim.callId).map((r) => `${r.code} ${r.method}`)).toEqual([
      "100 INVITE",
      "200 CANCEL",
      "487 INVITE",
    ]);
    // The call that reached the phone first rings (the two sources' INVITEs cross
    // Kamailio in either order, so it need not be burst[0]); exactly one rings, and
    // every other call but the cancelled one is refused busy.
    const rung = burst.filter((x) => ringings(x) > 0);
    expect(rung).toHaveLength(1);
    const others = burst.filter((x) => x !== victim && x !== rung[0]);
    for (const o of others) expect(o.final?.code).toBe(486);
    // The controller saw every other call of the burst, never the cancelled one.
    expect(seen).not.toContain(victim.callId);
    expect(seen).toHaveLength(burst.length - 1);
  }, 30_000);
});
