import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { call, header, registerPhone } from "../support/lab-phones.ts";
import { type CallOptions, ringUntilCancelScenario } from "../support/sipp-scenarios.ts";

let ex: LabExchange;
beforeAll(async () => {
  ex = await startLabExchange();
});
afterAll(async () => {
  await ex?.stop();
});

/**
 * A sipp phone registered as `user` answers the call `o` makes through the
 * exchange; the caller's run must pass. The phone's run, and the INVITE it got.
 */
async function answeredBy(user: string, o: CallOptions) {
  const phone = await registerPhone(ex, user);
  const caller = await call(ex, o);
  const answered = await phone.done;
  expect(caller.code, caller.errors).toBe(0);
  return { answered, invite: answered.messages.find((m) => m.startsWith("INVITE ")) ?? "" };
}

describe("lab exchange routing (real Kamailio, sipp phones)", () => {
  it("an emergency number bound to one user reaches it with the exchange's Alert-Info", async () => {
    ex.table.bind("112", "2001");
    const { answered, invite } = await answeredBy("2001", { from: "3001", to: "112" });
    expect(answered.code, answered.errors).toBe(0);
    expect(invite).toMatch(/^INVITE sip:2001@/);
    expect(header(invite, "Alert-Info")).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
    expect(header(invite, "Priority")).toEqual(["emergency"]);
  });

  it("a direct call to a bound user arrives without Alert-Info", async () => {
    ex.table.bind("112", "2011");
    const { invite } = await answeredBy("2011", { from: "3002", to: "2011" });
    expect(invite).toMatch(/^INVITE sip:2011@/);
    expect(header(invite, "Alert-Info")).toEqual([]);
    expect(header(invite, "Priority")).toEqual([]);
  });

  it("strips Alert-Info, Priority and Resource-Priority forged by a client", async () => {
    const { invite } = await answeredBy("2012", {
      from: "3003",
      to: "2012",
      headers: [
        "Alert-Info: <http://evil.invalid/x>;info=alert-emergency",
        "Alert-Info: Bellcore-dr4",
        "Priority: emergency",
        "Resource-Priority: dsn.flash-override",
      ],
    });
    expect(invite).toMatch(/^INVITE sip:2012@/);
    expect(header(invite, "Alert-Info")).toEqual([]);
    expect(header(invite, "Priority")).toEqual([]);
    expect(header(invite, "Resource-Priority")).toEqual([]);
  });

  it("a forged Alert-Info on a call to the emergency number is replaced by the exchange's", async () => {
    ex.table.setNumber("1122", { alertInfo: "<urn:alert:priority:high>" });
    ex.table.bind("1122", "2013");
    const { invite } = await answeredBy("2013", {
      from: "3004",
      to: "1122",
      headers: ["Alert-Info: ring2"],
    });
    expect(header(invite, "Alert-Info")).toEqual(["<urn:alert:priority:high>"]);
  });

  it("a number bound to two users rings both; the one that loses gets CANCEL", async () => {
    ex.table.bind("113", "2002");
    ex.table.bind("113", "2003");
    const winner = await registerPhone(ex, "2002");
    const loser = await registerPhone(ex, "2003", ringUntilCancelScenario());
    const caller = await call(ex, { from: "3005", to: "113" });
    const [won, lost] = await Promise.all([winner.done, loser.done]);
    expect(caller.code, caller.errors).toBe(0);
    expect(won.code, won.errors).toBe(0);
    expect(lost.code, lost.errors).toBe(0);
    const lostInvite = lost.messages.find((m) => m.startsWith("INVITE ")) ?? "";
    expect(lostInvite).toMatch(/^INVITE sip:2003@/);
    expect(header(lostInvite, "Alert-Info")).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
    expect(lost.messages.some((m) => m.startsWith("CANCEL sip:2003@"))).toBe(true);
  });

  it("gives 480 when no bound user is registered", async () => {
    ex.table.bind("114", "2099");
    const caller = await call(ex, { from: "3006", to: "114", expect: 480 });
    expect(caller.code, caller.errors).toBe(0);
  });

  it("routes a disabled emergency number as an ordinary call", async () => {
    ex.table.bind("115", "2014");
    ex.table.setNumber("115", { enabled: false });
    const caller = await call(ex, { from: "3007", to: "115", expect: 480 });
    expect(caller.code, caller.errors).toBe(0);
    expect(ex.log()).not.toMatch(/emergency call to 115/);
  });

  it("picks up a changed binding on the next INVITE without a restart", async () => {
    ex.table.bind("116", "2015");
    ex.table.unbind("116", "2015");
    ex.table.bind("116", "2016");
    const { invite } = await answeredBy("2016", { from: "3008", to: "116" });
    expect(invite).toMatch(/^INVITE sip:2016@/);
  });
});
