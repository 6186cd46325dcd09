/**
 * Faults, the phone's own process and storage: a real `deskphone bench`
 * process (the firmware's composition, its journal on disk, the native media
 * thread on exclusive devices) registered over wss:// with digest auth to the
 * lab Kamailio; callers are our SIP agents.
 *
 * - SIGKILLed mid-call and mid-ring (an emergency nobody took): after the
 *   restart the journal closes the open call — `ended`, reason `restart`, or
 *   `missed` for the emergency that rang, its one outcome — nothing that was
 *   on disk changed, and the phone registers again and takes a call.
 * - The journal damaged while the phone was down — a record corrupted in the
 *   middle (a flipped byte that still parses, and a line of garbage) and the
 *   last write torn: at the next start every good record is still there, byte
 *   for byte and in order (above all the missed emergency after the damage),
 *   the bad lines are kept aside in `<path>.corrupt`, only the torn tail is cut.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nativeCallMedia } from "../../audio/call-media-thread.ts";
import { framedRecord, type StoredRecord } from "../../firmware/app/journal-lines.ts";
import { closeOpenCalls } from "../../firmware/app/journal-restart.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { type BenchProcess, startBench } from "../support/bench-process.ts";
import { EXCLUSIVE_AUDIO } from "../support/phone-config.ts";
import { type ProductionRig, startProductionRig } from "../support/production-rig.ts";
import { eachAttempt, median, nowMs, registered, secs, sleep } from "./faults-kit.ts";
import { record, recordAttempts } from "./ledger.ts";

const USER = "2401";
const TALKING_KILLS = 3;
const RINGING_KILLS = 2;

let rig: ProductionRig;
let dir: string;
let phone: BenchProcess | undefined;
let caller: PhoneAgent;
const journalPath = () => join(dir, "journal.jsonl");

beforeAll(async () => {
  rig = await startProductionRig();
  rig.ex.table.bind("112", USER);
  rig.ex.table.setSubscriber(USER, `pw-${USER}`);
  dir = mkdtempSync(join(tmpdir(), "deskphone-faults-restart-"));
  caller = await rig.caller("3401");
}, 60_000);
afterAll(async () => {
  await phone?.kill("SIGKILL");
  await rig?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts the phone process; resolves when it is registered, with how long that took. */
async function start(): Promise<{ p: BenchProcess; registeredMs: number }> {
  const t0 = nowMs();
  phone = await startBench(
    dir,
    USER,
    {
      account: { user: USER, password: `pw-${USER}` },
      exchange: { url: rig.ex.wssUrl("localhost"), caFile: rig.ca.caFile },
      audio: EXCLUSIVE_AUDIO,
      journal: { path: journalPath() },
    },
    rig.lab.env,
  );
  await phone.waitFor("registered", (s) => s.registration === "registered", 15_000);
  return { p: phone, registeredMs: nowMs() - t0 };
}

const fileLines = () => readFileSync(journalPath(), "latin1").split("\n");

/** SIGKILL, start again: what the start added after what was on disk. */
async function killAndRestart(p: BenchProcess) {
  const before = fileLines().filter(Boolean);
  await p.kill("SIGKILL");
  const again = await start();
  const after = fileLines().filter(Boolean);
  const added = after.slice(before.length).map((l) => JSON.parse(l) as StoredRecord);
  return { kept: after.slice(0, before.length).join("\n") === before.join("\n"), added, ...again };
}

/** A call from the caller to the phone; the phone's id for it once `phase` is reached. */
async function callTo(p: BenchProcess, id: string, to: string, answer: boolean) {
  caller.dial(id, to);
  const s = await p.waitFor(`ringing (${id})`, (x) => x.phase === "ringing");
  if (!answer) return s.call?.callId as string;
  await p.post("hook", { offHook: true });
  const t = await p.waitFor(`talking (${id})`, (x) => x.phase === "talking");
  return t.call?.callId as string;
}

