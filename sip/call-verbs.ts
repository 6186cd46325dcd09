/**
 * The SIP verbs for a call the controller decided on, each on the right
 * sip.js call for the session's state (docs/sip.md, "Carrying out the
 * controller's effects"). Hanging up is the CallBook's (sip/calls.ts), as
 * every way a call ends is; dialling is sip/outgoing-call.ts.
 */
import { Invitation, SessionState } from "sip.js";
import { type CallBook, dialogGone } from "./calls.ts";
import type { HoldOption } from "./rtp-description-handler.ts";

/** 180 Ringing (RFC 3261 §13.3.1.1). */
export function ringing(book: CallBook, callId: string): void {
  const rec = book.get(callId);
  if (rec?.session instanceof Invitation && rec.session.state === SessionState.Initial) {
    void rec.session.progress().catch(() => {});
  }
}

/** A final error response to an incoming call not yet answered. */
export function reject(book: CallBook, callId: string, code: number, reason?: string): void {
  const rec = book.get(callId);
  if (!(rec?.session instanceof Invitation)) return;
  rec.endedLocally = true;
  void rec.session
    .reject({ statusCode: code, ...(reason && { reasonPhrase: reasonPhrase(code, reason) }) })
    .catch(() => {});
}

/**
 * 200 OK with our SDP answer. Resolves once it went out; rejects with the
 * reason when the call cannot be answered (gone, cancelled, SDP refused).
 */
export function answer(book: CallBook, callId: string): Promise<void> {
  const rec = book.get(callId);
  if (!(rec?.session instanceof Invitation)) {
    return Promise.reject(new Error(`call ${callId} is gone`));
  }
  rec.answered = true;
  const extraHeaders = rec.timer?.answerHeaders ?? [];
  return rec.session.accept({ extraHeaders }).catch((e: Error) => {
    book.log("warn", `answering ${callId} failed: ${e.message}`);
    throw e;
  });
}

/** Hold or resume with a re-INVITE (RFC 3264 §8.4). */
export function hold(book: CallBook, callId: string, hold: boolean): void {
  const rec = book.get(callId);
  if (!rec || rec.session.state !== SessionState.Established) return;
  const sessionDescriptionHandlerOptions = { hold } as HoldOption as Record<string, unknown>;
  void rec.session
    .invite({
      sessionDescriptionHandlerOptions,
      // RFC 4028 §7.4: every re-INVITE is a session refresh.
      ...(rec.timer && {
        requestOptions: { extraHeaders: rec.timer.reInviteHeaders() },
        requestDelegate: rec.timer.reInviteDelegate(),
      }),
    })
    .catch(() => {});
}

/** DTMF: RFC 4733 events if negotiated, else SIP INFO (application/dtmf-relay). */
export function sendDtmf(book: CallBook, callId: string, digit: string): void {
  const rec = book.get(callId);
  if (!rec || rec.session.state !== SessionState.Established) return;
  if (rec.sdh?.sendDtmf(digit)) return;
  void rec.session
    .info({
      // RFC 3261 §12.2.1.2: 481/408 to the INFO → the dialog is gone.
      requestDelegate: {
        onReject: (r) => {
          const code = dialogGone(r);
          if (code) book.endGoneDialog(callId, code, "INFO");
        },
      },
      requestOptions: {
        body: {
          contentDisposition: "render",
          contentType: "application/dtmf-relay",
          content: `Signal=${digit}\r\nDuration=100`,
        },
      },
    })
    .catch(() => {});
}

function reasonPhrase(code: number, reason: string): string {
  if (code === 486 && reason === "do-not-disturb") return "Do Not Disturb";
  return code === 486 ? "Busy Here" : code === 480 ? "Temporarily Unavailable" : "Decline";
}
