/**
 * The phone's SIP user agent on sip.js's core API (UserAgent, Registerer,
 * Inviter, Invitation): registers, hands every incoming INVITE to its owner
 * as data, and carries out the controller's decisions on the right sip.js
 * call for each session state. Its parts, in the order an INVITE meets them:
 *
 * - user-agent.ts: the sip.js user agent over the WebSocket (with the
 *   incoming triage, incoming-priority.ts); registration.ts keeps it registered;
 * - exchange-connection.ts: trust, by the verified exchange connection;
 * - incoming-invite.ts: an INVITE refused at once (488, 422) or reported as a call;
 * - calls.ts: the calls kept, what is reported of them, how each ends;
 * - call-verbs.ts and outgoing-call.ts: the SIP verbs for the controller's effects.
 */
import { EventEmitter } from "node:events";
import { Invitation, Inviter, type Session, UserAgent } from "sip.js";
import type { CallMedia } from "../audio/call-media.ts";
import { answer, hold, reject, ringing, sendDtmf } from "./call-verbs.ts";
import { type CallWireTimes, WireTimes } from "./call-wire-times.ts";
import type { IncomingCall } from "./calls.ts";
import { type AgentEvents, CallBook } from "./calls.ts";
import { connectionVerified, localAddress } from "./exchange-connection.ts";
import { takeInvite } from "./incoming-invite.ts";
import { dial } from "./outgoing-call.ts";
import { RegistrationKeeper, type RegistrationState } from "./registration.ts";
import { RtpDescriptionHandler, type RtpMediaOptions } from "./rtp-description-handler.ts";
import { DEFAULT_SESSION_EXPIRES_S, MIN_SE_FLOOR_S } from "./session-timer.ts";
import { makeUserAgent, type UserAgentSettings } from "./user-agent.ts";
import { warmUpCalls } from "./warm-up.ts";

export type { EndCause, IncomingCall } from "./calls.ts";

export interface PhoneAgentOptions extends UserAgentSettings {
  /** SIP domain (default: the exchange's host). */
  domain?: string;
  registerExpires?: number;
  /** Media: the address in our SDP (default: the local address of the exchange connection). */
  media?: Partial<RtpMediaOptions>;
  /** RFC 4028 session interval we ask for and offer (default 1800 s). */
  sessionExpiresS?: number;
  /** Our Min-SE: the shortest session interval we accept (default 90 s, RFC 4028 §5; lower only in tests). */
  minSessionExpiresS?: number;
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
  /** Run made-up calls through the incoming path once registered (default true; warm-up.ts). */
  warmUp?: boolean;
}

export class PhoneAgent extends EventEmitter<AgentEvents> {
  readonly ua: UserAgent;
  private readonly registration: RegistrationKeeper;
  private readonly calls: CallBook;
  private incomingSeq = 0;
  private readonly bootId = Date.now().toString(36);
  private readonly domain: string;
  private shed = 0;
  private shedLoggedAt = 0;
  /**
   * The phone's own handling of an incoming call, run on the warm-up's made-up
   * calls (warm-up.ts): it must decide and keep nothing — no state changed,
   * nothing sent, played or written.
   */
  warmCall: ((call: IncomingCall) => void) | undefined;
  /** Resolves when the warm-up after registering is done (at once when there is none). */
  warmedUp: Promise<void> = Promise.resolve();
  private readonly wire = new WireTimes();

