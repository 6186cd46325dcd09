/**
 * RFC 4028 session timers through the real lab Kamailio: a caller that stops
 * refreshing, a far end that vanished, and two of our phones refreshing a
 * call past its interval. The intervals are a few seconds so the tests stay
 * short: the phones' Min-SE is lowered with the test-only
 * `minSessionExpiresS` (RFC 4028 §5 says never below 90 s).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import type { EndCause, PhoneAgent, PhoneAgentOptions } from "../../sip/phone-agent.ts";
import { PhoneAgent as Agent } from "../../sip/phone-agent.ts";
import { header } from "../support/lab-phones.ts";
import { startSipp } from "../support/sipp.ts";

let ex: LabExchange;
const agents: PhoneAgent[] = [];
beforeAll(async () => {
  ex = await startLabExchange();
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await ex?.stop();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Phone {
  agent: PhoneAgent;
  /** Every SIP message on the wire, with its direction. */
  wire: { dir: "in" | "out"; text: string }[];
  ended: { callId: string; cause: EndCause; at: number }[];
  answeredAt: Map<string, number>;
}

/** One of our SIP agents, registered, answering every call at once. */
async function phone(
  user: string,
  o: Partial<PhoneAgentOptions> = {},
  exchange = ex,
): Promise<Phone> {
  const wire: Phone["wire"] = [];
  const agent = new Agent({
    server: exchange.wsUrl,
    user,
    minSessionExpiresS: 1,
    wireTap: (dir, text) => wire.push({ dir, text }),
    ...o,
  });
  agents.push(agent);
  const p: Phone = { agent, wire, ended: [], answeredAt: new Map() };
  agent.on("incoming", (c) => {
    void agent.answer(c.callId).then(() => p.answeredAt.set(c.callId, performance.now()));
  });
  agent.on("remote-ended", (callId, cause) =>
    p.ended.push({ callId, cause, at: performance.now() }),
  );
  const registered = new Promise<void>((r) =>
    agent.on("registration", (s) => s === "registered" && r()),
  );
  agent.start();
  await registered;
  return p;
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const SDP = `v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000`;

/**
 * A sipp caller whose INVITE asks for a session timer (`sessionExpires`, with
 * Supported: timer), then, following the route set: `afterAck`.
 */
function timerCaller(o: { from: string; to: string; sessionExpires: string; afterAck: string }) {
  const common = `From: <sip:${o.from}@[remote_ip]>;tag=[pid]uac[call_number]
Call-ID: [call_id]`;
  return `<?xml version="1.0" encoding="ISO-8859-1"?>
<scenario name="session timer caller">
<send><![CDATA[
INVITE sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${common}
To: <sip:${o.to}@[remote_ip]>
CSeq: 1 INVITE
Contact: <sip:${o.from}@[local_ip]:[local_port]>
Max-Forwards: 70
Supported: timer
Session-Expires: ${o.sessionExpires}
Content-Type: application/sdp
Content-Length: [len]

${SDP}
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${common}
To: <sip:${o.to}@[remote_ip]>[peer_tag_param]
CSeq: 1 ACK
Contact: <sip:${o.from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
${o.afterAck}
</scenario>
`;
}

/** sipp's answer to a request it received (BYE: no body; re-INVITE: an SDP answer). */
const reply = (sdp: boolean) => `<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipp@[local_ip]:[local_port]>
${sdp ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${SDP}` : "Content-Length: 0"}
]]></send>`;

const target = () => `${ex.host}:${ex.udpPort}`;

describe("RFC 4028 session timers", () => {
  it("ends a call whose caller stops refreshing, with BYE and the Reason, before the interval", async () => {
    const p = await phone("2101");
    const sipp = await startSipp({
      target: target(),
      timeoutS: 20,
      xml: timerCaller({
        from: "3101",
        to: "2101",
        sessionExpires: "6;refresher=uac",
        // Never refreshes: waits for the phone's BYE and answers it.
        afterAck: `<recv request="BYE" timeout="15000"/>\n${reply(false)}`,
      }),
    });
    const result = await sipp.done;
    expect(result.code, `${result.errors}\n${result.messages.join("\n---\n")}`).toBe(0);
    const ok = result.messages.find((m) => /^SIP\/2\.0 200/.test(m) && /INVITE/.test(m)) ?? "";
    // §9: the interval and refresher the caller asked for; Require: timer as it supports timers.
    expect(header(ok, "Session-Expires")).toEqual(["6;refresher=uac"]);
    expect(header(ok, "Require")).toEqual(["timer"]);
    const bye = result.messages.find((m) => /^BYE /.test(m)) ?? "";
    expect(header(bye, "Reason")).toEqual(['SIP ;cause=408 ;text="Session expired"']);
    const [end] = p.ended;
    expect(end?.cause).toBe("session-expired");
    // §10: BYE at interval − min(32, interval/3) = 4 s after the answer, before 6 s.
    const after = (end?.at ?? 0) - (p.answeredAt.get(end?.callId ?? "") ?? 0);
    expect(after).toBeGreaterThan(3500);
    expect(after).toBeLessThan(5500);
  }, 20_000);

  it("ends a call whose far end vanished: the phone's refresh goes unanswered", async () => {
    const p = await phone("2102");
    const sipp = await startSipp({
      target: target(),
      timeoutS: 30,
      xml: timerCaller({
        from: "3102",
        to: "2102",
        // The phone refreshes (§9: it copies the refresher asked for).
        sessionExpires: "6;refresher=uas",
        // Takes the first refresh, then is killed by the test.
        afterAck: `<recv request="INVITE"/>\n${reply(true)}\n<recv request="ACK"/>\n<pause milliseconds="30000"/>`,
      }),
    });
    const refresh = await sipp.waitFor(/^INVITE /, 6000);
    // §7.4: the refresh names the phone (its UAC) the refresher and keeps the interval.
    expect(header(refresh, "Session-Expires")).toEqual(["6;refresher=uac"]);
    expect(header(refresh, "Supported").join(",")).toMatch(/\btimer\b/);
    // The refresh went through (the phone ACKed sipp's 200) before sipp is killed.
    await until(
      "the phone's ACK to the refresh's 200",
      () => p.wire.some((w) => w.dir === "out" && /^ACK /.test(w.text)),
      5000,
    );
    const killedAt = performance.now();
    await sipp.stop();
    expect(p.ended).toEqual([]);
    const end = await until("the call to end", () => p.ended[0], 8000);
    expect(end.cause).toBe("session-expired");
    // The next refresh (3 s after the first) got no answer; expiry 4 s after the first refresh.
    expect(end.at - killedAt).toBeLessThan(5000);
    const bye = p.wire.find((w) => w.dir === "out" && /^BYE /.test(w.text))?.text ?? "";
    expect(header(bye, "Reason")).toEqual(['SIP ;cause=408 ;text="Session expired"']);
  }, 20_000);

  it("keeps a call the caller refreshes alive past its interval (two of our phones)", async () => {
    const a = await phone("2103", { sessionExpiresS: 6 });
    const b = await phone("2104");
    const answered = new Promise<void>((r) => a.agent.once("remote-answered", () => r()));
    a.agent.dial("out-1", "2104");
    await answered;
    await sleep(10_000);
    // Alive on both sides after 10 s, well past the 6 s interval.
    expect(a.ended).toEqual([]);
    expect(b.ended).toEqual([]);
    const out = (p: Phone, re: RegExp) => p.wire.filter((w) => w.dir === "out" && re.test(w.text));
    const invites = out(a, /^INVITE /).map((w) => w.text);
    // §7.1: the first INVITE asks for 6 s and names Min-SE; Supported: timer.
    expect(header(invites[0] ?? "", "Session-Expires")).toEqual(["6"]);
    expect(header(invites[0] ?? "", "Supported").join(",")).toMatch(/\btimer\b/);
    // §9: B left the refreshing to the caller, which supports timers.
    const firstOk = out(b, /^SIP\/2\.0 200/).map((w) => w.text)[0] ?? "";
    expect(header(firstOk, "Session-Expires")).toEqual(["6;refresher=uac"]);
    expect(header(firstOk, "Require")).toEqual(["timer"]);
    // §10: refreshes at half the interval (3 s): three in 10 s, each answered with the interval.
    const refreshes = invites.slice(1);
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    for (const r of refreshes) expect(header(r, "Session-Expires")).toEqual(["6;refresher=uac"]);
    const refreshOks = out(b, /^SIP\/2\.0 200/).filter((w) => /CSeq:\s*\d+ INVITE/i.test(w.text));
    expect(refreshOks.length).toBeGreaterThanOrEqual(refreshes.length);
    for (const r of refreshOks.slice(1))
      expect(header(r.text, "Session-Expires")).toEqual(["6;refresher=uac"]);
    a.agent.hangUp("out-1");
    const end = await until("B to hear the BYE", () => b.ended[0], 5000);
    expect(end.cause).toBe("bye");
  }, 20_000);

  it("calls again with the Min-SE a 422 names (RFC 4028 §7.1)", async () => {
    const a = await phone("2105", { sessionExpiresS: 4 });
    const b = await phone("2106", { minSessionExpiresS: 8 });
    const refused: number[] = [];
    b.agent.on("refused", (_id, code) => refused.push(code));
    const answered = new Promise<string>((r) => {
      a.agent.once("remote-answered", () => r("answered"));
      a.agent.once("remote-ended", (_id, cause, code) => r(`ended: ${cause} ${code}`));
    });
    a.agent.dial("out-2", "2106");
    expect(await answered).toBe("answered");
    expect(refused).toEqual([422]);
    const invites = a.wire.filter((w) => w.dir === "out" && /^INVITE /.test(w.text));
    expect(invites.map((w) => header(w.text, "Session-Expires")[0])).toEqual(["4", "8"]);
    const tooSmall = a.wire.find((w) => w.dir === "in" && /^SIP\/2\.0 422/.test(w.text));
    expect(header(tooSmall?.text ?? "", "Min-SE")).toEqual(["8"]);
    a.agent.hangUp("out-2");
    const end = await until("B to hear the BYE", () => b.ended[0], 5000);
    expect(end.cause).toBe("bye");
    expect(a.ended).toEqual([]);
  }, 20_000);

  it("ends the call on both phones when the exchange vanishes mid-call", async () => {
    const own = await startLabExchange();
    try {
      const a = await phone("2107", { sessionExpiresS: 6 }, own);
      const b = await phone("2108", {}, own);
      const answered = new Promise<void>((r) => a.agent.once("remote-answered", () => r()));
      a.agent.dial("out-3", "2108");
      await answered;
      // A's ACK has reached B (its dialog confirmed) before the exchange goes.
      await until(
        "A's ACK at B",
        () => b.wire.some((w) => w.dir === "in" && /^ACK /.test(w.text)),
        5000,
      );
      const killedAt = performance.now();
      await own.kill();
      // A's refresh cannot go out and B hears none: both expire 4 s after the answer.
      const [ea, eb] = await Promise.all([
        until("A's call to end", () => a.ended[0], 8000),
        until("B's call to end", () => b.ended[0], 8000),
      ]);
      expect([ea.cause, eb.cause]).toEqual(["session-expired", "session-expired"]);
      expect(ea.at - killedAt).toBeLessThan(5000);
      expect(eb.at - killedAt).toBeLessThan(5000);
    } finally {
      await own.stop();
    }
  }, 20_000);
});
