/**
 * The focus on an exchange with digest auth (WITH_AUTH), as deployed: it
 * registers and INVITEs with its subscriber password from a file
 * (--password-file, the unit's credential). A focus that cannot register
 * (wrong password) takes no rooms: the exchange rings the bound users in
 * parallel as it did before there was a focus, and says so in its log.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SILENCE } from "../../audio/frame-source.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";
import { type FocusProcess, startFocus } from "./focus-process.ts";

let ex: LabExchange;
const dir = mkdtempSync(join(tmpdir(), "deskphone-focus-auth-"));
const agents: PhoneAgent[] = [];
const focuses: FocusProcess[] = [];

/** The focus registering with `password`, from a file as its unit passes it. */
function focus(password: string): FocusProcess {
  const file = join(dir, `pw-${focuses.length}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  const f = startFocus(ex.wsUrl, ["--password-file", file]);
  focuses.push(f);
  return f;
}

async function party(user: string) {
  const agent = new PhoneAgent({ server: ex.wsUrl, user, password: `pw-${user}` });
  agents.push(agent);
  const incoming: IncomingCall[] = [];
  agent.on("media", (_id, m) => m instanceof RtpSession && m.startSending(SILENCE));
  agent.on("incoming", (c) => {
    incoming.push(c);
    void agent.answer(c.callId).catch(() => {});
  });
  const registered = new Promise<void>((r) =>
    agent.on("registration", (s) => s === "registered" && r()),
  );
  agent.start();
  await registered;
  return { agent, incoming };
}

beforeAll(async () => {
  ex = await startLabExchange({ auth: true });
  for (const u of ["2501", "2502", "3501", "3502"]) ex.table.setSubscriber(u, `pw-${u}`);
  ex.table.setSubscriber("focus", "focus-secret");
  for (const u of ["2501", "2502"]) ex.table.bind("123", u);
}, 30_000);

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => {});
  for (const f of focuses) await f.stop();
  await ex?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the focus on an exchange with digest auth", () => {
  it("registers and calls the bound users in with its password file", async () => {
    const f = focus("focus-secret");
    await f.registered();
    const [p1, p2] = [await party("2501"), await party("2502")];
    const caller = await party("3501");
    caller.agent.dial("c", "123");
    await f.until("both joined", () => /2501 joined/.test(f.out()) && /2502 joined/.test(f.out()));
    expect(p1.incoming[0]?.priority).toBe("emergency");
    expect(p2.incoming[0]?.priority).toBe("emergency");
    caller.agent.hangUp("c");
    await f.until("ended", () => /ended \(the caller left\)/.test(f.out()));
    await f.stop();
  }, 30_000);

  it("with a wrong password it takes no rooms: the exchange forks to the bound users as before", async () => {
    const f = focus("wrong");
    await f.until("refused", () => /REGISTER refused: 401/.test(f.out()));
    const caller = await party("3502");
    const answered = new Promise<void>((r) => caller.agent.once("remote-answered", () => r()));
    caller.agent.dial("c", "123");
    await answered;
    expect(ex.log()).toMatch(
      /emergency call to 123: no conference focus registered; ringing the bound users in parallel/,
    );
    expect(f.out()).not.toMatch(/room /);
    caller.agent.hangUp("c");
  }, 30_000);
});
