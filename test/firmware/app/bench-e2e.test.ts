/**
 * The whole phone, end to end: `deskphone bench` processes driven through the
 * bench API against the real lab Kamailio, sipp as the other parties, the
 * ringer checked through an ALSA file device and the analyser. The emergency
 * call from dialling to talking (README.md, docs/controller.md), then a
 * SIGKILL and a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../../server/kamailio/lab-exchange.ts";
import { type AlsaLab, alsaLab } from "../../support/alsa-lab.ts";
import { type BenchProcess, startBench } from "../../support/bench-process.ts";
import { call, header, registerPhone } from "../../support/lab-phones.ts";
import { runSipp } from "../../support/sipp.ts";
import { cancelScenario } from "../../support/sipp-scenarios.ts";
import { analyse } from "../../support/tone-analyser.ts";

let ex: LabExchange;
let lab: AlsaLab;
let dir: string;
let p2001: BenchProcess;
const config = () => ({
  account: { user: "2001" },
  exchange: { url: ex.wsUrl },
  audio: {
    ringer: { device: "ringer", rate: 8000 },
    earpiece: "earpiece",
    microphone: "mic",
    rtpPorts: [21000, 21998],
  },
  journal: { path: join(dir, "journal.jsonl") },
});
beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
  dir = mkdtempSync(join(tmpdir(), "deskphone-e2e-"));
  ex.table.bind("112", "2001");
  p2001 = await startBench(dir, "2001", config(), lab.env);
  await p2001.waitFor("registered", (s) => s.registration === "registered");
}, 30_000);
afterAll(async () => {
  await p2001?.kill();
  await ex?.stop();
  lab?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** What the ringer played since `mark` samples: the in-process ringer stays open, its file grows. */
function ringerSince(mark: number): Int16Array {
  return lab.played("ringer").subarray(mark);
}

/** 2001 lifts and dials a sipp phone, and they talk. */
async function talkTo(user: string) {
  const other = await registerPhone(ex, user);
  await p2001.post("hook", { offHook: true });
  await p2001.post("keys", { keys: `${user}#` });
  await p2001.waitFor(`talking to ${user}`, (s) => s.phase === "talking");
  return other;
}

