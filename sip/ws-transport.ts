/**
 * SIP over WebSocket (RFC 7118) for sip.js in Node, on the `ws` package: no
 * browser globals. sip.js constructs it through `transportConstructor`.
 *
 * Behaviour:
 * - `ws://` and `wss://`; for wss the CA file and certificate checks come
 *   from the options (`rejectUnauthorized` defaults to true).
 * - Dead-peer detection: a WebSocket ping every `pingIntervalMs`; no pong
 *   within `pongTimeoutMs` ends the connection (CRLF keep-alives do not detect
 *   a dead peer). The disconnect then reaches sip.js with an error.
 * - Emergencies first: every message from the exchange passes the incoming
 *   triage (incoming-priority.ts) before sip.js sees it; ordinary INVITEs wait
 *   their turn or are refused with 503 under a flood.
 * - The 180 leaves first: a 100 Trying to an INVITE (sip.js sends one the
 *   moment it takes an INVITE, before the phone has looked at it) is held to
 *   the end of the event-loop turn, and not sent at all when a 180 or a final
 *   answer to the same INVITE went out meanwhile: RFC 3261 §17.2.1 asks for
 *   the 100 only when the answer may take more than 200 ms, and the phone
 *   decides within the turn (docs/sip.md).
 * - State transitions follow sip.js's Transport contract:
 *   Disconnected → Connecting → Connected → Disconnecting → Disconnected,
 *   and Connecting/Connected → Disconnected on failure.
 */
import { readFileSync } from "node:fs";
import { type Emitter, EmitterImpl, type Transport, TransportState } from "sip.js";
import WebSocket from "ws";
import { IncomingPriority, type IncomingPriorityOptions } from "./incoming-priority.ts";

export interface WsTransportOptions {
  server: string;
  /** PEM file with the CA(s) that sign the exchange's certificate (wss). */
  caFile?: string;
  /** false accepts any certificate (lab use only). */
  rejectUnauthorized?: boolean;
  connectTimeoutMs?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Log every SIP message sent and received (the DESKPHONE_TRACE_SIP variable turns it on too). */
  traceSip?: boolean;
  /** Called with every message sent or received and the monotonic time (benchmarks). */
  wireTap?: (direction: "in" | "out", message: string, atMs: number) => void;
  /** The incoming triage's bounds, and who hears of an INVITE it answered itself. */
  incoming?: IncomingPriorityOptions & { onAnswered?: (callId: string, code: number) => void };
}

