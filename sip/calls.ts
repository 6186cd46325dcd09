/**
 * The calls the phone's SIP agent keeps, what it reports about them, and how
 * each one ends: hung up by us (BYE, CANCEL or 486 by its state), by the far
 * end (BYE, CANCEL, a refusal), or by the network — dead media, a session
 * that was not refreshed (RFC 4028), a dialog that is gone (RFC 3261 §12.2.1.2).
 */
import type { EventEmitter } from "node:events";
import { type Core, Invitation, Inviter, type Session, SessionState } from "sip.js";
import type { CallMedia } from "../audio/call-media.ts";
import type { RegistrationState } from "./registration.ts";
import type { RtpDescriptionHandler } from "./rtp-description-handler.ts";
import { SESSION_EXPIRED_REASON, SessionTimer, type SessionTimerOptions } from "./session-timer.ts";

export interface IncomingCall {
  callId: string;
  /** The caller's user part, or the whole URI. */
  remote: string;
  displayName?: string;
  /** Every Alert-Info header line as received (not split on commas). */
  alertInfo: string[];
  priority?: string;
  resourcePriority: string[];
  /**
   * Came over the verified connection to the configured exchange (a wss://
   * connection whose certificate and host name were checked, or the lab's
   * ws://), whatever its Via says.
   */
  trusted: boolean;
  sipCallId: string;
}

/** How a call's SIP session ended, when we did not end it. */
export type EndCause =
  | "bye"
  | "cancel"
  | "rejected"
  | "failed"
  | "no-answer"
  | "media-timeout"
  | "session-expired"
  /** An in-dialog request answered 481 or 408: the dialog is gone (RFC 3261 §12.2.1.2). */
  | "dialog-gone";

/** What the agent reports (PhoneAgent's events). */
export interface AgentEvents {
  registration: [RegistrationState, string];
  incoming: [IncomingCall];
  "remote-ringing": [string];
  "remote-answered": [string];
  "remote-ended": [string, EndCause, number | undefined];
  dtmf: [string, string];
  media: [string, CallMedia];
  refused: [string, number, string];
}

export type AgentLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

export interface CallRecord {
  session: Session;
  direction: "in" | "out";
  /** We ended it: its termination is not reported as remote. */
  endedLocally: boolean;
  cause?: EndCause;
  code?: number;
  sdh?: RtpDescriptionHandler;
  answered: boolean;
  ringing?: boolean;
  /** RFC 4028 session timer (sip/session-timer.ts). */
  timer?: SessionTimer;
}

/** 408 or 481 to an in-dialog request (RFC 3261 §12.2.1.2). */
export function dialogGone(r: Core.IncomingResponse): number | undefined {
  const code = r.message.statusCode;
  return code === 408 || code === 481 ? code : undefined;
}

export class CallBook {
  private readonly calls = new Map<string, CallRecord>();

  constructor(
    private readonly agent: EventEmitter<AgentEvents>,
    readonly timerOptions: Required<SessionTimerOptions>,
    readonly log: AgentLog,
  ) {}

