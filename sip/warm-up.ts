/**
 * The first calls after start would meet the incoming path cold: `ws`'s frame
 * reading and writing, the incoming triage, sip.js's parser, transaction,
 * dialog and `Invitation` code, our `takeInvite`, the phone's own decision and
 * the 180's building — each function compiled on first use and interpreted
 * until V8 has watched it run, 3–4 ms to the 180 at the 2nd–5th call of a
 * start against about 1 ms once warm (docs/sip.md, "INVITE → 180").
 *
 * So once the phone is registered, made-up calls (RFC 5737 addresses) run
 * through that path, one step per event-loop turn so that a real message never
 * waits behind more than one: an INVITE framed as the exchange frames it, read
 * by a `ws` frame reader, passed by an incoming triage of its own to a sip.js
 * user agent of its own (the same classes as the phone's), taken by
 * `takeInvite` into a call book of its own, shown to the phone's own handling
 * (`PhoneAgentOptions`' warm-call hook: it decides and keeps nothing), answered
 * 180 by the same verb as a real call, then cancelled and acknowledged. What
 * that user agent sends goes to a `ws` frame writer over no socket: nothing
 * reaches the exchange, nothing is kept, the phone is told of no call
 * (test/sip/warm-up.test.ts). Only sip/parsed-headers.ts remembers some of
 * the made-up values, as it would any.
 */

import { EventEmitter } from "node:events";
import { EmitterImpl, type Transport, TransportState, UserAgent } from "sip.js";
import * as ws from "ws";
import { ringing } from "./call-verbs.ts";
import { type AgentEvents, CallBook, type IncomingCall } from "./calls.ts";
import { takeInvite } from "./incoming-invite.ts";
import { IncomingPriority } from "./incoming-priority.ts";
import type { SessionTimerOptions } from "./session-timer.ts";
import { makeUserAgent } from "./user-agent.ts";

const SDP = [
  "v=0",
  "o=- 1 1 IN IP4 192.0.2.1",
  "s=-",
  "c=IN IP4 192.0.2.1",
  "t=0 0",
  "m=audio 40000 RTP/AVP 0 8 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-15",
  "a=ptime:20",
  "a=sendrecv",
  "",
].join("\r\n");

/** How many values of each header the made-up calls go round (the grammar runs for each). */
const VALUES = 16;

/**
 * A made-up INVITE as an exchange forwards one, to `user`; `n` varies what a
 * real one varies. Every third is marked as an emergency, as the exchange marks one.
 */
export function madeUpInvite(user: string, n: number): string {
  const v = n % VALUES;
  const mark =
    n % 3 === 2
      ? ["Priority: emergency", "Alert-Info: <urn:alert:service:normal>;info=alert-emergency"]
      : [];
  return [
    `INVITE sip:${user}@192.0.2.${1 + v};transport=ws SIP/2.0`,
    `Record-Route: <sip:192.0.2.2:${5000 + v};transport=ws;r2=on;lr>`,
    "Record-Route: <sip:192.0.2.2;r2=on;lr>",
    via(n),
    `Via: SIP/2.0/UDP 192.0.2.3:${5060 + v};received=192.0.2.3;rport=5062;branch=z9hG4bKv${n}`,
    "Max-Forwards: 69",
    `From: "Warm ${v}" <sip:${3000 + v}@192.0.2.1>;tag=w${n}`,
    `To: <sip:${user}@192.0.2.${1 + v}>`,
    `Call-ID: warm-${n}@192.0.2.3`,
    "CSeq: 1 INVITE",
    `Contact: <sip:${3000 + v}@192.0.2.3:5062>`,
    ...mark,
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
    "Supported: replaces, timer",
    "Session-Expires: 1800",
    "Content-Type: application/sdp",
    `Content-Length: ${SDP.length}`,
    "",
    SDP,
  ].join("\r\n");
}

const via = (n: number) => `Via: SIP/2.0/WS 192.0.2.2:8080;branch=z9hG4bKw${n}`;

/** The CANCEL of made-up INVITE `n` (RFC 3261 §9.1: its branch, Call-ID, From, To, CSeq number). */
function cancelOf(invite: string, n: number): string {
  return inDialogOf(invite, n, "CANCEL", undefined);
}

/** The ACK to the 487 (RFC 3261 §17.1.1.3: the INVITE's branch, the To of the response). */
function ackOf(invite: string, n: number, toTag: string | undefined): string {
  return inDialogOf(invite, n, "ACK", toTag);
}

