/**
 * `deskphone run` under a notify socket, as systemd would start it: READY=1
 * once registered, WATCHDOG=1 heartbeats, STOPPING=1 on SIGTERM. The socket
 * is a unix datagram socket held by a small python3 listener (Node has none).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";

let ex: LabExchange;
const dir = mkdtempSync(join(tmpdir(), "deskphone-notify-"));
beforeAll(async () => {
  ex = await startLabExchange();
});
afterAll(async () => {
  await ex?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096)
    print(data.decode().replace("\\n", " | "), flush=True)
`;

describe("systemd notify", () => {
  it("reports READY once registered, sends watchdog heartbeats, and STOPPING on SIGTERM", async () => {
    const sock = join(dir, "notify.sock");
    const listener = spawn("python3", ["-c", LISTENER, sock], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let heard = "";
    listener.stdout.on("data", (d) => {
      heard += d;
    });
    await new Promise<void>((r) => listener.stdout.once("data", () => r()));
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      stringify({
        account: { user: "2001" },
        exchange: { url: ex.wsUrl },
        audio: { ringer: "null", earpiece: "null", microphone: "null" },
        journal: { path: join(dir, "journal.jsonl") },
      }),
      { mode: 0o600 },
    );
    const phone = spawn(process.execPath, ["bin/deskphone.mjs", "run", "--config", config], {
      env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: "2000000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    phone.stderr.on("data", (d) => {
      log += d;
    });
    const until = async (re: RegExp, ms: number) => {
      const t0 = Date.now();
      while (!re.test(heard)) {
        if (Date.now() - t0 > ms)
          throw new Error(`no ${re} in ${ms} ms; heard: ${heard}\nlog: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(/READY=1/, 10_000);
    expect(heard).toMatch(/STATUS=registered as 2001/);
    await until(/WATCHDOG=1/, 5000);
    phone.kill("SIGTERM");
    await new Promise((r) => phone.once("exit", r));
    await until(/STOPPING=1/, 3000);
    expect(log).toMatch(/<6>registration: registered/);
    listener.kill();
  }, 30_000);
});
