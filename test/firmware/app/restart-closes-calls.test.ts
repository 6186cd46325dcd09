/**
 * A restart after SIGKILL closes every call the journal left open
 * (firmware/app/journal-restart.ts): the phone runs as a real `deskphone
 * bench` process against the real lab Kamailio, sipp as the far ends, and is
 * SIGKILLed mid-call, then started again on the same journal.
 *
 * - a call being talked: `ended`, reason `restart`;
 * - an emergency ringing, never taken: `missed`, reason `restart` — its one
 *   outcome — so the emergency LED is on after the restart until `ack`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredRecord } from "../../../firmware/app/journal-lines.ts";
import { closeOpenCalls } from "../../../firmware/app/journal-restart.ts";
import { type LabExchange, startLabExchange } from "../../../server/kamailio/lab-exchange.ts";
import { type AlsaLab, alsaLab } from "../../support/alsa-lab.ts";
import { type BenchProcess, startBench } from "../../support/bench-process.ts";
import { registerPhone } from "../../support/lab-phones.ts";
import { startSipp } from "../../support/sipp.ts";
import { cancelScenario } from "../../support/sipp-scenarios.ts";

let ex: LabExchange;
let lab: AlsaLab;
let dir: string;
let phone: BenchProcess | undefined;
const config = () => ({
  account: { user: "2301" },
  exchange: { url: ex.wsUrl },
  audio: {
    ringer: { device: "ringer", rate: 8000 },
    earpiece: "earpiece",
    microphone: "mic",
    rtpPorts: [23000, 23998],
  },
  journal: { path: join(dir, "journal.jsonl") },
});
beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
  dir = mkdtempSync(join(tmpdir(), "deskphone-restart-"));
  ex.table.bind("112", "2301");
}, 30_000);
afterAll(async () => {
  await phone?.kill("SIGKILL");
  await ex?.stop();
  lab?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<BenchProcess> {
  phone = await startBench(dir, "2301", config(), lab.env);
  await phone.waitFor("registered", (s) => s.registration === "registered", 15_000);
  return phone;
}

/** SIGKILLs the phone and starts it again; returns the journal before and after. */
async function killAndRestart(p: BenchProcess) {
  const before = (await p.journal()) as unknown as StoredRecord[];
  await p.kill("SIGKILL");
  const again = await start();
  const after = (await again.journal()) as unknown as StoredRecord[];
  // Nothing that was there is lost or changed; what the restart added comes after it.
  expect(after.slice(0, before.length)).toEqual(before);
  return { before, added: after.slice(before.length), after, again };
}

describe("a restart after SIGKILL closes what the journal left open", () => {
  it("a call being talked is ended, reason restart", async () => {
    let p = await start();
    const other = await registerPhone(ex, "2304");
    try {
      await p.post("hook", { offHook: true });
      await p.post("keys", { keys: "2304#" });
      const talking = await p.waitFor("talking", (s) => s.phase === "talking");
      const callId = talking.call?.callId as string;
      const r = await killAndRestart(p);
      p = r.again;
      expect(r.before.filter((x) => x.callId === callId).map((x) => x.event)).toEqual([
        "dialled",
        "answered",
      ]);
      expect(r.added).toEqual([
        expect.objectContaining({ event: "ended", callId, remote: "2304", reason: "restart" }),
      ]);
      expect(closeOpenCalls(r.after, 0)).toEqual([]);
      const s = await p.state();
      expect(s.phase).toBe("idle");
      expect(s.leds.emergency).toEqual({ kind: "off" });
      // A third start adds nothing: the call is closed for good.
      const third = await killAndRestart(p);
      p = third.again;
      expect(third.added).toEqual([]);
    } finally {
      await other.stop();
    }
  }, 60_000);

  it("an emergency ringing, never taken, is missed — its one outcome — and lights the LED until ack", async () => {
    let p = phone ?? (await start());
    // A caller that waits 30 s before giving up: the phone is killed while it rings.
    const caller = await startSipp({
      xml: cancelScenario({ from: "3009", to: "112", afterMs: 30_000 }),
      target: `${ex.host}:${ex.udpPort}`,
    });
    try {
      const ringing = await p.waitFor("ringing the emergency", (s) => s.phase === "ringing");
      expect(ringing.call).toMatchObject({ emergency: true, remote: "3009" });
      const callId = ringing.call?.callId as string;
      const r = await killAndRestart(p);
      p = r.again;
      expect(r.added).toEqual([
        expect.objectContaining({
          event: "missed",
          callId,
          remote: "3009",
          emergency: true,
          outcome: true,
          reason: "restart",
        }),
      ]);
      // Exactly one outcome for the emergency INVITE.
      expect(r.after.filter((x) => x.callId === callId && x.outcome)).toHaveLength(1);
      expect(closeOpenCalls(r.after, 0)).toEqual([]);
      const s = await p.state();
      expect(s.missedEmergencies).toBe(1);
      expect(s.leds.emergency).toEqual({ kind: "on" });
      await p.post("keys", { keys: "ack" });
      const acked = await p.waitFor("acknowledged", (x) => x.missedEmergencies === 0);
      expect(acked.leds.emergency).toEqual({ kind: "off" });
    } finally {
      await caller.stop();
    }
  }, 60_000);
});
