/**
 * The exchange killed mid-call and started again (server/kamailio/lab-exchange.ts
 * `restart()`, SIGKILL then the same ports): the phones re-register within a
 * second on new WebSocket connections, and the call still ends cleanly on both
 * sides when the far end hangs up — its BYE reaches the phone (200 OK, not 500)
 * although the dialog's route named the connection that died
 * (server/kamailio/deskphone-exchange.cfg, route[WITHINDLG]).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type EndCause, PhoneAgent } from "../../sip/phone-agent.ts";
import { call } from "../support/lab-phones.ts";

let ex: LabExchange;
const agents: PhoneAgent[] = [];
beforeAll(async () => {
  ex = await startLabExchange();
}, 30_000);
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await ex?.stop();
});

interface Agent {
  agent: PhoneAgent;
  wire: { dir: "in" | "out"; text: string }[];
  ended: { callId: string; cause: EndCause; code: number | undefined }[];
  registrations: number;
  incoming: string[];
}

async function agent(user: string): Promise<Agent> {
  const a = new PhoneAgent({
    server: ex.wsUrl,
    user,
    wireTap: (dir, text) => r.wire.push({ dir, text }),
  });
  agents.push(a);
  const r: Agent = { agent: a, wire: [], ended: [], registrations: 0, incoming: [] };
  a.on("remote-ended", (callId, cause, code) => r.ended.push({ callId, cause, code }));
  a.on("registration", (s) => {
    if (s === "registered") r.registrations++;
  });
  a.on("incoming", (c) => {
    r.incoming.push(c.callId);
    void a.answer(c.callId);
  });
  a.start();
  await until(`${user} registered`, () => r.registrations > 0 || undefined);
  return r;
}

async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Restarts the exchange; resolves once every agent in `phones` registered again. */
async function restartExchange(...phones: Agent[]) {
  const before = phones.map((p) => p.registrations);
  const t0 = performance.now();
  await ex.restart();
  await until(
    "every phone registered again",
    () => phones.every((p, i) => p.registrations > (before[i] as number)) || undefined,
  );
  return performance.now() - t0;
}

/** ACKs the phone received. */
const acks = (p: Agent) => p.wire.filter((w) => w.dir === "in" && /^ACK /.test(w.text)).length;

const responsesTo = (p: Agent, method: string) =>
  p.wire
    .filter((w) => w.dir === "in" && new RegExp(`^CSeq:\\s*\\d+ ${method}`, "im").test(w.text))
    .map((w) => Number(/^SIP\/2\.0 (\d{3})/.exec(w.text)?.[1]))
    .filter((c) => c >= 200);

describe("the exchange restarted mid-call", () => {
  it("a sipp caller's BYE after the restart reaches the phone (200), and the phone's call ends as bye", async () => {
    const a = await agent("2501");
    // sipp talks for 4 s, then sends BYE along the dialog's route and expects 200.
    const caller = call(ex, { from: "3501", to: "2501", talkMs: 4000 });
    await until("the call answered", () => a.incoming[0]);
    // The caller's ACK has reached the phone (the dialog confirmed on both sides) before the
    // kill; a fixed 300 ms let a slow ACK meet the dead exchange.
    await until("the ACK at the phone", () => acks(a) > 0 || undefined);
    const took = await restartExchange(a);
    expect(took).toBeLessThan(3500);
    const r = await caller;
    expect(r.code, r.errors).toBe(0);
    const end = await until("the phone's call to end", () => a.ended[0]);
    expect(end).toMatchObject({ cause: "bye" });
  }, 30_000);

  it("between two of our phones, both reconnected: B's BYE reaches A, both calls end", async () => {
    const a = await agent("2502");
    const b = await agent("2503");
    const answered = new Promise<void>((r) => a.agent.once("remote-answered", () => r()));
    a.agent.dial("out-1", "2503");
    await answered;
    await until("A's ACK at B", () => acks(b) > 0 || undefined);
    await restartExchange(a, b);
    const callId = b.incoming[0] as string;
    b.agent.hangUp(callId);
    const end = await until("A's call to end", () => a.ended[0], 5000);
    expect(end).toEqual({ callId: "out-1", cause: "bye", code: undefined });
    await until("B's BYE answered", () => responsesTo(b, "BYE")[0]);
    expect(responsesTo(b, "BYE")).toEqual([200]);
  }, 30_000);
});
