/**
 * RFC 4028 session timers: a call whose far end or exchange vanished ends
 * instead of staying "talking" forever. sip.js 0.21 has no session timer, so
 * this keeps one per call on top of its Session:
 *
 * - negotiation: what our INVITE asks for (§7.1), what our 2xx answers (§9),
 *   what the 2xx to our INVITE settled (§7.2);
 * - the refresher re-INVITEs at half the interval (§10) through sip.js's
 *   `session.invite()` (sip.js answers UPDATE with 501, so refreshes are
 *   re-INVITEs both ways);
 * - the other side ends the call with BYE if no refresh arrived by
 *   interval − min(32 s, interval/3) (§10); the refresher does the same if its
 *   own refresh got no answer by then, and at once on 408 or 481 (§10).
 *
 * Roles are "local"/"remote" rather than uac/uas: in a re-INVITE "uac" names
 * whoever sent that re-INVITE, not the caller.
 */
import { type Core, type Session, SessionState } from "sip.js";

/** §4: the RECOMMENDED session interval. */
export const DEFAULT_SESSION_EXPIRES_S = 1800;
/** §5: Min-SE is never below 90 s. */
export const MIN_SE_FLOOR_S = 90;
/** RFC 3326 Reason of the BYE that ends an expired session. */
export const SESSION_EXPIRED_REASON = 'SIP ;cause=408 ;text="Session expired"';

export interface SessionTimerOptions {
  /** The interval we ask for and offer (default 1800 s, §4). */
  expiresS?: number;
  /** Our Min-SE: the shortest interval we accept (default 90 s, §5; below 90 only in tests). */
  minSeS?: number;
}

type Headers = { getHeaders(name: string): string[] };
export type Refresher = "local" | "remote";

export interface SessionExpires {
  intervalS: number;
  refresher?: "uac" | "uas";
}

/** §4: Session-Expires (compact "x") = delta-seconds *(SEMI se-params). */
export function readSessionExpires(m: Headers): SessionExpires | undefined {
  const raw = [...m.getHeaders("Session-Expires"), ...m.getHeaders("x")][0];
  if (raw === undefined) return undefined;
  const [delta = "", ...params] = raw.split(";");
  if (!/^\s*\d{1,10}\s*$/.test(delta)) return undefined;
  const refresher = params
    .map((p) => /^\s*refresher\s*=\s*(uac|uas)\s*$/i.exec(p)?.[1]?.toLowerCase())
    .find((r) => r !== undefined) as SessionExpires["refresher"];
  return { intervalS: Number(delta), ...(refresher && { refresher }) };
}

