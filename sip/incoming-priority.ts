/**
 * Emergencies first under load: every SIP message from the exchange passes
 * here before sip.js parses it (sip.js's parser costs milliseconds a message;
 * this look at the start line and a few headers costs microseconds).
 *
 * - An initial INVITE (no To tag) marked by the exchange — `Priority:
 *   emergency` (RFC 3261 §20.26), an `Alert-Info` (§20.4) or a
 *   `Resource-Priority` (RFC 4412) — over the verified exchange connection goes
 *   to sip.js at once, ahead of every ordinary INVITE waiting. The marks count
 *   only from the verified connection: the exchange strips them from what
 *   callers send (docs/exchange.md), and the phone decides the alert class
 *   itself later (firmware/alerting); here they only buy a place in the line.
 * - Any other initial INVITE is ordinary: it waits in a line handed to sip.js
 *   at most `ordinaryPerSecond` a second (a token bucket holding
 *   `ordinaryBurst`), `perTurn` per event-loop turn, so a flood costs the phone
 *   a bounded share of its time and timers, the handset and the bench API get
 *   their turns in between. One that finds nobody waiting and a token to spare
 *   goes to sip.js at once (it counts against its turn's share): a call at a
 *   human rate never waits a turn, and its 180 leaves sooner. A desk phone takes calls at a human rate: an
 *   ordinary INVITE that finds `maxQueued` waiting is refused on the spot with
 *   503 Service Unavailable and a Retry-After (RFC 3261 §21.5.4, §20.33),
 *   written straight on the wire (§8.2.6: Via, From, To with a tag of ours,
 *   Call-ID, CSeq copied), without any sip.js state.
 * - A waiting INVITE gets 100 Trying at once (§17.2.1), so the exchange may
 *   CANCEL it (§9.1). A CANCEL for an INVITE still waiting removes it: 200 OK to the CANCEL and
 *   487 Request Terminated to the INVITE (§9.2). The ACK to a final answer
 *   given here (same branch as the INVITE, §17.1.1.3) ends here, and a CANCEL
 *   that comes after it gets 200 OK and changes nothing.
 * - Responses, ACKs, any other CANCEL, BYE and every request in a dialog go
 *   to sip.js at once: they belong to calls the phone already has.
 */

export interface IncomingPriorityOptions {
  /** Ordinary INVITEs that may wait; one more is refused with 503 (default 16). */
  maxQueued?: number;
  /** Ordinary INVITEs handed to sip.js per second, at most (default 20). */
  ordinaryPerSecond?: number;
  /** ...and at once after a quiet spell (default 10). */
  ordinaryBurst?: number;
  /** Waiting INVITEs handed to sip.js per event-loop turn (default 2). */
  perTurn?: number;
  /** Retry-After of the 503, seconds (default 30). */
  retryAfterS?: number;
}

export interface IncomingPrioritySink {
  /** Hands a message to sip.js. */
  deliver(message: string): void;
  /** Writes a response straight on the exchange connection. */
  reply(message: string): void;
  /** Whether the connection is the verified one to the configured exchange. */
  verified(): boolean;
  /** An ordinary INVITE answered here (503 when over the bound, 487 when cancelled). */
  answered?(callId: string, code: number): void;
}

interface Waiting {
  message: string;
  /** Top Via branch (RFC 3261 §8.1.1.7): a CANCEL matches on it (§9.2). */
  branch?: string;
}

export interface Head {
  method?: string;
  status: boolean;
  /** Header lines of the head, unfolded (§7.3.1), without the start line. */
  lines: string[];
}

/** Compact forms (RFC 3261 §7.3.3) of the headers read here. */
const COMPACT: Record<string, string> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
};

/** The start line and header lines of a message; the body is not looked at. */
export function readHead(message: string): Head {
  const end = message.indexOf("\r\n\r\n");
  const head = (end < 0 ? message : message.slice(0, end)).replace(/\r\n[ \t]+/g, " ");
  const lines = head.split("\r\n");
  const start = lines.shift() ?? "";
  if (start.startsWith("SIP/2.0 ")) return { status: true, lines };
  const method = /^([A-Za-z]+) \S+ SIP\/2\.0$/.exec(start)?.[1];
  return { ...(method && { method }), status: false, lines };
}

