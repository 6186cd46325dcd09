/**
 * The focus on an exchange with digest auth (WITH_AUTH), as deployed: it
 * registers and INVITEs with its subscriber password from a file
 * (--password-file, the unit's credential). A focus that cannot register
 * (wrong password) takes no rooms: the exchange rings the bound users in
 * parallel as it did before there was a focus, and says so in its log.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SILENCE } from "../../audio/frame-source.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";

let ex: LabExchange;
const dir = mkdtempSync(join(tmpdir(), "deskphone-focus-auth-"));
const agents: PhoneAgent[] = [];
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, test: () => boolean, log: () => string, ms = 10_000) {
  const t0 = Date.now();
  while (!test()) {
    if (Date.now() - t0 > ms)
      throw new Error(`not ${what} within ${ms} ms:\n${log().slice(-2000)}`);
    await sleep(50);
  }
}

function focus(password: string) {
  const file = join(dir, `pw-${children.length}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    ["bin/deskphone-exchange.mjs", "focus", "--server", ex.wsUrl, "--password-file", file],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  child.stderr?.on("data", (d) => {
    out += d;
  });
  return { child, out: () => out };
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
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await ex?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the focus on an exchange with digest auth", () => {
  it("registers and calls the bound users in with its password file", async () => {
    const f = focus("focus-secret");
    await until("registered", () => /registration: registered/.test(f.out()), f.out);
    const [p1, p2] = [await party("2501"), await party("2502")];
    const caller = await party("3501");
    caller.agent.dial("c", "123");
    await until(
      "both joined",
      () => /2501 joined/.test(f.out()) && /2502 joined/.test(f.out()),
      f.out,
    );
    expect(p1.incoming[0]?.priority).toBe("emergency");
    expect(p2.incoming[0]?.priority).toBe("emergency");
    caller.agent.hangUp("c");
    await until("ended", () => /ended \(the caller left\)/.test(f.out()), f.out);
    const exited = new Promise((r) => f.child.once("exit", r));
    f.child.kill("SIGTERM");
    await exited;
  }, 30_000);

  it("with a wrong password it takes no rooms: the exchange forks to the bound users as before", async () => {
    const f = focus("wrong");
    await until("refused", () => /REGISTER refused: 401/.test(f.out()), f.out);
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
