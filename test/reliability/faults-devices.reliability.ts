/**
 * Faults, the phone's devices, with a firmware phone (buildPhone) registered
 * over wss:// with digest auth to the lab Kamailio; callers are our SIP agents.
 *
 * - ALSA: the ringer's device fails mid-ring — its stream breaks (the process
 *   at the end of an ALSA `file` plugin pipe dies: writes fail with EIO, as a
 *   USB card pulled out fails them) and its name is gone from the ALSA
 *   configuration for a while — then comes back; and the exclusive earpiece is
 *   held by another process (aplay) when the call is answered, let go mid-call.
 *   The phone logs each failure once, keeps ringing, the call is answered and
 *   talked (RTP both ways), the devices are taken up again, and the journal
 *   holds every record of the calls.
 * - GPIO / I2C: mid-ring the GPIO chip stops answering reads (ENODEV, as when
 *   its driver is unbound) and the I2C keypad controller and LED driver stop
 *   answering (ENXIO); the hook is lifted during the outage. Each failure is
 *   logged once and retried with backoff; when the parts answer again the
 *   lift (kept by the kernel with its timestamp) answers the call, and the
 *   LEDs show what the phone shows — among them a missed emergency's LED set
 *   while the LED driver was not answering.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nativeCallMedia } from "../../audio/call-media-thread.ts";
import { buildHandset } from "../../firmware/app/build-handset.ts";
import { buildPhone } from "../../firmware/app/build-phone.ts";
import type { HalConfig } from "../../firmware/app/handset-config.ts";
import type { StoredRecord } from "../../firmware/app/journal.ts";
import { systemClock } from "../../hal/contracts.ts";
import { FakeGpioKernel } from "../support/fake-gpio-kernel.ts";
import { FakeI2cBus, FakePca9532, FakeTca8418 } from "../support/fake-i2c.ts";
import { labAudio, validConfig } from "../support/phone-config.ts";
import { type ProductionRig, startProductionRig } from "../support/production-rig.ts";
import { waitForState } from "../support/wait-for-state.ts";
import { farTalks, nowMs, registered, remoteAnswered, secs, sleep, until } from "./faults-kit.ts";
import { record, withFailures } from "./ledger.ts";

let rig: ProductionRig;
const children: ChildProcess[] = [];

beforeAll(async () => {
  rig = await startProductionRig();
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await rig?.stop();
});

/** The processes that have `path` open (the pipe's end, `cat >> path`), by PID. */
function pidsWriting(path: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      for (const fd of readdirSync(`/proc/${d}/fd`))
        if (readlinkSync(`/proc/${d}/fd/${fd}`) === path) {
          pids.push(Number(d));
          break;
        }
    } catch {}
  }
  return pids;
}

