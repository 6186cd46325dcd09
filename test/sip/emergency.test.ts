/**
 * The emergency call against the real exchange: our phone 2001 preempts its
 * call for an emergency, refuses a normal call when busy, handles CANCEL and
 * refuses an offer without a common codec. sipp plays the other parties.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Effect } from "../../firmware/controller/effects.ts";
import type { PhoneEvent } from "../../firmware/controller/events.ts";
import type { Phase } from "../../firmware/controller/state.ts";
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
/** Every INVITE that reached 2001's WebSocket, as received. */
const invites: string[] = [];
beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
  ex.table.bind("112", "2001");
  p2001 = await startLabPhone(ex, "2001", {
    lab,
    earpiece: "earpiece",
    ringer: "ringer",
    agent: {
      wireTap: (dir, msg) => dir === "in" && msg.startsWith("INVITE ") && invites.push(msg),
    },
  });
});
// A test that fails half-way leaves 2001 off-hook or ringing: hang up (a ringing
// call is cancelled by its sipp caller), so the next test starts idle.
afterEach(async () => {
  if (!p2001 || p2001.phone.state.phase.kind === "idle") return;
  if (p2001.phone.state.phase.kind !== "ringing") p2001.phone.hook(false);
  await p2001.waitFor("idle after the test", (s) => s.phase.kind === "idle").catch(() => {});
});
afterAll(async () => {
  await p2001?.stop();
  await ex?.stop();
  lab?.cleanup();
});

/** A phase as the tests compare it: its kind, and the id of the call it talks on. */
const phaseOf = (p: Phase) => (p.kind === "talking" ? `talking ${p.call.id}` : p.kind);

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
    const normal = p2001.phone.state.phase.kind === "talking" ? p2001.phone.state.phase.call : null;
    // Every transition from here on: the event and the phase it left the phone in.
    const steps: { event: PhoneEvent; effects: Effect[]; phase: string; audio: string | null }[] =
      [];
    const record = (event: PhoneEvent, effects: Effect[]) => {
      const s = p2001.phone.state;
      steps.push({ event, effects, phase: phaseOf(s.phase), audio: s.out.audio });
    };
    p2001.phone.on("effects", record);
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
    await p2001.waitFor("busy tone after the emergency caller hung up", (x) => {
      return x.phase.kind === "hungUp";
    });
    p2001.phone.off("effects", record);

    // The emergency INVITE took the phone from the normal call straight to
    // talking with the emergency, its audio connected in the same step: no
    // ringing phase, no ringer, no 180.
    const at = steps.findIndex(
      (x) => x.event.type === "incoming" && x.event.alert.alertClass.name === "emergency",
    );
    const invite = steps[at];
    if (invite?.event.type !== "incoming") throw new Error("no emergency INVITE reached the phone");
    const id = invite.event.callId;
    expect(invite.phase).toBe(`talking ${id}`);
    expect(invite.audio).toBe(id);
    expect(invite.effects.map((e) => e.type)).toEqual([
      "journal", // received
      "end-call", // the normal call, with the RFC 4411 Reason
      "journal", // preempted
      "cue", // the preemption cue
      "answer",
      "audio-disconnect",
      "audio-connect",
      "led", // emergency LED on for the emergency call
    ]);
    expect(invite.effects).toContainEqual({
      type: "end-call",
      callId: normal?.id,
      reason: 'preemption ;cause=1 ;text="UA Preemption"',
    });
    // From the INVITE to the caller's BYE the phone was talking with the
    // emergency, then gave busy tone: it never rang.
    const phases = steps.slice(at).map((x) => x.phase);
    expect(phases.filter((x, i) => x !== phases[i - 1])).toEqual([`talking ${id}`, "hungUp"]);
    expect(steps.flatMap((x) => x.effects).filter((e) => /ring/.test(e.type))).toEqual([]);
    expect(lab.played("ringer").some((v) => Math.abs(v) > 200)).toBe(false);
    const events = p2001.journal.map((r) => `${r.event}${r.outcome ? "*" : ""}`);
    expect(events).toContain("preempted");
    expect(events).toContain("preempted-into*");
    p2001.phone.hook(false);
  }, 30_000);

  it("a normal call to the busy phone gets 486 Busy Here; the call goes on", async () => {
    const p2003 = await registerPhone(ex, "2003");
    await talkTo("2003");
    const before = phaseOf(p2001.phone.state.phase);
    const busy = await call(ex, { from: "3002", to: "2001", expect: 486 });
    expect(busy.code, busy.errors).toBe(0);
    // Still talking on the same call, and the refused INVITE is journalled.
    expect(before).toMatch(/^talking /);
    expect(phaseOf(p2001.phone.state.phase)).toBe(before);
    expect(p2001.journal.at(-1)).toMatchObject({ event: "refused", remote: "3002" });
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
    // sipp sent no Alert-Info: the one that reached the phone is the exchange's.
    const invite = invites.find((m) => /^From:.*sip:3003@/im.test(m));
    expect(invite && header(invite, "Alert-Info")).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
    const result = await caller;
    expect(result.code, result.errors).toBe(0);
    await p2001.waitFor("idle again", (s) => s.phase.kind === "idle");
    expect(p2001.journal.at(-1)).toMatchObject({ event: "missed", outcome: true, emergency: true });
    expect(p2001.leds.get("emergency")).toEqual({ kind: "on" });
    p2001.phone.key("ack");
    expect(p2001.leds.get("emergency")).toEqual({ kind: "off" });
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
    expect(p2001.phone.state.phase.kind).toBe("idle");
    const phases: string[] = [];
    const record = () => phases.push(phaseOf(p2001.phone.state.phase));
    p2001.phone.on("state", record);
    const r = await call(ex, {
      from: "3004",
      to: "2001",
      expect: 488,
      codecs: [[18, "G729/8000"]],
    });
    p2001.phone.off("state", record);
    expect(r.code, r.errors).toBe(0);
    // Nothing rang, not even for a moment.
    expect(phases.filter((x) => x !== "idle")).toEqual([]);
    expect(p2001.phone.state.phase.kind).toBe("idle");
  }, 30_000);
});
