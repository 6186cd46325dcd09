/**
 * A flood of callers written by hand over UDP (RFC 3261 §18): ordinary INVITEs
 * at a steady rate from several loopback source addresses (127.0.0.0/8, so the
 * exchange sees several sources), and any single INVITE in between (an
 * emergency). Every response is recorded with its arrival time; a non-2xx
 * final answer is ACKed (§17.1.1.3), a ringing call left over can be
 * CANCELled (§9.1). No retransmissions: on loopback nothing is lost unless a
 * socket buffer overflows, and that would show as a call without an answer.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import type { LabExchange } from "../../server/kamailio/lab-exchange.ts";

export interface FloodCall {
  callId: string;
  to: string;
  /** The source (index into the caller's sockets) it was sent from. */
  source: number;
  sentAt: number;
  /** Provisional and final responses, in arrival order (performance.now()). */
  responses: { code: number; at: number }[];
  /** The first final answer, once it came, with its text. */
  final?: { code: number; at: number; message: string };
  /** The final answer to our CANCEL of it, if we sent one. */
  cancelAnswer?: number;
  readonly head: { uri: string; via: string; from: string; to: string; cseq: number };
}

const id = () => randomBytes(6).toString("hex");
const header = (m: string, name: string) =>
  new RegExp(`^${name}\\s*:\\s*(.*)$`, "im").exec(m)?.[1]?.trim();

export class FloodCaller {
  readonly calls = new Map<string, FloodCall>();
  private readonly socks: Socket[] = [];
  private closed = false;

  private constructor(private readonly ex: LabExchange) {}

  /** One UDP socket per source address, e.g. ["127.0.0.2", "127.0.0.3"]. */
  static async open(ex: LabExchange, sources: string[]): Promise<FloodCaller> {
    const c = new FloodCaller(ex);
    for (const address of sources) {
      const sock = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
      sock.on("message", (buf) => c.onMessage(sock, buf.toString("latin1")));
      await new Promise<void>((r) => sock.bind(0, address, () => r()));
      c.socks.push(sock);
    }
    return c;
  }

  get sources(): number {
    return this.socks.length;
  }

  /** Sends one INVITE to `to` from source `source`, with extra header lines. */
  invite(
    to: string,
    o: { source?: number; from?: string; headers?: string[]; codecs?: [number, string][] } = {},
  ): FloodCall {
    const source = (o.source ?? 0) % this.socks.length;
    const sock = this.socks[source] as Socket;
    const { address, port } = sock.address();
    const domain = this.ex.host;
    const callId = `flood-${id()}@${address}`;
    const from = o.from ?? `39${String(source).padStart(2, "0")}`;
    const head = {
      uri: `sip:${to}@${domain}:${this.ex.udpPort}`,
      via: `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-${id()};rport`,
      from: `From: <sip:${from}@${domain}>;tag=${id()}`,
      to: `To: <sip:${to}@${domain}>`,
      cseq: 1,
    };
    const body = [
      "v=0",
      `o=flood 1 1 IN IP4 ${address}`,
      "s=-",
      `c=IN IP4 ${address}`,
      "t=0 0",
      `m=audio 9 RTP/AVP ${(o.codecs ?? [[0, "PCMU/8000"]]).map(([pt]) => pt).join(" ")}`,
      ...(o.codecs ?? [[0, "PCMU/8000"]]).map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
      "",
    ].join("\r\n");
    const call: FloodCall = { callId, to, source, sentAt: performance.now(), responses: [], head };
    this.calls.set(callId, call);
    this.send(sock, [
      `INVITE ${head.uri} SIP/2.0`,
      head.via,
      head.from,
      head.to,
      `Call-ID: ${callId}`,
      "CSeq: 1 INVITE",
      `Contact: <sip:${from}@${address}:${port}>`,
      "Max-Forwards: 70",
      ...(o.headers ?? []),
      "Content-Type: application/sdp",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "",
      body,
    ]);
    return call;
  }

  /**
   * `count` INVITEs to `to` at `ratePerS`, round the sources; `during(i)` runs
   * after the i-th is sent (to slip an emergency in). Resolves once all are sent.
   */
  flood(
    to: string,
    o: { count: number; ratePerS: number; during?: (sent: number) => void },
  ): Promise<void> {
    const t0 = performance.now();
    let sent = 0;
    return new Promise((resolve) => {
      const tick = () => {
        if (this.closed) return resolve();
        // Catch up with the schedule: as many as are due now.
        const due = Math.min(o.count, Math.floor(((performance.now() - t0) * o.ratePerS) / 1000));
        while (sent < due) {
          this.invite(to, { source: sent });
          sent += 1;
          o.during?.(sent);
        }
        if (sent >= o.count) return resolve();
        setTimeout(tick, 2);
      };
      tick();
    });
  }

  /** CANCEL (RFC 3261 §9.1) every call that has no final answer yet. */
  cancelUnanswered(): number {
    let n = 0;
    for (const c of this.calls.values()) {
      if (c.final) continue;
      n += 1;
      this.cancel(c);
    }
    return n;
  }

  /** CANCEL one call: same Request-URI, Via branch, From, To and Call-ID as its INVITE (§9.1). */
  cancel(c: FloodCall): void {
    this.send(this.socks[c.source] as Socket, [
      `CANCEL ${c.head.uri} SIP/2.0`,
      c.head.via,
      c.head.from,
      c.head.to,
      `Call-ID: ${c.callId}`,
      "CSeq: 1 CANCEL",
      "Max-Forwards: 70",
      "Content-Length: 0",
      "",
      "",
    ]);
  }

  /** Resolves when every call has a final answer, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if ([...this.calls.values()].every((c) => c.final)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  close(): void {
    this.closed = true;
    for (const s of this.socks) s.close();
  }

  private send(sock: Socket, lines: string[]): void {
    if (this.closed) return;
    sock.send(lines.join("\r\n"), this.ex.udpPort, this.ex.host);
  }

  private onMessage(sock: Socket, m: string): void {
    const code = Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1]);
    if (!code) return;
    const call = this.calls.get(header(m, "Call-ID") ?? "");
    if (!call) return;
    if (/^\d+ CANCEL$/.test(header(m, "CSeq") ?? "")) {
      if (code >= 200) call.cancelAnswer ??= code;
      return;
    }
    if (!/^\d+ INVITE$/.test(header(m, "CSeq") ?? "")) return;
    const at = performance.now();
    call.responses.push({ code, at });
    if (code < 200) return;
    call.final ??= { code, at, message: m };
    // ACK for a non-2xx final answer: same branch, the To of the answer (§17.1.1.3).
    if (code >= 300)
      this.send(sock, [
        `ACK ${call.head.uri} SIP/2.0`,
        call.head.via,
        call.head.from,
        `To: ${header(m, "To") ?? ""}`,
        `Call-ID: ${call.callId}`,
        "CSeq: 1 ACK",
        "Max-Forwards: 70",
        "Content-Length: 0",
        "",
        "",
      ]);
  }
}