describe.skipIf(nativeCallMedia() === undefined)(
  "faults: the phone's process and journal (skipped only when native/call-media is not built)",
  () => {
    it(`SIGKILLed mid-call (${TALKING_KILLS}×) and mid-ring of an emergency (${RINGING_KILLS}×): the journal closes the call, the phone registers again`, async () => {
      let { p } = await start();
      const registeredMs: number[] = [];
      const closed: string[] = [];
      const cases = [
        ...Array.from({ length: TALKING_KILLS }, (_, i) => ({ id: `talk-${i + 1}`, to: USER })),
        ...Array.from({ length: RINGING_KILLS }, (_, i) => ({ id: `ring-${i + 1}`, to: "112" })),
      ];
      const failures = await eachAttempt(
        cases,
        (c) => c.id,
        async (c) => {
          const emergency = c.to === "112";
          await registered(caller);
          const callId = await callTo(p, c.id, c.to, !emergency);
          await sleep(300); // the call's records are on disk (fsync batched off the loop)
          const r = await killAndRestart(p);
          p = r.p;
          registeredMs.push(r.registeredMs);
          expect(r.kept, `${c.id}: what was on disk changed`).toBe(true);
          expect(r.added).toEqual([
            expect.objectContaining(
              emergency
                ? { event: "missed", callId, emergency: true, outcome: true, reason: "restart" }
                : { event: "ended", callId, reason: "restart" },
            ),
          ]);
          closed.push(`${r.added[0]?.event} ${r.added[0]?.reason}`);
          const all = fileLines()
            .filter(Boolean)
            .map((l) => JSON.parse(l) as StoredRecord);
          expect(closeOpenCalls(all, 0), `${c.id}: a call left open`).toEqual([]);
          if (emergency) {
            // Exactly one outcome for the emergency INVITE; the LED says so until ack.
            expect(all.filter((x) => x.callId === callId && x.outcome)).toHaveLength(1);
            const s = await p.state();
            expect(s.leds.emergency).toEqual({ kind: "on" });
          }
          // The far end of the dead call gives up; the phone takes the next call.
          caller.hangUp(c.id);
          const next = `${c.id}-next`;
          await callTo(p, next, USER, true);
          caller.hangUp(next);
          await p.waitFor("hung up", (x) => x.phase === "hungUp");
          await p.post("hook", { offHook: false });
          await p.waitFor("idle", (x) => x.phase === "idle");
        },
        async (c) => {
          caller.hangUp(c.id);
          await p.post("hook", { offHook: false }).catch(() => {});
        },
      );
      const counts = [...new Set(closed)].map(
        (k) => `${closed.filter((x) => x === k).length}× ${k}`,
      );
      recordAttempts(
        "faults",
        "firmware (deskphone bench) SIGKILLed mid-call and mid-ring of an emergency",
        cases.length,
        failures,
        `journal closed ${counts.join(", ")}; nothing on disk changed; registered ${secs(median(registeredMs))} median (max ${secs(Math.max(...registeredMs))}) after the restart began (process start included); next call taken each time`,
      );
      expect(failures).toEqual([]);
    }, 180_000);

    it("a corrupt record mid-journal (one still JSON, one garbage) and a torn last write: no good record lost, the bad kept aside", async () => {
      const p = phone ?? (await start()).p;
      await p.kill("SIGKILL");
      const lines = fileLines().filter(Boolean);
      // Every line the phone wrote is a good record (framed by its CRC-32).
      expect(lines.every((l) => framedRecord(Buffer.from(l, "latin1")) !== undefined)).toBe(true);
      const missedAt = lines.findIndex((l) => /"event":"missed"/.test(l));
      expect(missedAt, "a missed emergency in the journal").toBeGreaterThan(2);
      // A flipped byte in a record before the missed emergency (it still parses as JSON).
      const victim = missedAt - 2;
      const flipped = (lines[victim] as string).replace(/"remote":"(\d)/, (_m, d: string) => {
        return `"remote":"${(Number(d) + 1) % 10}`;
      });
      expect(flipped).not.toBe(lines[victim]);
      expect(() => JSON.parse(flipped)).not.toThrow();
      const garbage = "\u0000\u0000\u00ff{not a record";
      const damaged = [...lines];
      damaged[victim] = flipped;
      damaged.splice(missedAt, 0, garbage); // the missed emergency comes right after it
      // The last write torn: the first half of a record, no newline.
      const torn = (lines.at(-1) as string).slice(0, 40);
      writeFileSync(journalPath(), `${damaged.join("\n")}\n${torn}`, "latin1");
      const good = lines.filter((_, i) => i !== victim);

      const { p: again } = await start();
      const text = readFileSync(journalPath(), "latin1");
      const after = text.split("\n").filter(Boolean);
      // Every good record is still in the file, byte for byte and in order.
      const survived = good.filter((l) => after.includes(l));
      const inOrder = after.filter((l) => good.includes(l));
      const aside = readFileSync(`${journalPath()}.corrupt`, "latin1");
      const s = await again.state();
      const out = again.output();
      record({
        area: "faults",
        probe:
          "journal: a corrupt record mid-journal (still JSON, and garbage) and a torn last write",
        tried: good.length,
        survived: survived.length,
        lost: good.length - survived.length,
        figures: `${good.length} good records before the damage, ${survived.length} after the start; ${(aside.match(/, corrupt record\n/g) ?? []).length} corrupt lines (a flipped byte, garbage) skipped, kept in the file and aside in <path>.corrupt; the torn tail (${torn.length} bytes) ${text.endsWith("\n") ? "cut" : "NOT cut"} and ${aside.includes("torn last record") ? "kept aside" : "NOT kept aside"}; missed emergencies after the start: ${s.missedEmergencies}`,
      });
      expect(survived).toEqual(good);
      expect(inOrder).toEqual(good);
      // Only the torn tail was cut; the corrupt lines stay where they were.
      expect(text.endsWith("\n")).toBe(true);
      expect(after).toContain(flipped);
      expect(after).toContain(garbage);
      expect(text).not.toContain(`\n${torn}\n`);
      expect(aside).toContain(flipped);
      expect(aside).toContain(garbage);
      expect(aside).toMatch(/torn last record/);
      expect(aside).toContain(torn);
      expect(out).toMatch(/skipped an unreadable record at line \d+/);
      expect(out).toMatch(/cut a torn last record/);
      expect(s.missedEmergencies).toBeGreaterThan(0);
      expect(s.leds.emergency).toEqual({ kind: "on" });
      expect(s.registration).toBe("registered");
    }, 60_000);
  },
);