  /** One of the agent's events. */
  report<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    (this.agent.emit as (e: K, ...a: AgentEvents[K]) => boolean).call(this.agent, event, ...args);
  }

  get(callId: string): CallRecord | undefined {
    return this.calls.get(callId);
  }

  ids(): string[] {
    return [...this.calls.keys()];
  }

  idOf(session: Session): string | undefined {
    for (const [id, rec] of this.calls) if (rec.session === session) return id;
    return undefined;
  }

  /** A new call: kept until its session ends, then reported unless we ended it. */
  add(callId: string, rec: CallRecord): void {
    this.calls.set(callId, rec);
    rec.timer = this.sessionTimer(callId, rec.session);
  }

  watch(callId: string, rec: CallRecord): void {
    rec.session.stateChange.addListener((state) => {
      if (state === SessionState.Established) {
        if (rec.direction === "out" && !rec.answered) {
          rec.answered = true;
          this.report("remote-answered", callId);
        }
        rec.answered = true;
      }
      if (state !== SessionState.Terminated) return;
      this.calls.delete(callId);
      if (rec.endedLocally) return;
      let cause = rec.cause;
      if (!cause)
        cause =
          rec.direction === "in" && !rec.answered ? "no-answer" : rec.answered ? "bye" : "failed";
      this.report("remote-ended", callId, cause, rec.code);
    });
  }

  /**
   * Ends a call whatever its state: BYE when established (with `reason` as a
   * Reason header, RFC 3326/4411), CANCEL when our INVITE is unanswered,
   * 486 for an incoming call not answered.
   */
  hangUp(callId: string, reason?: string): void {
    const rec = this.calls.get(callId);
    if (!rec) return;
    rec.endedLocally = true;
    const s = rec.session;
    const extraHeaders = reason ? [`Reason: ${reason}`] : [];
    if (s.state === SessionState.Established) {
      // The call is over for us whatever the answer; a 481/408 only says the far end had lost it.
      const requestDelegate: Core.OutgoingRequestDelegate = {
        onReject: (r) => {
          const code = dialogGone(r);
          if (code) this.log("info", `call ${callId}: BYE answered ${code}: the dialog was gone`);
        },
      };
      void s.bye({ requestDelegate, requestOptions: { extraHeaders } }).catch(() => {});
    } else if (
      s instanceof Inviter &&
      (s.state === SessionState.Initial || s.state === SessionState.Establishing)
    ) {
      void s.cancel(reason ? { extraHeaders } : {}).catch(() => {});
    } else if (
      s instanceof Invitation &&
      (s.state === SessionState.Initial || s.state === SessionState.Establishing)
    ) {
      void s.reject({ statusCode: 486 }).catch(() => {});
    }
  }

  /**
   * The far end went silent (no RTP, no RTCP for the media's inactivity
   * timeout): the call is dead, so it is ended with a BYE saying why
   * (RFC 3326 Reason) and reported as ended by the network.
   */
  endDeadCall(callId: string): void {
    const rec = this.calls.get(callId);
    if (!rec || rec.session.state !== SessionState.Established) return;
    this.log("warn", `call ${callId}: no media from the far end; ending it`);
    this.hangUp(callId, 'SIP ;cause=408 ;text="Media inactivity"');
    this.report("remote-ended", callId, "media-timeout", undefined);
  }

  /**
   * RFC 3261 §12.2.1.2: a request inside the dialog answered 481 (Call/Transaction
   * Does Not Exist) or 408 (sip.js makes a request that got no answer a 408)
   * means the dialog is gone — the far end lost it, or the exchange that carried
   * it was restarted and cannot route it. The call is ended with BYE saying why
   * (RFC 3326 Reason; a far end that still has it hears it) and reported as
   * ended by the network, `dialog-gone` with the code.
   */
  endGoneDialog(callId: string, code: number, what: string): void {
    const rec = this.calls.get(callId);
    if (!rec || rec.session.state !== SessionState.Established) return;
    this.log("warn", `call ${callId}: ${what} answered ${code}: the dialog is gone; ending it`);
    rec.timer?.stop();
    const text = code === 481 ? "Call/Transaction Does Not Exist" : "Request Timeout";
    this.hangUp(callId, `SIP ;cause=${code} ;text="${text}"`);
    this.report("remote-ended", callId, "dialog-gone", code);
  }

  /** RFC 4028 §10: a session not refreshed in time ends with BYE, reported as the far end's. */
  private sessionTimer(callId: string, session: Session): SessionTimer {
    return new SessionTimer(session, this.timerOptions, {
      log: (level, m) => this.log(level, `call ${callId}: ${m}`),
      onExpired: (_why, code) => {
        const rec = this.calls.get(callId);
        if (!rec || rec.session !== session || rec.session.state !== SessionState.Established)
          return;
        // A refresh or a hold/resume re-INVITE answered 408/481: the dialog is gone.
        if (code !== undefined) return this.endGoneDialog(callId, code, "re-INVITE");
        this.hangUp(callId, SESSION_EXPIRED_REASON);
        this.report("remote-ended", callId, "session-expired", undefined);
      },
    });
  }
}
