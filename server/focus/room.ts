/**
 * One conference room: the caller of an emergency number bound to several
 * users, and every bound user the focus calls in (docs/exchange.md, "The
 * conference focus").
 *
 * - The caller is answered at once and hears a waiting tone until the first
 *   bound user joins.
 * - Every bound user is INVITEd through the exchange with the number in
 *   X-Deskphone-Emergency; the exchange, seeing the request on the focus's
 *   own connection, adds the number's Alert-Info and Priority from its
 *   database, so each phone treats it as any emergency (rings when idle,
 *   preempts a normal call when busy).
 * - A bound user who is unregistered or refuses (any final answer other than
 *   2xx, or no answer before the exchange gives up) is logged and INVITEd
 *   again every `retryEveryMs` (10 s), at most `maxAttempts` (30) INVITEs in
 *   all, while the room lives. Whoever answers, whenever, joins the mix.
 * - A bound user who joined and hangs up has left: not called again.
 * - The room ends when the caller leaves (BYE, or no RTP/RTCP from it for the
 *   media timeout), or when no bound user is left (all left or given up):
 *   pending INVITEs are cancelled, the others get BYE, retries stop.
 */
import { Invitation, Inviter, type Session, SessionState, UserAgent } from "sip.js";
import type { CallMedia } from "../../audio/call-media.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { RoomMix } from "./mix.ts";
import { EMERGENCY_HEADER, type RoomRequest } from "./room-request.ts";

export interface RetryPolicy {
  /** Between a refusal and the next INVITE to that user, ms (default 10 000). */
  everyMs: number;
  /** INVITEs to one user at most, the first included (default 30). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { everyMs: 10_000, maxAttempts: 30 };

/** What a room needs of the focus. */
export interface RoomHost {
  ua: UserAgent;
  domain: string;
  retry: RetryPolicy;
  /** Tells the room each session's media once its description handler opens it. */
  onMedia(session: Session, use: (media: CallMedia) => void): void;
  log(level: "info" | "warn" | "error", message: string): void;
  /** The room has ended. */
  ended(room: Room): void;
}

type CalleeState = "inviting" | "joined" | "waiting" | "left" | "given-up";

interface Callee {
  user: string;
  state: CalleeState;
  attempts: number;
  inviter?: Inviter;
  timer?: NodeJS.Timeout;
}

/** The caller's waiting tone: 425 Hz, 1 s on, 4 s off (the ETSI ringing tone's shape). */
const waitingTone = () =>
  new ToneSource({
    segments: [
      { ms: 1000, freqs: [425], levelDb: -15 },
      { ms: 4000, freqs: [] },
    ],
    repeat: true,
  });

const RTP = (media: CallMedia): RtpSession | undefined =>
  media instanceof RtpSession ? media : undefined;

export class Room {
  private readonly mix = new RoomMix();
  private readonly callees = new Map<string, Callee>();
  private over = false;

  constructor(
    readonly id: string,
    readonly request: RoomRequest,
    private readonly caller: Invitation,
    private readonly host: RoomHost,
  ) {}

  /** Who is in the room (the caller as "caller") and how each bound user stands. */
  view(): { id: string; number: string; joined: string[]; callees: Record<string, string> } {
    return {
      id: this.id,
      number: this.request.number,
      joined: [...this.callees.values()].filter((c) => c.state === "joined").map((c) => c.user),
      callees: Object.fromEntries([...this.callees.values()].map((c) => [c.user, c.state])),
    };
  }

  get ended(): boolean {
    return this.over;
  }

  /** Answers the caller, then calls every bound user in. */
  async open(): Promise<void> {
    const { number, users } = this.request;
    this.host.log("info", `room ${this.id}: emergency ${number}, calling ${users.join(", ")}`);
    this.host.onMedia(this.caller, (media) => {
      const rtp = RTP(media);
      if (!rtp || this.over) return;
      this.mix.whileAlone("caller", waitingTone());
      this.mix.add("caller", rtp);
      media.on("inactive", () => this.end("the caller's media stopped (no RTP or RTCP)"));
    });
    this.caller.stateChange.addListener((s) => {
      if (s === SessionState.Terminated) this.end("the caller left");
    });
    try {
      await this.caller.accept();
    } catch (e) {
      this.end(`answering the caller failed: ${(e as Error).message}`);
      return;
    }
    for (const user of users) {
      const c: Callee = { user, state: "waiting", attempts: 0 };
      this.callees.set(user, c);
      this.invite(c);
    }
  }