  constructor(private readonly o: PhoneAgentOptions) {
    super();
    const host = new URL(o.server).hostname;
    this.domain = o.domain ?? host;
    const uri = UserAgent.makeURI(`sip:${o.user}@${this.domain}`);
    if (!uri) throw new Error(`cannot make a SIP URI of user "${o.user}" at "${this.domain}"`);
    const log = o.log ?? (() => {});
    this.calls = new CallBook(
      this,
      {
        expiresS: o.sessionExpiresS ?? DEFAULT_SESSION_EXPIRES_S,
        minSeS: o.minSessionExpiresS ?? MIN_SE_FLOOR_S,
      },
      log,
    );
    const codecs = o.media?.codecs ?? ["pcmu", "pcma"];
    const tap = o.wireTap;
    this.ua = makeUserAgent(
      uri,
      {
        ...o,
        wireTap: (dir, message, atMs) => {
          this.wire.seen(dir, message, atMs);
          tap?.(dir, message, atMs);
        },
      },
      {
        invite: (inv: Invitation) =>
          takeInvite(this.calls, inv, {
            codecs,
            trusted: () => this.connectionVerified(),
            // Unique across restarts too (the journal keeps call ids): boot time + count.
            newCallId: () => `in-${this.bootId}-${++this.incomingSeq}`,
          }),
        answeredByTriage: (id, code) => this.answeredByTriage(id, code),
        disconnected: (error) => {
          log("warn", `connection to the exchange lost: ${error.message}`);
          this.registration.lost(error.message);
        },
        descriptionHandler: (session) => this.makeSdh(session),
      },
      log,
    );
    this.registration = new RegistrationKeeper(this.ua, {
      ...(o.registerExpires && { expires: o.registerExpires }),
    });
    this.registration.on("state", (s, why) => this.emit("registration", s, why));
    // The first calls after start should not meet a cold incoming path (warm-up.ts).
    if (o.warmUp !== false) {
      let done: () => void = () => {};
      this.warmedUp = new Promise((r) => {
        done = r;
      });
      const warm = (s: RegistrationState) => {
        if (s !== "registered") return;
        this.registration.off("state", warm);
        void warmUpCalls({
          user: o.user,
          codecs,
          timerOptions: this.calls.timerOptions,
          call: (c) => this.warmCall?.(c),
          failed: (why) => log("warn", `the warm-up after registering stopped: ${why}`),
        }).then(done);
      };
      this.registration.on("state", warm);
    }
  }

  get registrationState(): RegistrationState {
    return this.registration.state;
  }

  /** Connects and registers; keeps doing so until stop(). Never throws. */
  start(): void {
    this.registration.start();
  }

  async stop(): Promise<void> {
    for (const id of this.calls.ids()) this.hangUp(id);
    await this.registration.stop();
    await this.ua.stop().catch(() => {});
  }

  /** Whether the exchange connection is verified (see WsTransport.verified). */
  connectionVerified(): boolean {
    return connectionVerified(this.ua);
  }

  /** The media of a call, once it has one. */
  media(callId: string): CallMedia | undefined {
    return this.calls.get(callId)?.sdh?.media;
  }

  /**
   * When the call's INVITE arrived and our 200 OK and BYE went out (monotonic
   * ms, process.hrtime), filled in as they do; {} for a call the agent does not
   * know (any more): ask while it is still a call.
   */
  wireTimes(callId: string): CallWireTimes {
    const s = this.calls.get(callId)?.session;
    return s instanceof Invitation || s instanceof Inviter ? this.wire.of(s.request.callId) : {};
  }

  /** 180 Ringing (RFC 3261 §13.3.1.1). */
  ringing(callId: string): void {
    ringing(this.calls, callId);
  }

  /** A final error response to an incoming call not yet answered. */
  reject(callId: string, code: number, reason?: string): void {
    reject(this.calls, callId, code, reason);
  }

  /**
   * 200 OK with our SDP answer. Resolves once it went out; rejects with the
   * reason when the call cannot be answered (gone, cancelled, SDP refused).
   */
  answer(callId: string): Promise<void> {
    return answer(this.calls, callId);
  }

  /**
   * Ends a call whatever its state: BYE when established (with `reason` as a
   * Reason header, RFC 3326/4411), CANCEL when our INVITE is unanswered,
   * 486 for an incoming call not answered.
   */
  hangUp(callId: string, reason?: string): void {
    this.calls.hangUp(callId, reason);
  }

  dial(callId: string, target: string): void {
    dial(this.calls, this.ua, this.domain, callId, target);
  }

  /** Hold or resume with a re-INVITE (RFC 3264 §8.4). */
  hold(callId: string, on: boolean): void {
    hold(this.calls, callId, on);
  }

  /** DTMF: RFC 4733 events if negotiated, else SIP INFO (application/dtmf-relay). */
  sendDtmf(callId: string, digit: string): void {
    sendDtmf(this.calls, callId, digit);
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

  /** Each call's media, opened by its description handler; dead media ends the call. */
  private makeSdh(session: Session): RtpDescriptionHandler {
    const sdh = new RtpDescriptionHandler({
      ...this.o.media,
      address: this.o.media?.address || localAddress(this.ua),
      onMedia: (rtp) => {
        const id = this.calls.idOf(session);
        if (!id) return;
        rtp.on("dtmf", (d) => this.emit("dtmf", id, d));
        rtp.on("inactive", () => this.calls.endDeadCall(id));
        this.emit("media", id, rtp);
      },
    });
    const id = this.calls.idOf(session);
    const rec = id ? this.calls.get(id) : undefined;
    if (rec) rec.sdh = sdh;
    return sdh;
  }
}
