/**
 * The SIP-event adapter: what the SIP agent reports (sip/phone-agent.ts),
 * turned into the controller's events (firmware/controller/events.ts). An
 * incoming INVITE is classified here (firmware/alerting) into the alert the
 * controller decides on; nothing else happens here.
 */
import type { IncomingCall, PhoneAgent, EndCause as SipEndCause } from "../../sip/phone-agent.ts";
import type { AlertConfig } from "../alerting/alert-class.ts";
import { classify } from "../alerting/classify.ts";
import { alertFrom } from "../controller/call.ts";
import type { EndCause, PhoneEvent } from "../controller/events.ts";
import type { Log } from "./log.ts";
import { monotonicMs } from "./monotonic.ts";

export interface SipEventSink {
  alertConfig: AlertConfig;
  dispatch(ev: PhoneEvent): void;
  /** A call's media is ready (its SDP is done): its audio can be connected. */
  media(callId: string): void;
  log: Log;
  /** The controller's decision on a made-up incoming call (the warm-up's): kept nowhere. */
  warm?(ev: PhoneEvent): void;
}

/** An incoming call as the controller's event, and the marks not honoured (untrusted). */
function incomingEvent(
  c: IncomingCall,
  alertConfig: AlertConfig,
): { ev: PhoneEvent; ignored: readonly string[] } {
  const cls = classify(
    {
      alertInfo: c.alertInfo,
      ...(c.priority !== undefined && { priority: c.priority }),
      resourcePriority: c.resourcePriority,
      trusted: c.trusted,
    },
    alertConfig,
  );
  const ev: PhoneEvent = {
    type: "incoming",
    at: monotonicMs(),
    callId: c.callId,
    remote: c.remote,
    alert: alertFrom(cls),
  };
  return { ev, ignored: cls.untrustedIgnored };
}

export function listenToAgent(a: PhoneAgent, to: SipEventSink): void {
  const { dispatch, log } = to;
  a.on("incoming", (c) => {
    const { ev, ignored } = incomingEvent(c, to.alertConfig);
    if (ignored.length) {
      log(
        "warn",
        `call ${c.callId} from ${c.remote}: ${ignored.join(", ")} not honoured from an untrusted source`,
      );
    }
    dispatch(ev);
  });
  // The warm-up's made-up calls (sip/warm-up.ts): classified and decided on, nothing kept.
  a.warmCall = (c) => to.warm?.(incomingEvent(c, to.alertConfig).ev);
  a.on("remote-ringing", (callId) =>
    dispatch({ type: "remote-ringing", at: monotonicMs(), callId }),
  );
  a.on("remote-answered", (callId) =>
    dispatch({ type: "remote-answered", at: monotonicMs(), callId }),
  );
  a.on("remote-ended", (callId, cause, code) =>
    dispatch({
      type: "remote-ended",
      at: monotonicMs(),
      callId,
      cause: endCause(cause),
      ...(code && { code }),
    }),
  );
  a.on("registration", (state) =>
    dispatch({ type: "registration", at: monotonicMs(), registered: state === "registered" }),
  );
  a.on("media", (callId) => to.media(callId));
}

/**
 * How the controller sees each way sip/ reports a call ended. Two types, each
 * defined once in its own layer (docs/layers.md): sip/ says what happened to
 * the SIP session, the controller what it means for the call. The switch is
 * exhaustive, so a new SIP cause does not compile until it is placed here.
 */
export function endCause(c: SipEndCause): EndCause {
  switch (c) {
    case "bye":
      return "bye";
    case "cancel":
      return "cancel";
    case "rejected":
      return "rejected";
    case "failed":
      return "failed";
    case "no-answer":
      return "no-answer";
    case "media-timeout":
      return "media-timeout";
    case "session-expired":
      return "session-expired";
    case "dialog-gone":
      return "dialog-gone";
  }
}
