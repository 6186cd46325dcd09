/**
 * The conference focus: a SIP user agent on sip.js over WebSocket to the
 * exchange (the phone's own transport, registration keeper and RTP
 * description handler from sip/), registered as a service user ("focus" by
 * default). The exchange sends it the INVITE for an emergency number bound to
 * several users, with the number and the bound users in headers it alone
 * writes; the focus opens a room for each (room.ts) and mixes it (mix.ts).
 *
 * Rooms live in this process only: a focus that stops ends its rooms (BYE to
 * everyone, logged); one that dies leaves its calls to the phones' media
 * timeout. Nothing is restored at start (docs/exchange.md).
 */
import { type Invitation, type Session, UserAgent } from "sip.js";
import type { CallMedia } from "../../audio/call-media.ts";
import { connectionVerified, localAddress } from "../../sip/exchange-connection.ts";
import { RegistrationKeeper, type RegistrationState } from "../../sip/registration.ts";
import { RtpDescriptionHandler } from "../../sip/rtp-description-handler.ts";
import { makeUserAgent } from "../../sip/user-agent.ts";
import { processClock } from "./mix.ts";
import { DEFAULT_RETRY, type RetryPolicy, Room } from "./room.ts";
import { readRoomRequest } from "./room-request.ts";

export type FocusLog = (level: "info" | "warn" | "error", message: string) => void;

export interface FocusOptions {
  /** ws:// or wss:// URL of the exchange. */
  server: string;
  /** The service user the exchange routes rooms to (its FOCUS_USER, default "focus"). */
  user?: string;
  password?: string;
  tls?: { caFile?: string; rejectUnauthorized?: boolean };
  /** The address in our SDP (default: the local address of the exchange connection). */
  mediaAddress?: string;
  rtpPorts?: [number, number];
  retry?: Partial<RetryPolicy>;
  /** A participant silent this long (no RTP, no RTCP) has gone (default 10 000 ms). */
  mediaTimeoutMs?: number;
  log: FocusLog;
}

export class Focus {
  readonly ua: UserAgent;
  private readonly registration: RegistrationKeeper;
  private readonly rooms = new Map<string, Room>();
  private readonly mediaUse = new WeakMap<Session, (m: CallMedia) => void>();
  private readonly retry: RetryPolicy;
  private readonly domain: string;
  private seq = 0;
  private readonly bootId = Date.now().toString(36);
  private stallWatch: NodeJS.Timeout | undefined;

  constructor(private readonly o: FocusOptions) {
    const user = o.user ?? "focus";
    this.domain = new URL(o.server).hostname;
    const uri = UserAgent.makeURI(`sip:${user}@${this.domain}`);
    if (!uri) throw new Error(`cannot make a SIP URI of user "${user}" at "${this.domain}"`);
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
    const log = (level: "debug" | "info" | "warn" | "error", m: string) => {
      if (level !== "debug") o.log(level, m);
    };
    this.ua = makeUserAgent(
      uri,
      {
        server: o.server,
        user,
        ...(o.password !== undefined && { password: o.password }),
        ...(o.tls && { tls: o.tls }),
      },
      {
        invite: (inv) => this.onInvite(inv),
        answeredByTriage: (id, code) => log("warn", `INVITE ${id} answered ${code} by the triage`),
        disconnected: (e) => {
          log("warn", `connection to the exchange lost: ${e.message}; rooms go on over RTP`);
          this.registration.lost(e.message);
        },
        descriptionHandler: (session) =>
          new RtpDescriptionHandler({
            address: o.mediaAddress || localAddress(this.ua),
            ...(o.rtpPorts && { portRange: o.rtpPorts }),
            inactivityMs: o.mediaTimeoutMs ?? 10_000,
            onMedia: (m) => this.mediaUse.get(session)?.(m),
          }),
      },
      log,
    );
    this.registration = new RegistrationKeeper(this.ua, { expires: 300 });
    this.registration.on("state", (s, why) =>
      o.log(s === "registered" ? "info" : "warn", `registration: ${s} (${why})`),
    );
  }

  get registrationState(): RegistrationState {
    return this.registration.state;
  }

  /** The rooms open now. */
  roomViews(): ReturnType<Room["view"]>[] {
    return [...this.rooms.values()].map((r) => r.view());
  }

  start(): void {
    this.registration.start();
    // Frames the mix clock had to skip (woken over 100 ms late): say so, every 10 s at most.
    let skipped = processClock.stats.skipped;
    this.stallWatch = setInterval(() => {
      const now = processClock.stats.skipped;
      if (now > skipped) {
        this.o.log(
          "warn",
          `the mix fell behind: ${now - skipped} frame(s) of 20 ms skipped in 10 s (is the host overloaded?)`,
        );
      }
      skipped = now;
    }, 10_000);
    this.stallWatch.unref();
  }

  /** Ends every room (BYE to all, logged), unregisters, disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.stallWatch);
    const open = [...this.rooms.values()];
    for (const room of open) room.end("the focus is stopping");
    // Let the BYEs and CANCELs leave before the connection closes.
    if (open.length > 0) await new Promise((r) => setTimeout(r, 300));
    await this.registration.stop();
    await this.ua.stop().catch(() => {});
  }

  private onInvite(inv: Invitation): void {
    const request = readRoomRequest(connectionVerified(this.ua), (name) =>
      inv.request.getHeaders(name),
    );
    if ("refused" in request) {
      this.o.log(
        "warn",
        `INVITE from ${JSON.stringify(inv.remoteIdentity.uri.user ?? "")} refused: ${request.refused}`,
      );
      void inv.reject({ statusCode: 403, reasonPhrase: "Not A Room Request" }).catch(() => {});
      return;
    }
    const id = `${this.bootId}-${++this.seq}`;
    const room = new Room(id, request, inv, {
      ua: this.ua,
      domain: this.domain,
      retry: this.retry,
      onMedia: (session, use) => this.mediaUse.set(session, use),
      log: this.o.log,
      ended: (r) => this.rooms.delete(r.id),
    });
    this.rooms.set(id, room);
    void room.open();
  }
}