describe("the emergency call, end to end through the bench API", () => {
  it("idle + normal call: normal ring on the ringer, line LED blinking; lifting answers; hang-up", async () => {
    const mark = lab.played("ringer").length;
    const caller = call(ex, { from: "3001", to: "2001", talkMs: 500 });
    const ringing = await p2001.waitFor("ringing", (s) => s.phase === "ringing");
    expect(ringing.ringer).toMatchObject({ cadence: "ring-us", level: "user" });
    expect(ringing.leds.line).toEqual({ kind: "blink", onMs: 500, offMs: 500 });
    expect(ringing.call).toMatchObject({ direction: "in", remote: "3001", alertClass: "normal" });
    await new Promise((r) => setTimeout(r, 700));
    await p2001.post("hook", { offHook: true });
    expect((await caller).code).toBe(0);
    await p2001.waitFor("hung up by the caller", (s) => s.phase === "hungUp");
    await p2001.post("hook", { offHook: false });
    const rang = analyse(ringerSince(mark), 8000).find((s) => s.on && s.ms > 300);
    expect(rang?.freqs.map(Math.round)).toEqual([440, 480]);
  }, 30_000);

  it("busy + normal call: 486 Busy Here", async () => {
    const other = await talkTo("2002");
    const busy = await call(ex, { from: "3002", to: "2001", expect: 486 });
    expect(busy.code, busy.errors).toBe(0);
    expect((await p2001.state()).phase).toBe("talking");
    await p2001.post("hook", { offHook: false });
    expect((await other.done).code).toBe(0);
  }, 30_000);

  it("idle + emergency: emergency cadence at full level and the emergency LED; answered by lifting", async () => {
    const mark = lab.played("ringer").length;
    const caller = call(ex, { from: "3003", to: "112", talkMs: 300 });
    const ringing = await p2001.waitFor("ringing", (s) => s.phase === "ringing");
    expect(ringing.ringer).toMatchObject({ cadence: "emergency", level: "full" });
    expect(ringing.leds.emergency).toEqual({ kind: "blink", onMs: 100, offMs: 100 });
    expect(ringing.call).toMatchObject({ alertClass: "emergency", emergency: true });
    await new Promise((r) => setTimeout(r, 1600));
    await p2001.post("hook", { offHook: true });
    expect((await caller).code).toBe(0);
    await p2001.waitFor("hung up", (s) => s.phase === "hungUp");
    await p2001.post("hook", { offHook: false });
    const heard = analyse(ringerSince(mark), 8000).filter((s) => s.on);
    expect(heard.slice(0, 2).map((s) => s.freqs.map(Math.round))).toEqual([[1400], [950]]);
  }, 30_000);

  it("busy + emergency: the call ends with Reason: preemption and the emergency is connected", async () => {
    const other = await talkTo("2003");
    const emergency = call(ex, { from: "3004", to: "112", talkMs: 500 });
    const bye = await other.waitFor(/^BYE /);
    expect(header(bye, "Reason")).toEqual(['preemption ;cause=1 ;text="UA Preemption"']);
    const s = await p2001.waitFor(
      "talking to the emergency caller",
      (x) => x.phase === "talking" && x.call?.remote === "3004",
    );
    expect(s.call).toMatchObject({ emergency: true });
    expect(s.leds.emergency).toEqual({ kind: "on" });
    expect((await emergency).code).toBe(0);
    await p2001.waitFor("hung up", (x) => x.phase === "hungUp");
    await p2001.post("hook", { offHook: false });
    const journal = await p2001.journal();
    expect(journal.map((r) => r.event)).toEqual(
      expect.arrayContaining(["preempted", "preempted-into"]),
    );
  }, 30_000);

  it("SIGKILL during a call, restart: registered again, journal intact, missed-emergency LED restored", async () => {
    // A missed emergency first: it rings, the caller gives up.
    const r = await runSipp({
      xml: cancelScenario({ from: "3005", to: "112", afterMs: 400 }),
      target: `${ex.host}:${ex.udpPort}`,
    });
    expect(r.code, r.errors).toBe(0);
    await p2001.waitFor(
      "showing the missed emergency",
      (s) => s.phase === "idle" && s.missedEmergencies === 1,
    );
    const other = await talkTo("2004");
    const before = await p2001.journal();
    await p2001.kill("SIGKILL");
    await other.stop();
    p2001 = await startBench(dir, "2001", config(), lab.env);
    const back = await p2001.waitFor(
      "registered again",
      (s) => s.registration === "registered",
      15_000,
    );
    expect(back.leds.emergency).toEqual({ kind: "on" });
    expect(back.missedEmergencies).toBe(1);
    const after = await p2001.journal();
    expect(after.slice(0, before.length)).toEqual(before);
    await p2001.post("keys", { keys: "ack" });
    const acked = await p2001.waitFor("acknowledged", (s) => s.missedEmergencies === 0);
    expect(acked.leds.emergency).toEqual({ kind: "off" });
    // The phone works: the next call rings.
    const next = call(ex, { from: "3006", to: "2001", talkMs: 200 });
    await p2001.waitFor("ringing", (s) => s.phase === "ringing");
    await p2001.post("hook", { offHook: true });
    expect((await next).code).toBe(0);
    await p2001.post("hook", { offHook: false });
  }, 60_000);

  it("the API refuses bad requests clearly", async () => {
    const bad = await p2001.post("keys", { keys: "12a" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: expect.stringContaining("expected") });
    const notJson = await fetch(`${p2001.url}api/hook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    // A text/plain body (what fetch sends for a string) is refused before it is read.
    const plain = await fetch(`${p2001.url}api/hook`, { method: "POST", body: '{"offHook":true}' });
    expect(plain.status).toBe(415);
    expect((await fetch(`${p2001.url}api/nothing`)).status).toBe(404);
  });
});
