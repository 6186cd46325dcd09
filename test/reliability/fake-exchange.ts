/**
 * A stand-in exchange for the malformed-input probes: a WebSocket server
 * speaking SIP (RFC 7118 subprotocol "sip") that our phone registers with,
 * and that can then write anything at all down the phone's connection — the
 * one place a phone takes SIP from. It answers REGISTER with 200 and offers
 * an OPTIONS round trip (RFC 3261 §11) to tell that the phone still answers.
 */
import { randomBytes } from "node:crypto";
import { type WebSocket, WebSocketServer } from "ws";
import { SipInbox } from "../support/sip-inbox.ts";

const id = () => randomBytes(6).toString("hex");

export function headerOf(message: string, name: string): string | undefined {
  return new RegExp(`^${name}\\s*:\\s*(.*)$`, "im").exec(message)?.[1]?.trim();
}

export class FakeExchange {
  private readonly wss: WebSocketServer;
  private phone: WebSocket | undefined;
  private readonly inbox = new SipInbox();
  /** Every message the phone sent. */
  readonly received: string[] = [];
  registered!: Promise<void>;

  private constructor(
    readonly port: number,
    wss: WebSocketServer,
  ) {
    this.wss = wss;
  }

  static async start(): Promise<FakeExchange> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "sip" });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    const addr = wss.address();
    const ex = new FakeExchange(typeof addr === "object" && addr ? addr.port : 0, wss);
    let onRegistered!: () => void;
    ex.registered = new Promise((r) => {
      onRegistered = r;
    });
    wss.on("connection", (ws) => {
      ex.phone = ws;
      ws.on("message", (data) => {
        const text = String(data);
        ex.received.push(text);
        if (text.startsWith("REGISTER ")) {
          ws.send(ex.reply(text, "200 OK", [`Contact: ${headerOf(text, "Contact")};expires=300`]));
          onRegistered();
        }
        ex.inbox.take(text);
      });
    });
    return ex;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** A response to `request`, echoing its Via, From, To (with a tag), Call-ID and CSeq. */
  reply(request: string, status: string, extra: string[] = []): string {
    const to = headerOf(request, "To") ?? "";
    const lines = [
      `SIP/2.0 ${status}`,
      ...request
        .split("\r\n")
        .filter((l) => /^(Via|v)\s*:/i.test(l))
        .map((l) => l),
      `From: ${headerOf(request, "From")}`,
      `To: ${/;tag=/.test(to) ? to : `${to};tag=${id()}`}`,
      `Call-ID: ${headerOf(request, "Call-ID")}`,
      `CSeq: ${headerOf(request, "CSeq")}`,
      ...extra,
      "Content-Length: 0",
      "",
      "",
    ];
    return lines.join("\r\n");
  }

  /** Writes anything down the phone's connection. */
  send(text: string | Buffer): void {
    this.phone?.send(text);
  }

  /** Waits for the phone to send a message that passes `test`. */
  waitFor(test: (m: string) => boolean, timeoutMs = 3000): Promise<string | undefined> {
    return this.inbox.next(test, timeoutMs);
  }

  /** An OPTIONS to the phone; true when it answers 200 (it is alive and parsing). */
  async alive(user: string): Promise<boolean> {
    const callId = `probe-${id()}`;
    const answered = this.waitFor(
      (m) => m.startsWith("SIP/2.0 200") && headerOf(m, "Call-ID") === callId,
    );
    this.send(
      [
        `OPTIONS sip:${user}@127.0.0.1 SIP/2.0`,
        `Via: SIP/2.0/WSS 127.0.0.1:${this.port};branch=z9hG4bK${id()}`,
        "Max-Forwards: 70",
        `From: <sip:probe@127.0.0.1>;tag=${id()}`,
        `To: <sip:${user}@127.0.0.1>`,
        `Call-ID: ${callId}`,
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    );
    return (await answered) !== undefined;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
