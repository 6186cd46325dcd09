/**
 * Keeps the phone registered through what the real world does to it:
 *
 * - the exchange is down at start, or the connection drops (a WebSocket
 *   ping without pong notices a dead peer within seconds): reconnect with
 *   exponential backoff and jitter (0.5 s doubling to 8 s, ±25 %: an emergency
 *   must not wait half a minute for a phone whose exchange came back);
 * - after every (re)connect a fresh Registerer (an old one may be stuck with
 *   a REGISTER in flight, and still claims Registered after a drop);
 * - the Registerer refreshes at half the granted expiry; when a refresh
 *   fails (it never retries by itself) it is retried with the same backoff.
 *
 * State: "registered", "registering", "unregistered" (with the reason).
 */
import { EventEmitter } from "node:events";
import { Registerer, RegistererState, type UserAgent } from "sip.js";

export type RegistrationState = "registered" | "registering" | "unregistered";

export interface RegistrationOptions {
  expires?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class RegistrationKeeper extends EventEmitter<{ state: [RegistrationState, string] }> {
  private registerer: Registerer | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  private _state: RegistrationState = "unregistered";
  private generation = 0;

  constructor(
    private readonly ua: UserAgent,
    private readonly o: RegistrationOptions = {},
  ) {
    super();
    this.backoffMs = o.minBackoffMs ?? 500;
  }

  get state(): RegistrationState {
    return this._state;
  }

  private set(state: RegistrationState, why: string): void {
    if (state === this._state && state !== "unregistered") return;
    this._state = state;
    this.emit("state", state, why);
  }

  /** Connects (if needed) and registers; never throws, retries until stop(). */
  start(): void {
    this.stopped = false;
    void this.attempt();
  }

  /** The transport dropped: everything starts again. */
  lost(why: string): void {
    if (this.stopped) return;
    this.set("unregistered", why);
    this.schedule();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.set("registering", "connecting");
    try {
      if (!this.ua.isConnected()) {
        await (this.ua.state === "Started" ? this.ua.reconnect() : this.ua.start());
      }
    } catch (e) {
      if (gen !== this.generation) return;
      this.set("unregistered", `cannot reach the exchange: ${(e as Error).message}`);
      return this.schedule();
    }
    if (gen !== this.generation || this.stopped) return;
    this.freshRegisterer(gen);
  }

  private freshRegisterer(gen: number): void {
    const old = this.registerer;
    if (old) void old.dispose().catch(() => {});
    const r = new Registerer(this.ua, {
      expires: this.o.expires ?? 300,
      refreshFrequency: 50,
      logConfiguration: false,
    });
    this.registerer = r;
    r.stateChange.addListener((s) => {
      if (r !== this.registerer || this.stopped) return;
      if (s === RegistererState.Registered) {
        this.backoffMs = this.o.minBackoffMs ?? 500;
        this.set("registered", "200 OK to REGISTER");
      } else if (s === RegistererState.Unregistered && this._state === "registered") {
        // A refresh failed (sip.js does not retry it).
        this.set("unregistered", "registration refresh failed");
        this.schedule();
      }
    });
    r.register({
      requestDelegate: {
        onReject: (response) => {
          if (r !== this.registerer || gen !== this.generation) return;
          const m = response.message;
          this.set("unregistered", `REGISTER refused: ${m.statusCode} ${m.reasonPhrase}`);
          this.schedule();
        },
      },
    }).catch((e: Error) => {
      if (r !== this.registerer) return;
      this.set("unregistered", `REGISTER failed: ${e.message}`);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped || this.retryTimer) return;
    const jitter = 0.75 + Math.random() * 0.5;
    const delay = Math.round(this.backoffMs * jitter);
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 8_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt();
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const r = this.registerer;
    this.registerer = undefined;
    if (r && this._state === "registered" && this.ua.isConnected()) {
      await r.unregister().catch(() => {});
    }
    await r?.dispose().catch(() => {});
    this.set("unregistered", "stopped");
  }
}
