/**
 * A journal that never drops a good record (docs/configuration.md, "The
 * journal"): each record carries a CRC-32 of its JSON, so a corrupt record is
 * found even when it still parses; it is skipped, reported, kept in the file
 * and copied aside to `<path>.corrupt`, and every record after it — above all
 * a missed emergency — is kept. Only a torn tail is cut. Journals written
 * before the checksum are read as they are.
 */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Journal, missedEmergencies } from "../../../firmware/app/journal.ts";
import { logCommand } from "../../../firmware/app/log-command.ts";
import type { JournalRecord } from "../../../firmware/controller/effects.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-journal-framing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const received = (at: number): JournalRecord => ({
  at,
  event: "received",
  callId: `c${at}`,
  remote: "3001",
  emergency: false,
});
const missedEmergency = (at: number, callId: string): JournalRecord => ({
  at,
  event: "missed",
  callId,
  remote: "3999",
  alertClass: "emergency",
  emergency: true,
  outcome: true,
  reason: "no answer",
});

/** A closed journal holding `records`; returns its lines. */
async function journalOf(path: string, records: JournalRecord[]): Promise<string[]> {
  const j = new Journal(path);
  for (const r of records) j.append(r);
  await j.close();
  return readFileSync(path, "utf8").split("\n").slice(0, -1);
}

function reopen(path: string) {
  const logs: string[] = [];
  const j = new Journal(path, { log: (l, m) => logs.push(`${l}: ${m}`) });
  return { j, logs };
}

