/**
 * Registration in the real world: the exchange killed and restarted, frozen
 * (a dead peer that keeps its TCP connection), and a refresh that fails.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import type { RegistrationState } from "../../sip/registration.ts";
import { startLabPhone } from "../support/lab-phone.ts";
import { call } from "../support/lab-phones.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const now = () => performance.now();

function watch(agent: PhoneAgent) {
  const seen: { state: RegistrationState; why: string; at: number }[] = [];
  agent.on("registration", (state, why) => seen.push({ state, why, at: now() }));
  const until = (state: RegistrationState, after: number, timeoutMs: number) =>
    new Promise<{ at: number; why: string }>((resolve, reject) => {
      const t0 = now();
      const check = () => {
        const hit = seen.find((s) => s.state === state && s.at >= after);
        if (hit) return resolve(hit);
        if (now() - t0 > timeoutMs)
          return reject(new Error(`no "${state}" within ${timeoutMs} ms: ${JSON.stringify(seen)}`));
        setTimeout(check, 20);
      };
      check();
    });
  return { seen, until };
}

describe("registration survives the exchange", () => {
  it("Kamailio killed and restarted: noticed at once, re-registered, and the next call is taken", async () => {
    const ex: LabExchange = await startLabExchange();
    cleanup.push(() => ex.stop());
    const p = await startLabPhone(ex, "2001");
    cleanup.push(() => p.stop());
    const reg = watch(p.agent);
    const killedAt = now();
    await ex.kill();
    const lost = await reg.until("unregistered", killedAt, 10_000);
    console.log(
      `exchange killed: noticed after ${(lost.at - killedAt).toFixed(0)} ms (${lost.why})`,
    );
    await ex.restart();
    const back = await reg.until("registered", killedAt, 20_000);
    console.log(`re-registered ${(back.at - killedAt).toFixed(0)} ms after the kill`);
    const caller = call(ex, { from: "3001", to: "2001", talkMs: 200 });
    await p.waitFor("ringing", (s) => s.phase.kind === "ringing");
    p.phone.hook(true);
    const r = await caller;
    expect(r.code, r.errors).toBe(0);
    p.phone.hook(false);
  }, 40_000);

  it("a frozen exchange (no RST, no answers) is noticed by WebSocket ping/pong within 10 s", async () => {
    const ex = await startLabExchange();
    cleanup.push(() => ex.stop());
    const agent = new PhoneAgent({
      server: ex.wsUrl,
      user: "2002",
      pingIntervalMs: 2000,
      pongTimeoutMs: 2000,
    });
    cleanup.push(() => agent.stop());
    const reg = watch(agent);
    agent.start();
    await reg.until("registered", 0, 10_000);
    const frozenAt = now();
    process.kill(-ex.pid, "SIGSTOP");
    cleanup.push(async () => {
      try {
        process.kill(-ex.pid, "SIGCONT");
      } catch {}
    });
    const lost = await reg.until("unregistered", frozenAt, 10_000);
    console.log(
      `frozen exchange noticed after ${(lost.at - frozenAt).toFixed(0)} ms (${lost.why})`,
    );
    expect(lost.why).toMatch(/closed|pong|gone/i);
    process.kill(-ex.pid, "SIGCONT");
    await reg.until("registered", lost.at, 20_000);
  }, 40_000);

  it("a failed REGISTER refresh is retried until it succeeds", async () => {
    const ex = await startLabExchange({ auth: true, minExpires: 4 });
    cleanup.push(() => ex.stop());
    ex.table.setSubscriber("2003", "right");
    const agent = new PhoneAgent({
      server: ex.wsUrl,
      user: "2003",
      password: "right",
      registerExpires: 4,
    });
    cleanup.push(() => agent.stop());
    const reg = watch(agent);
    agent.start();
    const first = await reg.until("registered", 0, 10_000);
    // The account's password changes on the exchange: the refresh (after 2 s) fails.
    ex.table.setSubscriber("2003", "changed");
    const failed = await reg.until("unregistered", first.at, 10_000);
    expect(failed.why).toMatch(/refresh failed|refused/);
    // Retries keep failing while the password is wrong: two tries after the failure
    // (the backoff: ~0.5 s, then ~1 s, sip/registration.ts), neither registered…
    const tried = await reg.until("registering", failed.at, 10_000);
    const failedAgain = await reg.until("unregistered", tried.at, 10_000);
    await reg.until("registering", failedAgain.at, 10_000);
    expect(reg.seen.filter((s) => s.at > failed.at && s.state === "registered")).toEqual([]);
    // …and succeed once it is right again.
    ex.table.setSubscriber("2003", "right");
    await reg.until("registered", failed.at, 20_000);
  }, 40_000);
});
