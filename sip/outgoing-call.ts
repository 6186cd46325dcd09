/**
 * Dialling: our INVITE, with RFC 4028 session timers (Session-Expires and
 * Min-SE; a 422 retried once with the interval the far end wants), reported
 * as the far end rings, answers or refuses.
 */
import { type Core, Inviter, type URI, UserAgent } from "sip.js";
import type { CallBook, CallRecord } from "./calls.ts";
import { readAnswer, readMinSe, requestHeaders } from "./session-timer.ts";

export function dial(
  book: CallBook,
  ua: UserAgent,
  domain: string,
  callId: string,
  target: string,
): void {
  const to = /^sips?:/.test(target) ? target : `sip:${target}@${domain}`;
  const uri = UserAgent.makeURI(to);
  if (!uri) {
    book.report("remote-ended", callId, "failed", undefined);
    return;
  }
  const { expiresS, minSeS } = book.timerOptions;
  sendInvite(book, ua, callId, uri, expiresS, minSeS, false);
}

function sendInvite(
  book: CallBook,
  ua: UserAgent,
  callId: string,
  uri: URI,
  intervalS: number,
  minSeS: number,
  retried: boolean,
): void {
  // RFC 4028 §7.1: Session-Expires and Min-SE (Supported: timer comes from the user agent).
  const extraHeaders = requestHeaders(intervalS, minSeS, false);
  const inviter = new Inviter(ua, uri, { extraHeaders });
  const rec: CallRecord = {
    session: inviter,
    direction: "out",
    endedLocally: false,
    answered: false,
  };
  book.add(callId, rec);
  // RFC 4028 §7.1/§6: a 422 names the Min-SE the far end wants; retry once with it,
  // as the same call (a new INVITE, so a new Call-ID). sip.js ends the Inviter
  // before it tells the request delegate, so look at the answer in its own handler.
  const handlers = inviter as unknown as { onReject(r: Core.IncomingResponse): void };
  const onReject = handlers.onReject.bind(inviter);
  handlers.onReject = (r) => {
    const wanted = r.message.statusCode === 422 ? readMinSe(r.message) : undefined;
    if (retried || wanted === undefined || wanted <= intervalS) return onReject(r);
    book.log("info", `call ${callId}: 422, calling again with Session-Expires ${wanted}`);
    rec.endedLocally = true;
    onReject(r);
    sendInvite(book, ua, callId, uri, wanted, Math.max(minSeS, wanted), true);
  };
  inviter.delegate = {
    onBye: (bye) => {
      rec.cause = "bye";
      void bye.accept().catch(() => {});
    },
  };
  book.watch(callId, rec);
  inviter
    .invite({
      requestDelegate: {
        // RFC 4028 §7.2: the 2xx settles the interval and who refreshes.
        onAccept: (r) => rec.timer?.settle(readAnswer(r.message, intervalS)),
        onProgress: (r) => {
          const code = r.message.statusCode ?? 0;
          if ((code === 180 || code === 183) && !rec.ringing) {
            rec.ringing = true;
            book.report("remote-ringing", callId);
          }
        },
        onReject: (r) => {
          rec.cause = "rejected";
          rec.code = r.message.statusCode;
        },
      },
    })
    .catch((e: Error) => {
      book.log("warn", `INVITE for ${callId} failed: ${e.message}`);
      rec.cause ??= "failed";
    });
}
