/**
 * The warm-up after registering (sip/warm-up.ts): the phone parses a made-up
 * INVITE a few dozen times so that its first real call does not meet a cold
 * parser — and it does nothing else: nothing goes to the exchange but the
 * REGISTER, and the phone is told of no call. The phone agent over its real
 * WebSocket, against a stand-in exchange.
 */
import { afterAll, describe, expect, it } from "vitest";
import { rememberParsedHeaders } from "../../sip/parsed-headers.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { FakeExchange } from "../reliability/fake-exchange.ts";

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

async function registeredPhone(warmUp?: boolean) {
  const ex = await FakeExchange.start();
  const agent = new PhoneAgent({
    server: ex.url,
    user: "2001",
    ...(warmUp === false && { warmUp }),
  });
  const calls: string[] = [];
  agent.on("incoming", (c) => calls.push(c.callId));
  agent.start();
  await ex.registered;
  stops.push(async () => {
    await agent.stop();
    await ex.stop();
  });
  return { ex, calls };
}

/** Header values the grammar parsed (sip/parsed-headers.ts counts each one it had to). */
const parsed = () => rememberParsedHeaders().misses;
const settle = () => new Promise((r) => setTimeout(r, 1500));

describe("the warm-up after registering", () => {
  it("parses INVITE headers once registered, and sends nothing, and reports no call", async () => {
    rememberParsedHeaders();
    const before = parsed();
    const { ex, calls } = await registeredPhone();
    await settle();
    // The made-up INVITE's values: at least its start line, Record-Route, From, To and Contact, 8 of each.
    expect(parsed() - before).toBeGreaterThanOrEqual(5 * 8);
    expect(ex.received.every((m) => m.startsWith("REGISTER "))).toBe(true);
    expect(calls).toEqual([]);
  });

  it("is not done when the phone is told not to", async () => {
    rememberParsedHeaders();
    const before = parsed();
    await registeredPhone(false);
    await settle();
    // Only the REGISTER's 200 OK was parsed.
    expect(parsed() - before).toBeLessThan(10);
  });
});
