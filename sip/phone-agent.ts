/**
 * The phone's SIP user agent on sip.js's core API (UserAgent, Registerer,
 * Inviter, Invitation): registers, hands every incoming INVITE to its owner
 * as data, and carries out the controller's decisions on the right sip.js
 * call for each session state. It opens no listening SIP port: everything
 * arrives over the registered WebSocket connection.
 */
import { EventEmitter } from "node:events";
import {
  type Core,
  Invitation,
  Inviter,
  type Session,
  SessionState,
  type URI,
  UserAgent,
  type UserAgentOptions,
} from "sip.js";
import type { CallMedia } from "../audio/call-media.ts";
import type { IncomingPriorityOptions } from "./incoming-priority.ts";
import { RegistrationKeeper, type RegistrationState } from "./registration.ts";
import {
  type HoldOption,
  RtpDescriptionHandler,
  type RtpMediaOptions,
} from "./rtp-description-handler.ts";
import { commonCodec, parseSdp } from "./sdp.ts";
import {
  answerRequest,
  DEFAULT_SESSION_EXPIRES_S,
  MIN_SE_FLOOR_S,
  readAnswer,
  readMinSe,
  requestHeaders,
  SESSION_EXPIRED_REASON,
  SessionTimer,
} from "./session-timer.ts";
import { WsTransport, type WsTransportOptions } from "./ws-transport.ts";

export interface PhoneAgentOptions {
  /** ws:// or wss:// URL of the exchange. */
  server: string;
  user: string;
  password?: string;
  /** SIP domain (default: the exchange's host). */
  domain?: string;
  displayName?: string;
  tls?: Pick<WsTransportOptions, "caFile" | "rejectUnauthorized">;
  /** Sees every SIP message on the wire (benchmarks, diagnostics). */
  wireTap?: WsTransportOptions["wireTap"];
  /** Bounds of the incoming triage (sip/incoming-priority.ts: emergencies first, 503 past the bound). */
  incoming?: IncomingPriorityOptions;
  /** Dead-peer detection (WebSocket ping/pong). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  registerExpires?: number;
  /** Media: the address in our SDP (default: the local address of the exchange connection). */
  media?: Partial<RtpMediaOptions>;
  noAnswerTimeoutS?: number;
  /** RFC 4028 session interval we ask for and offer (default 1800 s). */
  sessionExpiresS?: number;
  /** Our Min-SE: the shortest session interval we accept (default 90 s, RFC 4028 §5; lower only in tests). */
  minSessionExpiresS?: number;
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
}

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

