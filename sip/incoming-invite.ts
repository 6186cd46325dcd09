/**
 * An incoming INVITE, as sip.js hands it on (after the incoming triage,
 * sip/incoming-priority.ts): refused at once when it cannot be taken (488 for
 * an offer without a common codec, 422 for a session interval too small),
 * otherwise kept as a call and reported to the phone as data — every
 * Alert-Info line, Priority, Resource-Priority and whether it came over the
 * verified exchange connection. The phone decides; nothing rings here.
 */
import type { Invitation } from "sip.js";
import type { CallBook, CallRecord, IncomingCall } from "./calls.ts";
import { commonCodec, parseSdp } from "./sdp.ts";
import { answerRequest } from "./session-timer.ts";

export interface InviteContext {
  /** Our codecs, by preference. */
  codecs: readonly string[];
  /** Whether the exchange connection is verified (sip/exchange-connection.ts). */
  trusted(): boolean;
  /** A call id unique across restarts too (the journal keeps call ids). */
  newCallId(): string;
}

/**
 * Every line of a header as received, as `getHeaders` returns them, read by
 * the name sip.js files it under (its `headerize`d form, written here as such):
 * `getHeaders` would rebuild that name from scratch on every call, on the way
 * to the 180.
 */
function rawValues(req: Invitation["request"], filedAs: string): string[] {
  return req.headers[filedAs]?.map((h) => h.raw) ?? [];
}

export function takeInvite(book: CallBook, inv: Invitation, cx: InviteContext): void {
  const req = inv.request;
  // RFC 3264 §6: no common codec in the offer → 488 Not Acceptable Here (before ringing).
  if (req.body) {
    const offer = parseSdp(req.body, cx.codecs);
    if (!offer || !commonCodec(offer.codecs, cx.codecs)) {
      void inv.reject({ statusCode: 488, reasonPhrase: "Not Acceptable Here" }).catch(() => {});
      book.report("refused", req.callId, 488, offer ? "no common codec" : "unusable SDP");
      return;
    }
  }
  // RFC 4028 §9: a session interval below our Min-SE → 422 naming it (§6).
  const timer = answerRequest(req, book.timerOptions);
  if (timer.kind === "too-small") {
    const extraHeaders = [`Min-SE: ${timer.minSeS}`];
    const reply = { statusCode: 422, reasonPhrase: "Session Interval Too Small", extraHeaders };
    void inv.reject(reply).catch(() => {});
    book.report("refused", req.callId, 422, "session interval too small");
    return;
  }
  const callId = cx.newCallId();
  const rec: CallRecord = { session: inv, direction: "in", endedLocally: false, answered: false };
  book.add(callId, rec);
  rec.timer?.settle(timer, timer.headers);
  inv.delegate = {
    onCancel: () => {
      rec.cause = "cancel";
    },
    onBye: (bye) => {
      rec.cause = "bye";
      // With a delegate, sip.js leaves the 200 OK to the BYE to us.
      void bye.accept().catch(() => {});
    },
  };
  book.watch(callId, rec);
  const from = req.from;
  const priority = rawValues(req, "Priority")[0];
  const call: IncomingCall = {
    callId,
    remote: from.uri.user ?? from.uri.toString(),
    ...(from.displayName && { displayName: from.displayName }),
    alertInfo: rawValues(req, "Alert-Info"),
    ...(priority !== undefined && { priority }),
    resourcePriority: rawValues(req, "Resource-Priority"),
    // Trust by connection, never by header text: the phone opens no SIP port,
    // so every request came over this transport, and the exchange strips any
    // mark a client sent (server/kamailio/deskphone-exchange.cfg). A Via names
    // whatever the exchange writes (its IP address, an IPv6 literal, a host).
    trusted: cx.trusted(),
    sipCallId: req.callId,
  };
  book.report("incoming", call);
}