interface Logger {
  log(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

/** The branch of a message's top Via (RFC 3261 §8.1.1.7), from its text. */
function topBranch(message: string): string | undefined {
  return /^(?:Via|v)[ \t]*:[^\r\n]*?;[ \t]*branch[ \t]*=[ \t]*([^;,\s]+)/im.exec(message)?.[1];
}

function isInviteResponse(message: string): boolean {
  return /^CSeq[ \t]*:[ \t]*\d+[ \t]+INVITE[ \t]*$/im.test(message);
}

export class WsTransport implements Transport {
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  private _state = TransportState.Disconnected;
  private readonly _stateChange = new EmitterImpl<TransportState>();
  private ws: WebSocket | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private readonly o: WsTransportOptions;
  private readonly trace: boolean;
  private readonly triage: IncomingPriority;
  /** 100 Trying to an INVITE, by the INVITE's branch, held to the end of the turn. */
  private readonly trying = new Map<string, string>();
  private tryingFlush: NodeJS.Immediate | undefined;

  constructor(
    private readonly logger: Logger,
    options: WsTransportOptions,
  ) {
    if (!options?.server || !/^wss?:\/\//.test(options.server)) {
      throw new Error(`the exchange URL must be ws:// or wss://, not "${options?.server}"`);
    }
    this.o = options;
    this.trace = options.traceSip ?? Boolean(process.env.DESKPHONE_TRACE_SIP);
    const { onAnswered, ...bounds } = options.incoming ?? {};
    this.triage = new IncomingPriority(
      {
        deliver: (m) => this.deliver(m),
        reply: (m) => void this.send(m).catch(() => {}),
        verified: () => this.verified,
        ...(onAnswered && { answered: onAnswered }),
      },
      bounds,
    );
  }

  get protocol(): string {
    return this.o.server.startsWith("wss:") ? "WSS" : "WS";
  }

  get state(): TransportState {
    return this._state;
  }

  get stateChange(): Emitter<TransportState> {
    return this._stateChange;
  }

  isConnected(): boolean {
    return this._state === TransportState.Connected;
  }

  /**
   * Whether the open connection is to the configured exchange as verified as
   * its scheme allows: for wss:// the TLS handshake checked the certificate
   * chain and the host name of `server` (Node's tls, RFC 6125); ws:// is the
   * lab's plain connection and counts as the exchange (docs/sip.md). A wss://
   * connection with `rejectUnauthorized: false` is never verified.
   */
  get verified(): boolean {
    const ws = this.ws;
    if (!ws || this._state !== TransportState.Connected) return false;
    if (!this.o.server.startsWith("wss:")) return true;
    // biome-ignore lint/suspicious/noExplicitAny: ws keeps its net/tls socket in _socket
    const sock = (ws as any)._socket as { authorized?: boolean } | undefined;
    return sock?.authorized === true;
  }

  connect(): Promise<void> {
    if (this._state === TransportState.Connected) return Promise.resolve();
    if (this._state === TransportState.Connecting)
      return Promise.reject(new Error("already connecting"));
    this.transition(TransportState.Connecting);
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(this.o.server, "sip", {
          handshakeTimeout: this.o.connectTimeoutMs ?? 5000,
          rejectUnauthorized: this.o.rejectUnauthorized ?? true,
          ...(this.o.caFile && { ca: readFileSync(this.o.caFile) }),
        });
      } catch (e) {
        this.transition(TransportState.Disconnected, e as Error);
        return reject(e);
      }
      this.ws = ws;
      let opened = false;
      ws.on("open", () => {
        if (ws !== this.ws) return;
        opened = true;
        this.transition(TransportState.Connected);
        this.startPing(ws);
        resolve();
      });
      ws.on("message", (data, isBinary) => {
        if (ws !== this.ws || this._state !== TransportState.Connected) return;
        const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : String(data);
        // RFC 5626 §4.4.1 keep-alive CRLFs carry no message.
        if (/^(\r\n)+$/.test(text)) return;
        if (this.trace) this.logger.log(`received from ${this.o.server}:\n${text}`);
        this.o.wireTap?.("in", text, performance.now());
        this.triage.offer(text);
      });
      ws.on("pong", () => clearTimeout(this.pongTimer));
      ws.on("error", (e) => {
        if (ws !== this.ws) return;
        this.logger.warn(`WebSocket ${this.o.server}: ${e.message}`);
        if (!opened) reject(e);
      });
      ws.on("close", (code) => {
        if (ws !== this.ws) return;
        this.stopPing();
        this.trying.clear();
        this.triage.clear();
        this.ws = undefined;
        const expected = this._state === TransportState.Disconnecting;
        const error = expected
          ? undefined
          : new Error(`WebSocket ${this.o.server} closed (code ${code})`);
        if (!opened) reject(error ?? new Error("closed while connecting"));
        this.transition(TransportState.Disconnected, error);
      });
    });
  }

  disconnect(): Promise<void> {
    const ws = this.ws;
    if (!ws || this._state === TransportState.Disconnected) return Promise.resolve();
    if (this._state === TransportState.Disconnecting) return Promise.resolve();
    this.transition(TransportState.Disconnecting);
    return new Promise((resolve) => {
      ws.once("close", () => resolve());
      ws.close(1000);
      setTimeout(() => ws.terminate(), 1000).unref();
    });
  }

  send(message: string): Promise<void> {
    if (!this.ws || this._state !== TransportState.Connected) {
      return Promise.reject(new Error("not connected"));
    }
    if (message.startsWith("SIP/2.0 ") && isInviteResponse(message)) {
      const branch = topBranch(message);
      if (branch !== undefined && message.startsWith("SIP/2.0 100 ")) {
        this.trying.set(branch, message);
        this.tryingFlush ??= setImmediate(() => this.flushTrying());
        return Promise.resolve();
      }
      // A 180 or a final answer: the 100 held for this INVITE is needless now.
      if (branch !== undefined) this.trying.delete(branch);
    }
    return this.write(message);
  }

  /**
   * Hands a message to sip.js. sip.js throws on some malformed requests (a
   * Request-URI it cannot read): such a message is dropped with a log line, and
   * the connection and the messages after it are not affected.
   */
  private deliver(message: string): void {
    try {
      this.onMessage?.(message);
    } catch (e) {
      const first = message.slice(0, 120).split("\r\n")[0];
      this.logger.warn(
        `a message sip.js could not take was dropped (${(e as Error).message}): ${first}`,
      );
    }
  }

  private flushTrying(): void {
    this.tryingFlush = undefined;
    const held = [...this.trying.values()];
    this.trying.clear();
    for (const m of held) {
      if (this._state === TransportState.Connected) void this.write(m).catch(() => {});
    }
  }

  private write(message: string): Promise<void> {
    const ws = this.ws;
    if (!ws || this._state !== TransportState.Connected) {
      return Promise.reject(new Error("not connected"));
    }
    if (this.trace) this.logger.log(`sending to ${this.o.server}:\n${message}`);
    this.o.wireTap?.("out", message, performance.now());
    return new Promise((resolve, reject) => ws.send(message, (e) => (e ? reject(e) : resolve())));
  }

  dispose(): Promise<void> {
    return this.disconnect();
  }

  private startPing(ws: WebSocket): void {
    const every = this.o.pingIntervalMs ?? 5000;
    const timeout = this.o.pongTimeoutMs ?? 3000;
    this.pingTimer = setInterval(() => {
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        this.logger.warn(
          `WebSocket ${this.o.server}: no pong within ${timeout} ms, the exchange is gone`,
        );
        ws.terminate();
      }, timeout);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }, every);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  private transition(next: TransportState, error?: Error): void {
    const old = this._state;
    if (old === next) return;
    this._state = next;
    this._stateChange.emit(next);
    if (next === TransportState.Connected) this.onConnect?.();
    if (old === TransportState.Connected && next !== TransportState.Connected) {
      error ? this.onDisconnect?.(error) : this.onDisconnect?.();
    }
  }
}
