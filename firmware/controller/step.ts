/** The working copy of one transition: the next state and the effects so far. */
import type { Call } from "./call.ts";
import type { Effect, JournalEvent, JournalRecord } from "./effects.ts";
import type { EventType } from "./events.ts";
import type { Phase, PhoneState } from "./state.ts";

export class Step {
  readonly fx: Effect[] = [];
  readonly s: PhoneState;

  constructor(
    state: PhoneState,
    readonly at: number,
    readonly event: EventType,
  ) {
    this.s = { ...state };
  }

  get phase(): Phase {
    return this.s.phase;
  }

  set phase(p: Phase) {
    this.s.phase = p;
  }

  do(...effects: Effect[]): void {
    this.fx.push(...effects);
  }

  ignore(reason: string): void {
    this.fx.push({ type: "ignored", event: this.event, reason });
  }

  journal(event: JournalEvent, call?: Call, extra: Partial<JournalRecord> = {}): void {
    const record: JournalRecord = {
      at: this.at,
      event,
      emergency: call?.alertClass.emergency ?? false,
      ...(call && { callId: call.id, remote: call.remote, alertClass: call.alertClass.name }),
      ...extra,
    };
    this.fx.push({ type: "journal", record });
  }

  /**
   * Journals a record of `call` right after the first effect from `from` on
   * that answers it on the wire (send-ringing, reject, answer), or at `from`
   * when there is none: the answer is not held up by the record's write.
   */
  journalAfterAnswer(from: number, event: JournalEvent, call: Call): void {
    this.journal(event, call);
    const record = this.fx.pop() as Effect;
    const answers = this.fx.findIndex(
      (e, i) =>
        i >= from &&
        (e.type === "send-ringing" || e.type === "reject" || e.type === "answer") &&
        e.callId === call.id,
    );
    this.fx.splice(answers < 0 ? from : answers + 1, 0, record);
  }

  /** Journals the record that closes an incoming call; for an emergency it is its one outcome. */
  outcome(
    event: "answered" | "preempted-into" | "missed" | "refused" | "failed",
    call: Call,
    reason?: string,
  ): void {
    const closes = call.direction === "in" && call.alertClass.emergency;
    this.journal(event, call, { ...(closes && { outcome: true }), ...(reason && { reason }) });
    if (event === "missed" && closes) {
      this.s.missed = [
        ...this.s.missed,
        { callId: call.id, remote: call.remote, at: this.at, alertClass: call.alertClass.name },
      ];
    }
  }

  refuse(call: Call, code: 486 | 480 | 603, reason: string): void {
    this.do({ type: "reject", callId: call.id, code, reason });
    this.outcome("refused", call, reason);
  }

  /**
   * Answers: the 200 OK goes out, and the outcome waits for the answer's
   * result (`answer-result`). Returns the call to put in the next phase.
   */
  answer(call: Call, how: "answered" | "preempted-into", reason?: string): Call {
    this.do({ type: "answer", callId: call.id });
    return { ...call, answering: { how, ...(reason && { reason }) } };
  }

  /**
   * A call whose answer is still in flight leaves the phone by the user's
   * hand (hang-up, preemption): the user took it, so it counts as answered.
   */
  settleAnswer(call: Call): void {
    if (call.answering) this.outcome(call.answering.how, call, call.answering.reason);
  }

  /**
   * An emergency the phone could not offer at all (two already ring, wait or
   * talk): refused with 486, but journalled as missed, so the emergency LED
   * stays on until acknowledged. Never a silent 486.
   */
  missBusy(call: Call, reason: string): void {
    this.do({ type: "reject", callId: call.id, code: 486, reason });
    this.outcome("missed", call, reason);
  }
}