function nameOf(line: string): string {
  const colon = line.indexOf(":");
  const name = (colon < 0 ? line : line.slice(0, colon)).trim().toLowerCase();
  return COMPACT[name] ?? name;
}

function valueIn(line: string): string {
  return line.slice(line.indexOf(":") + 1).trim();
}

function headers(h: Head, name: string): string[] {
  return h.lines.filter((l) => nameOf(l) === name);
}

function first(h: Head, name: string): string | undefined {
  const line = h.lines.find((l) => nameOf(l) === name);
  return line === undefined ? undefined : valueIn(line);
}

/** A To (or From) header's tag parameter: outside the <>, where header parameters are. */
function hasTag(value: string | undefined): boolean {
  if (value === undefined) return false;
  return /;\s*tag\s*=/i.test(value.replace(/<[^>]*>/, "").replace(/"[^"]*"/, ""));
}

function topBranch(h: Head): string | undefined {
  const via = first(h, "via");
  return via === undefined ? undefined : /;\s*branch\s*=\s*([^;,\s]+)/i.exec(via)?.[1];
}

/** Marked by the exchange: Priority: emergency, an Alert-Info, a Resource-Priority. */
function marked(h: Head): boolean {
  for (const l of h.lines) {
    const n = nameOf(l);
    if (n === "alert-info" || n === "resource-priority") return true;
    if (n === "priority" && valueIn(l).toLowerCase() === "emergency") return true;
  }
  return false;
}

let tagSeq = 0;

/**
 * A response to the request whose head is `h`, built from its text
 * (RFC 3261 §8.2.6.2): Via lines in order, From, To (with our tag), Call-ID,
 * CSeq copied.
 */
export function responseTo(
  h: Head,
  code: number,
  reason: string,
  extra: string[] = [],
  toTag = `dp${Date.now().toString(36)}${(++tagSeq).toString(36)}`,
): string {
  const copy = (name: string, as: string) => headers(h, name).map((l) => `${as}: ${valueIn(l)}`);
  const to = first(h, "to") ?? "";
  return [
    `SIP/2.0 ${code} ${reason}`,
    ...copy("via", "Via"),
    ...copy("from", "From"),
    // §8.2.6.2: a 100 (Trying) carries the To as it came, without a tag.
    `To: ${hasTag(to) || !toTag ? to : `${to};tag=${toTag}`}`,
    ...copy("call-id", "Call-ID"),
    ...copy("cseq", "CSeq"),
    ...extra,
    "Server: deskphone",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** Branches answered here, kept to absorb their ACK and a late CANCEL (bounded). */
const ANSWERED_KEPT = 4096;

export class IncomingPriority {
  private readonly queue: Waiting[] = [];
  private readonly answeredHere = new Set<string>();
  private draining:
    | { kind: "turn"; handle: NodeJS.Immediate }
    | { kind: "timer"; handle: NodeJS.Timeout }
    | undefined;
  private readonly maxQueued: number;
  private readonly perTurn: number;
  private readonly retryAfterS: number;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private tokens: number;
  private tokensAt = performance.now();
  /** Ordinary INVITEs handed on at once in this turn (they count against `perTurn`). */
  private handedNow = 0;

  constructor(
    private readonly sink: IncomingPrioritySink,
    o: IncomingPriorityOptions = {},
  ) {
    this.maxQueued = o.maxQueued ?? 16;
    this.perTurn = Math.max(1, o.perTurn ?? 2);
    this.retryAfterS = o.retryAfterS ?? 30;
    this.ratePerMs = (o.ordinaryPerSecond ?? 20) / 1000;
    this.burst = Math.max(1, o.ordinaryBurst ?? 10);
    this.tokens = this.burst;
  }

  /** Ordinary INVITEs waiting now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** One message from the exchange, in arrival order. */
  offer(message: string): void {
    const h = readHead(message);
    if (h.status || !h.method) return this.sink.deliver(message);
    switch (h.method.toUpperCase()) {
      case "INVITE": {
        if (hasTag(first(h, "to"))) return this.sink.deliver(message); // in a dialog
        if (marked(h) && this.sink.verified()) return this.sink.deliver(message);
        return this.enqueue(h, message);
      }
      case "ACK": {
        const branch = topBranch(h);
        if (branch && this.answeredHere.has(branch)) return; // the ACK to our 503/487
        return this.sink.deliver(message);
      }
      case "CANCEL":
        return this.cancel(h, message);
      default:
        return this.sink.deliver(message);
    }
  }

  /** The connection is gone: what waits came over it and cannot be answered. */
  clear(): void {
    this.queue.length = 0;
    this.stopDraining();
  }

  private enqueue(h: Head, message: string): void {
    if (!this.queue.length && this.handedNow < this.perTurn && this.draining?.kind !== "timer") {
      this.refill();
      if (this.tokens >= 1) {
        // Nobody waits and the bounds allow it: no 100 from here, sip.js sends its
        // own at once (§17.2.1). The turn's end resets the share.
        this.tokens -= 1;
        this.handedNow += 1;
        this.draining ??= { kind: "turn", handle: setImmediate(() => this.drain()) };
        return this.sink.deliver(message);
      }
    }
    const branch = topBranch(h);
    if (this.queue.length >= this.maxQueued) {
      this.sink.reply(
        responseTo(h, 503, "Service Unavailable", [`Retry-After: ${this.retryAfterS}`]),
      );
      this.remember(branch);
      this.sink.answered?.(first(h, "call-id") ?? "", 503);
      return;
    }
    // §17.2.1: 100 Trying at once, as the wait may pass 200 ms. It is hop by hop
    // (the exchange keeps it) and lets the exchange send a CANCEL (§9.1: not before
    // a provisional response); sip.js sends its own when the INVITE's turn comes.
    this.sink.reply(responseTo(h, 100, "Trying", [], ""));
    this.queue.push({ message, ...(branch && { branch }) });
    this.schedule();
  }

  private cancel(h: Head, message: string): void {
    const branch = topBranch(h);
    if (!branch) return this.sink.deliver(message);
    const i = this.queue.findIndex((w) => w.branch === branch);
    if (i >= 0) {
      const [w] = this.queue.splice(i, 1);
      if (!this.queue.length) this.stopDraining();
      // §9.2: 200 OK to the CANCEL, then 487 to the INVITE it cancelled.
      this.sink.reply(responseTo(h, 200, "OK"));
      this.sink.reply(responseTo(readHead((w as Waiting).message), 487, "Request Terminated"));
      this.remember(branch);
      this.sink.answered?.(first(h, "call-id") ?? "", 487);
      return;
    }
    // §9.2: the INVITE already has its final answer from us: the CANCEL has no effect.
    if (this.answeredHere.has(branch)) return this.sink.reply(responseTo(h, 200, "OK"));
    this.sink.deliver(message);
  }

  private remember(branch: string | undefined): void {
    if (!branch) return;
    this.answeredHere.add(branch);
    if (this.answeredHere.size > ANSWERED_KEPT) {
      const oldest = this.answeredHere.values().next().value as string;
      this.answeredHere.delete(oldest);
    }
  }

  /** Refills the bucket: `ordinaryPerSecond`, up to `ordinaryBurst`. */
  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.tokensAt) * this.ratePerMs);
    this.tokensAt = now;
  }

  /** The next turn when a token is there, else a timer until there is one. */
  private schedule(): void {
    if (this.draining || !this.queue.length) return;
    this.refill();
    if (this.tokens >= 1) {
      this.draining = { kind: "turn", handle: setImmediate(() => this.drain()) };
      return;
    }
    const waitMs = Math.ceil((1 - this.tokens) / this.ratePerMs);
    this.draining = { kind: "timer", handle: setTimeout(() => this.drain(), waitMs) };
  }

  private stopDraining(): void {
    const d = this.draining;
    if (d?.kind === "turn") clearImmediate(d.handle);
    if (d?.kind === "timer") clearTimeout(d.handle);
    this.draining = undefined;
    this.handedNow = 0;
  }

  private drain(): void {
    this.draining = undefined;
    this.refill();
    const share = this.perTurn - this.handedNow;
    this.handedNow = 0;
    for (let n = 0; n < share && this.queue.length && this.tokens >= 1; n++) {
      const w = this.queue.shift() as Waiting;
      this.tokens -= 1;
      try {
        this.sink.deliver(w.message);
      } catch {
        // sip.js reports its own errors; one bad message never stops the line.
      }
    }
    this.schedule();
  }
}
