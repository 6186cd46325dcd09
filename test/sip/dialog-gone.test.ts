/**
 * RFC 3261 §12.2.1.2: an in-dialog request answered 481 Call/Transaction Does
 * Not Exist (or 408) means the dialog is gone, and the call ends — reported
 * as `dialog-gone` with the code, ended with a BYE whose Reason says so, and
 * journalled with that reason. Through the real lab Kamailio; the far end is a
 * sipp phone that answers the call, then answers one in-dialog request with
 * the code (and the BYE with 481: it has no dialog).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type EndCause, PhoneAgent } from "../../sip/phone-agent.ts";
import { startLabPhone } from "../support/lab-phone.ts";
import { registerPhone } from "../support/lab-phones.ts";

let ex: LabExchange;
const agents: PhoneAgent[] = [];
beforeAll(async () => {
  ex = await startLabExchange();
}, 30_000);
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await ex?.stop();
});

const SDP = `v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000`;

const reply = (status: string, o: { tag?: boolean; sdp?: boolean } = {}) => `<send><![CDATA[
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:]${o.tag ? ";tag=[pid]uas[call_number]" : ""}
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:phone@[local_ip]:[local_port]>
${o.sdp ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${SDP}` : "Content-Length: 0"}
]]></send>`;

/**
 * A far end that answers, then answers the first `request` (INVITE or INFO)
 * inside the dialog with `status`, as if it had lost the call, and the BYE
 * that follows with 481.
 */
function losesDialog(request: "INVITE" | "INFO", status: string): string {
  return `<?xml version="1.0" encoding="ISO-8859-1"?>
<scenario name="answers, then has lost the dialog">
<recv request="INVITE" crlf="true"/>
${reply("200 OK", { tag: true, sdp: true })}
<recv request="ACK" crlf="true"/>
<recv request="${request}"/>
${reply(status)}
${request === "INVITE" ? '<recv request="ACK"/>' : ""}
<recv request="BYE"/>
${reply("481 Call/Transaction Does Not Exist")}
</scenario>
`;
}

interface Agent {
  agent: PhoneAgent;
  wire: string[];
  /** Every message in and out, with when the phone's transport saw it (performance.now). */
  timed: { dir: "in" | "out"; text: string; at: number }[];
  ended: { callId: string; cause: EndCause; code: number | undefined }[];
}

async function agent(user: string, o: { sessionExpiresS?: number } = {}): Promise<Agent> {
  const wire: string[] = [];
  const a = new PhoneAgent({
    server: ex.wsUrl,
    user,
    minSessionExpiresS: 1,
    ...o,
    wireTap: (dir, text) => {
      if (dir === "out") wire.push(text);
      r.timed.push({ dir, text, at: performance.now() });
    },
  });
  agents.push(a);
  const r: Agent = { agent: a, wire, timed: [], ended: [] };
  a.on("remote-ended", (callId, cause, code) => r.ended.push({ callId, cause, code }));
  const registered = new Promise<void>((ok) =>
    a.on("registration", (s) => s === "registered" && ok()),
  );
  a.start();
  await registered;
  return r;
}

async function until<T>(what: string, f: () => T | undefined, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const byeReason = (wire: string[]) =>
  /^Reason:\s*(.*)$/im.exec(wire.find((m) => /^BYE /.test(m)) ?? "")?.[1]?.trim();

describe("an in-dialog request answered 481 or 408 ends the call", () => {
  it("hold's re-INVITE answered 481: dialog-gone (481), BYE with the Reason", async () => {
    const far = await registerPhone(
      ex,
      "2404",
      losesDialog("INVITE", "481 Call/Transaction Does Not Exist"),
    );
    try {
      const a = await agent("2401");
      const answered = new Promise<void>((r) => a.agent.once("remote-answered", () => r()));
      a.agent.dial("out-1", "2404");
      await answered;
      a.agent.hold("out-1", true);
      const end = await until("the call to end", () => a.ended[0]);
      expect(end).toEqual({ callId: "out-1", cause: "dialog-gone", code: 481 });
      expect(byeReason(a.wire)).toBe('SIP ;cause=481 ;text="Call/Transaction Does Not Exist"');
      expect((await far.done).code).toBe(0);
    } finally {
      await far.stop();
    }
  }, 20_000);

  it("the session refresh answered 481: dialog-gone (481), before the session would expire", async () => {
    const far = await registerPhone(
      ex,
      "2405",
      losesDialog("INVITE", "481 Call/Transaction Does Not Exist"),
    );
    try {
      // The far end's 200 names no timer: we refresh, at half of 4 s (RFC 4028 §7.2, §10).
      const a = await agent("2402", { sessionExpiresS: 4 });
      const answered = new Promise<void>((r) => a.agent.once("remote-answered", () => r()));
      a.agent.dial("out-2", "2405");
      await answered;
      const end = await until("the call to end", () => a.ended[0]);
      // Ended by the refresh's 481: had the session expired first, the cause would say so.
      expect(end).toEqual({ callId: "out-2", cause: "dialog-gone", code: 481 });
      // The refresh left at half the interval (2 s after the 200 OK, RFC 4028 §10), before
      // expiry (4 − 4/3 s ≈ 2.7 s): timed on the phone's own wire, not the test's turns.
      const ok = a.timed.find(
        (w) => w.dir === "in" && /^SIP\/2\.0 200/.test(w.text) && /^CSeq:.*INVITE/im.test(w.text),
      );
      const refresh = a.timed.filter((w) => w.dir === "out" && /^INVITE /.test(w.text))[1];
      const after = (refresh?.at ?? Number.NaN) - (ok?.at ?? Number.NaN);
      expect(after).toBeGreaterThan(1900);
      expect(after).toBeLessThan(2600);
      expect((await far.done).code).toBe(0);
    } finally {
      await far.stop();
    }
  }, 20_000);

  it("DTMF sent as INFO answered 408: the phone ends the call and journals why", async () => {
    const far = await registerPhone(ex, "2406", losesDialog("INFO", "408 Request Timeout"));
    const p = await startLabPhone(ex, "2403");
    try {
      p.phone.hook(true);
      for (const k of ["2", "4", "0", "6", "#"] as const) p.phone.key(k);
      await p.waitFor("talking", (s) => s.phase.kind === "talking");
      // The far end's SDP offers no telephone-event (RFC 4733): the digit goes as INFO.
      p.phone.key("5");
      await p.waitFor("the call to end", (s) => s.phase.kind === "hungUp");
      expect(p.journal.at(-1)).toMatchObject({ event: "ended", reason: "dialog-gone (408)" });
      expect(p.logs.join("\n")).toMatch(/INFO answered 408: the dialog is gone/);
      expect((await far.done).code).toBe(0);
    } finally {
      await p.stop();
      await far.stop();
    }
  }, 20_000);
});
