/**
 * A caller that writes its SIP by hand over UDP (RFC 3261 §18), so a test can
 * put into the Request-URI exactly what an attacker would — quotes, SQL
 * comments, escapes — which no well-behaved user agent produces. It takes a
 * call as far as the test needs: the INVITE's final answer (ACKed, §17.1.1.3),
 * and for an answered call ACK, re-INVITE and BYE along the route set (§12.2).
 */

import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import type { LabExchange } from "../../server/kamailio/lab-exchange.ts";
import { SipInbox } from "../support/sip-inbox.ts";

export interface Answer {
  code: number;
  message: string;
}

export interface Dialog {
  callId: string;
  fromTag: string;
  toHeader: string;
  /** Where in-dialog requests go: the callee's Contact. */
  target: string;
  /** Route headers (RFC 3261 §12.1.2: the Record-Route list, reversed). */
  routes: string[];
  cseq: number;
}

const id = () => randomBytes(6).toString("hex");

export function header(message: string, name: string): string[] {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, "gim");
  return [...message.matchAll(re)].map((m) => (m[1] ?? "").trim());
}

export class RawSipCaller {
  private sock!: Socket;
  private readonly inbox = new SipInbox();

  private constructor(
    private readonly ex: LabExchange,
    readonly from: string,
    /** The host part of From, To and the Request-URI (default: the exchange's address). */
    readonly domain: string,
  ) {}

  static async open(ex: LabExchange, from = "3901", domain = ex.host): Promise<RawSipCaller> {
    const c = new RawSipCaller(ex, from, domain);
    c.sock = createSocket("udp4");
    c.sock.on("message", (buf) => {
      const m = buf.toString("latin1");
      c.inbox.take(m);
    });
    await new Promise<void>((r) => c.sock.bind(0, "127.0.0.1", () => r()));
    return c;
  }

  get port(): number {
    return this.sock.address().port;
  }

  close(): void {
    this.sock.close();
  }

  private send(text: string): void {
    this.sock.send(text.replace(/\r?\n/g, "\r\n"), this.ex.udpPort, this.ex.host);
  }

  /** The final response to (callId, cseq), or undefined after `timeoutMs`. */
  private async response(
    callId: string,
    cseq: string,
    timeoutMs: number,
  ): Promise<Answer | undefined> {
    const final = (m: string) => Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1] ?? 0);
    const m = await this.inbox.next(
      (m) => final(m) >= 200 && header(m, "Call-ID")[0] === callId && header(m, "CSeq")[0] === cseq,
      timeoutMs,
    );
    return m === undefined ? undefined : { code: final(m), message: m };
  }

  private sdp(): string {
    return [
      "v=0",
      "o=raw 1 1 IN IP4 127.0.0.1",
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      "m=audio 9 RTP/AVP 0",
      "a=rtpmap:0 PCMU/8000",
      "",
    ].join("\r\n");
  }

  /**
   * Sends an INVITE whose Request-URI user part is `user`, byte for byte.
   * Resolves with the final answer (undefined if the exchange dropped it), and
   * the dialog when it was answered with 2xx (then ACKed).
   */
  async invite(
    user: string,
    o: { headers?: string[]; timeoutMs?: number } = {},
  ): Promise<{ answer?: Answer; dialog?: Dialog }> {
    const host = this.domain;
    const callId = `raw-${id()}@127.0.0.1`;
    const fromTag = id();
    const branch = `z9hG4bK-${id()}`;
    const body = this.sdp();
    const via = `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`;
    const uri = `sip:${user}@${host}:${this.ex.udpPort}`;
    this.send(
      [
        `INVITE ${uri} SIP/2.0`,
        via,
        `From: <sip:${this.from}@${host}>;tag=${fromTag}`,
        `To: <sip:${user}@${host}>`,
        `Call-ID: ${callId}`,
        "CSeq: 1 INVITE",
        `Contact: <sip:${this.from}@127.0.0.1:${this.port}>`,
        "Max-Forwards: 70",
        ...(o.headers ?? []),
        "Content-Type: application/sdp",
        `Content-Length: ${Buffer.byteLength(body)}`,
        "",
        body,
      ].join("\r\n"),
    );
    const answer = await this.response(callId, "1 INVITE", o.timeoutMs ?? 5000);
    if (!answer) return {};
    const toHeader = header(answer.message, "To")[0] ?? "";
    if (answer.code >= 300) {
      // ACK to a non-2xx final answer: same branch, hop by hop (RFC 3261 §17.1.1.3).
      this.send(
        [
          `ACK ${uri} SIP/2.0`,
          via,
          `From: <sip:${this.from}@${host}>;tag=${fromTag}`,
          `To: ${toHeader}`,
          `Call-ID: ${callId}`,
          "CSeq: 1 ACK",
          "Max-Forwards: 70",
          "Content-Length: 0",
          "",
          "",
        ].join("\r\n"),
      );
      return { answer };
    }
    const routes = header(answer.message, "Record-Route")
      .flatMap((v) => v.split(/,(?=\s*<)/))
      .map((v) => v.trim())
      .reverse();
    const target = /<([^>]+)>/.exec(header(answer.message, "Contact")[0] ?? "")?.[1] ?? uri;
    const dialog: Dialog = { callId, fromTag, toHeader, target, routes, cseq: 1 };
    this.ack(dialog);
    return { answer, dialog };
  }

  private inDialog(d: Dialog, method: string, cseq: number, extra: string[], body = ""): string {
    return [
      `${method} ${d.target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK-${id()};rport`,
      ...d.routes.map((r) => `Route: ${r}`),
      `From: <sip:${this.from}@${this.domain}>;tag=${d.fromTag}`,
      `To: ${d.toHeader}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:${this.from}@127.0.0.1:${this.port}>`,
      "Max-Forwards: 70",
      ...extra,
      ...(body ? ["Content-Type: application/sdp"] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      "",
      body,
    ].join("\r\n");
  }

  private ack(d: Dialog): void {
    this.send(this.inDialog(d, "ACK", d.cseq, []));
  }

  /** A re-INVITE in the dialog (RFC 3261 §14.1), e.g. carrying forged headers; ACKed. */
  async reInvite(d: Dialog, headers: string[]): Promise<Answer | undefined> {
    d.cseq += 1;
    const cseq = d.cseq;
    this.send(this.inDialog(d, "INVITE", cseq, headers, this.sdp()));
    const answer = await this.response(d.callId, `${cseq} INVITE`, 5000);
    if (answer && answer.code < 300) this.ack(d);
    return answer;
  }

  async bye(d: Dialog): Promise<Answer | undefined> {
    d.cseq += 1;
    this.send(this.inDialog(d, "BYE", d.cseq, []));
    return this.response(d.callId, `${d.cseq} BYE`, 5000);
  }
}