describe("journal: each record framed by a checksum", () => {
  it("a flipped byte that still parses as JSON is caught; the missed emergency after it survives", async () => {
    const path = join(dir, "flip.jsonl");
    const lines = await journalOf(path, [
      received(1),
      received(2),
      missedEmergency(3, "e-after"),
      received(4),
    ]);
    // One bit flipped in line 2: "at":2 → "at":3 — still valid JSON, still a record.
    const flipped = (lines[1] as string).replace('"at":2', '"at":3');
    expect(JSON.parse(flipped).event).toBe("received");
    writeFileSync(path, `${[lines[0], flipped, ...lines.slice(2)].join("\n")}\n`);

    const { j, logs } = reopen(path);
    expect(j.records.map((r) => [r.at, r.event])).toEqual([
      [1, "received"],
      [3, "missed"],
      [4, "received"],
    ]);
    expect(missedEmergencies(j.records).map((m) => m.callId)).toEqual(["e-after"]);
    expect(logs).toEqual([
      expect.stringMatching(/^warn: .*unreadable record at line 2 .*\.corrupt/),
    ]);
    // Kept in the file as it was, and copied aside once under a header naming it.
    expect(readFileSync(path, "utf8")).toContain(flipped);
    const aside = readFileSync(`${path}.corrupt`, "utf8");
    expect(aside).toMatch(
      /^# \S+ flip\.jsonl line 2 offset \d+: \d+ bytes, crc32 [0-9a-f]{8}, corrupt record\n/,
    );
    expect(aside.split("\n")[1]).toBe(flipped);
    j.append(received(5));
    await j.close();
    // The next start finds it again, but it is aside already.
    const { j: again } = reopen(path);
    expect(again.records.map((r) => r.at)).toEqual([1, 3, 4, 5]);
    await again.close();
    expect(readFileSync(`${path}.corrupt`, "utf8")).toBe(aside);
  });

  it("a line cut in the middle of the file is skipped and kept aside; every record after it stays", async () => {
    const path = join(dir, "cut.jsonl");
    const lines = await journalOf(path, [
      received(1),
      received(2),
      missedEmergency(3, "e-cut"),
      received(4),
    ]);
    const cut = (lines[1] as string).slice(0, 40);
    writeFileSync(path, `${[lines[0], cut, ...lines.slice(2)].join("\n")}\n`);
    const { j, logs } = reopen(path);
    expect(j.records.map((r) => r.at)).toEqual([1, 3, 4]);
    expect(missedEmergencies(j.records).map((m) => m.callId)).toEqual(["e-cut"]);
    expect(logs.join("\n")).toMatch(/unreadable record at line 2 \(40 bytes/);
    expect(logs.join("\n")).not.toMatch(/torn/);
    expect(readFileSync(`${path}.corrupt`, "utf8").split("\n")[1]).toBe(cut);
    await j.close();
  });

  it("two records run together (the newline between them flipped) are both kept", async () => {
    const path = join(dir, "joined.jsonl");
    const lines = await journalOf(path, [received(1), received(2), missedEmergency(3, "e-joined")]);
    writeFileSync(path, `${lines[0]}\n${lines[1]}\u000b${lines[2]}\n`);
    const { j, logs } = reopen(path);
    expect(j.records.map((r) => r.at)).toEqual([1, 2, 3]);
    expect(missedEmergencies(j.records).map((m) => m.callId)).toEqual(["e-joined"]);
    expect(logs.join("\n")).toMatch(/line 2 .*2 whole record\(s\) inside it kept/);
    await j.close();
  });

  it("cuts only a torn tail (copied aside first); a last record that only lost its newline stays", async () => {
    const path = join(dir, "tail.jsonl");
    const lines = await journalOf(path, [received(1), missedEmergency(2, "e-tail")]);
    const torn = (lines[0] as string).slice(0, 30);
    appendFileSync(path, torn);
    const first = reopen(path);
    expect(first.j.records.map((r) => r.at)).toEqual([1, 2]);
    expect(first.logs.join("\n")).toMatch(/torn last record \(30 bytes\)/);
    expect(readFileSync(`${path}.corrupt`, "utf8")).toMatch(
      /^# \S+ tail\.jsonl line 3 offset \d+: 30 bytes, crc32 [0-9a-f]{8}, torn last record\n/,
    );
    await first.j.close();
    expect(readFileSync(path, "utf8")).toBe(`${lines.join("\n")}\n`);

    // A whole record whose newline never made it: its checksum is right, so it stays.
    writeFileSync(path, `${lines[0]}\n${lines[1]}`);
    const second = reopen(path);
    expect(second.j.records.map((r) => r.at)).toEqual([1, 2]);
    expect(missedEmergencies(second.j.records).map((m) => m.callId)).toEqual(["e-tail"]);
    second.j.append(received(4));
    await second.j.close();
    const third = reopen(path);
    expect(third.j.records.map((r) => r.at)).toEqual([1, 2, 4]);
    expect(third.logs).toEqual([]);
    await third.j.close();
  });

  it("reads a journal written before the checksum, and `deskphone log` prints both kinds", async () => {
    const path = join(dir, "old.jsonl");
    const old = [
      { time: "2026-01-01T10:00:00.000Z", ...received(1) },
      { time: "2026-01-01T10:00:01.000Z", ...missedEmergency(2, "e-old") },
    ];
    writeFileSync(path, old.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const { j, logs } = reopen(path);
    expect(j.records).toEqual(old);
    expect(logs).toEqual([]);
    j.append(received(3));
    await j.close();
    const { j: again } = reopen(path);
    expect(again.records.map((r) => r.at)).toEqual([1, 2, 3]);
    expect(missedEmergencies(again.records).map((m) => m.callId)).toEqual(["e-old"]);
    await again.close();
    expect(existsSync(`${path}.corrupt`)).toBe(false);
    let out = "";
    expect(logCommand(["--journal", path], { out: (s) => (out += s), err: () => {} })).toBe(0);
    expect(out.trim().split("\n")).toEqual([
      expect.stringMatching(/received .* c1 3001$/),
      expect.stringMatching(/missed .* e-old 3999 \[emergency\] EMERGENCY — no answer$/),
      expect.stringMatching(/received .* c3 3001$/),
    ]);
  });

  it("a framed record whose frame is damaged is not taken for an old unframed one", async () => {
    const path = join(dir, "frame.jsonl");
    const lines = await journalOf(path, [received(1), received(2)]);
    // The checksum's last hex digit turned into a letter that is not hex: still JSON.
    const bad = (lines[0] as string).replace(/"}$/, 'g"}').replace(/[0-9a-f]g"}$/, 'g"}');
    expect(JSON.parse(bad).at).toBe(1);
    writeFileSync(path, `${bad}\n${lines[1]}\n`);
    const { j, logs } = reopen(path);
    expect(j.records.map((r) => r.at)).toEqual([2]);
    expect(logs.join("\n")).toMatch(/unreadable record at line 1 /);
    await j.close();
  });

  it("deskphone log shows a record whose checksum is wrong as unreadable, never as what happened", async () => {
    const path = join(dir, "log-crc.jsonl");
    const lines = await journalOf(path, [received(1), missedEmergency(2, "e-2")]);
    // A flipped byte inside the JSON that still parses: the remote 3001 becomes 3009.
    const flipped = (lines[0] as string).replace('"remote":"3001"', '"remote":"3009"');
    expect(JSON.parse(flipped).remote).toBe("3009");
    writeFileSync(path, `${flipped}\n${lines[1]}\n`);
    let out = "";
    let err = "";
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) };
    expect(logCommand(["--journal", path], io)).toBe(0);
    const shown = out.trim().split("\n");
    expect(shown[0]).toMatch(/^\(unreadable\) /);
    expect(shown[1]).toMatch(/missed .* e-2 .* EMERGENCY/);
    expect(out).not.toMatch(/received .* 3009/);
    out = "";
    expect(logCommand(["--journal", path, "--json"], io)).toBe(0);
    expect(
      out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).callId),
    ).toEqual(["e-2"]);
    expect(err).toMatch(/^\(unreadable\) /);
  });
});
