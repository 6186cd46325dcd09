/**
 * Malformed input, part 3: SIP that no well-behaved caller sends, over UDP to
 * the lab Kamailio (RFC 3261 §18) with a firmware phone (the firmware's own
 * buildPhone) registered behind it — bad start lines, missing and duplicated
 * headers, wrong Content-Length, huge headers, broken SDP, binary garbage,
 * and random mutations of a valid INVITE. What the exchange parses and relays
 * reaches the phone, which is on do-not-disturb so that it answers every
 * ordinary call itself (486) and never rings. After each message the exchange
 * must still answer OPTIONS; at the end the phone must still be registered and
 * take a valid call (do-not-disturb off, ring, answer). Counted: what the
 * exchange refused itself, what the phone answered through it, what was dropped
 * without a word (legitimate for garbage: RFC 3261 §16.3 / §18.3 allow it).
 *
 * No digest auth here (unlike the production rig): with auth every INVITE is
 * challenged (407) before routing, and the phone would never see one. The
 * per-source rate limit is raised (the flood probe covers it): this is one
 * source sending on purpose, not a flood.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltPhone, buildPhone } from "../../firmware/app/build-phone.ts";
import { MockHandset } from "../../hal/mock.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { nullAudioAt, validConfig } from "../support/phone-config.ts";
import { type WaitForState, waitForState } from "../support/wait-for-state.ts";
import { registered, sleep } from "./faults-kit.ts";
import { record, withFailures } from "./ledger.ts";
import { damage, OFFER, type SipText, text } from "./malformed-invite.ts";

const USER = "2001";
const MUTATIONS = Number(process.env.MALFORMED_EXCHANGE_MUTATIONS ?? 200);
/** How long a message may go unanswered before it counts as dropped (ms). */
const QUIET_MS = 200;
let ex: LabExchange;
let phone: BuiltPhone;
let handset: MockHandset;
let waitFor: WaitForState;
let sock: Socket;
let dir: string;
const logs: string[] = [];
const inbox: string[] = [];

