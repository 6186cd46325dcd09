/**
 * The durable journal: one JSON record a line (docs/configuration.md, "The
 * journal").
 *
 * `append` writes the record ahead, in order, into the page cache and returns
 * at once: a crash of the process loses nothing appended. It never waits for
 * the disk: fsync runs off the event loop, batched (journal-sync.ts), and
 * `synced()` says when everything appended so far is on the storage, so a
 * power cut loses at most the records of the last two fsync durations.
 *
 * Each record is framed by a CRC-32 (journal-lines.ts). On open, a torn last
 * record (a write cut short) is copied aside, cut off and logged; a corrupt
 * line elsewhere (unreadable, or its checksum wrong) is skipped, logged, kept
 * in the file and copied aside to `<path>.corrupt` (journal-aside.ts), and
 * every good record after it is kept. Past `maxBytes` the file is
 * rotated to `<path>.1` (one generation kept); both are read at start, and
 * unacknowledged missed emergencies are carried into the new file, so they
 * survive rotation and restarts.
 */
import {
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { JournalRecord } from "../controller/effects.ts";
import type { MissedEmergency } from "../controller/state.ts";
import { keepAside } from "./journal-aside.ts";
import {
  frameRecord,
  type JournalText,
  readJournalText,
  type StoredRecord,
} from "./journal-lines.ts";
import { type Fsync, JournalSync, threadpoolFsync } from "./journal-sync.ts";

export type { StoredRecord } from "./journal-lines.ts";
export type { Fsync } from "./journal-sync.ts";

export interface JournalOptions {
  /** Rotate to `<path>.1` past this size (bytes). */
  maxBytes?: number;
  log?: (level: "info" | "warn" | "error", message: string) => void;
  /** The fsync seam (tests, benchmarks): fsync(2) on libuv's threadpool by default. */
  fsync?: Fsync;
}

export class Journal {
  private fd: number;
  private size: number;
  /** Where the current file's records start in `records` (before them: `<path>.1`). */
  private currentFrom = 0;
  /** A write was cut short: the next record starts on a line of its own. */
  private tornWrite = false;
  private closed = false;
  private readonly sync: JournalSync;
  private readonly maxBytes: number;
  private readonly log: NonNullable<JournalOptions["log"]>;
  /** What both files hold, oldest first. */
  readonly records: StoredRecord[] = [];

  constructor(
    readonly path: string,
    o: JournalOptions = {},
  ) {
    this.maxBytes = o.maxBytes ?? 1_048_576;
    this.log = o.log ?? (() => {});
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(`${path}.1`)) {
      const older = readJournalText(readFileSync(`${path}.1`));
      this.reportUnreadable(`${path}.1`, older);
      this.records.push(...older.records);
    }
    this.currentFrom = this.records.length;
    this.fd = openSync(path, "a+");
    const data = readFileSync(path);
    const current = readJournalText(data);
    this.reportUnreadable(path, current);
    this.records.push(...current.records);
    if (current.unterminated) {
      // A whole record whose newline was lost: kept; the next record starts on a new line.
      this.tornWrite = true;
      this.log("warn", `journal ${path}: the last record had lost its newline; kept`);
    }
    if (current.tornBytes > 0) {
      const torn = data.subarray(current.wholeBytes);
      let lines = 1;
      for (
        let i = data.indexOf(0x0a);
        i >= 0 && i < current.wholeBytes;
        i = data.indexOf(0x0a, i + 1)
      )
        lines++;
      try {
        keepAside(`${path}.corrupt`, [
          {
            file: path,
            line: lines,
            offset: current.wholeBytes,
            data: torn,
            what: "torn last record",
          },
        ]);
      } catch {}
      // At start, before the phone takes calls: the cut is made durable here.
      ftruncateSync(this.fd, current.wholeBytes);
      fsyncSync(this.fd);
      this.log(
        "warn",
        `journal ${path}: cut a torn last record (${current.tornBytes} bytes) left by a power cut`,
      );
    }
    this.size = fstatSync(this.fd).size;
    this.sync = new JournalSync(this.fd, o.fsync ?? threadpoolFsync, (e) =>
      this.log("error", `journal ${path}: fsync failed: ${e.message}`),
    );
  }

  /**
   * Writes the record ahead (in order, into the page cache) and returns it;
   * it is on the storage once `synced()` resolves. Never waits for the disk.
   */
  append(record: JournalRecord): StoredRecord {
    if (this.closed) throw new Error(`journal ${this.path} is closed`);
    const stored: StoredRecord = { time: new Date().toISOString(), ...record };
    const line = frameRecord(stored);
    if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
    this.write(stored, line);
    return stored;
  }

  /** Resolves when every record appended so far is on the storage. */
  synced(): Promise<void> {
    return this.sync.synced();
  }

  /** Syncs what is not yet on the storage and closes the file. */
  close(): Promise<void> {
    this.closed = true;
    return this.sync.close();
  }

  private write(stored: StoredRecord, line: Buffer): void {
    // After a short write, end the torn piece: it becomes one unreadable line.
    const data = this.tornWrite ? Buffer.concat([Buffer.from("\n"), line]) : line;
    let done = 0;
    try {
      while (done < data.length) {
        const n = writeSync(this.fd, data, done);
        if (n <= 0) throw new Error("short write");
        done += n;
      }
    } catch (e) {
      this.size += done;
      if (done > 0) this.tornWrite = true;
      throw e;
    }
    this.size += done;
    this.tornWrite = false;
    this.records.push(stored);
    this.sync.wrote();
  }

  private rotate(): void {
    // Everything known before the old file goes, so nothing acknowledged is lost with `.1`.
    const carried = missedEmergencies(this.records);
    renameSync(this.path, `${this.path}.1`);
    const fd = openSync(this.path, "a+");
    this.sync.rotated(fd, dirname(this.path));
    this.fd = fd;
    this.size = 0;
    this.tornWrite = false;
    this.records.splice(0, this.currentFrom);
    this.currentFrom = this.records.length;
    // Emergencies still unacknowledged are carried into the new file, so they
    // survive the next rotation too.
    for (const m of carried) {
      const stored: StoredRecord = {
        time: new Date().toISOString(),
        at: m.at,
        event: "missed",
        callId: m.callId,
        remote: m.remote,
        alertClass: m.alertClass,
        emergency: true,
        outcome: true,
        carried: true,
      };
      this.write(stored, frameRecord(stored));
    }
  }

  private reportUnreadable(file: string, t: JournalText): void {
    if (t.unreadable.length === 0) return;
    const aside = `${this.path}.corrupt`;
    try {
      keepAside(
        aside,
        t.unreadable.map((u) => ({ file, ...u, what: "corrupt record" as const })),
      );
    } catch (e) {
      this.log(
        "error",
        `journal ${file}: cannot keep corrupt records aside in ${aside}: ${(e as Error).message}`,
      );
    }
    for (const u of t.unreadable)
      this.log(
        "warn",
        `journal ${file}: skipped an unreadable record at line ${u.line} (${u.bytes} bytes, kept in the file, copied to ${aside})${u.salvaged ? `; ${u.salvaged} whole record(s) inside it kept` : ""}; the records after it are kept`,
      );
  }
}

/** Missed emergencies not yet acknowledged, oldest first. */
export function missedEmergencies(records: readonly JournalRecord[]): MissedEmergency[] {
  const open = new Map<string, MissedEmergency>();
  for (const r of records) {
    if (!r.callId) continue;
    if (r.event === "missed" && r.emergency) {
      open.set(r.callId, {
        callId: r.callId,
        remote: r.remote ?? "",
        at: r.at,
        alertClass: r.alertClass ?? "emergency",
      });
    } else if (r.event === "acknowledged") open.delete(r.callId);
  }
  return [...open.values()];
}