  private invite(c: Callee): void {
    if (this.over) return;
    c.attempts += 1;
    c.state = "inviting";
    const uri = UserAgent.makeURI(`sip:${c.user}@${this.host.domain}`);
    if (!uri) {
      this.giveUp(c, "no SIP URI for this user");
      return;
    }
    const inviter = new Inviter(this.host.ua, uri, {
      // The exchange marks the call from its database; the number is all we say.
      extraHeaders: [
        `${EMERGENCY_HEADER}: ${this.request.number}`,
        // RFC 4028 §7.1: the phone refreshes (it has the timer logic; we answer re-INVITEs).
        "Session-Expires: 1800;refresher=uas",
        "Min-SE: 90",
      ],
      params: { fromDisplayName: `Emergency ${this.request.number}` },
    });
    c.inviter = inviter;
    let code: number | undefined;
    this.host.onMedia(inviter, (media) => {
      media.on("inactive", () => {
        if (c.state !== "joined") return;
        this.host.log("warn", `room ${this.id}: ${c.user}'s media stopped; ending its leg`);
        void inviter.bye().catch(() => {});
      });
    });
    inviter.stateChange.addListener((s) => {
      if (s === SessionState.Established) this.joined(c, inviter);
      // sip.js ends the Inviter before it tells the request delegate the refusal's code.
      if (s === SessionState.Terminated) setImmediate(() => this.legEnded(c, code));
    });
    inviter
      .invite({
        requestDelegate: {
          onReject: (r) => {
            code = r.message.statusCode;
          },
        },
      })
      .catch((e: Error) => {
        this.host.log("warn", `room ${this.id}: INVITE to ${c.user} failed: ${e.message}`);
      });
  }

  private joined(c: Callee, inviter: Inviter): void {
    if (this.over) {
      void inviter.bye().catch(() => {});
      return;
    }
    const media = (inviter.sessionDescriptionHandler as { media?: CallMedia } | undefined)?.media;
    const rtp = media && RTP(media);
    if (!rtp) {
      this.host.log("error", `room ${this.id}: ${c.user} answered without usable media`);
      void inviter.bye().catch(() => {});
      return;
    }
    c.state = "joined";
    this.mix.add(c.user, rtp);
    this.host.log("info", `room ${this.id}: ${c.user} joined (attempt ${c.attempts})`);
  }

  private legEnded(c: Callee, code: number | undefined): void {
    this.mix.remove(c.user);
    if (this.over) return;
    if (c.state === "joined") {
      c.state = "left";
      this.host.log("info", `room ${this.id}: ${c.user} left`);
      this.endIfEmpty();
      return;
    }
    const why = code ? `refused (${code})` : "not reached";
    if (c.attempts >= this.host.retry.maxAttempts) {
      this.giveUp(c, `${why} ${c.attempts} times`);
      return;
    }
    c.state = "waiting";
    this.host.log(
      "warn",
      `room ${this.id}: ${c.user} ${why}; INVITE again in ${this.host.retry.everyMs / 1000} s ` +
        `(attempt ${c.attempts + 1} of ${this.host.retry.maxAttempts})`,
    );
    c.timer = setTimeout(() => this.invite(c), this.host.retry.everyMs);
  }

  private giveUp(c: Callee, why: string): void {
    c.state = "given-up";
    this.host.log("warn", `room ${this.id}: ${c.user} given up: ${why}`);
    this.endIfEmpty();
  }

  private endIfEmpty(): void {
    const left = [...this.callees.values()].every(
      (c) => c.state === "left" || c.state === "given-up",
    );
    if (left) this.end("no bound user is left");
  }

  /** Ends the room: the caller and every leg, now. */
  end(why: string): void {
    if (this.over) return;
    this.over = true;
    this.mix.stop();
    this.host.log("info", `room ${this.id}: ended (${why})`);
    for (const c of this.callees.values()) {
      clearTimeout(c.timer);
      hangUp(c.inviter);
    }
    hangUp(this.caller);
    this.host.ended(this);
  }
}

/** BYE, CANCEL or a final refusal, whatever the session's state. */
function hangUp(s: Session | undefined): void {
  if (!s) return;
  if (s.state === SessionState.Established) {
    void s.bye().catch(() => {});
  } else if (
    s instanceof Inviter &&
    (s.state === SessionState.Initial || s.state === SessionState.Establishing)
  ) {
    void s.cancel().catch(() => {});
  } else if (s instanceof Invitation && s.state !== SessionState.Terminated) {
    void s.reject({ statusCode: 480 }).catch(() => {});
  }
}
