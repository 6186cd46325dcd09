import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Journal, missedEmergencies } from "../../../firmware/app/journal.ts";
import type { JournalRecord } from "../../../firmware/controller/effects.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const missed = (callId: string): JournalRecord => ({
  at: 1,
  event: "missed",
  callId,
  remote: "3001",
  alertClass: "emergency",
  emergency: true,
  outcome: true,
});

describe("journal", () => {
  it("is on the storage when append returns", () => {
    const path = join(dir, "a.jsonl");
    const j = new Journal(path);
    j.append({ at: 1, event: "received", callId: "c1", emergency: false });
    // Read back by another handle, before close.
    expect(readFileSync(path, "utf8")).toMatch(
      /^\{"time":"[^"]+","at":1,"event":"received","callId":"c1","emergency":false\}\n$/,
    );
    j.close();
  });

  it("cuts a torn last record and keeps everything before it", () => {
    const path = join(dir, "b.jsonl");
    const j = new Journal(path);
    j.append(missed("e1"));
    j.append({ at: 2, event: "received", callId: "c2", emergency: false });
    j.close();
    appendFileSync(path, '{"time":"2026-11-26T10:00:00Z","at":3,"event":"rec');
    const logs: string[] = [];
    const again = new Journal(path, undefined, (_l, m) => logs.push(m));
    expect(again.records.map((r) => r.event)).toEqual(["missed", "received"]);
    expect(logs.join()).toMatch(/torn last record/);
    again.append({ at: 4, event: "ended", callId: "c2", emergency: false });
    again.close();
    expect(
      readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).event),
    ).toEqual(["missed", "received", "ended"]);
  });

  it("rotates past its size and still knows unacknowledged missed emergencies", () => {
    const path = join(dir, "c.jsonl");
    const j = new Journal(path, 16_384);
    j.append(missed("e-old"));
    j.append(missed("e-acked"));
    j.append({ at: 2, event: "acknowledged", callId: "e-acked", emergency: true });
    for (let i = 0; i < 400; i++)
      j.append({
        at: i,
        event: "received",
        callId: `n${i}`,
        emergency: false,
        reason: "x".repeat(40),
      });
    j.close();
    expect(statSync(path).size).toBeLessThanOrEqual(16_384);
    const again = new Journal(path, 16_384);
    expect(missedEmergencies(again.records).map((m) => m.callId)).toEqual(["e-old"]);
    again.close();
  });
});
