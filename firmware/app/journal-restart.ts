/**
 * Calls the last run left open, closed at start (docs/configuration.md, "The
 * journal"). A SIGKILL, a crash or a power cut mid-call leaves a call with a
 * record that opened it (`received`, `rung`, `dialled`, `answered`,
 * `preempted-into`) and none that closed it (`ended`, `missed`, `refused`,
 * `failed`, `preempted`). Before the phone takes a call, each gets its closing
 * record, reason `restart`:
 *
 * - an incoming call the user had not taken (no `answered`/`preempted-into`)
 *   is `missed` — for an emergency that is its one outcome (`outcome: true`),
 *   so the emergency LED lights until the `ack` key, like any missed
 *   emergency. Whether its 200 OK went out before the process died is not
 *   known; the LED errs on the side of being seen.
 * - every other call (talking, or an outgoing call ringing) is `ended`.
 */
import type { JournalRecord } from "../controller/effects.ts";
import type { StoredRecord } from "./journal-lines.ts";

const OPENS = new Set(["received", "rung", "dialled", "answered", "preempted-into"]);
const CLOSES = new Set(["ended", "missed", "refused", "failed", "preempted"]);
const TAKEN = new Set(["answered", "preempted-into"]);

interface OpenCall {
  first: JournalRecord;
  last: JournalRecord;
  taken: boolean;
}

/** The closing records for the calls `records` (oldest first) leave open, stamped `at`. */
export function closeOpenCalls(records: readonly StoredRecord[], at: number): JournalRecord[] {
  const open = new Map<string, OpenCall>();
  for (const r of records) {
    if (!r.callId) continue;
    if (CLOSES.has(r.event)) open.delete(r.callId);
    else if (OPENS.has(r.event)) {
      const o = open.get(r.callId);
      if (o) {
        o.last = r;
        o.taken ||= TAKEN.has(r.event);
      } else open.set(r.callId, { first: r, last: r, taken: TAKEN.has(r.event) });
    }
  }
  return [...open.entries()].map(([callId, o]) => {
    const incoming = o.first.event === "received" || o.first.event === "rung";
    const emergency = o.first.emergency || o.last.emergency;
    const missed = incoming && !o.taken;
    const alertClass = o.last.alertClass ?? o.first.alertClass;
    const remote = o.last.remote ?? o.first.remote;
    return {
      at,
      event: missed ? "missed" : "ended",
      callId,
      ...(remote !== undefined && { remote }),
      ...(alertClass !== undefined && { alertClass }),
      emergency,
      ...(missed && emergency && { outcome: true as const }),
      reason: "restart",
    };
  });
}
