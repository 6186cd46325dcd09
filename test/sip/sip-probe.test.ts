/** `deskphone sip-probe` as a process: two probes call each other through the real exchange. */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";

let ex: LabExchange;
beforeAll(async () => {
  ex = await startLabExchange();
});
afterAll(async () => {
  await ex?.stop();
});

function probe(args: string[]) {
  const child = spawn(
    process.execPath,
    ["bin/deskphone.mjs", "sip-probe", "--server", ex.wsUrl, ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let rest = "";
  child.stdout.on("data", (d) => {
    rest += d;
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  // Read, so that the pipe ends and "close" comes; and said when a probe fails.
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  // "close", not "exit": at "exit" the child's last lines may still be in the pipe.
  const done = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  /** Resolves once a line passes `test`; rejects after `ms` or if the probe ended first. */
  const until = async (
    what: string,
    test: (l: Record<string, unknown>) => boolean,
    ms = 15_000,
  ) => {
    const deadline = Date.now() + ms;
    while (!lines.some(test)) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`sip-probe: no ${what} within ${ms} ms: ${JSON.stringify(lines)}\n${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { lines, done, until, stderr: () => err, kill: () => child.kill("SIGTERM") };
}

describe("deskphone sip-probe", () => {
  it("registers, answers, dials, sends DTMF and reports every step as JSON lines", async () => {
    // The callee runs until the test stops it; the caller dials once the callee is registered
    // (a process that starts slowly under load took longer than a fixed 1.5 s wait).
    const callee = probe([
      "--user",
      "2002",
      "--answer",
      "--answer-after",
      "200",
      "--seconds",
      "60",
    ]);
    await callee.until(
      "registration",
      (l) => l.event === "registration" && l.state === "registered",
    );
    const caller = probe([
      "--user",
      "2001",
      "--dial",
      "2002",
      "--dtmf",
      "42",
      "--hangup-after",
      "1500",
      "--seconds",
      "5",
    ]);
    expect(await caller.done, caller.stderr()).toBe(0);
    callee.kill();
    expect(await callee.done, callee.stderr()).toBe(0);
    const events = (l: Record<string, unknown>[]) => l.map((x) => x.event);
    expect(events(caller.lines)).toEqual(
      expect.arrayContaining([
        "registration",
        "dial",
        "remote-ringing",
        "remote-answered",
        "stopped",
      ]),
    );
    expect(events(callee.lines)).toEqual(
      expect.arrayContaining(["incoming", "dtmf", "remote-ended"]),
    );
    expect(callee.lines.filter((l) => l.event === "dtmf").map((l) => l.digit)).toEqual(["4", "2"]);
    expect(callee.lines.find((l) => l.event === "incoming")).toMatchObject({
      remote: "2001",
      trusted: true,
    });
  }, 30_000);

  it("says what is missing, exit 2", async () => {
    const p = spawn(process.execPath, ["bin/deskphone.mjs", "sip-probe", "--user", "x"], {
      stdio: "pipe",
    });
    let err = "";
    p.stderr.on("data", (d) => {
      err += d;
    });
    expect(await new Promise((r) => p.once("close", r))).toBe(2);
    expect(err).toContain("--server and --user are required");
  });
});
