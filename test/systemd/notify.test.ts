/**
 * `deskphone run` under a notify socket, as systemd would start it: READY=1
 * once registered, WATCHDOG=1 heartbeats, STOPPING=1 on SIGTERM, each sent
 * by the phone's own process. The socket is a unix datagram socket with
 * SO_PASSCRED, held by native/system's test-only receiver (Node cannot bind
 * one), so every message arrives with the sender's PID as the kernel saw it.
 * A `systemd-notify` first in the phone's PATH records any run of it.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { SystemdNotifier } from "../../firmware/app/systemd-notify.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";

interface Heard {
  pid: number;
  uid: number;
  message: string;
}
const receiver = createRequire(import.meta.url)(
  "../../native/system/build/Release/notify_receiver.node",
) as {
  bind(path: string): number;
  receive(fd: number): Heard | null;
  close(fd: number): void;
};

/** A bound notify socket and everything it has heard so far. */
function listen(path: string) {
  const fd = receiver.bind(path);
  const heard: Heard[] = [];
  const drain = () => {
    for (let m = receiver.receive(fd); m; m = receiver.receive(fd)) heard.push(m);
  };
  const until = async (re: RegExp, ms: number, why = () => "") => {
    const t0 = Date.now();
    for (;;) {
      drain();
      const m = heard.find((h) => re.test(h.message));
      if (m) return m;
      if (Date.now() - t0 > ms)
        throw new Error(`no ${re} in ${ms} ms; heard: ${JSON.stringify(heard)}${why()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { heard, until, close: () => receiver.close(fd) };
}

let ex: LabExchange;
const dir = mkdtempSync(join(tmpdir(), "deskphone-notify-"));
beforeAll(async () => {
  ex = await startLabExchange();
});
afterAll(async () => {
  await ex?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("systemd notify", () => {
  for (const where of ["a path", "the abstract namespace"] as const) {
    it(`reports READY once registered, heartbeats and STOPPING from the phone's own PID, on ${where}, spawning no systemd-notify`, async () => {
      const sock =
        where === "a path"
          ? join(dir, "notify.sock")
          : `@deskphone-notify-test-${process.pid}-${Date.now()}`;
      const sink = listen(sock);
      // A systemd-notify that leaves a mark, first in the phone's PATH.
      const bin = mkdtempSync(join(dir, "bin-"));
      const mark = join(bin, "ran");
      writeFileSync(join(bin, "systemd-notify"), `#!/bin/sh\necho "$@" >> ${mark}\n`);
      chmodSync(join(bin, "systemd-notify"), 0o755);
      const config = join(dir, "config.yaml");
      writeFileSync(
        config,
        stringify({
          account: { user: "2001" },
          exchange: { url: ex.wsUrl },
          audio: { ringer: "null", earpiece: "null", microphone: "null" },
          journal: { path: join(dir, `journal-${Date.now()}.jsonl`) },
        }),
        { mode: 0o600 },
      );
      const phone = spawn(process.execPath, ["bin/deskphone.mjs", "run", "--config", config], {
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          NOTIFY_SOCKET: sock,
          WATCHDOG_USEC: "2000000",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let log = "";
      phone.stderr.on("data", (d) => {
        log += d;
      });
      const why = () => `\nlog: ${log}`;
      try {
        const ready = await sink.until(/READY=1/, 10_000, why);
        expect(ready.message).toMatch(/^READY=1\nSTATUS=registered as 2001$/);
        const beat = await sink.until(/^WATCHDOG=1$/, 5000, why);
        phone.kill("SIGTERM");
        await new Promise((r) => phone.once("exit", r));
        const stopping = await sink.until(/^STOPPING=1$/, 3000, why);
        for (const m of [ready, beat, stopping]) {
          expect(m.pid).toBe(phone.pid);
          expect(m.uid).toBe(process.getuid?.());
        }
        expect(sink.heard.every((h) => h.pid === phone.pid)).toBe(true);
        expect(existsSync(mark)).toBe(false);
        expect(log).toMatch(/<6>registration: registered/);
        expect(log).not.toMatch(/systemd-notify/);
      } finally {
        phone.kill("SIGKILL");
        sink.close();
      }
    }, 30_000);
  }

  it("falls back to systemd-notify when native/system is not built, and says so once", async () => {
    const sink = listen(join(dir, "fallback.sock"));
    const logs: string[] = [];
    const n = new SystemdNotifier(
      { NOTIFY_SOCKET: join(dir, "fallback.sock"), PATH: process.env.PATH },
      (l, m) => logs.push(`${l} ${m}`),
      { native: null },
    );
    try {
      n.ready("registered as 2001");
      const m = await sink.until(/READY=1/, 5000);
      expect(m.message).toMatch(/STATUS=registered as 2001/);
      n.status("line one\nWATCHDOG=1");
      const s = await sink.until(/STATUS=line one/, 5000);
      expect(s.message.split("\n")).toContain("STATUS=line one WATCHDOG=1");
      expect(logs).toEqual([expect.stringMatching(/^warn systemd: .*spawns systemd-notify/)]);
    } finally {
      sink.close();
    }
  });

  it("a notify socket nobody listens on is logged once, not per heartbeat", () => {
    const logs: string[] = [];
    const n = new SystemdNotifier({ NOTIFY_SOCKET: join(dir, "nobody.sock") }, (l, m) =>
      logs.push(`${l} ${m}`),
    );
    n.status("a");
    n.status("b");
    expect(logs).toEqual([expect.stringMatching(/^warn systemd: notify on .*nobody\.sock failed/)]);
  });
});
