import {
  appendFileSync,
  fstatSync,
  fsync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Fsync, Journal, missedEmergencies } from "../../../firmware/app/journal.ts";
import { frameRecord } from "../../../firmware/app/journal-lines.ts";
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
const received = (at: number): JournalRecord => ({
  at,
  event: "received",
  callId: `c${at}`,
  emergency: false,
});
const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");

/**
 * The fsync seam, slowed down like an SD card: the real fsync(2), issued after
 * `ms`. Every call is logged with the file it synced and that file's size then.
 */
function slowFsync(ms: number, log: string[], calls: { ino: number; size: number }[] = []): Fsync {
  return (fd, done) => {
    const st = fstatSync(fd);
    calls.push({ ino: st.ino, size: st.size });
    log.push(`fsync issued (${st.size} bytes)`);
    setTimeout(
      () =>
        fsync(fd, (e) => {
          log.push("fsync returned");
          done(e);
        }),
      ms,
    );
  };
}

describe("journal: written ahead, fsync'd off the event loop", () => {
  it("append returns before its fsync, with the record already in the file", async () => {
    const path = join(dir, "a.jsonl");
    const order: string[] = [];
    const calls: { ino: number; size: number }[] = [];
    const j = new Journal(path, { fsync: slowFsync(200, order, calls) });
    const r = j.append(received(1));
    order.push("append returned");
    // Written ahead: another handle reads it, while nothing has been fsync'd yet.
    expect(readFileSync(path, "utf8")).toBe(frameRecord(r).toString());
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      ...r,
      crc: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
    expect(r).toMatchObject({ at: 1, event: "received", callId: "c1" });
    // A record appended while that fsync runs does not wait for it either.
    const t0 = Date.now();
    while (order.length < 2 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 1));
    j.append(received(2));
    order.push("append returned");
    await j.synced();
    order.push("synced");
    const size = statSync(path).size;
    expect(order).toEqual([
      "append returned",
      `fsync issued (${size / 2} bytes)`,
      "append returned",
      "fsync returned",
      `fsync issued (${size} bytes)`,
      "fsync returned",
      "synced",
    ]);
    // What was fsync'd is the journal file.
    expect(new Set(calls.map((c) => c.ino))).toEqual(new Set([statSync(path).ino]));
    await j.close();
  });

  it("issues each record's fsync at the end of its loop turn, or as soon as the running fsync returns", async () => {
    const path = join(dir, "bound.jsonl");
    // One log, in the order things happened: appends, fsyncs, and a timer set at
    // each append that fires on a later turn of the event loop.
    const log: string[] = [];
    const j = new Journal(path, { fsync: slowFsync(50, log) });
    const append = (at: number) => {
      j.append(received(at));
      const end = statSync(path).size;
      log.push(`append ${end}`);
      setTimeout(() => log.push(`next turn after append ${end}`), 1);
    };
    // A burst (one controller step), then records while fsyncs run.
    for (const at of [1, 2, 3]) append(at);
    for (let i = 4; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 15));
      append(i);
    }
    await j.synced();
    await new Promise((r) => setTimeout(r, 5));
    const issued = (x: string) => Number(/^fsync issued \((\d+) bytes\)$/.exec(x)?.[1] ?? -1);
    let inFlight = 0;
    const seen = { running: 0, idle: 0 };
    log.forEach((x, i) => {
      if (x.startsWith("fsync issued")) inFlight++;
      if (x === "fsync returned") inFlight--;
      // One fsync at a time.
      expect(inFlight).toBeGreaterThanOrEqual(0);
      expect(inFlight).toBeLessThanOrEqual(1);
      if (!x.startsWith("append ")) return;
      const end = Number(x.slice(7));
      const covering = log.findIndex((y, k) => k > i && issued(y) >= end);
      expect(covering, `no fsync covers the record ending at ${end}`).toBeGreaterThan(i);
      if (inFlight === 1) {
        // Appended while an fsync ran: its fsync is issued the moment that one returns.
        const returned = log.indexOf("fsync returned", i);
        expect(covering, log.slice(i, covering + 1).join("\n")).toBe(returned + 1);
        seen.running++;
      } else {
        // Nothing running: issued before the next turn of the event loop.
        expect(covering).toBeLessThan(log.indexOf(`next turn after append ${end}`));
        seen.idle++;
      }
    });
    // Both cases were seen, for all 11 records.
    expect(seen.running).toBeGreaterThan(0);
    expect(seen.idle).toBeGreaterThan(0);
    expect(seen.running + seen.idle).toBe(11);
    expect(issued(log.filter((x) => x.startsWith("fsync issued")).at(-1) as string)).toBe(
      statSync(path).size,
    );
    await j.close();
  });

  it("close() fsyncs what is left, then closes the file (not under a running fsync)", async () => {
    const path = join(dir, "close.jsonl");
    const order: string[] = [];
    let fd = -1;
    const seam: Fsync = (d, done) => {
      fd = d;
      order.push("fsync issued");
      setTimeout(() => {
        fstatSync(d); // still open while its fsync runs
        order.push("fsync returned");
        done(null);
      }, 100);
    };
    const j = new Journal(path, { fsync: seam });
    j.append(received(1));
    const closed = j.close().then(() => order.push("closed"));
    expect(() => j.append(received(2))).toThrow(/closed/);
    await closed;
    expect(order).toEqual(["fsync issued", "fsync returned", "closed"]);
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
    expect(lines(path)).toHaveLength(1);
  });

  it("a failed fsync is logged and fails synced(); the next one covers the records again", async () => {
    const path = join(dir, "eio.jsonl");
    const logs: string[] = [];
    let fail = true;
    const seam: Fsync = (fd, done) =>
      fail
        ? setImmediate(() =>
            done(Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" })),
          )
        : fsync(fd, done);
    const j = new Journal(path, { fsync: seam, log: (_l, m) => logs.push(m) });
    j.append(received(1));
    await expect(j.synced()).rejects.toThrow(/EIO/);
    expect(logs.join()).toMatch(/fsync failed: EIO/);
    fail = false;
    await expect(j.synced()).resolves.toBeUndefined();
    await j.close();
  });
});

