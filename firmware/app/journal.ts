/**
 * The durable journal: one JSON record a line, appended and fsync'd before
 * `append` returns, so a power cut loses nothing that was acknowledged. On
 * open, a torn last line (a cut mid-write) is cut off and logged. Past
 * `maxBytes` the file is rotated to `<path>.1` (one generation kept); both
 * are read at start, so unacknowledged missed emergencies survive rotation
 * and restarts.
 */
import {
  closeSync,
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

export interface StoredRecord extends JournalRecord {
  /** Wall-clock time of the record (ISO 8601). */
  time: string;
}

function parseLines(text: string): { records: StoredRecord[]; goodBytes: number; torn: boolean } {
  const records: StoredRecord[] = [];
  let goodBytes = 0;
  let offset = 0;
  for (;;) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) break;
    const line = text.slice(offset, nl);
    try {
      records.push(JSON.parse(line) as StoredRecord);
    } catch {
      return { records, goodBytes, torn: true };
    }
    offset = nl + 1;
    goodBytes = Buffer.byteLength(text.slice(0, offset));
  }
  return { records, goodBytes, torn: offset < text.length };
}

export class Journal {
  private fd: number;
  private size: number;
  readonly records: StoredRecord[] = [];

  constructor(
    readonly path: string,
    private readonly maxBytes = 1_048_576,
    private readonly log: (level: "info" | "warn", m: string) => void = () => {},
  ) {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(`${path}.1`))
      this.records.push(...parseLines(readFileSync(`${path}.1`, "utf8")).records);
    this.fd = openSync(path, "a+");
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    const { records, goodBytes, torn } = parseLines(text);
    this.records.push(...records);
    if (torn) {
      ftruncateSync(this.fd, goodBytes);
      fsyncSync(this.fd);
      this.log(
        "warn",
        `journal ${path}: cut a torn last record (${Buffer.byteLength(text) - goodBytes} bytes) left by a power cut`,
      );
    }
    this.size = fstatSync(this.fd).size;
  }

  /** Appends and fsyncs; when it returns, the record is on the storage. */
  append(record: JournalRecord): StoredRecord {
    const stored: StoredRecord = { time: new Date().toISOString(), ...record };
    const line = `${JSON.stringify(stored)}\n`;
    if (this.size + Buffer.byteLength(line) > this.maxBytes && this.size > 0) this.rotate();
    writeSync(this.fd, line);
    fsyncSync(this.fd);
    this.size += Buffer.byteLength(line);
    this.records.push(stored);
    return stored;
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, "a+");
    this.size = 0;
    // Keep only what the two files hold.
    const older = parseLines(readFileSync(`${this.path}.1`, "utf8")).records;
    this.records.splice(0, this.records.length, ...older);
    // Emergencies still unacknowledged are carried into the new file, so they
    // survive the next rotation too.
    for (const m of missedEmergencies(this.records)) {
      const carried = { ...m, time: new Date().toISOString() };
      const line = `${JSON.stringify({ event: "missed", outcome: true, emergency: true, carried: true, callId: m.callId, remote: m.remote, alertClass: m.alertClass, at: m.at, time: carried.time })}\n`;
      writeSync(this.fd, line);
      this.size += Buffer.byteLength(line);
    }
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
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
