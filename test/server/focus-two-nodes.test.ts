/**
 * The conference focus with two exchange nodes (WITH_DMQ, one private
 * PostgreSQL): the focus registered on node 1, one bound phone on each node,
 * the caller on node 2. The call crosses to the focus's node, and the focus's
 * INVITEs reach both phones marked (the one on node 2 through node 1's
 * hand-over); the room ends with the caller.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SILENCE } from "../../audio/frame-source.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import { type IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";
import { type LabNodes, startLabNodes } from "../support/lab-nodes.ts";
import { type LabPostgres, startLabPostgres } from "../support/lab-postgres.ts";
import { type FocusProcess, startFocus, until as waitUntil } from "./focus-process.ts";

let pg: LabPostgres;
let nodes: LabNodes;
let focus: FocusProcess | undefined;
const agents: PhoneAgent[] = [];
const out = () => focus?.out() ?? "";

const until = (what: string, test: () => boolean, ms?: number) =>
  waitUntil(what, test, () => `focus:\n${out().slice(-2000)}\n${nodes.logs().slice(-3000)}`, ms);

async function party(node: 0 | 1, user: string) {
  const agent = new PhoneAgent({ server: nodes.nodes[node].wsUrl, user });
  agents.push(agent);
  const incoming: IncomingCall[] = [];
  const ended: string[] = [];
  agent.on("media", (_id, m) => m instanceof RtpSession && m.startSending(SILENCE));
  agent.on("incoming", (c) => {
    incoming.push(c);
    void agent.answer(c.callId).catch(() => {});
  });
  agent.on("remote-ended", (id, cause) => ended.push(`${id} ${cause}`));
  const registered = new Promise<void>((r) =>
    agent.on("registration", (s) => s === "registered" && r()),
  );
  agent.start();
  await registered;
  return { agent, incoming, ended };
}

beforeAll(async () => {
  pg = await startLabPostgres();
  nodes = await startLabNodes({ db: await pg.createDatabase("exchange") });
  for (const u of ["2601", "2602"]) nodes.nodes[0].table.bind("124", u);
  focus = startFocus(nodes.nodes[0].wsUrl);
  await until("the focus registered", () => /registration: registered/.test(out()));
  await nodes.replicated("focus", 1);
}, 90_000);

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => {});
  await focus?.stop();
  await nodes?.stop();
  await pg?.stop();
});

describe("the conference focus with two exchange nodes", () => {
  it("a caller on node 2 reaches the focus on node 1, which calls in a phone on each node", async () => {
    const a = await party(0, "2601");
    const b = await party(1, "2602");
    await nodes.replicated("2601", 1);
    await nodes.replicated("2602", 0);
    const caller = await party(1, "3601");
    const answered = new Promise<void>((r) => caller.agent.once("remote-answered", () => r()));
    caller.agent.dial("c", "124");
    await answered;
    await until("both joined", () => /2601 joined/.test(out()) && /2602 joined/.test(out()));
    for (const p of [a, b]) {
      expect(p.incoming[0]).toMatchObject({
        alertInfo: [DEFAULT_EMERGENCY_ALERT_INFO],
        priority: "emergency",
        trusted: true,
      });
    }
    caller.agent.hangUp("c");
    await until("the room ended", () => /ended \(the caller left\)/.test(out()));
    await until("both hung up on", () => a.ended.length === 1 && b.ended.length === 1);
  }, 40_000);
});
