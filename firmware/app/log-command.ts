/**
 * `deskphone log`: the call journal, readable or as JSON lines. Each record's
 * CRC-32 (journal-lines.ts) is checked: a damaged record is shown as
 * unreadable, never as if it were what happened.
 */
import { existsSync, readFileSync } from "node:fs";
import type { CliIO } from "./classify-alert.ts";
import { args, DEFAULT_CONFIG_PATH, load } from "./cli-args.ts";
import { framedRecord, type StoredRecord } from "./journal-lines.ts";

/** The record a line holds: framed ones only with a right checksum; old unframed ones as JSON. */
function recordOf(line: string): StoredRecord | undefined {
  if (line.includes(',"crc":"')) return framedRecord(Buffer.from(line));
  try {
    const r = JSON.parse(line) as StoredRecord;
    return r && typeof r === "object" && typeof r.event === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

export const LOG_USAGE = `usage: deskphone log [--config FILE | --journal FILE] [--json] [--last N]

Prints the call journal: every call and emergency event.
`;

export function logCommand(argv: string[], io: CliIO): number {
  const a = args(argv, LOG_USAGE, io, {
    journal: { type: "string" },
    json: { type: "boolean" },
    last: { type: "string" },
  });
  if (!a) return 2;
  if (a.values.help) {
    io.out(LOG_USAGE);
    return 0;
  }
  let file = a.values.journal as string | undefined;
  if (!file) {
    const c = load((a.values.config as string | undefined) ?? DEFAULT_CONFIG_PATH, io);
    if (!c) return 2;
    file = c.journal.path;
  }
  let lines: string[];
  try {
    lines = [
      ...(existsSync(`${file}.1`) ? readFileSync(`${file}.1`, "utf8").split("\n") : []),
      ...readFileSync(file, "utf8").split("\n"),
    ].filter(Boolean);
  } catch (e) {
    io.err(`deskphone log: cannot read ${file} (${(e as NodeJS.ErrnoException).code})\n`);
    return 2;
  }
  const last = Number(a.values.last ?? 0);
  for (const line of last > 0 ? lines.slice(-last) : lines) {
    const r = recordOf(line);
    if (!r) {
      // Not printed as a record: in JSON mode the line goes to stderr, so a consumer
      // of the JSON lines never takes it for one.
      if (a.values.json) io.err(`(unreadable) ${line}\n`);
      else io.out(`(unreadable) ${line}\n`);
      continue;
    }
    if (a.values.json) {
      io.out(`${line}\n`);
      continue;
    }
    io.out(
      `${r.time ?? ""}  ${String(r.event).padEnd(14)} ${r.callId ?? ""} ${r.remote ?? ""}${r.alertClass ? ` [${r.alertClass}]` : ""}${r.emergency ? " EMERGENCY" : ""}${r.reason ? ` — ${r.reason}` : ""}\n`,
    );
  }
  return 0;
}