describe("journal: what is read back at start", () => {
  it("cuts a torn last record and keeps everything before it", async () => {
    const path = join(dir, "b.jsonl");
    const j = new Journal(path);
    j.append(missed("e1"));
    j.append({ at: 2, event: "received", callId: "c2", emergency: false });
    await j.close();
    appendFileSync(path, '{"time":"2026-11-26T10:00:00Z","at":3,"event":"rec');
    const logs: string[] = [];
    const again = new Journal(path, { log: (_l, m) => logs.push(m) });
    expect(again.records.map((r) => r.event)).toEqual(["missed", "received"]);
    expect(logs.join()).toMatch(/torn last record \(50 bytes\)/);
    again.append({ at: 4, event: "ended", callId: "c2", emergency: false });
    await again.close();
    expect(lines(path).map((l) => JSON.parse(l).event)).toEqual(["missed", "received", "ended"]);
  });

  it("skips an unreadable line in the middle, keeps it in the file, and keeps every record after it", async () => {
    const path = join(dir, "mid.jsonl");
    const j = new Journal(path);
    for (let at = 1; at <= 6; at++) j.append(received(at));
    await j.close();
    const good = lines(path);
    const broken = [
      good[0],
      '{"time":"2026-11-26T10:00:00Z","at":2,"ev\u0000\u0000ent',
      ...good.slice(2),
    ];
    // ...and a torn tail after them: only that is cut.
    writeFileSync(path, `${broken.join("\n")}\n{"time":"x","at":7,"eve`);
    const logs: string[] = [];
    const again = new Journal(path, { log: (l, m) => logs.push(`${l}: ${m}`) });
    expect(again.records.map((r) => r.at)).toEqual([1, 3, 4, 5, 6]);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/^warn: .*unreadable record at line 2 .*kept in the file/);
    expect(logs[1]).toMatch(/^warn: .*torn last record/);
    again.append(received(8));
    await again.close();
    expect(lines(path)).toEqual([...broken, expect.stringContaining('"at":8')]);
    const third: string[] = [];
    const once = new Journal(path, { log: (_l, m) => third.push(m) });
    expect(once.records.map((r) => r.at)).toEqual([1, 3, 4, 5, 6, 8]);
    expect(third.join()).not.toMatch(/torn/);
    await once.close();
  });

  it("rotates past its size, syncs the old file and the directory, and still knows unacknowledged missed emergencies", async () => {
    const path = join(dir, "c.jsonl");
    const calls: { ino: number; size: number }[] = [];
    const j = new Journal(path, { maxBytes: 16_384, fsync: slowFsync(0, [], calls) });
    j.append(missed("e-old"));
    j.append(missed("e-acked"));
    j.append({ at: 2, event: "acknowledged", callId: "e-acked", emergency: true });
    await j.synced();
    const first = statSync(path).ino;
    for (let i = 0; i < 400; i++)
      j.append({
        at: i,
        event: "received",
        callId: `n${i}`,
        emergency: false,
        reason: "x".repeat(40),
      });
    await j.synced();
    // Rotated more than once: the first file is gone; of the files after it, each
    // was fsync'd to its end before the directory, before the next file.
    expect(statSync(`${path}.1`).ino).not.toBe(first);
    const dirIno = statSync(dir).ino;
    const k = calls.map((c) => c.ino).lastIndexOf(statSync(`${path}.1`).ino);
    expect(calls[k + 1]?.ino).toBe(dirIno);
    expect(calls.slice(k + 2).every((c) => c.ino === statSync(path).ino)).toBe(true);
    expect(calls.at(-1)?.size).toBe(statSync(path).size);
    expect(calls.filter((c) => c.ino === statSync(`${path}.1`).ino).at(-1)?.size).toBe(
      statSync(`${path}.1`).size,
    );
    const inMemory = j.records.map((r) => JSON.stringify(r));
    await j.close();
    expect(statSync(path).size).toBeLessThanOrEqual(16_384);
    const again = new Journal(path, { maxBytes: 16_384 });
    expect(again.records.map((r) => JSON.stringify(r))).toEqual(inMemory);
    expect(missedEmergencies(again.records).map((m) => m.callId)).toEqual(["e-old"]);
    await again.close();
  });
});
