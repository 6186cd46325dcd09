/**
 * A handset whose hook switch cannot be read is loud (docs/install.md, "When
 * the handset cannot be read"): the phone still starts and registers with the
 * real lab Kamailio, but systemd's STATUS says "degraded: hook switch
 * unreadable: …" (heard on a unix datagram socket, as systemd would), the log
 * has an error line, and the status LED blinks the degraded pattern — on a
 * PCA9532 LED driver (the part that still works), observed at its registers.
 * The hook is wired to a GPIO chip that does not exist, opened through the
 * real character-device backend.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startPhone } from "../../../firmware/app/commands.ts";
import { type PhoneConfig, validateConfig } from "../../../firmware/app/config.ts";
import { DEGRADED } from "../../../firmware/controller/outputs.ts";
import { type LabExchange, startLabExchange } from "../../../server/kamailio/lab-exchange.ts";
import { FakeGpioKernel } from "../../support/fake-gpio-kernel.ts";
import { FakeI2cBus, FakePca9532 } from "../../support/fake-i2c.ts";

let ex: LabExchange;
const dir = mkdtempSync(join(tmpdir(), "deskphone-unreadable-"));
beforeAll(async () => {
  ex = await startLabExchange();
}, 30_000);
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

/** A notify socket as systemd holds it (Node has no unix datagram sockets: python3 listens). */
async function notifySocket(name: string) {
  const path = join(dir, `${name}.sock`);
  const listener: ChildProcess = spawn("python3", ["-c", LISTENER, path], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let heard = "";
  listener.stdout?.on("data", (d) => {
    heard += d;
  });
  await new Promise<void>((r) => listener.stdout?.once("data", () => r()));
  return {
    path,
    heard: () => heard,
    async until(re: RegExp, ms: number, more = () => "") {
      const t0 = Date.now();
      while (!re.test(heard)) {
        if (Date.now() - t0 > ms) throw new Error(`no ${re} in ${ms} ms; heard: ${heard}${more()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => listener.kill(),
  };
}

const MISSING = "deskphone-no-such-chip";
const doc = (user: string, hal: object) => ({
  account: { user },
  exchange: { url: ex.wsUrl },
  audio: { ringer: "null", earpiece: "null", microphone: "null" },
  journal: { path: join(dir, `${user}.jsonl`) },
  hal,
});
const hal = {
  backend: "gpio",
  gpio: { chip: MISSING, hook: "GPIO17", hookActiveLow: true },
  i2c: { bus: 1, leds: { chip: "pca9532", address: 0x60, map: { status: 0, line: 1 } } },
};
function config(user: string, h: object = hal): PhoneConfig {
  const r = validateConfig(doc(user, h));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/**
 * The rising edges and lit time of PCA9532 output `i` over `ms` of the clock, sampled about
 * every 10 ms. Time is read, not counted in samples: a timer late under load made the
 * window longer than `ms` (more flashes in it) and each sample's lit time wrong.
 */
async function watchLed(chip: FakePca9532, i: number, ms: number) {
  let rises = 0;
  let litMs = 0;
  let was = chip.led(i).state;
  const states = new Set<string>([was]);
  const t0 = performance.now();
  let last = t0;
  while (last - t0 < ms) {
    await new Promise((r) => setTimeout(r, 10));
    const at = Math.min(performance.now(), t0 + ms);
    const now = chip.led(i).state;
    states.add(now);
    if (now === "on") litMs += at - last;
    if (now === "on" && was !== "on") rises++;
    was = now;
    last = at;
  }
  return { rises, litMs, states: [...states].sort() };
}

describe("a hook switch that cannot be read", () => {
  it("starts and registers, but STATUS, the log and the status LED say degraded", async () => {
    const sock = await notifySocket("in-process");
    const bus = new FakeI2cBus();
    const pca = new FakePca9532();
    bus.attach(0x60, pca);
    const logs: string[] = [];
    const running = await startPhone(config("2001"), {
      log: (level, m) => logs.push(`${level} ${m}`),
      io: { out: () => {}, err: () => {} },
      env: { ...process.env, NOTIFY_SOCKET: sock.path },
      handsetDeps: { openBus: async () => bus },
    });
    try {
      const more = () => `\nlog:\n${logs.join("\n")}`;
      await sock.until(
        new RegExp(`STATUS=degraded: hook switch unreadable: no GPIO chip labelled "${MISSING}"`),
        5000,
        more,
      );
      // Registered and READY — and the STATUS that goes with READY still says degraded.
      await sock.until(/READY=1/, 10_000, more);
      const ready = sock
        .heard()
        .split("\n")
        .find((l) => l.includes("READY=1"));
      expect(ready).toMatch(/STATUS=degraded: hook switch unreadable: .*; registered as 2001/);
      expect(running.degraded).toMatch(/^degraded: hook switch unreadable: /);
      expect(logs.filter((l) => l.startsWith("error ")).join("\n")).toMatch(
        /hal\.gpio: no GPIO chip labelled "deskphone-no-such-chip".*hook switch unreadable[\s\S]*handset degraded: hook switch unreadable/,
      );
      // The controller asked for the degraded pattern, and the LED driver shows it:
      // two short flashes in each 2 s (the registered phone would be steadily lit).
      expect(running.handset.leds.pattern("status")).toEqual(DEGRADED);
      const seen = await watchLed(pca, 0, 2100);
      expect(seen.states).toEqual(["off", "on"]);
      expect(seen.rises).toBeGreaterThanOrEqual(2);
      expect(seen.rises).toBeLessThanOrEqual(3);
      expect(seen.litMs).toBeLessThan(700);
    } finally {
      await running.stop();
      sock.stop();
    }
  }, 30_000);

  it("when the hardware is there, the phone is not degraded (the check can tell)", async () => {
    const sock = await notifySocket("healthy");
    const kernel = new FakeGpioKernel(() => Date.now());
    kernel.addChip(
      MISSING,
      Array.from({ length: 28 }, (_, i) => `GPIO${i}`),
    );
    const bus = new FakeI2cBus();
    const pca = new FakePca9532();
    bus.attach(0x60, pca);
    const logs: string[] = [];
    const running = await startPhone(config("2002"), {
      log: (level, m) => logs.push(`${level} ${m}`),
      io: { out: () => {}, err: () => {} },
      env: { ...process.env, NOTIFY_SOCKET: sock.path },
      handsetDeps: { openBus: async () => bus, gpio: kernel },
    });
    try {
      await sock.until(/READY=1/, 10_000, () => `\nlog:\n${logs.join("\n")}`);
      expect(sock.heard()).not.toMatch(/degraded/);
      expect(running.degraded).toBeUndefined();
      expect(logs.filter((l) => l.startsWith("error "))).toEqual([]);
      expect(pca.led(0)).toEqual({ state: "on" });
    } finally {
      await running.stop();
      sock.stop();
    }
  }, 30_000);

  it("`deskphone run` under a notify socket: STATUS degraded and an error (priority 3) in the log", async () => {
    const sock = await notifySocket("cli");
    const file = join(dir, "run.yaml");
    // No I2C here: every part of this handset is on the missing chip.
    writeFileSync(
      file,
      stringify(
        doc("2003", {
          backend: "gpio",
          gpio: { chip: MISSING, hook: "GPIO17", leds: { status: "GPIO22" } },
        }),
      ),
      { mode: 0o600 },
    );
    const phone = spawn(process.execPath, ["bin/deskphone.mjs", "run", "--config", file], {
      env: { ...process.env, NOTIFY_SOCKET: sock.path },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    phone.stderr.on("data", (d) => {
      log += d;
    });
    try {
      await sock.until(/READY=1/, 15_000, () => `\nlog:\n${log}`);
      expect(sock.heard()).toMatch(
        /STATUS=degraded: hook switch unreadable: no GPIO chip labelled "deskphone-no-such-chip"/,
      );
      expect(log).toMatch(/^<3>handset degraded: hook switch unreadable: /m);
      expect(log).toMatch(/<6>registration: registered/);
    } finally {
      const exited = new Promise((r) => phone.once("exit", r));
      phone.kill("SIGTERM");
      await exited;
      sock.stop();
    }
  }, 30_000);
});
