/**
 * The sip.js user agent as this phone runs it: SIP over its own WebSocket
 * transport (sip/ws-transport.ts, with the incoming triage), digest
 * credentials, a Contact with the phone's user, no automatic 180, RFC 4028
 * timers supported. It opens no listening SIP port: everything arrives over
 * the registered WebSocket connection.
 */
import {
  type Invitation,
  type Session,
  type SessionDescriptionHandler,
  UserAgent,
  type UserAgentOptions,
} from "sip.js";
import type { AgentLog } from "./calls.ts";
import type { IncomingPriorityOptions } from "./incoming-priority.ts";
import { rememberParsedHeaders } from "./parsed-headers.ts";
import { WsTransport, type WsTransportOptions } from "./ws-transport.ts";

export interface UserAgentSettings {
  /** ws:// or wss:// URL of the exchange. */
  server: string;
  user: string;
  password?: string;
  displayName?: string;
  tls?: Pick<WsTransportOptions, "caFile" | "rejectUnauthorized">;
  /** Sees every SIP message on the wire (benchmarks, diagnostics). */
  wireTap?: WsTransportOptions["wireTap"];
  /** Bounds of the incoming triage (sip/incoming-priority.ts: emergencies first, 503 past the bound). */
  incoming?: IncomingPriorityOptions;
  /** Dead-peer detection (WebSocket ping/pong). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  noAnswerTimeoutS?: number;
}

/** Where the user agent hands what it gets. */
export interface UserAgentHooks {
  /** An INVITE the triage let through. */
  invite(invitation: Invitation): void;
  /** An ordinary INVITE the triage answered itself (503 past its bound, 487 cancelled). */
  answeredByTriage(sipCallId: string, code: number): void;
  /** The connection to the exchange was lost. */
  disconnected(error: Error): void;
  descriptionHandler(session: Session): SessionDescriptionHandler;
}

export function makeUserAgent(
  uri: NonNullable<ReturnType<typeof UserAgent.makeURI>>,
  o: UserAgentSettings,
  hooks: UserAgentHooks,
  log: AgentLog,
  /** Another transport than the WebSocket (sip/warm-up.ts: one connected to nothing). */
  transport?: Pick<UserAgentOptions, "transportConstructor" | "transportOptions">,
): UserAgent {
  // Header values the exchange sends again and again are parsed once (parsed-headers.ts).
  rememberParsedHeaders();
  const traceSip = Boolean(process.env.DESKPHONE_TRACE_SIP);
  const options: UserAgentOptions = {
    uri,
    transportConstructor: WsTransport,
    transportOptions: {
      server: o.server,
      ...o.tls,
      pingIntervalMs: o.pingIntervalMs ?? 5000,
      pongTimeoutMs: o.pongTimeoutMs ?? 3000,
      ...(o.wireTap && { wireTap: o.wireTap }),
      incoming: { ...o.incoming, onAnswered: (id, code) => hooks.answeredByTriage(id, code) },
    } satisfies WsTransportOptions,
    ...transport,
    ...(o.password !== undefined && {
      authorizationUsername: o.user,
      authorizationPassword: o.password,
    }),
    ...(o.displayName && { displayName: o.displayName }),
    userAgentString: "deskphone",
    // Contact: sip:<user>@<random>.invalid;transport=ws (RFC 7118 §5.2). With the
    // user in it, the exchange finds this phone's current connection for a request
    // in a dialog whose connection died (an exchange restart; deskphone-exchange.cfg).
    contactName: o.user,
    logBuiltinEnabled: false,
    logLevel: traceSip ? "log" : "warn",
    // sip.js hands every line to the connector whatever the level (its debug
    // lines too: 17 for an INVITE, its CANCEL and ACK): the environment is read
    // once, not per line.
    logConnector: (level, category, _label, content) => {
      if (level === "warn" || level === "error") log(level, `sip.js ${category}: ${content}`);
      else if (traceSip && /transport$/i.test(category)) log("debug", content);
    },
    noAnswerTimeout: o.noAnswerTimeoutS ?? 60,
    // No 180 before the phone decides: the controller's send-ringing is the one
    // 180 of a call it rings (RFC 3261 §13.3.1.1); a call it refuses gets its
    // final answer alone (sip.js would otherwise send an automatic 180 first).
    sendInitialProvisionalResponse: false,
    // RFC 4028 §7.1/§9: Supported: timer on our requests and responses.
    sipExtensionExtraSupported: ["timer"],
    sessionDescriptionHandlerFactory: (session) => hooks.descriptionHandler(session),
    delegate: {
      onInvite: (invitation) => hooks.invite(invitation),
      onDisconnect: (error) => {
        if (error) hooks.disconnected(error);
      },
    },
  };
  return new UserAgent(options);
}
