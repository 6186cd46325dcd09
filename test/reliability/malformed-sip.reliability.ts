/**
 * Malformed input, part 2: SIP that no well-behaved exchange sends, written
 * straight down the phone's WebSocket (a stand-in exchange, since the phone
 * takes SIP from nowhere else): bad start lines, missing and duplicated
 * headers, wrong Content-Length, huge headers, broken SDP, binary garbage, and
 * 600 random mutations of a valid INVITE. After each, the phone (the
 * firmware's own buildPhone) must still answer an OPTIONS, and at the end a
 * valid INVITE still gets its answer.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltPhone, buildPhone } from "../../firmware/app/build-phone.ts";
import { MockHandset } from "../../hal/mock.ts";
import { nullAudioAt, validConfig } from "../support/phone-config.ts";
import { FakeExchange, headerOf } from "./fake-exchange.ts";
import { record } from "./ledger.ts";
import { damage, OFFER, type SipText, text } from "./malformed-invite.ts";

const USER = "2001";
let ex: FakeExchange;
let phone: BuiltPhone;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  ex = await FakeExchange.start();
  dir = mkdtempSync(join(tmpdir(), "deskphone-malformed-"));
  const config = validConfig({
    account: { user: USER },
    exchange: { url: ex.url },
    audio: nullAudioAt(8000),
    journal: { path: join(dir, "journal.jsonl") },
  });
  phone = buildPhone(config, new MockHandset(), { log: (l, m) => logs.push(`${l} ${m}`) });
  phone.phone.start();
  await ex.registered;
});
afterAll(async () => {
  await phone?.stop();
  await ex?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const id = () => randomBytes(5).toString("hex");

/** A valid INVITE from the exchange, as header lines and a body. */
function invite(o: { callId?: string; extra?: string[]; body?: string } = {}): SipText {
  const body = o.body ?? OFFER;
  return {
    start: `INVITE sip:${USER}@127.0.0.1 SIP/2.0`,
    headers: [
      `Via: SIP/2.0/WSS 127.0.0.1:${ex.port};branch=z9hG4bK${id()}`,
      "Max-Forwards: 70",
      `From: <sip:3001@127.0.0.1>;tag=${id()}`,
      `To: <sip:${USER}@127.0.0.1>`,
      `Call-ID: ${o.callId ?? id()}`,
      "CSeq: 1 INVITE",
      `Contact: <sip:3001@127.0.0.1:5060;transport=ws>`,
      ...(o.extra ?? []),
      "Content-Type: application/sdp",
      `Content-Length: ${Buffer.byteLength(body)}`,
    ],
    body,
  };
}
const { withHeaders, requiredMissing, lengthsWrong } = damage(invite);