/** `p`, or an error naming `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out (${ms} ms) waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

describe.skipIf(nativeCallMedia() === undefined)(
  "faults: the phone's devices (skipped only when native/call-media is not built)",
  () => {
    it("ALSA: the ringer's device breaks and vanishes mid-ring; the exclusive earpiece is held by another process at the answer", async () => {
      // A ringer at the end of a pipe: the `file` plugin writes what is played into
      // `cat`; killing it breaks the stream. Its name can be taken out of the config.
      const conf = rig.lab.env.ALSA_CONFIG_PATH as string;
      const original = readFileSync(conf, "utf8");
      const raw = join(rig.lab.dir, "ringer-pipe.raw");
      const ringerPcm = `pcm.ringer-pipe { type file slave.pcm "null" file "|exec cat >> ${raw}" format "raw" }\n`;
      // A new file renamed over the old: alsa-lib re-reads its configuration when a
      // file's inode or mtime (whole seconds) changed, and a rename changes the inode.
      const setConf = (text: string) => {
        writeFileSync(`${conf}.new`, text);
        renameSync(`${conf}.new`, conf);
      };
      setConf(original + ringerPcm);
      const p = await rig.firmwarePhone("2001", {
        audio: { ringer: { device: "ringer-pipe", rate: 48000 } },
      });
      const caller = await rig.caller("3001");
      const failures: string[] = [];
      const figures: string[] = [];
      const ringerErrors = () => p.logs.filter((l) => /ALSA device "ringer-pipe" failed/.test(l));
      try {
        // 1. The ringer fails mid-ring.
        caller.dial("r-1", "2001");
        await p.waitFor("ringing", (s) => s.phase.kind === "ringing");
        await until("the ringer playing", () => (sizeOf(raw) > 48_000 ? true : undefined));
        const pids = pidsWriting(raw);
        expect(pids.length, "the ringer's pipe process").toBeGreaterThan(0);
        setConf(original); // the name is gone from the configuration
        const t0 = nowMs();
        for (const pid of pids) process.kill(pid, "SIGKILL");
        await until("the ringer's failure logged", () => ringerErrors()[0], 5000);
        figures.push(`ringer failure logged after ${secs(nowMs() - t0)}`);
        const during = sizeOf(raw);
        await sleep(1500); // retried with backoff meanwhile; the name does not resolve
        expect(sizeOf(raw), "nothing played while the device is gone").toBe(during);
        expect(ringerErrors(), "the failure is logged once per outage").toHaveLength(1);
        expect(p.built.phone.state.phase.kind).toBe("ringing");
        setConf(original + ringerPcm); // the device is back
        const back = sizeOf(raw);
        const t1 = nowMs();
        await until(
          "the ringer playing again",
          () => (sizeOf(raw) > back ? true : undefined),
          10_000,
        );
        figures.push(`ringing again ${secs(nowMs() - t1)} after the device came back`);
        expect(p.built.phone.state.phase.kind).toBe("ringing");
        const answered = remoteAnswered(caller, "r-1");
        p.handset.lift();
        await within(answered, 10_000, "the call answered");
        const s = await p.waitFor(
          "talking",
          (x) => x.phase.kind === "talking" && !x.phase.call.answering,
        );
        const near = p.built.agent.media(s.phase.kind === "talking" ? s.phase.call.id : "");
        if (!near) throw new Error("no media");
        const far = farTalks(caller, "r-1");
        await sleep(400);
        expect(near.stats().received).toBeGreaterThan(0);
        expect(far.stats().received).toBeGreaterThan(0);
        caller.hangUp("r-1");
        await p.waitFor("hung up", (x) => x.phase.kind === "hungUp");
        p.handset.replace();
        await p.waitFor("idle", (x) => x.phase.kind === "idle");
      } catch (e) {
        failures.push(`ringer: ${(e as Error).message.split("\n")[0]}`);
        caller.hangUp("r-1");
        p.handset.replace();
        await sleep(500);
      }
      try {
        // 2. The exclusive earpiece is held by another process when the call is answered.
        const aplay = spawn(
          "aplay",
          [
            "-q",
            "-D",
            "hw-earpiece",
            "-t",
            "raw",
            "-f",
            "S16_LE",
            "-r",
            "8000",
            "-c",
            "1",
            "/dev/zero",
          ],
          { env: rig.lab.env, stdio: "ignore" },
        );
        children.push(aplay);
        await until("aplay holding the earpiece", () =>
          rig.lab.deviceLog("hw-earpiece").some((e) => e.event === "open") ? true : undefined,
        );
        const busyErrors = () => p.logs.filter((l) => /ALSA device "hw-earpiece" failed/.test(l));
        await registered(caller);
        caller.dial("e-1", "2001");
        await p.waitFor("ringing", (x) => x.phase.kind === "ringing");
        const answered = remoteAnswered(caller, "e-1");
        p.handset.lift();
        await within(answered, 10_000, "the call answered");
        const s = await p.waitFor(
          "talking",
          (x) => x.phase.kind === "talking" && !x.phase.call.answering,
        );
        await until("the earpiece's failure logged", () => busyErrors()[0], 5000);
        expect(busyErrors()[0]).toMatch(/busy/i);
        const near = p.built.agent.media(s.phase.kind === "talking" ? s.phase.call.id : "");
        if (!near) throw new Error("no media");
        const far = farTalks(caller, "e-1");
        await sleep(400);
        // The call goes on without the earpiece: the far end still hears the microphone.
        expect(far.stats().received).toBeGreaterThan(0);
        expect(near.stats().received).toBeGreaterThan(0);
        const opensBefore = rig.lab
          .deviceLog("hw-earpiece")
          .filter((e) => e.event === "open").length;
        const t2 = nowMs();
        aplay.kill("SIGKILL");
        await until("the earpiece taken up again", () =>
          p.logs.some((l) => /ALSA device "hw-earpiece" is back/.test(l)) ? true : undefined,
        );
        figures.push(
          `earpiece busy at the answer (logged ${busyErrors().length}×), taken up ${secs(nowMs() - t2)} after the other process let go`,
        );
        expect(
          rig.lab.deviceLog("hw-earpiece").filter((e) => e.event === "open").length,
        ).toBeGreaterThan(opensBefore);
        expect(busyErrors()).toHaveLength(1);
        caller.hangUp("e-1");
        await p.waitFor("hung up", (x) => x.phase.kind === "hungUp");
        p.handset.replace();
        await p.waitFor("idle", (x) => x.phase.kind === "idle");
      } catch (e) {
        failures.push(`earpiece: ${(e as Error).message.split("\n")[0]}`);
        p.handset.replace();
      }
      // Nothing lost in the journal: each call's records, in order, on disk.
      await p.built.journal.synced();
      const disk = p.onDisk();
      const events = (remoteCall: string) =>
        disk.filter((r: StoredRecord) => r.callId === remoteCall).map((r) => r.event);
      const calls = [...new Set(disk.map((r) => r.callId))];
      const whole = calls.filter((c) => {
        const ev = events(c as string);
        return ev.includes("answered") && ev.at(-1) === "ended";
      });
      if (whole.length !== 2)
        failures.push(
          `journal: ${whole.length} of 2 calls whole (${JSON.stringify(calls.map((c) => events(c as string)))})`,
        );
      record({
        area: "faults",
        probe:
          "ALSA: ringer device broken and gone mid-ring; exclusive earpiece held by another process at the answer",
        tried: 2,
        survived: 2 - new Set(failures.map((f) => f.split(":")[0])).size,
        lost: new Set(failures.map((f) => f.split(":")[0])).size,
        figures: withFailures(
          `${figures.join("; ")}; both calls answered and talked (RTP both ways), journal whole`,
          failures,
        ),
      });
      expect(failures).toEqual([]);
    }, 90_000);

    it("GPIO and I2C: the chips stop answering mid-ring, the hook lifted meanwhile; logged once, retried, the call answered; LEDs right after", async () => {
      const kernel = new FakeGpioKernel(() => systemClock.now());
      kernel.addChip(
        "pinctrl-bcm2711",
        Array.from({ length: 28 }, (_, i) => `GPIO${i}`),
      );
      const bus = new FakeI2cBus();
      const keypadChip = new FakeTca8418();
      const ledChip = new FakePca9532();
      bus.attach(0x34, keypadChip);
      bus.attach(0x60, ledChip);
      const LED = { status: 0, line: 1, message: 2, emergency: 3 } as const;
      const hal: HalConfig = {
        backend: "gpio",
        gpio: { chip: "pinctrl-bcm2711", hook: "GPIO17", hookActiveLow: true },
        i2c: {
          bus: 1,
          keypad: {
            chip: "tca8418",
            address: 0x34,
            keymap: [
              ["1", "2", "3"],
              ["4", "5", "6"],
              ["7", "8", "9"],
              ["*", "0", "#"],
            ],
          },
          leds: { chip: "pca9532", address: 0x60, map: LED },
        },
      };
      const logs: string[] = [];
      const log = (l: string, m: string) => logs.push(`${l} ${m}`);
      const handset = await buildHandset(hal, log, { gpio: kernel, openBus: async () => bus });
      expect(handset.problems).toEqual([]);
      const user = "2101";
      rig.ex.table.setSubscriber(user, `pw-${user}`);
      rig.ex.table.bind("112", user);
      const config = validConfig({
        account: { user, password: `pw-${user}` },
        exchange: { url: rig.ex.wssUrl("localhost"), caFile: rig.ca.caFile },
        audio: { ...labAudio(48000), callMediaThread: false },
        journal: { path: join(rig.lab.dir, `${user}.jsonl`) },
      });
      const built = buildPhone(config, handset, { log, env: rig.lab.env });
      const waitFor = waitForState(built.phone, user, logs);
      built.phone.start();
      const failures: string[] = [];
      const figures: string[] = [];
      const caller = await rig.caller("3101");
      try {
        await waitFor("registered", (s) => s.registered, 15_000);
        const gpioErrors = () =>
          logs.filter((l) => /GPIO inputs on "pinctrl-bcm2711": ENODEV/.test(l));
        const i2cErrors = (part: string) =>
          logs.filter((l) => l.includes(`${part}`) && /ENXIO; retrying with backoff/.test(l));
        // 1. Mid-ring, the GPIO chip and both I2C chips stop answering; the hook is lifted.
        const answered = remoteAnswered(caller, "g-1");
        caller.dial("g-1", user);
        await waitFor("ringing", (s) => s.phase.kind === "ringing");
        await sleep(200);
        kernel.unplugged = true;
        bus.gone.add(0x34);
        bus.gone.add(0x60);
        await sleep(300);
        kernel.closeSwitch("pinctrl-bcm2711", "GPIO17", true); // lifted while nobody can read it
        await sleep(1500);
        expect(built.phone.state.phase.kind, "still ringing during the outage").toBe("ringing");
        expect(gpioErrors(), "the GPIO failure logged once").toHaveLength(1);
        expect(i2cErrors("TCA8418"), "the keypad controller's failure logged once").toHaveLength(1);
        // 2. Back: the lift the kernel kept answers the call.
        kernel.unplugged = false;
        bus.gone.clear();
        const t0 = nowMs();
        await within(answered, 10_000, "the call answered");
        await waitFor("talking", (x) => x.phase.kind === "talking");
        figures.push(
          `lift during the outage answered the call ${secs(nowMs() - t0)} after the chips answered again (backoff)`,
        );
        expect(gpioErrors()).toHaveLength(1);
        // The keypad answers again: a key pressed on it reaches the phone.
        const keys: string[] = [];
        handset.keypad.on("keyDown", (k: string) => keys.push(k));
        keypadChip.key(0, 0, true);
        keypadChip.key(0, 0, false);
        await until(
          "a key from the keypad again",
          () => (keys.includes("1") ? true : undefined),
          5000,
        );
        caller.hangUp("g-1");
        await waitFor("hung up", (x) => x.phase.kind === "hungUp");
        kernel.closeSwitch("pinctrl-bcm2711", "GPIO17", false);
        await waitFor("idle", (x) => x.phase.kind === "idle");
      } catch (e) {
        failures.push(`gpio: ${(e as Error).message.split("\n")[0]}`);
        kernel.unplugged = false;
        bus.gone.clear();
      }
      try {
        // 3. An emergency rings and is missed while the LED driver does not answer.
        await registered(caller);
        bus.gone.add(0x60);
        caller.dial("m-1", "112");
        await waitFor("the emergency ringing", (s) => s.phase.kind === "ringing");
        await sleep(300);
        caller.hangUp("m-1");
        await waitFor("the emergency missed", (s) => s.missed.length > 0);
        await sleep(300);
        bus.gone.clear();
        // The driver answers again; the LEDs must come to show the phone's state.
        const want = handset.leds.pattern("emergency");
        expect(want.kind).not.toBe("off");
        const t1 = nowMs();
        const shown = await until(
          "the emergency LED lit on the driver",
          () => (ledChip.led(LED.emergency).state !== "off" ? true : undefined),
          5000,
        ).catch(() => false);
        if (!shown)
          failures.push(
            `led: the missed emergency's LED (${JSON.stringify(want)}) is ${ledChip.led(LED.emergency).state} on the PCA9532 5 s after it answers again`,
          );
        else
          figures.push(
            `missed emergency's LED lit on the driver ${secs(nowMs() - t1)} after it answered again`,
          );
      } catch (e) {
        failures.push(`led: ${(e as Error).message.split("\n")[0]}`);
        bus.gone.clear();
      }
      const errorLines = logs.filter((l) => l.startsWith("error"));
      record({
        area: "faults",
        probe:
          "GPIO chip (ENODEV) and I2C keypad/LED chips (ENXIO) stop answering mid-ring, hook lifted meanwhile; an emergency missed while the LED driver is out",
        tried: 2,
        survived: 2 - new Set(failures.map((f) => (f.startsWith("gpio") ? "gpio" : "led"))).size,
        lost: new Set(failures.map((f) => (f.startsWith("gpio") ? "gpio" : "led"))).size,
        figures: withFailures(
          `${figures.join("; ")}; ${errorLines.length} error lines in all, each failure once`,
          failures,
        ),
      });
      await built.stop();
      expect(failures).toEqual([]);
    }, 90_000);
  },
);
