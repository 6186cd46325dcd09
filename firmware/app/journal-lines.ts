/**
 * Reading and writing a journal file: one JSON record a line, each framed by a
 * checksum so a bad record is found and skipped, and no good one is lost.
 *
 * The frame: the last member of each record's JSON is `"crc":"<8 hex>"`, the
 * CRC-32 (ISO-HDLC, zlib's) of the line's bytes before `,"crc":` followed by
 * `}` — that is, of the record's JSON without the frame. A line is still one
 * JSON object (`jq`, `deskphone log` read it); the newline ends the record,
 * and the checksum covers every byte of it. Journals written before the frame
 * (no `"crc"` in a line, before the first framed line of the file) are read as
 * they are.
 *
 * What a power cut or a bad sector can leave, and what is done with it:
 *
 * - a **torn last record**: bytes after the last newline (a write cut short;
 *   every record is written with its newline in one write). Only this may be
 *   cut off, by the journal that appends to the file — unless it holds a whole
 *   record whose checksum is right (only its newline was lost): then it stays.
 * - a **corrupt line** anywhere else (not JSON, not a record, or a checksum
 *   that does not match — a flipped byte that still parses as JSON): skipped
 *   and reported, kept in the file as it is and copied aside by the journal
 *   (`<path>.corrupt`); every good record after it is kept. A line that is two
 *   records run together (the newline between them flipped) gives back every
 *   record whose checksum is right (`salvaged`).
 */
import { crc32 } from "node:zlib";
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
  /** Whole records found inside it (checksum right) and kept. */
  salvaged: number;
  /** The line's bytes (what the journal copies aside). */
  data: Buffer;
}

export interface JournalText {
  records: StoredRecord[];
  unreadable: UnreadableLine[];
  /** Bytes up to and including the last newline: what stays if the torn tail is cut. */
  wholeBytes: number;
  /** Bytes after the last newline that hold no whole record (0: nothing to cut). */
  tornBytes: number;
  /**
   * The file ends with a whole record (or one salvaged from the tail) but no
   * newline: it is kept, and the next record starts on a line of its own.
   */
  unterminated: boolean;
}

const NEWLINE = 0x0a;
/** `,"crc":"` + 8 hex digits + `"}`. */
const FRAME_BYTES = 18;
const FRAME_HEAD = Buffer.from(',"crc":"');
const RECORD_HEAD = Buffer.from('{"time":"');
const CRC_KEY = Buffer.from('"crc"');

const hex8 = (n: number) => n.toString(16).padStart(8, "0");

/** One record as it is written: its framed JSON line, newline included. */
export function frameRecord(stored: StoredRecord): Buffer {
  const json = JSON.stringify(stored);
  const crc = crc32(Buffer.from(json));
  return Buffer.from(`${json.slice(0, -1)},"crc":"${hex8(crc)}"}\n`);
}

function asRecord(text: string): StoredRecord | undefined {
  try {
    const r = JSON.parse(text) as unknown;
    if (typeof r === "object" && r !== null && typeof (r as StoredRecord).event === "string")
      return r as StoredRecord;
  } catch {}
  return undefined;
}

/** Whether `b` ends with a frame (`,"crc":"xxxxxxxx"}`), whatever its checksum. */
function hasFrame(b: Buffer): boolean {
  if (b.length < FRAME_BYTES + 2) return false;
  const at = b.length - FRAME_BYTES;
  if (!b.subarray(at, at + FRAME_HEAD.length).equals(FRAME_HEAD)) return false;
  if (b[b.length - 2] !== 0x22 || b[b.length - 1] !== 0x7d) return false;
  return /^[0-9a-f]{8}$/.test(b.toString("latin1", at + FRAME_HEAD.length, b.length - 2));
}

/** The record a framed line holds, if its checksum is right (the frame taken off). */
export function framedRecord(b: Buffer): StoredRecord | undefined {
  if (!hasFrame(b)) return undefined;
  const at = b.length - FRAME_BYTES;
  const want = b.toString("latin1", at + FRAME_HEAD.length, b.length - 2);
  const json = Buffer.concat([b.subarray(0, at), Buffer.from("}")]);
  if (hex8(crc32(json)) !== want) return undefined;
  const r = asRecord(json.toString("utf8"));
  return r;
}

/**
 * Whole records inside a bad line: every span from a record's start (`{"time":"`)
 * to the end of a frame whose checksum is right, left to right.
 */
function salvage(b: Buffer): StoredRecord[] {
  const found: StoredRecord[] = [];
  let from = 0;
  for (let end = b.indexOf(FRAME_HEAD, from); end >= 0; end = b.indexOf(FRAME_HEAD, end + 1)) {
    const stop = end + FRAME_BYTES;
    if (stop > b.length) break;
    for (
      let s = b.indexOf(RECORD_HEAD, from);
      s >= 0 && s < end;
      s = b.indexOf(RECORD_HEAD, s + 1)
    ) {
      const r = framedRecord(b.subarray(s, stop));
      if (r) {
        found.push(r);
        from = stop;
        break;
      }
    }
  }
  return found;
}

export function readJournalText(data: Buffer): JournalText {
  const records: StoredRecord[] = [];
  const unreadable: UnreadableLine[] = [];
  // Unframed lines are an old journal's, only before the first framed line.
  let framedSeen = false;
  const read = (b: Buffer): StoredRecord | undefined => {
    if (hasFrame(b)) {
      framedSeen = true;
      return framedRecord(b);
    }
    if (framedSeen || b.includes(CRC_KEY)) return undefined;
    return asRecord(b.toString("utf8"));
  };
  let offset = 0;
  let line = 0;
  for (;;) {
    const nl = data.indexOf(NEWLINE, offset);
    if (nl < 0) break;
    line++;
    // An empty line carries no record (nothing to lose).
    if (nl > offset) {
      const b = data.subarray(offset, nl);
      const r = read(b);
      if (r) records.push(r);
      else {
        const found = salvage(b);
        records.push(...found);
        unreadable.push({ line, offset, bytes: b.length, salvaged: found.length, data: b });
      }
    }
    offset = nl + 1;
  }
  const tail = data.subarray(offset);
  let unterminated = false;
  if (tail.length > 0) {
    const whole = hasFrame(tail) ? framedRecord(tail) : undefined;
    const found = whole ? [whole] : salvage(tail);
    if (found.length > 0) {
      records.push(...found);
      if (!whole)
        unreadable.push({
          line: line + 1,
          offset,
          bytes: tail.length,
          salvaged: found.length,
          data: tail,
        });
      unterminated = true;
    }
  }
  return {
    records,
    unreadable,
    wholeBytes: unterminated ? data.length : offset,
    tornBytes: unterminated ? 0 : tail.length,
    unterminated,
  };
}