const corpus = (): [string, string | Buffer][] => [
  ["empty message", ""],
  ["binary garbage", randomBytes(300)],
  ["text garbage", "GARBAGE GARBAGE\r\n\r\n"],
  ["start line only", "INVITE\r\n\r\n"],
  ["wrong SIP version", text({ ...invite(), start: `INVITE sip:${USER}@127.0.0.1 SIP/3.0` })],
  ["no Request-URI", text({ ...invite(), start: "INVITE  SIP/2.0" })],
  ["broken Request-URI", text({ ...invite(), start: "INVITE sip:@@@:x SIP/2.0" })],
  ["unknown method", text({ ...invite(), start: `FROB sip:${USER}@127.0.0.1 SIP/2.0` })],
  ["status line only", "SIP/2.0 200\r\n\r\n"],
  ["response to nothing", "SIP/2.0 999 Whatever\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"],
  ...requiredMissing(),
  ["CSeq method differs", withHeaders([]).replace("CSeq: 1 INVITE", "CSeq: 1 BYE")],
  ["CSeq not a number", withHeaders([]).replace("CSeq: 1 INVITE", "CSeq: x INVITE")],
  ["two Call-IDs", withHeaders([`Call-ID: ${id()}`])],
  ["two CSeqs", withHeaders(["CSeq: 7 INVITE"])],
  ["two From headers", withHeaders([`From: <sip:3002@127.0.0.1>;tag=${id()}`])],
  ...lengthsWrong(),
  ["a 64 KB header", withHeaders([`Subject: ${"x".repeat(65_536)}`])],
  ["a 10 KB Alert-Info", withHeaders([`Alert-Info: <http://x/${"y".repeat(10_000)}>`])],
  [
    "1000 Via headers",
    withHeaders(
      Array.from(
        { length: 1000 },
        (_, i) => `Via: SIP/2.0/WSS 10.0.0.${i % 250}:5060;branch=z9hG4bK${i}`,
      ),
    ),
  ],
  ["NUL in a header", withHeaders(["Subject: a\0b"])],
  ["no colon in a header", withHeaders(["Subject"])],
  [
    "SDP without m= line",
    withHeaders([], "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"),
  ],
  ["SDP that is not SDP", withHeaders([], "\u0000\u0001\u0002 definitely not sdp")],
  ["SDP port out of range", withHeaders([], OFFER.replace("40000", "99999"))],
  ["SDP with 500 m= lines", withHeaders([], OFFER + "m=audio 40002 RTP/AVP 0\r\n".repeat(500))],
  [
    "SDP c= with a bad address",
    withHeaders([], OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 999.1.1")),
  ],
  ["Max-Forwards 0", withHeaders([]).replace("Max-Forwards: 70", "Max-Forwards: 0")],
  [
    "BYE for no dialog",
    text({ ...invite({ body: "" }), start: `BYE sip:${USER}@127.0.0.1 SIP/2.0` }),
  ],
  [
    "ACK for nothing",
    text({ ...invite({ body: "" }), start: `ACK sip:${USER}@127.0.0.1 SIP/2.0` }),
  ],
  [
    "CANCEL for nothing",
    text({ ...invite({ body: "" }), start: `CANCEL sip:${USER}@127.0.0.1 SIP/2.0` }),
  ],
  ["re-INVITE for no dialog", withHeaders([]).replace(/^To: (.*)$/m, "To: $1;tag=nosuch")],
];

/** Random damage to a valid INVITE: lines dropped or repeated, a cut, bytes thrown in. */
const mutated = fc
  .record({
    drop: fc.array(fc.nat(12), { maxLength: 3 }),
    repeat: fc.array(fc.nat(12), { maxLength: 3 }),
    cut: fc.option(fc.nat(900), { nil: undefined }),
    noise: fc.array(fc.tuple(fc.nat(900), fc.string({ unit: "binary", maxLength: 8 })), {
      maxLength: 3,
    }),
  })
  .map((d) => {
    const m = invite();
    let lines = [m.start, ...m.headers];
    lines = lines.filter((_, i) => !d.drop.includes(i));
    for (const i of d.repeat) if (lines[i] !== undefined) lines.push(lines[i] as string);
    let t = `${lines.join("\r\n")}\r\n\r\n${m.body}`;
    for (const [at, s] of d.noise) t = t.slice(0, at) + s + t.slice(at);
    return d.cut === undefined ? t : t.slice(0, d.cut);
  });

describe("malformed SIP straight down the phone's WebSocket", () => {
  it("the phone answers an OPTIONS after every malformed message, and still takes a call", async () => {
    let survived = 0;
    const dead: string[] = [];
    const CORPUS = corpus();
    for (const [name, msg] of CORPUS) {
      ex.send(msg);
      if (await ex.alive(USER)) survived += 1;
      else dead.push(name);
    }
    const generated = fc.sample(mutated, { numRuns: 600, seed: 4411 });
    let genSurvived = 0;
    for (let i = 0; i < generated.length; i++) {
      ex.send(generated[i] as string);
      if (i % 25 === 24) {
        if (await ex.alive(USER)) genSurvived += 25;
        else dead.push(`mutation batch ending ${i}`);
      }
    }
    // A valid INVITE still gets decided: 180 (rings), 486 (busy with a malformed one that
    // rang), or 503 (the incoming triage still has ordinary INVITEs waiting: sip/incoming-priority.ts).
    const callId = `final-${id()}`;
    const decided = ex.waitFor(
      (m) => /^SIP\/2\.0 (180|[2-6]\d\d)/.test(m) && headerOf(m, "Call-ID") === callId,
      10_000,
    );
    ex.send(text(invite({ callId })));
    const answer = await decided;
    record({
      area: "malformed",
      probe: "malformed SIP straight down the phone's WebSocket (hand corpus)",
      tried: CORPUS.length,
      survived,
      lost: CORPUS.length - survived,
      figures: dead.length
        ? `no OPTIONS answer after: ${dead.join(", ")}`
        : "OPTIONS answered after each",
    });
    record({
      area: "malformed",
      probe: "random mutations of a valid INVITE down the WebSocket",
      tried: generated.length,
      survived: genSurvived,
      lost: generated.length - genSurvived,
      figures: `a valid INVITE then got ${answer?.split("\r\n")[0] ?? "nothing"}`,
    });
    expect(dead, logs.slice(-20).join("\n")).toEqual([]);
    expect(answer).toBeDefined();
    expect(phone.agent.registrationState).toBe("registered");
  });
});
