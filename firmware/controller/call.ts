/** A call as the controller knows it, and what it rings with. */
import type { AlertClass } from "../alerting/alert-class.ts";
import type { Cadence } from "../alerting/cadences.ts";
import type { Classification } from "../alerting/classify.ts";

export interface Call {
  id: string;
  direction: "in" | "out";
  /** The other party, as shown to the user (a number or SIP URI). */
  remote: string;
  /** The class of an incoming call; outgoing calls are "normal" with precedence 0. */
  alertClass: AlertClass;
  /** The ring cadence of an incoming call. */
  cadence?: Cadence;
  startedAt: number;
  /**
   * The phone decided to answer and its 200 OK is on the way: the outcome
   * (answered or preempted-into) is journalled once the answer went out, or
   * `failed` if it did not (an `answer-result` event).
   */
  answering?: { how: "answered" | "preempted-into"; reason?: string };
}

/** What an INVITE brings the controller: its class, already worked out by firmware/alerting. */
export interface IncomingAlert {
  alertClass: AlertClass;
  cadence: Cadence;
}

export function alertFrom(c: Classification): IncomingAlert {
  return { alertClass: c.alertClass, cadence: c.cadence };
}

/** RFC 4411 §5: the Reason header value of a BYE that ends a call for a higher-precedence one. */
export const UA_PREEMPTION = 'preemption ;cause=1 ;text="UA Preemption"';

/** Whether `incoming` may end `current` to reach the user (equal precedence never does). */
export function mayPreempt(incoming: Call, current: Call): boolean {
  return (
    incoming.alertClass.whenBusy === "preempt" &&
    incoming.alertClass.precedence > current.alertClass.precedence
  );
}