beforeAll(async () => {
  ex = await startLabExchange({ floodLimit: { requests: 100_000, unitS: 1 } });
  dir = mkdtempSync(join(tmpdir(), "deskphone-malformed-exchange-"));
  const config = validConfig({
    account: { user: USER },
    exchange: { url: ex.wsUrl },
    audio: nullAudioAt(8000),
    phone: { dnd: true },
    journal: { path: join(dir, "journal.jsonl") },
  });
  handset = new MockHandset();
  phone = buildPhone(config, handset, { log: (l, m) => logs.push(`${l} ${m}`) });
  waitFor = waitForState(phone.phone, USER, logs);
  phone.phone.start();
  await waitFor("registered", (s) => s.registered);
  sock = createSocket("udp4");
  sock.on("message", (m) => inbox.push(m.toString("latin1")));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
}, 60_000);
afterAll(async () => {
  sock?.close();
  await phone?.stop();
  await ex?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const id = () => randomBytes(5).toString("hex");
/** A valid INVITE to the phone from a raw caller, as lines and a body. */
function invite(o: { extra?: string[]; body?: string } = {}): SipText {
  const body = o.body ?? OFFER;
  const port = sock.address().port;
  return {
    start: `INVITE sip:${USER}@${ex.host}:${ex.udpPort} SIP/2.0`,
    headers: [
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${id()};rport`,
      "Max-Forwards: 70",
      `From: <sip:3901@${ex.host}>;tag=${id()}`,
      `To: <sip:${USER}@${ex.host}>`,
      `Call-ID: ${id()}@127.0.0.1`,
      "CSeq: 1 INVITE",
      `Contact: <sip:3901@127.0.0.1:${port}>`,
      ...(o.extra ?? []),
      "Content-Type: application/sdp",
      `Content-Length: ${Buffer.byteLength(body)}`,
    ],
    body,
  };
}
const { edit, without, withHeaders, requiredMissing, lengthsWrong } = damage(invite);

const corpus = (): [string, string | Buffer][] => [
  ["empty datagram", Buffer.alloc(0)],
  ["binary garbage", randomBytes(400)],
  ["text garbage", "GARBAGE GARBAGE\r\n\r\n"],
  ["start line only", "INVITE\r\n\r\n"],
  ["wrong SIP version", edit((m) => (m.start = m.start.replace("SIP/2.0", "SIP/3.0")))],
  ["no Request-URI", edit((m) => (m.start = "INVITE  SIP/2.0"))],
  ["broken Request-URI", edit((m) => (m.start = "INVITE sip:@@@:x SIP/2.0"))],
  ["unknown method", edit((m) => (m.start = m.start.replace("INVITE", "FROB")))],
  ["lower-case method", edit((m) => (m.start = m.start.replace("INVITE", "invite")))],
  ["status line to nobody", "SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"],
  ...requiredMissing(),
  ["Max-Forwards 0", edit((m) => (m.headers[1] = "Max-Forwards: 0"))],
  ["CSeq method differs", withHeaders([]).replace("CSeq: 1 INVITE", "CSeq: 1 BYE")],
  ["CSeq not a number", withHeaders([]).replace("CSeq: 1 INVITE", "CSeq: x INVITE")],
  ["two Call-IDs", withHeaders([`Call-ID: ${id()}`])],
  ["two CSeqs", withHeaders(["CSeq: 7 INVITE"])],
  ["two From headers", withHeaders([`From: <sip:3902@127.0.0.1>;tag=${id()}`])],
  ["two To headers", withHeaders([`To: <sip:2002@127.0.0.1>`])],
  ["Via without branch", edit((m) => (m.headers[0] = "Via: SIP/2.0/UDP 127.0.0.1:9"))],
  [
    "Via to a bad port",
    edit((m) => (m.headers[0] = "Via: SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bKx")),
  ],
  ["From without a tag", edit((m) => (m.headers[2] = `From: <sip:3901@${ex.host}>`))],
  ...lengthsWrong(),
  ["no Content-Length (UDP allows it)", without("Content-Length")],
  ["a 16 KB header", withHeaders([`Subject: ${"x".repeat(16_384)}`])],
  ["a 4 KB Alert-Info", withHeaders([`Alert-Info: <http://x/${"y".repeat(4000)}>`])],
  [
    "200 Via headers",
    withHeaders(
      Array.from(
        { length: 200 },
        (_, i) => `Via: SIP/2.0/UDP 10.0.0.${i % 250}:5060;branch=z9hG4bK${i}`,
      ),
    ),
  ],
  ["NUL in a header", withHeaders(["Subject: a\0b"])],
  ["no colon in a header", withHeaders(["Subject"])],
  ["header folded over lines", withHeaders(["Subject: a\r\n b\r\n\tc"])],
  [
    "SDP without an m= line",
    withHeaders([], "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"),
  ],
  ["SDP that is not SDP", withHeaders([], "\u0000\u0001\u0002 definitely not sdp")],
  ["SDP port out of range", withHeaders([], OFFER.replace("40000", "99999"))],
  ["SDP with 200 m= lines", withHeaders([], OFFER + "m=audio 40002 RTP/AVP 0\r\n".repeat(200))],
  [
    "SDP c= with a bad address",
    withHeaders([], OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 999.1.1")),
  ],
  [
    "SDP with no codec we know",
    withHeaders([], OFFER.replace("RTP/AVP 0", "RTP/AVP 99").replace("0 PCMU", "99 FOO")),
  ],
  ["Content-Type not SDP", withHeaders([]).replace("application/sdp", "text/html")],
  ["a 60 KB datagram", withHeaders([], `${OFFER}a=x:${"z".repeat(60_000)}\r\n`)],
];

/** Sends `data`; the first final answer (or the last provisional one) within QUIET_MS. */
async function send(data: string | Buffer): Promise<string | undefined> {
  const from = inbox.length;
  await new Promise<void>((r) =>
    sock.send(
      typeof data === "string" ? Buffer.from(data, "latin1") : data,
      ex.udpPort,
      ex.host,
      () => r(),
    ),
  );
  const deadline = Date.now() + QUIET_MS;
  while (Date.now() < deadline) {
    const got = inbox.slice(from);
    const final = got.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m));
    if (final) return final;
    await sleep(5);
  }
  return inbox.slice(from).at(-1);
}

/** Acknowledges a non-2xx final answer (RFC 3261 §17.1.1.3), so the exchange stops resending it. */
function ackFor(answer: string): void {
  const h = (n: string) => new RegExp(`^${n}\\s*:\\s*(.*)$`, "im").exec(answer)?.[1]?.trim();
  const via = h("Via");
  const cseq = h("CSeq");
  if (!via || !cseq?.endsWith("INVITE")) return;
  const ack = [
    `ACK sip:${USER}@${ex.host}:${ex.udpPort} SIP/2.0`,
    `Via: ${via}`,
    `From: ${h("From")}`,
    `To: ${h("To")}`,
    `Call-ID: ${h("Call-ID")}`,
    `CSeq: ${cseq.split(/\s+/)[0]} ACK`,
    "Max-Forwards: 70",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  sock.send(ack, ex.udpPort, ex.host);
}

let optionsN = 0;
/** The exchange answers OPTIONS (RFC 3261 §11). */
async function exchangeAnswers(): Promise<boolean> {
  optionsN++;
  const port = sock.address().port;
  const callId = `opt-${id()}`;
  const answer = await send(
    [
      `OPTIONS sip:${ex.host}:${ex.udpPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-opt-${id()};rport`,
      `From: <sip:probe@${ex.host}>;tag=${id()}`,
      `To: <sip:${ex.host}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${optionsN} OPTIONS`,
      "Max-Forwards: 70",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
  return Boolean(answer && /^SIP\/2\.0 200 /.test(answer) && answer.includes(callId));
}

type Verdict = "phone" | "exchange" | "provisional" | "dropped";
const tally = { phone: 0, exchange: 0, provisional: 0, dropped: 0 } as Record<Verdict, number>;
const codes = new Map<string, number>();
function judge(answer: string | undefined): Verdict {
  const code = answer && /^SIP\/2\.0 (\d{3})/.exec(answer)?.[1];
  if (!answer || !code) return "dropped";
  // 100 Trying and nothing final within QUIET_MS: relayed, the answer still to come.
  if (Number(code) < 200) return "provisional";
  if (Number(code) >= 300) ackFor(answer);
  // The phone's answers come back through the exchange with its User-Agent.
  const who: Verdict = /^(User-Agent|Server):.*deskphone/im.test(answer) ? "phone" : "exchange";
  codes.set(`${who} ${code}`, (codes.get(`${who} ${code}`) ?? 0) + 1);
  return who;
}

describe("malformed SIP over UDP through the lab exchange to a registered phone", () => {
  it("the hand-made corpus: the exchange answers OPTIONS after each, the phone stays registered", async () => {
    const failures: string[] = [];
    const failedCases = new Set<string>();
    const cases = corpus();
    for (const [name, data] of cases) {
      const v = judge(await send(data));
      tally[v]++;
      if (!(await exchangeAnswers())) failures.push(`${name}: no OPTIONS answer after it`);
      if (phone.agent.registrationState !== "registered")
        failures.push(`${name}: the phone is ${phone.agent.registrationState}`);
      if (failures.some((f) => f.startsWith(`${name}:`))) failedCases.add(name);
    }
    record({
      area: "malformed",
      probe: "malformed SIP over UDP through Kamailio to a registered phone (hand-made)",
      tried: cases.length,
      survived: cases.length - failedCases.size,
      lost: failedCases.size,
      figures: withFailures(
        `the phone answered ${tally.phone}, the exchange ${tally.exchange}, only 100 Trying within ${QUIET_MS} ms ${tally.provisional}, dropped ${tally.dropped}; OPTIONS answered after each; the phone never rang`,
        failures,
      ),
    });
    expect(failures).toEqual([]);
    expect(phone.phone.state.phase.kind).toBe("idle");
  }, 120_000);

  it(`${MUTATIONS} random mutations of a valid INVITE, then a valid call rings and is answered`, async () => {
    const before = { ...tally };
    const failures: string[] = [];
    const valid = Buffer.from(text(invite()), "latin1");
    const mutations = fc.sample(
      fc.oneof(
        // Bytes overwritten at random places.
        fc
          .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 12,
          })
          .map((flips) => {
            const b = Buffer.from(valid);
            for (const [at, v] of flips) b[at] = v;
            return b;
          }),
        // Cut short.
        fc.nat(valid.length - 1).map((n) => valid.subarray(0, n)),
        // A line duplicated or dropped.
        fc.tuple(fc.nat(20), fc.boolean()).map(([i, dup]) => {
          const lines = valid.toString("latin1").split("\r\n");
          const k = i % lines.length;
          if (dup) lines.splice(k, 0, lines[k] as string);
          else lines.splice(k, 1);
          return Buffer.from(lines.join("\r\n"), "latin1");
        }),
      ),
      { numRuns: MUTATIONS, seed: 20261129 },
    );
    let n = 0;
    for (const m of mutations) {
      // Each mutation is its own transaction: a fresh branch and Call-ID where they survived.
      const fresh = Buffer.from(
        m
          .toString("latin1")
          .replace(/branch=z9hG4bK[0-9a-f]+/, `branch=z9hG4bK${id()}`)
          .replace(/Call-ID: [0-9a-f]+@/, `Call-ID: ${id()}@`),
        "latin1",
      );
      tally[judge(await send(fresh))]++;
      n++;
      if (n % 20 === 0 && !(await exchangeAnswers()))
        failures.push(`no OPTIONS answer after mutation ${n}`);
    }
    if (!(await exchangeAnswers())) failures.push("no OPTIONS answer at the end");
    const registeredAtEnd = phone.agent.registrationState === "registered";
    if (!registeredAtEnd) failures.push(`the phone is ${phone.agent.registrationState}`);
    expect(phone.phone.state.phase.kind).toBe("idle");

    // A valid call, do-not-disturb off: it rings and is answered.
    let took = false;
    const caller = new PhoneAgent({ server: ex.wsUrl, user: "3001" });
    try {
      caller.start();
      await registered(caller);
      handset.keypad.press("dnd");
      await waitFor("do-not-disturb off", (s) => !s.dnd);
      const answered = new Promise<void>((r) => caller.once("remote-answered", () => r()));
      caller.dial("valid-1", USER);
      await waitFor("ringing", (s) => s.phase.kind === "ringing");
      handset.lift();
      await answered;
      caller.hangUp("valid-1");
      await waitFor("hung up", (s) => s.phase.kind === "hungUp");
      handset.replace();
      took = true;
    } catch (e) {
      failures.push(`the valid call: ${(e as Error).message.split("\n")[0]}`);
    } finally {
      await caller.stop();
    }
    const d = (k: Verdict) => tally[k] - before[k];
    const top = [...codes.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(", ");
    record({
      area: "malformed",
      probe: "random mutations of a valid INVITE over UDP through Kamailio, then a valid call",
      tried: MUTATIONS,
      survived: Math.max(0, MUTATIONS - failures.length),
      lost: failures.length,
      figures: withFailures(
        `the phone answered ${d("phone")}, the exchange ${d("exchange")}, only 100 Trying within ${QUIET_MS} ms ${d("provisional")}, dropped ${d("dropped")}; answers over both runs: ${top}; OPTIONS answered every 20; still registered, a valid call then rang and was answered`,
        failures,
      ),
    });
    expect(failures).toEqual([]);
    expect(took).toBe(true);
  }, 180_000);
});
