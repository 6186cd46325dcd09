import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { call } from "../support/lab-phones.ts";
import { runSipp } from "../support/sipp.ts";
import { registerScenario } from "../support/sipp-scenarios.ts";

let ex: LabExchange;
beforeAll(async () => {
  ex = await startLabExchange({ auth: true });
  ex.table.setSubscriber("2001", "s3cret-2001");
});
afterAll(async () => {
  await ex?.stop();
});

const register = (password: string, expect: 200 | 401) =>
  runSipp({
    xml: registerScenario({ user: "2001", contactPort: 5999, password, expect }),
    target: `${ex.host}:${ex.udpPort}`,
  });

describe("lab exchange with digest auth (RFC 3261 §22)", () => {
  it("accepts a REGISTER with the right password", async () => {
    const r = await register("s3cret-2001", 200);
    expect(r.code, r.errors).toBe(0);
  });

  it("answers a wrong password with 401 again", async () => {
    const r = await register("wrong", 401);
    expect(r.code, r.errors).toBe(0);
    expect(ex.log()).toMatch(/auth failed for REGISTER of 2001/);
  });

  it("the right-password scenario fails when the exchange refuses it (the check can fail)", async () => {
    const r = await register("wrong", 200);
    expect(r.code).not.toBe(0);
  });

  it("challenges an INVITE from a local user that brings no credentials", async () => {
    const r = await call(ex, { from: "2001", to: "2002", expect: 407 });
    expect(r.code, r.errors).toBe(0);
  });
});
