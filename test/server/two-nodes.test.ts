/**
 * Two exchange nodes (real Kamailio, WITH_DMQ) on two loopback addresses,
 * sharing one PostgreSQL database (a private cluster): registrations are
 * replicated between them (dmq_usrloc), and a call for a phone whose WebSocket
 * connection is on the other node goes there (the Path stored with its
 * contact) and down that connection. A phone registered on either node is
 * reachable from the other, and an emergency number dialled on either node
 * reaches its bound phone marked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import type { IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";
import { type LabNodes, startLabNodes } from "../support/lab-nodes.ts";
import { type LabPostgres, startLabPostgres } from "../support/lab-postgres.ts";
import { header, RawSipCaller } from "./raw-sip-caller.ts";
import { ackReached, type Reached, recordingAgent } from "./recording-agent.ts";

let pg: LabPostgres;
let nodes: LabNodes;
const agents: PhoneAgent[] = [];
const incoming = new Map<string, IncomingCall[]>();
const invites = new Map<string, string[]>();
const acks = new Map<string, string[]>();
const reached: Reached = { invites, incoming, acks };
const callers: RawSipCaller[] = [];

async function phoneOn(node: 0 | 1, user: string, answer: boolean): Promise<PhoneAgent> {
  const ex = nodes.nodes[node];
  const a = recordingAgent(ex.wsUrl, user, answer, reached);
  agents.push(a);
  await new Promise<void>((resolve, reject) => {
    a.on("registration", (s, why) => {
      if (s === "registered") resolve();
      else if (s === "unregistered") reject(new Error(why));
    });
    a.start();
  });
  return a;
}

async function callerOn(node: 0 | 1, from: string): Promise<RawSipCaller> {
  const c = await RawSipCaller.open(nodes.nodes[node], from);
  callers.push(c);
  return c;
}

beforeAll(async () => {
  pg = await startLabPostgres();
  nodes = await startLabNodes({
    db: await pg.createDatabase("exchange"),
    // DESKPHONE_EXCHANGE_CFG points a run at another cfg (to see this test fail on it).
    ...(process.env.DESKPHONE_EXCHANGE_CFG && { cfg: process.env.DESKPHONE_EXCHANGE_CFG }),
  });
  const [n1] = nodes.nodes;
  n1.table.bind("112", "2501"); // A, on node 1
  n1.table.bind("113", "2502"); // B, on node 2
  n1.table.setNumber("113", { alertInfo: "<urn:alert:priority:high>" });
  await phoneOn(0, "2501", false);
  await phoneOn(1, "2502", true);
  await nodes.replicated("2501", 1);
  await nodes.replicated("2502", 0);
}, 90_000);

afterAll(async () => {
  for (const c of callers) c.close();
  await Promise.all(agents.map((a) => a.stop()));
  await nodes?.stop();
  await pg?.stop();
});

describe("two exchange nodes sharing PostgreSQL, registrations replicated (DMQ)", () => {
  it("an emergency number dialled on node 2 rings phone A, registered on node 1, marked", async () => {
    const caller = await callerOn(1, "3501");
    const { answer } = await caller.invite("112");
    expect(answer?.code, nodes.logs()).toBe(486);
    const calls = incoming.get("2501") ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]?.alertInfo).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
    expect(calls[0]?.priority).toBe("emergency");
    // It came down A's own connection from node 1, after node 2 had marked it.
    const m = invites.get("2501")?.[0] ?? "";
    expect(header(m, "Record-Route").join(",")).toContain(`${nodes.nodes[0].host}:`);
    expect(nodes.nodes[1].log()).toMatch(/emergency call to 112 from 3501/);
  });

  it("and the reverse: dialled on node 1, phone B on node 2 rings marked, answers, and the call ends through both nodes", async () => {
    const caller = await callerOn(0, "3502");
    const { answer, dialog } = await caller.invite("113");
    expect(answer?.code, nodes.logs()).toBe(200);
    const calls = incoming.get("2502") ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]?.alertInfo).toEqual(["<urn:alert:priority:high>"]);
    expect(calls[0]?.priority).toBe("emergency");
    if (!dialog) throw new Error("no dialog");
    // The call is up at the phone once its ACK came through both nodes: then the BYE.
    await ackReached(reached, "2502", dialog.callId);
    expect((await caller.bye(dialog))?.code).toBe(200);
  });

  it("an ordinary call from node 1 to a phone on node 2 arrives unmarked, and a forged mark is stripped", async () => {
    const caller = await callerOn(0, "3503");
    const before = invites.get("2502")?.length ?? 0;
    const { answer, dialog } = await caller.invite("2502", {
      headers: ["Alert-Info: <http://evil.invalid/x>;info=alert-emergency", "Priority: emergency"],
    });
    expect(answer?.code, nodes.logs()).toBe(200);
    const m = invites.get("2502")?.[before] ?? "";
    expect(m).toMatch(/^INVITE /);
    expect(header(m, "Alert-Info")).toEqual([]);
    expect(header(m, "Priority")).toEqual([]);
    if (dialog) {
      await ackReached(reached, "2502", dialog.callId);
      await caller.bye(dialog);
    }
  });
});
