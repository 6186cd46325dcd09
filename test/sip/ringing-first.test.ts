/**
 * The 180 leaves first (sip/ws-transport.ts): sip.js sends 100 Trying the
 * moment it takes an INVITE; the transport holds it to the end of the turn
 * and drops it when the phone's 180 (or a final answer) to that INVITE went
 * out meanwhile (RFC 3261 §17.2.1: the 100 is needed only when the answer may
 * take more than 200 ms). The phone agent over its real WebSocket, against a
 * stand-in exchange that writes the INVITEs and records every frame.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { FakeExchange, headerOf } from "../reliability/fake-exchange.ts";

let ex: FakeExchange;
let agent: PhoneAgent;
/** What the test does when the phone reports a call. */
let onIncoming: (callId: string) => void = () => {};

const id = () => randomBytes(5).toString("hex");
const SDP = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
  .concat(["m=audio 40000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", ""])
  .join("\r\n");

function invite(callId: string, codec = "0"): string {
  const body = SDP.replace("RTP/AVP 0", `RTP/AVP ${codec}`);
  return [
    "INVITE sip:2001@127.0.0.1;transport=ws SIP/2.0",
    `Via: SIP/2.0/WS 127.0.0.1:${ex.port};branch=z9hG4bK${id()}`,
    "Max-Forwards: 70",
    `From: <sip:3001@127.0.0.1>;tag=${id()}`,
    "To: <sip:2001@127.0.0.1>",
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
    "Contact: <sip:3001@127.0.0.1:5062;transport=ws>",
    "Content-Type: application/sdp",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/** The status lines the phone sent for one call, in order. */
const answers = (callId: string) =>
  ex.received
    .filter((m) => m.startsWith("SIP/2.0 ") && headerOf(m, "Call-ID") === callId)
    .map((m) => m.slice(8, 11));

beforeAll(async () => {
  ex = await FakeExchange.start();
  agent = new PhoneAgent({ server: ex.url, user: "2001" });
  agent.on("incoming", (c) => onIncoming(c.callId));
  agent.start();
  await ex.registered;
});
afterAll(async () => {
  await agent?.stop();
  await ex?.stop();
});

describe("the 180 leaves first", () => {
  it("a call rung at once gets its 180 and no 100 Trying", async () => {
    onIncoming = (callId) => agent.ringing(callId);
    const callId = `first-${id()}`;
    const rung = ex.waitFor(
      (m) => m.startsWith("SIP/2.0 180") && headerOf(m, "Call-ID") === callId,
    );
    ex.send(invite(callId));
    expect(await rung).toBeDefined();
    await new Promise((r) => setTimeout(r, 50)); // a 100 held to the turn's end would be out now
    expect(answers(callId)).toEqual(["180"]);
  });

  it("a call refused at once (488, no common codec) gets its answer alone", async () => {
    const callId = `refused-${id()}`;
    const refused = ex.waitFor(
      (m) => m.startsWith("SIP/2.0 488") && headerOf(m, "Call-ID") === callId,
    );
    ex.send(invite(callId, "18")); // G.729 only
    expect(await refused).toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(answers(callId)).toEqual(["488"]);
  });

  it("an INVITE sip.js cannot take (its Request-URI) is dropped; the phone still answers", async () => {
    onIncoming = (callId) => agent.ringing(callId);
    const broken = invite(`broken-${id()}`).replace(
      "INVITE sip:2001@127.0.0.1;transport=ws SIP/2.0",
      "INVITE sip:@@@:x SIP/2.0",
    );
    ex.send(broken);
    expect(await ex.alive("2001")).toBe(true);
    const callId = `after-${id()}`;
    const rung = ex.waitFor(
      (m) => m.startsWith("SIP/2.0 180") && headerOf(m, "Call-ID") === callId,
    );
    ex.send(invite(callId));
    expect(await rung).toBeDefined();
  });

  it("a call the phone takes its time over gets 100 Trying at the end of the turn, then the 180", async () => {
    onIncoming = (callId) => setTimeout(() => agent.ringing(callId), 100);
    const callId = `later-${id()}`;
    const trying = ex.waitFor(
      (m) => m.startsWith("SIP/2.0 100") && headerOf(m, "Call-ID") === callId,
    );
    const rung = ex.waitFor(
      (m) => m.startsWith("SIP/2.0 180") && headerOf(m, "Call-ID") === callId,
    );
    ex.send(invite(callId));
    expect(await trying).toBeDefined();
    expect(await rung).toBeDefined();
    expect(answers(callId)).toEqual(["100", "180"]);
  });
});