function inDialogOf(invite: string, n: number, method: string, toTag: string | undefined): string {
  const lines = invite.split("\r\n");
  const keep = (name: string) => lines.find((l) => l.startsWith(`${name}:`)) as string;
  return [
    (lines[0] as string).replace("INVITE", method),
    via(n),
    "Max-Forwards: 69",
    keep("From"),
    toTag ? `${keep("To")};tag=${toTag}` : keep("To"),
    keep("Call-ID"),
    `CSeq: 1 ${method}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** `ws`'s frame writer over no socket: what it is handed is framed, masked and dropped. */
function frameWriter(): (message: string) => void {
  const nowhere = { cork() {}, uncork() {}, write: (_c: unknown, cb?: () => void) => cb?.() };
  const { Sender } = ws as unknown as {
    Sender: new (
      socket: typeof nowhere,
      extensions?: object,
    ) => {
      send(data: string, o: object, cb?: (e?: Error) => void): void;
    };
  };
  const sender = new Sender(nowhere, {});
  return (m) => sender.send(m, { binary: false, mask: true, compress: false, fin: true });
}

/** `ws`'s frame reader, handed frames as the exchange writes them (text, unmasked). */
function frameReader(onText: (text: string) => void): (message: string) => void {
  const { Receiver, Sender } = ws as unknown as {
    Receiver: new (o: object) => NodeJS.WritableStream & EventEmitter;
    Sender: { frame(data: Buffer, o: object): Buffer[] };
  };
  const receiver = new Receiver({
    allowSynchronousEvents: true,
    binaryType: "nodebuffer",
    extensions: {},
    isServer: false,
    maxPayload: 1024 * 1024,
    maxBufferedChunks: 1024,
    maxFragments: 16,
  });
  receiver.on("message", (data: Buffer, isBinary: boolean) => {
    const text = isBinary ? Buffer.from(data).toString("utf8") : String(data);
    if (/^(\r\n)+$/.test(text)) return;
    onText(text);
  });
  return (m) => {
    const frame = Sender.frame(Buffer.from(m), {
      fin: true,
      opcode: 1,
      mask: false,
      readOnly: false,
      rsv1: false,
    });
    receiver.write(Buffer.concat(frame));
  };
}

/** A sip.js transport that is always connected to nothing: what is sent is seen and dropped. */
class NowhereTransport implements Transport {
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  readonly protocol = "WS";
  private s = TransportState.Disconnected;
  private readonly changes = new EmitterImpl<TransportState>();
  private readonly seen: (m: string) => void;

  constructor(_logger: unknown, o: { seen: (m: string) => void }) {
    this.seen = o.seen;
  }
  get state() {
    return this.s;
  }
  get stateChange() {
    return this.changes;
  }
  isConnected() {
    return this.s === TransportState.Connected;
  }
  connect() {
    this.to(TransportState.Connected);
    this.onConnect?.();
    return Promise.resolve();
  }
  disconnect() {
    this.to(TransportState.Disconnected);
    return Promise.resolve();
  }
  dispose() {
    return this.disconnect();
  }
  send(message: string) {
    this.seen(message);
    return Promise.resolve();
  }
  private to(s: TransportState) {
    if (this.s === s) return;
    this.s = s;
    this.changes.emit(s);
  }
}

export interface WarmUpOptions {
  /** The phone's user (the made-up INVITEs are to it) and its codecs. */
  user: string;
  codecs: readonly string[];
  timerOptions: Required<SessionTimerOptions>;
  /** The phone's own handling of an incoming call, which must have no effect (PhoneAgentOptions.warmCall). */
  call?: (call: IncomingCall) => void;
  /** Made-up calls (default 40). */
  calls?: number;
  /** Sees what the made-up calls' user agent would have sent (tests). */
  seen?: (message: string) => void;
  /** Told why, when the warm-up stopped short. */
  failed?: (why: string) => void;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Runs `calls` made-up calls through the incoming path, one step per turn;
 * resolves when done. Never throws: a warm-up that fails costs nothing but
 * its warmth, and says why (`failed`).
 */
export async function warmUpCalls(o: WarmUpOptions): Promise<void> {
  const events = new EventEmitter<AgentEvents>();
  const book = new CallBook(events, o.timerOptions, () => {});
  const write = frameWriter();
  let lastSent = "";
  const seen = (m: string) => {
    lastSent = m;
    write(m);
    o.seen?.(m);
  };
  let ua: UserAgent | undefined;
  try {
    const uri = UserAgent.makeURI(`sip:${o.user}@192.0.2.1`);
    if (!uri) return;
    let n = 0;
    ua = makeUserAgent(
      uri,
      { server: "ws://192.0.2.1", user: o.user },
      {
        invite: (inv) =>
          takeInvite(book, inv, {
            codecs: o.codecs,
            trusted: () => n % 2 === 0,
            newCallId: () => `warm-${n}`,
          }),
        answeredByTriage: () => {},
        disconnected: () => {},
        descriptionHandler: () => {
          throw new Error("a made-up call has no media");
        },
      },
      () => {},
      { transportConstructor: NowhereTransport, transportOptions: { seen } },
    );
    events.on("incoming", (c) => {
      try {
        o.call?.(c);
      } catch {
        // The phone's handling threw: it does so on a real call too, and says so there.
      }
      ringing(book, c.callId);
    });
    const agent = ua;
    // Its own triage, without the real one's rate bound: every made-up INVITE is
    // handed on at once, as a real one is when nobody waits.
    const triage = new IncomingPriority(
      {
        deliver: (m) => agent.transport.onMessage?.(m),
        reply: () => {},
        verified: () => n % 2 === 0,
      },
      { ordinaryPerSecond: 1e6, ordinaryBurst: 1e6 },
    );
    const read = frameReader((m) => triage.offer(m));
    await ua.start();
    for (n = 0; n < (o.calls ?? 40); n++) {
      const invite = madeUpInvite(o.user, n);
      read(invite);
      await turn();
      read(cancelOf(invite, n));
      const toTag = /^To:[^\r\n]*;tag=([^;\r\n]+)/m.exec(lastSent)?.[1];
      await turn();
      read(ackOf(invite, n, toTag));
      await turn();
    }
  } catch (e) {
    // A warm-up that fails costs nothing but its warmth.
    o.failed?.((e as Error).message);
  } finally {
    for (const id of book.ids()) book.hangUp(id);
    await ua?.stop().catch(() => {});
  }
}
