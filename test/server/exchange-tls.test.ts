/**
 * The lab exchange's wss:// listener (SIP over secure WebSocket, RFC 7118 §3,
 * on Kamailio's tls module) checked by real phones (PhoneAgent): the
 * certificate is a test CA's, naming the exchange "localhost" only, so the
 * phone's certificate and host-name checks (RFC 6125 §6.4) are what decide.
 * Also the exchange on the IPv6 loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type IncomingCall, PhoneAgent, type PhoneAgentOptions } from "../../sip/phone-agent.ts";
import { createTestCa, type TestCa } from "../support/test-ca.ts";
import { RawSipCaller } from "./raw-sip-caller.ts";

let ca: TestCa;
let ex: LabExchange;
const agents: PhoneAgent[] = [];

beforeAll(async () => {
  ca = createTestCa({ otherCa: true });
  ex = await startLabExchange({ tls: { cert: ca.cert, key: ca.key }, auth: true });
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await ex?.stop();
  ca?.cleanup();
});

function phone(o: Omit<PhoneAgentOptions, "password">): PhoneAgent {
  ex.table.setSubscriber(o.user, `pw-${o.user}`);
  const a = new PhoneAgent({ password: `pw-${o.user}`, ...o });
  agents.push(a);
  return a;
}

/** The first registration outcome: registered, or the reason it could not. */
function firstOutcome(a: PhoneAgent): Promise<{ registered: boolean; why: string }> {
  return new Promise((resolve) => {
    a.on("registration", (state, why) => {
      if (state === "registered") resolve({ registered: true, why });
      else if (state === "unregistered") resolve({ registered: false, why });
    });
    a.start();
  });
}

describe("wss:// listener (Kamailio tls, test CA, certificate for DNS:localhost)", () => {
  it("a phone that trusts the CA registers over wss://localhost", async () => {
    expect(ex.wssUrl()).toBe(`wss://localhost:${ex.wssPort}`);
    const a = phone({
      server: ex.wssUrl(),
      user: "2101",
      tls: { caFile: ca.caFile, rejectUnauthorized: true },
    });
    const got = await firstOutcome(a);
    expect(got, got.why).toEqual({ registered: true, why: "200 OK to REGISTER" });
  });

  it("a phone that trusts another CA does not register", async () => {
    const a = phone({
      server: ex.wssUrl(),
      user: "2102",
      tls: { caFile: ca.otherCaFile ?? "", rejectUnauthorized: true },
    });
    const got = await firstOutcome(a);
    expect(got.registered).toBe(false);
    expect(got.why).toMatch(/certificate|verify/i);
    await a.stop();
  });

  it("a phone that names the exchange by an address the certificate lacks does not register", async () => {
    const a = phone({
      server: `wss://127.0.0.1:${ex.wssPort}`,
      user: "2103",
      domain: "localhost",
      tls: { caFile: ca.caFile, rejectUnauthorized: true },
    });
    const got = await firstOutcome(a);
    expect(got.registered).toBe(false);
    expect(got.why).toMatch(/altnames|host ?name|certificate/i);
    await a.stop();
  });

  it("two phones over wss:// call each other; an emergency number reaches its phone marked", async () => {
    const tls = { caFile: ca.caFile, rejectUnauthorized: true };
    const a = phone({ server: ex.wssUrl(), user: "2111", tls });
    const b = phone({ server: ex.wssUrl(), user: "2112", tls });
    const calls: IncomingCall[] = [];
    b.on("incoming", (c) => {
      calls.push(c);
      void b.answer(c.callId);
    });
    expect((await firstOutcome(a)).registered).toBe(true);
    expect((await firstOutcome(b)).registered).toBe(true);

    const answered = (id: string) =>
      new Promise<void>((resolve, reject) => {
        a.on("remote-answered", (c) => c === id && resolve());
        a.on("remote-ended", (c, cause, code) => c === id && reject(new Error(`${cause} ${code}`)));
      });
    const first = answered("out-1");
    a.dial("out-1", "2112");
    await first;
    expect(calls[0]?.remote).toBe("2111");
    expect(calls[0]?.alertInfo).toEqual([]);
    a.hangUp("out-1");

    ex.table.bind("112", "2112");
    const second = answered("out-2");
    a.dial("out-2", "112");
    await second;
    expect(calls[1]?.alertInfo).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
    expect(calls[1]?.priority).toBe("emergency");
    a.hangUp("out-2");
  }, 20_000);
});

describe("the exchange's host name is its own domain", () => {
  it("with auth on, an INVITE in the domain the phones use (localhost) is challenged, never relayed", async () => {
    const tls = { caFile: ca.caFile, rejectUnauthorized: true };
    const callee = phone({ server: ex.wssUrl(), user: "2121", tls });
    const rang: IncomingCall[] = [];
    callee.on("incoming", (c) => rang.push(c));
    expect((await firstOutcome(callee)).registered).toBe(true);
    const caller = await RawSipCaller.open(ex, "3121", "localhost");
    try {
      const { answer } = await caller.invite("2121");
      expect(answer?.code).toBe(407);
      expect(rang).toEqual([]);
    } finally {
      caller.close();
    }
  });
});

describe("IPv6 loopback exchange", () => {
  it("listens on [::1]: a phone registers over ws://[::1] and an emergency reaches it", async () => {
    const ex6 = await startLabExchange({ host: "::1" });
    try {
      expect(ex6.domain).toBe("[::1]");
      expect(ex6.wsUrl).toBe(`ws://[::1]:${ex6.wsPort}`);
      // Signalling over IPv6; the phones' RTP stays on IPv4 (audio/ binds udp4 sockets
      // only: "no free RTP port pair ... on ::1" otherwise), named in their SDP.
      const media = { address: "127.0.0.1" };
      const a = new PhoneAgent({ server: ex6.wsUrl, user: "2201", media });
      const b = new PhoneAgent({ server: ex6.wsUrl, user: "2202", media });
      agents.push(a, b);
      const calls: IncomingCall[] = [];
      b.on("incoming", (c) => {
        calls.push(c);
        void b.answer(c.callId);
      });
      expect(await firstOutcome(a)).toMatchObject({ registered: true });
      expect(await firstOutcome(b)).toMatchObject({ registered: true });
      ex6.table.bind("112", "2202");
      const answered = new Promise<void>((resolve) => a.once("remote-answered", () => resolve()));
      a.dial("out-6", "112");
      await answered;
      expect(calls[0]?.alertInfo).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
      a.hangUp("out-6");
      await a.stop();
      await b.stop();
    } finally {
      await ex6.stop();
    }
  }, 20_000);
});
