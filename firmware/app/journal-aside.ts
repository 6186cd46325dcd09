/**
 * Corrupt journal records kept aside in `<journal>.corrupt`, for whoever looks
 * at the storage: each one once, under a header line naming where it was.
 *
 *     # 2026-11-26T10:00:00.000Z calls.jsonl line 7 offset 1234: 171 bytes, crc32 0a1b2c3d, corrupt record
 *     <the record's bytes as they were>
 *
 * A corrupt line stays in the journal too (it is never rewritten), so it is
 * found again at every start; the header's length and CRC-32 of the bytes say
 * it is already aside. A torn last record is copied here before it is cut.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { crc32 } from "node:zlib";

export interface AsidePiece {
  file: string;
  line: number;
  offset: number;
  data: Buffer;
  what: "corrupt record" | "torn last record";
}

const key = (data: Buffer) =>
  `${data.length} bytes, crc32 ${crc32(data).toString(16).padStart(8, "0")}`;

/** Appends the pieces not yet aside to `path`; returns how many were new. */
export function keepAside(path: string, pieces: readonly AsidePiece[]): number {
  if (pieces.length === 0) return 0;
  const known = existsSync(path) ? readFileSync(path, "latin1") : "";
  const parts: Buffer[] = [];
  for (const p of pieces) {
    const k = key(p.data);
    if (known.includes(`: ${k},`)) continue;
    const head = `# ${new Date().toISOString()} ${basename(p.file)} line ${p.line} offset ${p.offset}: ${k}, ${p.what}\n`;
    parts.push(Buffer.from(head), p.data, Buffer.from("\n"));
  }
  if (parts.length > 0) appendFileSync(path, Buffer.concat(parts), { mode: 0o600 });
  return parts.length / 3;
}
