/**
 * The exchange limits each source's request rate (pike, route[FLOODLIMIT])
 * and never limits an INVITE to an emergency number, even from the source
 * that floods. Raw UDP callers from their own loopback addresses
 * (127.0.0.0/8), a limit made small (10 requests a second) for the test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type FloodCall, FloodCaller } from "./flood-caller.ts";

let ex: LabExchange;
const callers: FloodCaller[] = [];
beforeAll(async () => {
  ex = await startLabExchange({ floodLimit: { requests: 10, unitS: 1 } });
  ex.table.bind("112", "2001"); // no 2001 registered: an emergency INVITE ends 480 past the limit
}, 30_000);
afterAll(async () => {
  for (const c of callers) c.close();
  await ex?.stop();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function open(address: string): Promise<FloodCaller> {
  const c = await FloodCaller.open(ex, [address]);
  callers.push(c);
  return c;
}

describe("the exchange's per-source rate limit", () => {
  it("a flooding source gets 503 with Retry-After; its emergency INVITE and a quiet source are never limited", async () => {
    const flooder = await open("127.0.0.2");
    const quiet = await open("127.0.0.3");
    await flooder.flood("2099", { count: 150, ratePerS: 300 });
    // The source is blocked now: its emergency INVITE still goes through.
    const emergency = flooder.invite("112", { from: "3999" });
    const ordinary = quiet.invite("2099");
    expect(await flooder.settled(5000)).toBe(true);
    expect(await quiet.settled(5000)).toBe(true);

    const flood = [...flooder.calls.values()].filter((c) => c !== emergency);
    const limited = flood.filter((c) => c.final?.code === 503);
    expect(limited.length).toBeGreaterThan(50);
    expect(limited[0]?.final?.message).toMatch(/^Retry-After:\s*\d+/im);
    // Every request got exactly one final answer: 480 (no such user registered) or 503.
    expect(new Set(flood.map((c) => c.final?.code))).toEqual(new Set([480, 503]));
    // One answer each: statuses counted, not datagrams. A final sent from a UDP server
    // transaction is repeated until the ACK reaches it (RFC 3261 §17.2.1, Timer G), and a
    // caller busy with 150 calls can ACK late; a repeat carries the same status. (These
    // 480s and 503s are sent statelessly today, sl_send_reply, so nothing is repeated.)
    for (const c of flood) {
      const finals = c.responses.filter((r) => r.code >= 200).map((r) => r.code);
      expect(new Set(finals), `${c.callId}: ${finals}`).toEqual(new Set([c.final?.code]));
    }

    expect(emergency.final?.code).toBe(480);
    expect(emergency.final?.message).toMatch(/No Bound Phone Registered/);
    expect(ex.log()).toMatch(
      /emergency INVITE to 112 from flooding source 127\.0\.0\.2: not limited/,
    );
    expect(ordinary.final?.code).toBe(480);
  }, 30_000);

  it("a source that calmed down is served again", async () => {
    const c = await open("127.0.0.4");
    await c.flood("2099", { count: 100, ratePerS: 400 });
    await c.settled(5000);
    expect([...c.calls.values()].some((x) => x.final?.code === 503)).toBe(true);
    // pike lets a source go the first window it stays under the limit: one INVITE every
    // 500 ms (under the limit of 10 a second) until one is served, 10 s at most.
    let later: FloodCall | undefined;
    const until = performance.now() + 10_000;
    while (performance.now() < until) {
      later = c.invite("2099");
      await c.settled(5000);
      if (later.final?.code !== 503) break;
      await sleep(500);
    }
    expect(later?.final?.code).toBe(480);
  }, 30_000);
});
