/**
 * When a call's signalling crossed the wire, on the phone's monotonic clock
 * (process.hrtime, ms): the INVITE's arrival, our 200 OK to it and our BYE —
 * what the phone reports of a preemption's hand-over
 * (firmware/app/handover-report.ts) — and, for an outgoing call, the 200 OK's
 * arrival. Fed by the WebSocket transport's tap;
 * only the first line and the Call-ID header (RFC 3261 §20.8, compact form
 * `i`) are read, and only of those three kinds of message. The last
 * `KEPT` calls are kept.
 */

export interface CallWireTimes {
  /** The INVITE that opened the call arrived (an incoming call). */
  inviteAt?: number;
  /** Our 200 OK to the INVITE was written to the connection. */
  okSentAt?: number;
  /** Our BYE was written to the connection. */
  byeSentAt?: number;
  /** A 200 OK to our INVITE arrived (an outgoing call answered). */
  okReceivedAt?: number;
}

const KEPT = 16;
const CALL_ID = /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im;
const INVITE_CSEQ = /^CSeq[ \t]*:[ \t]*\d+[ \t]+INVITE[ \t]*$/im;

/** performance.now() (the transport's clock) is uv_hrtime from a fixed origin: this moves it to hrtime's. */
const toMonotonic = Number(process.hrtime.bigint()) / 1e6 - performance.now();

export class WireTimes {
  private readonly calls = new Map<string, CallWireTimes>();

  /** The transport's tap: a message sent or received at `atMs` (performance.now()). */
  seen(direction: "in" | "out", message: string, atMs: number): void {
    const kind =
      direction === "in"
        ? message.startsWith("INVITE ")
          ? "inviteAt"
          : message.startsWith("SIP/2.0 200") && INVITE_CSEQ.test(message) && "okReceivedAt"
        : message.startsWith("BYE ")
          ? "byeSentAt"
          : message.startsWith("SIP/2.0 200") && INVITE_CSEQ.test(message) && "okSentAt";
    if (!kind) return;
    const id = CALL_ID.exec(message)?.[1];
    if (!id) return;
    // The first of each: a retransmission or a re-INVITE is not the call's start.
    this.of(id)[kind] ??= atMs + toMonotonic;
  }

  /** The call's times, filled in as its messages cross the wire (kept while it is among the last KEPT). */
  of(sipCallId: string): CallWireTimes {
    let t = this.calls.get(sipCallId);
    if (!t) {
      t = {};
      this.calls.set(sipCallId, t);
      if (this.calls.size > KEPT) this.calls.delete(this.calls.keys().next().value as string);
    }
    return t;
  }
}
