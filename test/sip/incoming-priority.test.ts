/**
 * The incoming triage's line (sip/incoming-priority.ts) on its own, fed the
 * text of INVITEs as the exchange writes them: a lone ordinary INVITE goes to
 * sip.js at once — no turn waited, no 100 of the triage's (sip.js sends its
 * own) — while a burst still goes `perTurn` a turn and the bucket's rate, the
 * rest answered 100 and waiting. The flood through a real Kamailio is
 * test/sip/incoming-flood.test.ts.
 */
import { describe, expect, it } from "vitest";
import { IncomingPriority } from "../../sip/incoming-priority.ts";

let seq = 0;
function invite(): string {
  const n = ++seq;
  return [
    "INVITE sip:2001@127.0.0.1;transport=ws SIP/2.0",
    `Via: SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bKline${n}`,
    "Max-Forwards: 69",
    `From: <sip:3001@127.0.0.1>;tag=f${n}`,
    "To: <sip:2001@127.0.0.1>",
    `Call-ID: line-${n}`,
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

function line(o: ConstructorParameters<typeof IncomingPriority>[1] = {}) {
  const delivered: string[] = [];
  const replies: string[] = [];
  const triage = new IncomingPriority(
    {
      deliver: (m) => delivered.push(/^Call-ID: (.*)$/m.exec(m)?.[1] ?? ""),
      reply: (m) =>
        replies.push(`${m.slice(0, m.indexOf("\r\n"))} ${/^Call-ID: (.*)$/m.exec(m)?.[1]}`),
      verified: () => true,
    },
    o,
  );
  return { triage, delivered, replies };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe("the incoming triage's line", () => {
  it("hands a lone ordinary INVITE to sip.js at once, without a 100 of its own", () => {
    const { triage, delivered, replies } = line();
    const m = invite();
    triage.offer(m);
    expect(delivered).toEqual([`line-${seq}`]);
    expect(replies).toEqual([]);
    expect(triage.waiting).toBe(0);
  });

  it("still hands a burst on `perTurn` a turn (those at once count), the rest answered 100", async () => {
    const { triage, delivered, replies } = line({ perTurn: 2, ordinaryBurst: 10 });
    const first = seq + 1;
    for (let i = 0; i < 5; i++) triage.offer(invite());
    // This turn's share (2) at once; the rest wait, each answered 100 Trying (§17.2.1).
    expect(delivered).toEqual([`line-${first}`, `line-${first + 1}`]);
    expect(replies).toEqual([2, 3, 4].map((k) => `SIP/2.0 100 Trying line-${first + k}`));
    await nextTurn(); // the end of this turn: its share is spent
    expect(delivered).toHaveLength(2);
    await nextTurn();
    expect(delivered).toHaveLength(4);
    await nextTurn();
    expect(delivered).toHaveLength(5);
    expect(delivered).toEqual([0, 1, 2, 3, 4].map((k) => `line-${first + k}`));
  });

  it("keeps to the bucket: past the burst an INVITE waits, even with nobody in the line", async () => {
    const { triage, delivered, replies } = line({ ordinaryBurst: 2, ordinaryPerSecond: 1 });
    triage.offer(invite());
    await nextTurn();
    triage.offer(invite());
    await nextTurn();
    expect(delivered).toHaveLength(2);
    const third = invite();
    triage.offer(third);
    await nextTurn();
    expect(delivered).toHaveLength(2);
    expect(triage.waiting).toBe(1);
    expect(replies).toEqual([`SIP/2.0 100 Trying line-${seq}`]);
    triage.clear();
  });
});