interface CallRecord {
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

export class PhoneAgent extends EventEmitter<{
  registration: [RegistrationState, string];
  incoming: [IncomingCall];
  "remote-ringing": [string];
  "remote-answered": [string];
  "remote-ended": [string, EndCause, number | undefined];
  dtmf: [string, string];
  media: [string, CallMedia];
  refused: [string, number, string];
}> {
  readonly ua: UserAgent;
  private readonly registration: RegistrationKeeper;
  private readonly calls = new Map<string, CallRecord>();
  private incomingSeq = 0;
  private readonly bootId = Date.now().toString(36);
  private readonly domain: string;
  private shed = 0;
  private shedLoggedAt = 0;

  constructor(private readonly o: PhoneAgentOptions) {
    super();
    const host = new URL(o.server).hostname;
    this.domain = o.domain ?? host;
    const uri = UserAgent.makeURI(`sip:${o.user}@${this.domain}`);
    if (!uri) throw new Error(`cannot make a SIP URI of user "${o.user}" at "${this.domain}"`);
    const log = o.log ?? (() => {});
    const options: UserAgentOptions = {
      uri,
      transportConstructor: WsTransport,
      transportOptions: {
        server: o.server,
        ...o.tls,
        pingIntervalMs: o.pingIntervalMs ?? 5000,
        pongTimeoutMs: o.pongTimeoutMs ?? 3000,
        ...(o.wireTap && { wireTap: o.wireTap }),
        incoming: { ...o.incoming, onAnswered: (id, code) => this.answeredByTriage(id, code) },
      } satisfies WsTransportOptions,
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
      logLevel: process.env.DESKPHONE_TRACE_SIP ? "log" : "warn",
      logConnector: (level, category, _label, content) => {
        if (level === "warn" || level === "error") log(level, `sip.js ${category}: ${content}`);
        else if (process.env.DESKPHONE_TRACE_SIP && /transport$/i.test(category))
          log("debug", content);
      },
      noAnswerTimeout: o.noAnswerTimeoutS ?? 60,
      // No 180 before the phone decides: the controller's send-ringing is the one
      // 180 of a call it rings (RFC 3261 §13.3.1.1); a call it refuses gets its
      // final answer alone (sip.js would otherwise send an automatic 180 first).
      sendInitialProvisionalResponse: false,
      // RFC 4028 §7.1/§9: Supported: timer on our requests and responses.
      sipExtensionExtraSupported: ["timer"],
      sessionDescriptionHandlerFactory: (session) => this.makeSdh(session),
      delegate: {
        onInvite: (invitation) => this.onInvite(invitation),
        onDisconnect: (error) => {
          if (error) {
            log("warn", `connection to the exchange lost: ${error.message}`);
            this.registration.lost(error.message);
          }
        },
      },
    };
    this.ua = new UserAgent(options);
    this.registration = new RegistrationKeeper(this.ua, {
      ...(o.registerExpires && { expires: o.registerExpires }),
    });
    this.registration.on("state", (s, why) => this.emit("registration", s, why));
  }

  get registrationState(): RegistrationState {
    return this.registration.state;
  }

  /** Connects and registers; keeps doing so until stop(). Never throws. */
  start(): void {
    this.registration.start();
  }

  async stop(): Promise<void> {
    for (const id of [...this.calls.keys()]) this.hangUp(id);
    await this.registration.stop();
    await this.ua.stop().catch(() => {});
  }

  /**
   * An ordinary INVITE the incoming triage answered itself: 503 past its bound
   * (a flood), 487 when cancelled while it waited. Reported as refused; logged
   * at most every 5 s with a count.
   */
  private answeredByTriage(sipCallId: string, code: number): void {
    const why = code === 503 ? "overloaded: too many INVITEs waiting" : "cancelled while waiting";
    this.emit("refused", sipCallId, code, why);
    if (code !== 503) return;
    this.shed += 1;
    const now = Date.now();
    if (now - this.shedLoggedAt < 5000) return;
    this.o.log?.("warn", `${this.shed} ordinary INVITE(s) refused with 503: ${why}`);
    this.shed = 0;
    this.shedLoggedAt = now;
  }

  /** Whether the exchange connection is verified (see WsTransport.verified). */
  connectionVerified(): boolean {
    const t = this.ua.transport as unknown as { verified?: boolean } | undefined;
    return t?.verified === true;
  }

  private mediaAddress(): string {
    if (this.o.media?.address) return this.o.media.address;
    // The address this phone uses to reach the exchange is the one the far end can reach.
    // biome-ignore lint/suspicious/noExplicitAny: reaching the ws socket for its local address
    const sock = (this.ua.transport as any)?.ws?._socket;
    return sock?.localAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1";
  }

  private makeSdh(session: Session): RtpDescriptionHandler {
    const sdh = new RtpDescriptionHandler({
      ...this.o.media,
      address: this.mediaAddress(),
      onMedia: (rtp) => {
        const id = this.idOf(session);
        if (!id) return;
        rtp.on("dtmf", (d) => this.emit("dtmf", id, d));
        rtp.on("inactive", () => this.endDeadCall(id));
        this.emit("media", id, rtp);
      },
    });
    const id = this.idOf(session);
    const rec = id ? this.calls.get(id) : undefined;
    if (rec) rec.sdh = sdh;
    return sdh;
  }

  private idOf(session: Session): string | undefined {
    for (const [id, rec] of this.calls) if (rec.session === session) return id;
    return undefined;
  }

  /** The media of a call, once it has one. */
  media(callId: string): CallMedia | undefined {
    return this.calls.get(callId)?.sdh?.media;
  }

  private onInvite(inv: Invitation): void {
    const req = inv.request;
    // RFC 3264 §6: no common codec in the offer → 488 Not Acceptable Here (before ringing).
    if (req.body) {
      const ours = this.o.media?.codecs ?? ["pcmu", "pcma"];
      const offer = parseSdp(req.body, ours);
      if (!offer || !commonCodec(offer.codecs, ours)) {
        void inv.reject({ statusCode: 488, reasonPhrase: "Not Acceptable Here" }).catch(() => {});
        this.emit("refused", req.callId, 488, offer ? "no common codec" : "unusable SDP");
        return;
      }
    }
    // RFC 4028 §9: a session interval below our Min-SE → 422 naming it (§6).
    const timer = answerRequest(req, this.timerOptions());
    if (timer.kind === "too-small") {
      const extraHeaders = [`Min-SE: ${timer.minSeS}`];
      const reply = { statusCode: 422, reasonPhrase: "Session Interval Too Small", extraHeaders };
      void inv.reject(reply).catch(() => {});
      this.emit("refused", req.callId, 422, "session interval too small");
      return;
    }
    // Unique across restarts too (the journal keeps call ids): boot time + count.
    const callId = `in-${this.bootId}-${++this.incomingSeq}`;
    const rec: CallRecord = { session: inv, direction: "in", endedLocally: false, answered: false };
    this.calls.set(callId, rec);
    rec.timer = this.sessionTimer(callId, inv);
    rec.timer.settle(timer, timer.headers);
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
    this.watch(callId, rec);
    const from = req.from;
    this.emit("incoming", {
      callId,
      remote: from.uri.user ?? from.uri.toString(),
      ...(from.displayName && { displayName: from.displayName }),
      alertInfo: req.getHeaders("Alert-Info"),
      ...(req.getHeader("Priority") !== undefined && {
        priority: req.getHeader("Priority") as string,
      }),
      resourcePriority: req.getHeaders("Resource-Priority"),
      // Trust by connection, never by header text: the phone opens no SIP port,
      // so every request came over this transport, and the exchange strips any
      // mark a client sent (server/kamailio/deskphone-exchange.cfg). A Via names
      // whatever the exchange writes (its IP address, an IPv6 literal, a host).
      trusted: this.connectionVerified(),
      sipCallId: req.callId,
    });
  }

  private watch(callId: string, rec: CallRecord): void {
    rec.session.stateChange.addListener((state) => {
      if (state === SessionState.Established) {
        if (rec.direction === "out" && !rec.answered) {
          rec.answered = true;
          this.emit("remote-answered", callId);
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
      this.emit("remote-ended", callId, cause, rec.code);
    });
  }

  /** 180 Ringing (RFC 3261 §13.3.1.1). */
  ringing(callId: string): void {
    const rec = this.calls.get(callId);
    if (rec?.session instanceof Invitation && rec.session.state === SessionState.Initial) {
      void rec.session.progress().catch(() => {});
    }
  }

  /** A final error response to an incoming call not yet answered. */
  reject(callId: string, code: number, reason?: string): void {
    const rec = this.calls.get(callId);
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
  answer(callId: string): Promise<void> {
    const rec = this.calls.get(callId);
    if (!(rec?.session instanceof Invitation)) {
      return Promise.reject(new Error(`call ${callId} is gone`));
    }
    rec.answered = true;
    const extraHeaders = rec.timer?.answerHeaders ?? [];
    return rec.session.accept({ extraHeaders }).catch((e: Error) => {
      this.o.log?.("warn", `answering ${callId} failed: ${e.message}`);
      throw e;
    });
  }

  /**
   * The far end went silent (no RTP, no RTCP for the media's inactivity
   * timeout): the call is dead, so it is ended with a BYE saying why
   * (RFC 3326 Reason) and reported as ended by the network.
   */
  private timerOptions() {
    return {
      expiresS: this.o.sessionExpiresS ?? DEFAULT_SESSION_EXPIRES_S,
      minSeS: this.o.minSessionExpiresS ?? MIN_SE_FLOOR_S,
    };
  }

  /** RFC 4028 §10: a session not refreshed in time ends with BYE, reported as the far end's. */
  private sessionTimer(callId: string, session: Session): SessionTimer {
    return new SessionTimer(session, this.timerOptions(), {
      log: (level, m) => this.o.log?.(level, `call ${callId}: ${m}`),
      onExpired: (_why, code) => {
        const rec = this.calls.get(callId);
        if (!rec || rec.session !== session || rec.session.state !== SessionState.Established)
          return;
        // A refresh or a hold/resume re-INVITE answered 408/481: the dialog is gone.
        if (code !== undefined) return this.endGoneDialog(callId, code, "re-INVITE");
        this.hangUp(callId, SESSION_EXPIRED_REASON);
        this.emit("remote-ended", callId, "session-expired", undefined);
      },
    });
  }

  /**
   * RFC 3261 §12.2.1.2: a request inside the dialog answered 481 (Call/Transaction
   * Does Not Exist) or 408 (sip.js makes a request that got no answer a 408)
   * means the dialog is gone — the far end lost it, or the exchange that carried
   * it was restarted and cannot route it. The call is ended with BYE saying why
   * (RFC 3326 Reason; a far end that still has it hears it) and reported as
   * ended by the network, `dialog-gone` with the code.
   */
  private endGoneDialog(callId: string, code: number, what: string): void {
    const rec = this.calls.get(callId);
    if (!rec || rec.session.state !== SessionState.Established) return;
    this.o.log?.("warn", `call ${callId}: ${what} answered ${code}: the dialog is gone; ending it`);
    rec.timer?.stop();
    const text = code === 481 ? "Call/Transaction Does Not Exist" : "Request Timeout";
    this.hangUp(callId, `SIP ;cause=${code} ;text="${text}"`);
    this.emit("remote-ended", callId, "dialog-gone", code);
  }

  /** 408 or 481 to an in-dialog request (RFC 3261 §12.2.1.2). */
  private static dialogGone(r: Core.IncomingResponse): number | undefined {
    const code = r.message.statusCode;
    return code === 408 || code === 481 ? code : undefined;
  }

  private endDeadCall(callId: string): void {
    const rec = this.calls.get(callId);
    if (!rec || rec.session.state !== SessionState.Established) return;
    this.o.log?.("warn", `call ${callId}: no media from the far end; ending it`);
    this.hangUp(callId, 'SIP ;cause=408 ;text="Media inactivity"');
    this.emit("remote-ended", callId, "media-timeout", undefined);
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
          const code = PhoneAgent.dialogGone(r);
          if (code)
            this.o.log?.("info", `call ${callId}: BYE answered ${code}: the dialog was gone`);
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

  dial(callId: string, target: string): void {
    const to = /^sips?:/.test(target) ? target : `sip:${target}@${this.domain}`;
    const uri = UserAgent.makeURI(to);
    if (!uri) {
      this.emit("remote-ended", callId, "failed", undefined);
      return;
    }
    const { expiresS, minSeS } = this.timerOptions();
    this.sendInvite(callId, uri, expiresS, minSeS, false);
  }

  private sendInvite(
    callId: string,
    uri: URI,
    intervalS: number,
    minSeS: number,
    retried: boolean,
  ): void {
    // RFC 4028 §7.1: Session-Expires and Min-SE (Supported: timer comes from the user agent).
    const extraHeaders = requestHeaders(intervalS, minSeS, false);
    const inviter = new Inviter(this.ua, uri, { extraHeaders });
    const rec: CallRecord = {
      session: inviter,
      direction: "out",
      endedLocally: false,
      answered: false,
    };
    this.calls.set(callId, rec);
    rec.timer = this.sessionTimer(callId, inviter);
    // RFC 4028 §7.1/§6: a 422 names the Min-SE the far end wants; retry once with it,
    // as the same call (a new INVITE, so a new Call-ID). sip.js ends the Inviter
    // before it tells the request delegate, so look at the answer in its own handler.
    const handlers = inviter as unknown as { onReject(r: Core.IncomingResponse): void };
    const onReject = handlers.onReject.bind(inviter);
    handlers.onReject = (r) => {
      const wanted = r.message.statusCode === 422 ? readMinSe(r.message) : undefined;
      if (retried || wanted === undefined || wanted <= intervalS) return onReject(r);
      this.o.log?.("info", `call ${callId}: 422, calling again with Session-Expires ${wanted}`);
      rec.endedLocally = true;
      onReject(r);
      this.sendInvite(callId, uri, wanted, Math.max(minSeS, wanted), true);
    };
    inviter.delegate = {
      onBye: (bye) => {
        rec.cause = "bye";
        void bye.accept().catch(() => {});
      },
    };
    this.watch(callId, rec);
    inviter
      .invite({
        requestDelegate: {
          // RFC 4028 §7.2: the 2xx settles the interval and who refreshes.
          onAccept: (r) => rec.timer?.settle(readAnswer(r.message, intervalS)),
          onProgress: (r) => {
            const code = r.message.statusCode ?? 0;
            if ((code === 180 || code === 183) && !rec.ringing) {
              rec.ringing = true;
              this.emit("remote-ringing", callId);
            }
          },
          onReject: (r) => {
            rec.cause = "rejected";
            rec.code = r.message.statusCode;
          },
        },
      })
      .catch((e: Error) => {
        this.o.log?.("warn", `INVITE for ${callId} failed: ${e.message}`);
        rec.cause ??= "failed";
      });
  }

  /** Hold or resume with a re-INVITE (RFC 3264 §8.4). */
  hold(callId: string, hold: boolean): void {
    const rec = this.calls.get(callId);
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
  sendDtmf(callId: string, digit: string): void {
    const rec = this.calls.get(callId);
    if (!rec || rec.session.state !== SessionState.Established) return;
    if (rec.sdh?.sendDtmf(digit)) return;
    void rec.session
      .info({
        // RFC 3261 §12.2.1.2: 481/408 to the INFO → the dialog is gone.
        requestDelegate: {
          onReject: (r) => {
            const code = PhoneAgent.dialogGone(r);
            if (code) this.endGoneDialog(callId, code, "INFO");
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
}

function reasonPhrase(code: number, reason: string): string {
  if (code === 486 && reason === "do-not-disturb") return "Do Not Disturb";
  return code === 486 ? "Busy Here" : code === 480 ? "Temporarily Unavailable" : "Decline";
}
