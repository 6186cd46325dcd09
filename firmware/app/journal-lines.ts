/**
 * Reading a journal file: one JSON record a line. What a power cut or a bad
 * sector can leave, and what is done with it:
 *
 * - a **torn last record**: bytes after the last newline (a write cut short;
 *   every record is written with its newline in one write). Only this may be
 *   cut off, by the journal that appends to the file.
 * - an **unreadable line** anywhere else (not JSON, or not a record): skipped
 *   and reported, kept in the file as it is (for whoever looks at the storage;
 *   `deskphone log` prints it as "(unreadable)"); every good record after it is
 *   kept.
 */
import type { JournalRecord } from "../controller/effects.ts";

export interface StoredRecord extends JournalRecord {
  /** Wall-clock time of the record (ISO 8601). */
  time: string;
  /** A missed emergency copied into a new file at rotation, so it outlives the old one. */
  carried?: true;
}

export interface UnreadableLine {
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line in the file. */
  offset: number;
  bytes: number;
}

export interface JournalText {
  records: StoredRecord[];
  unreadable: UnreadableLine[];
  /** Bytes up to and including the last newline: what stays if the torn tail is cut. */
  wholeBytes: number;
  /** Bytes after the last newline (0: the file ends with a whole record). */
  tornBytes: number;
}

const NEWLINE = 0x0a;

function asRecord(text: string): StoredRecord | undefined {
  try {
    const r = JSON.parse(text) as unknown;
    if (typeof r === "object" && r !== null && typeof (r as StoredRecord).event === "string")
      return r as StoredRecord;
  } catch {}
  return undefined;
}

export function readJournalText(data: Buffer): JournalText {
  const records: StoredRecord[] = [];
  const unreadable: UnreadableLine[] = [];
  let offset = 0;
  let line = 0;
  for (;;) {
    const nl = data.indexOf(NEWLINE, offset);
    if (nl < 0) break;
    line++;
    // An empty line carries no record (nothing to lose).
    if (nl > offset) {
      const r = asRecord(data.toString("utf8", offset, nl));
      if (r) records.push(r);
      else unreadable.push({ line, offset, bytes: nl - offset });
    }
    offset = nl + 1;
  }
  return { records, unreadable, wholeBytes: offset, tornBytes: data.length - offset };
}
