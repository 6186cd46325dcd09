/**
 * The emergency call against the real exchange: our phone 2001 preempts its
 * call for an emergency, refuses a normal call when busy, handles CANCEL and
 * refuses an offer without a common codec. sipp plays the other parties.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type AlsaLab, alsaLab } from "../support/alsa-lab.ts";
import { type LabPhone, startLabPhone } from "../support/lab-phone.ts";
import { call, header, registerPhone } from "../support/lab-phones.ts";
import { runSipp } from "../support/sipp.ts";
import { answerScenario, cancelScenario } from "../support/sipp-scenarios.ts";

let ex: LabExchange;
let lab: AlsaLab;
let p2001: LabPhone;
beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
  ex.table.bind("112", "2001");
  p2001 = await startLabPhone(ex, "2001", { lab, earpiece: "earpiece", ringer: "ringer" });
});
afterAll(async () => {
  await p2001?.stop();
  await ex?.stop();
  lab?.cleanup();
});

/** 2001 dials `to` (a sipp phone) and waits until they talk. */
async function talkTo(to: string) {
  p2001.phone.hook(true);
  for (const k of `${to}#`) p2001.phone.key(k as "2");
  await p2001.waitFor(`talking to ${to}`, (s) => s.phase.kind === "talking");
}

describe("emergency preemption (RFC 4411)", () => {
  it("ends the call with Reason: preemption and connects the emergency at once", async () => {
    const p2002 = await registerPhone(ex, "2002");
    await talkTo("2002");
    const emergency = call(ex, { from: "3001", to: "112", talkMs: 1500 });
    // 2002 gets the BYE with exactly the RFC 4411 Reason header.
    const bye = await p2002.waitFor(/^BYE /).catch(async (e) => {
      const r = await p2002.done;
      throw new Error(`${e.message}: ${r.errors}\n${r.messages.join("\n----\n")}`);
    });
    expect(header(bye, "Reason")).toEqual(['preemption ;cause=1 ;text="UA Preemption"']);
    const [caller, callee] = await Promise.all([emergency, p2002.done]);
    expect(caller.code, caller.errors).toBe(0);
    expect(callee.code, callee.errors).toBe(0);
    // The emergency was put straight through: talking, no ring.
    const s = await p2001.waitFor(
      "back to idle after the emergency caller hung up",
      (x) => x.phase.kind === "hungUp",
    );
    expect(s.phase.kind).toBe("hungUp");
    const events = p2001.journal.map((r) => `${r.event}${r.outcome ? "*" : ""}`);
    expect(events).toContain("preempted");
    expect(events).toContain("preempted-into*");
    const invite = p2001.effects.find(
      (e) => e.event.type === "incoming" && e.event.alert.alertClass.name === "emergency",
    );
    expect(invite?.effects.map((e) => e.type)).toEqual(
      expect.arrayContaining(["end-call", "cue", "answer", "audio-disconnect", "audio-connect"]),
    );
    p2001.phone.hook(false);
  }, 30_000);

  it("a normal call to the busy phone gets 486 Busy Here; the call goes on", async () => {
    const p2003 = await registerPhone(ex, "2003");
    await talkTo("2003");
    const busy = await call(ex, { from: "3002", to: "2001", expect: 486 });
    expect(busy.code, busy.errors).toBe(0);
    expect(p2001.phone.state.phase).toMatchObject({ kind: "talking" });
    p2001.phone.hook(false);
    expect((await p2003.done).code).toBe(0);
  }, 30_000);

  it("an emergency that arrives while idle rings with the exchange's Alert-Info, and CANCEL makes it a missed emergency", async () => {
    const caller = runSipp({
      xml: cancelScenario({ from: "3003", to: "112", afterMs: 600 }),
      target: `${ex.host}:${ex.udpPort}`,
    });
    const ringing = await p2001.waitFor("ringing", (s) => s.phase.kind === "ringing");
    expect(ringing.out.ringer).toEqual({ cadence: "emergency", level: "full" });
    const result = await caller;
    expect(result.code, result.errors).toBe(0);
    await p2001.waitFor("idle again", (s) => s.phase.kind === "idle");
    expect(p2001.journal.at(-1)).toMatchObject({ event: "missed", outcome: true, emergency: true });
    expect(p2001.leds.get("emergency")).toEqual({ kind: "on" });
    p2001.phone.key("ack");
    expect(p2001.leds.get("emergency")).toEqual({ kind: "off" });
    expect(DEFAULT_EMERGENCY_ALERT_INFO).toContain("alert-emergency");
  }, 30_000);

  it("DTMF falls back to SIP INFO when the far end did not take telephone-event", async () => {
    const p2005 = await registerPhone(ex, "2005", answerScenario({ expectInfo: true }));
    await talkTo("2005");
    p2001.phone.key("7");
    const info = await p2005.waitFor(/^INFO /);
    expect(header(info, "Content-Type")).toEqual(["application/dtmf-relay"]);
    expect(info).toMatch(/Signal=7/);
    p2001.phone.hook(false);
    const done = await p2005.done;
    expect(
      done.code,
      `${done.errors}\n${done.messages.map((m) => m.split("\n")[0]).join("\n")}`,
    ).toBe(0);
  }, 30_000);

  it("an INVITE with no common codec gets 488 and the phone stays idle", async () => {
    const r = await call(ex, {
      from: "3004",
      to: "2001",
      expect: 488,
      codecs: [[18, "G729/8000"]],
    });
    expect(r.code, r.errors).toBe(0);
    expect(p2001.phone.state.phase.kind).toBe("idle");
  }, 30_000);
});