/** §5: Min-SE = delta-seconds *(SEMI generic-param). */
export function readMinSe(m: Headers): number | undefined {
  const raw = m.getHeaders("Min-SE")[0];
  const n = raw === undefined ? Number.NaN : Number(raw.split(";")[0]);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Whether a Supported header (compact "k") lists the option tag "timer" (§3). */
export function supportsTimer(m: Headers): boolean {
  return [...m.getHeaders("Supported"), ...m.getHeaders("k")]
    .flatMap((v) => v.split(","))
    .some((t) => t.trim().toLowerCase() === "timer");
}

export interface Settled {
  intervalS: number;
  refresher: Refresher;
}

export type Answer =
  /** §9: Session-Expires below our Min-SE → 422 carrying our Min-SE (§6). */
  { kind: "too-small"; minSeS: number } | ({ kind: "timer"; headers: string[] } & Settled);

/**
 * What we, as the UAS of an INVITE or re-INVITE, answer (§9): the interval the
 * request asked for (we never lower it), or ours when it asked for none but no
 * less than its Min-SE; the refresher it named, else "uac" when it supports
 * timers, else us. `Require: timer` only when the UAC supports timers.
 */
export function answerRequest(req: Headers, o: Required<SessionTimerOptions>): Answer {
  const asked = readSessionExpires(req);
  const uacTimer = supportsTimer(req);
  if (asked && asked.intervalS < o.minSeS) return { kind: "too-small", minSeS: o.minSeS };
  const intervalS = asked?.intervalS ?? Math.max(o.expiresS, readMinSe(req) ?? 0);
  // A UAC without timer support cannot refresh: then we do (§9).
  const refresher = uacTimer ? (asked?.refresher ?? "uac") : "uas";
  return {
    kind: "timer",
    intervalS,
    refresher: refresher === "uas" ? "local" : "remote",
    headers: [
      `Session-Expires: ${intervalS};refresher=${refresher}`,
      ...(uacTimer ? ["Require: timer"] : []),
    ],
  };
}

/**
 * The header lines of an INVITE we send (§7.1; Supported: timer comes from
 * the user agent's option tags). A refresh names us the refresher (§7.4).
 */
export function requestHeaders(intervalS: number, minSeS: number, refresh: boolean): string[] {
  return [`Session-Expires: ${intervalS}${refresh ? ";refresher=uac" : ""}`, `Min-SE: ${minSeS}`];
}

/**
 * What the 2xx to our INVITE settled (§7.2): its Session-Expires and
 * refresher; none means the far end has no timer, and we refresh at the
 * interval we asked for.
 */
export function readAnswer(res: Headers, askedS: number): Settled {
  const se = readSessionExpires(res);
  if (!se) return { intervalS: askedS, refresher: "local" };
  return { intervalS: se.intervalS, refresher: se.refresher === "uas" ? "remote" : "local" };
}

/** §10: the side that does not refresh ends the session this long after the last refresh. */
export function expiryMs(intervalS: number): number {
  return (intervalS - Math.min(32, intervalS / 3)) * 1000;
}

export interface SessionTimerHooks {
  log?: (level: "debug" | "info" | "warn", message: string) => void;
  /**
   * No refresh in time: the owner sends BYE with SESSION_EXPIRED_REASON. With
   * `code` (408 or 481 to a re-INVITE) the dialog is gone (RFC 3261 §12.2.1.2).
   */
  onExpired: (why: string, code?: number) => void;
}

/**
 * The session timer of one call. Made before the call is established; armed
 * when sip.js reports it Established, after `settle()` (the initial
 * negotiation); disarmed when it ends. Incoming re-INVITEs are answered with
 * Session-Expires (§9) and count as refreshes.
 */
export class SessionTimer {
  readonly o: Required<SessionTimerOptions>;
  private settled: Settled | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Refreshes that succeeded, either way (tests, diagnostics). */
  refreshes = 0;

  constructor(
    private readonly session: Session,
    o: SessionTimerOptions,
    private readonly hooks: SessionTimerHooks,
  ) {
    this.o = {
      expiresS: o.expiresS ?? DEFAULT_SESSION_EXPIRES_S,
      minSeS: o.minSeS ?? MIN_SE_FLOOR_S,
    };
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) this.arm();
      if (s === SessionState.Terminated) this.stop();
    });
    this.answerReInvites();
  }

  get state(): Settled | undefined {
    return this.settled;
  }

  /** Header lines for our 2xx to the initial INVITE (§9), when we are its UAS. */
  answerHeaders: string[] = [];

  /** The initial INVITE transaction settled (or, as its UAS, will settle) the interval and refresher. */
  settle(s: Settled, answerHeaders: string[] = []): void {
    this.settled = { intervalS: s.intervalS, refresher: s.refresher };
    this.answerHeaders = answerHeaders;
    if (this.session.state === SessionState.Established) this.arm();
  }

  /** Header lines for a re-INVITE we send (a refresh, or hold and resume). */
  reInviteHeaders(): string[] {
    return requestHeaders(this.settled?.intervalS ?? this.o.expiresS, this.o.minSeS, true);
  }

  /**
   * The delegate for a re-INVITE we send: its 2xx refreshes the session and
   * may change the interval and refresher (§7.4 → §7.2). 408 or 481 end the
   * call (§10). 503 (also what sip.js reports for a transport error, RFC 3261
   * §8.1.3.1) and no answer leave the session to expire. Any other final answer
   * comes from a far end that is there, so a peer that refuses re-INVITEs keeps
   * its call.
   */
  reInviteDelegate(): Core.OutgoingRequestDelegate {
    return {
      onAccept: (r) => this.refreshed(readAnswer(r.message, this.settled?.intervalS ?? 0)),
      onReject: (r) => {
        const code = r.message.statusCode ?? 0;
        if (code === 408 || code === 481) {
          this.expire(`the session refresh failed with ${code}`, code);
        } else if (code === 503) {
          this.hooks.log?.("warn", "session refresh: 503; the session expires unless refreshed");
        } else if (code === 491 || code === 422) {
          // 491: the far end is in a re-INVITE of its own; 422: it wants a longer
          // interval — it is there, and the next try comes at the next half-interval.
          const min = code === 422 ? readMinSe(r.message) : undefined;
          if (min && this.settled && min > this.settled.intervalS) this.settled.intervalS = min;
          this.refreshed(undefined);
        } else {
          this.refreshed(undefined);
        }
      },
    };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.expiryTimer);
  }

  private arm(): void {
    if (this.stopped || !this.settled) return;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.expiryTimer);
    const { intervalS, refresher } = this.settled;
    // §10: the refresher refreshes at half the interval.
    if (refresher === "local")
      this.refreshTimer = setTimeout(() => this.refresh(), (intervalS * 1000) / 2);
    this.expiryTimer = setTimeout(
      () => this.expire(`no session refresh within ${intervalS} s`),
      expiryMs(intervalS),
    );
  }

  private refreshed(s: Settled | undefined): void {
    if (this.stopped) return;
    if (s) this.settled = s;
    this.refreshes++;
    this.arm();
  }

  private expire(why: string, code?: number): void {
    if (this.stopped) return;
    this.stop();
    this.hooks.log?.("warn", `session expired: ${why} (RFC 4028 §10)`);
    this.hooks.onExpired(why, code);
  }

  private refresh(): void {
    if (this.stopped || this.session.state !== SessionState.Established) return;
    this.hooks.log?.("debug", `session refresh (${this.settled?.intervalS} s)`);
    this.session
      .invite({
        requestOptions: { extraHeaders: this.reInviteHeaders() },
        requestDelegate: this.reInviteDelegate(),
      })
      .catch((e: Error) => {
        // A re-INVITE of ours or theirs in progress (RFC 3261 §14.1): try again
        // soon; its own answer refreshes the session if it succeeds.
        this.hooks.log?.("debug", `session refresh deferred: ${e.message}`);
        if (!this.stopped) this.refreshTimer = setTimeout(() => this.refresh(), 1000);
      });
  }

  /**
   * sip.js answers an in-dialog INVITE itself (Session.onInviteRequest) and
   * gives no way to add headers to that 2xx; wrap the request's accept() so the
   * answer carries Session-Expires (§9), and take the 2xx as a refresh.
   */
  private answerReInvites(): void {
    const s = this.session as unknown as {
      onInviteRequest(request: Core.IncomingInviteRequest): void;
    };
    const handle = s.onInviteRequest.bind(this.session);
    s.onInviteRequest = (request) => {
      const accept = request.accept.bind(request);
      request.accept = (options) => {
        const a = answerRequest(request.message, { ...this.o, minSeS: 0 });
        const extra = a.kind === "timer" ? a.headers : [];
        const response = accept({
          ...options,
          statusCode: options?.statusCode ?? 200,
          extraHeaders: [...(options?.extraHeaders ?? []), ...extra],
        });
        if (a.kind === "timer") this.refreshed(a);
        return response;
      };
      handle(request);
    };
  }
}
