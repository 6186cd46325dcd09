/**
 * The GPIO character-device backend against the fake kernel, and the real
 * ioctl path. The fake's line requests are real pollable fds: edge events
 * reach the backend when the event loop sees the fd readable (epoll), so a
 * test waits for that (`kernel.settled()`) before it moves the clock.
 */
import { closeSync, openSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { linuxGpioIo } from "../../hal/gpio-chardev.ts";
import { GpioHandset } from "../../hal/gpio-handset.ts";
import { FLAG, GPIO_GET_CHIPINFO_IOCTL, SIZES } from "../../hal/gpio-uapi.ts";
import { FakeGpioKernel } from "../support/fake-gpio-kernel.ts";
import { ManualClock } from "../support/manual-clock.ts";

const LINES = Array.from({ length: 28 }, (_, i) => `GPIO${i}`);
const CHIP = "pinctrl-rp1";

function rig(extra: Partial<ConstructorParameters<typeof GpioHandset>[1]> = {}) {
  const clock = new ManualClock();
  const kernel = new FakeGpioKernel(() => clock.now());
  kernel.addChip("pinctrl-bcm2711-other", ["A", "B"]);
  kernel.addChip(CHIP, LINES);
  const logs: string[] = [];
  const handset = new GpioHandset(
    kernel,
    { chip: CHIP, hook: "GPIO17", keys: { "5": "GPIO5" }, leds: { emergency: "GPIO25" }, ...extra },
    clock,
    (l, m) => logs.push(`${l} ${m}`),
  );
  return { clock, kernel, handset, logs };
}

describe("GPIO character device backend", () => {
  it("finds the chip by label and the lines by name, and requests them as a phone needs", () => {
    const { kernel } = rig();
    expect(kernel.consumer(CHIP, "GPIO17")).toBe("deskphone");
    const hookFlags = kernel.flags(CHIP, "GPIO17");
    for (const f of [
      FLAG.INPUT,
      FLAG.BIAS_PULL_UP,
      FLAG.ACTIVE_LOW,
      FLAG.EDGE_RISING,
      FLAG.EDGE_FALLING,
    ])
      expect(hookFlags & f).toBe(f);
    expect(kernel.debounceUs(CHIP, "GPIO17")).toBe(5000);
    expect(kernel.flags(CHIP, "GPIO25") & FLAG.OUTPUT).toBe(FLAG.OUTPUT);
  });

  it("says clearly what is wrong with the wiring", () => {
    const clock = new ManualClock();
    const kernel = new FakeGpioKernel(() => clock.now());
    kernel.addChip(CHIP, LINES);
    expect(
      () => new GpioHandset(kernel, { chip: "pinctrl-bcm2712", hook: "GPIO17" }, clock),
    ).toThrow(/no GPIO chip labelled "pinctrl-bcm2712" \(found: gpiochip0 "pinctrl-rp1"\)/);
    expect(() => new GpioHandset(kernel, { chip: CHIP, hook: "GPIO99" }, clock)).toThrow(
      /no line named "GPIO99"/,
    );
    expect(
      () => new GpioHandset(kernel, { chip: CHIP, hook: "GPIO17", keys: { "1": "GPIO17" } }, clock),
    ).toThrow(/line GPIO17 is used twice \(hook and key 1\)/);
    new GpioHandset(kernel, { chip: CHIP, hook: "GPIO17" }, clock);
    expect(() => new GpioHandset(kernel, { chip: CHIP, hook: "GPIO17" }, clock)).toThrow(
      /already in use/,
    );
  });

  it("times the hook flash from the kernel's timestamps", async () => {
    const { clock, kernel, handset } = rig();
    const seen: string[] = [];
    for (const e of ["offHook", "onHook", "flash"] as const) handset.hook.on(e, () => seen.push(e));
    kernel.closeSwitch(CHIP, "GPIO17", true, 0);
    await kernel.settled();
    clock.advance(100);
    kernel.closeSwitch(CHIP, "GPIO17", false, 1000);
    kernel.closeSwitch(CHIP, "GPIO17", true, 1080); // 80 ms: a glitch, even though read later
    kernel.closeSwitch(CHIP, "GPIO17", false, 2000);
    kernel.closeSwitch(CHIP, "GPIO17", true, 2400); // 400 ms: a flash
    await kernel.settled();
    clock.advance(3000);
    expect(seen).toEqual(["offHook", "flash"]);
    await handset.close();
  });

  it("wakes only when the kernel has an event: no read while nothing happens", async () => {
    const { clock, kernel, handset } = rig();
    const seen: string[] = [];
    handset.hook.on("offHook", () => seen.push("offHook"));
    await kernel.settled();
    const reads = kernel.reads;
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50)); // real event-loop turns too
    expect(kernel.reads).toBe(reads);
    kernel.closeSwitch(CHIP, "GPIO17", true);
    await kernel.settled();
    expect(kernel.reads).toBeGreaterThan(reads);
    clock.advance(100);
    expect(seen).toEqual(["offHook"]);
    await handset.close();
  });

  it("logs lost edge events (sequence numbers jump)", async () => {
    const { clock, kernel, logs } = rig();
    kernel.closeSwitch(CHIP, "GPIO5", true);
    await kernel.settled();
    clock.advance(20);
    kernel.closeSwitch(CHIP, "GPIO5", false);
    kernel.closeSwitch(CHIP, "GPIO5", true);
    kernel.dropEvents(CHIP, "GPIO5", 1);
    await kernel.settled();
    clock.advance(20);
    expect(logs.join()).toMatch(/1 edge event\(s\) lost/);
  });

  it("blinks an LED line on the clock and turns it off on close", async () => {
    const { clock, kernel, handset } = rig();
    handset.leds.set("emergency", { kind: "blink", onMs: 100, offMs: 100 });
    clock.advance(450);
    expect(kernel.history(CHIP, "GPIO25").map((h) => [h.atMs, h.physical])).toEqual([
      [0, false],
      [0, true],
      [100, false],
      [200, true],
      [300, false],
      [400, true],
    ]);
    await handset.close();
    expect(kernel.level(CHIP, "GPIO25")).toBe(false);
    expect(kernel.consumer(CHIP, "GPIO25")).toBe("");
  });
});

describe("the real ioctl path (native/gpio-ioctl)", () => {
  it("is built and reaches the kernel: GPIO_GET_CHIPINFO on a non-GPIO file is ENOTTY", () => {
    const fd = openSync("/dev/null", "r");
    try {
      expect(() =>
        linuxGpioIo.ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, Buffer.alloc(SIZES.chipInfo)),
      ).toThrow(expect.objectContaining({ code: "ENOTTY" }));
      expect(() => linuxGpioIo.ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, Buffer.alloc(4))).toThrow(
        /smaller than the ioctl's struct/,
      );
    } finally {
      closeSync(fd);
    }
  });
});

import { GpioMatrixKeypad } from "../../hal/gpio-matrix.ts";
import { PHONE_KEYMAP } from "../../hal/tca8418.ts";

describe("GPIO key matrix scanned by the CPU", () => {
  it("rests with rows low, wakes on a column edge, scans until release", async () => {
    const clock = new ManualClock();
    const kernel = new FakeGpioKernel(() => clock.now());
    kernel.addChip(CHIP, LINES);
    const rows = ["GPIO4", "GPIO5", "GPIO6", "GPIO7"];
    const cols = ["GPIO8", "GPIO9", "GPIO10"];
    const kp = new GpioMatrixKeypad(kernel, CHIP, { rows, cols, keymap: PHONE_KEYMAP }, clock);
    const seen: string[] = [];
    kp.on("keyDown", (k) => seen.push(`+${k}`));
    kp.on("keyUp", (k) => seen.push(`-${k}`));
    expect(rows.map((r) => kernel.level(CHIP, r))).toEqual([false, false, false, false]);
    kernel.matrixKey(CHIP, "GPIO6", "GPIO9", true); // row 2, col 1: "8"
    await kernel.settled();
    clock.advance(60);
    expect(seen).toEqual(["+8"]);
    kernel.matrixKey(CHIP, "GPIO7", "GPIO10", true); // "#" while 8 is held
    await kernel.settled();
    clock.advance(60);
    kernel.matrixKey(CHIP, "GPIO6", "GPIO9", false);
    kernel.matrixKey(CHIP, "GPIO7", "GPIO10", false);
    await kernel.settled();
    clock.advance(60);
    expect(seen).toEqual(["+8", "+#", "-8", "-#"]);
    // Back at rest: rows low, no more scanning.
    const writes = kernel.history(CHIP, "GPIO4").length;
    clock.advance(200);
    expect(kernel.history(CHIP, "GPIO4").length).toBe(writes);
    expect(rows.map((r) => kernel.level(CHIP, r))).toEqual([false, false, false, false]);
    await kp.close();
    // Its chip and both line requests closed with it.
    expect(kernel.openFds).toBe(0);
  });

  it("a line that cannot be had leaves no chip or request open", () => {
    const clock = new ManualClock();
    const kernel = new FakeGpioKernel(() => clock.now());
    kernel.addChip(CHIP, LINES);
    expect(
      () =>
        new GpioMatrixKeypad(
          kernel,
          CHIP,
          { rows: ["GPIO4", "GPIO5"], cols: ["GPIO99"], keymap: PHONE_KEYMAP },
          clock,
        ),
    ).toThrow(/GPIO99/);
    expect(kernel.openFds).toBe(0);
  });
});

describe("GPIO faults", () => {
  it("a chip that goes away is logged once, retried with backoff, and picked up again", async () => {
    const { clock, kernel, handset, logs } = rig();
    const seen: string[] = [];
    handset.hook.on("offHook", () => seen.push("offHook"));
    handset.hook.on("onHook", () => seen.push("onHook"));
    await kernel.settled();
    kernel.unplugged = true; // its line request polls readable with an error from now on
    const t0 = Date.now();
    while (!logs.some((l) => l.includes("ENODEV"))) {
      if (Date.now() - t0 > 2000) throw new Error("the unplugged chip was never noticed");
      await new Promise((r) => setImmediate(r));
    }
    // The fd stays "readable" while the chip is gone: the backend stops watching it
    // rather than read it in a loop, and retries on the clock (0.5, 1, 2, 4 s, …).
    await new Promise((r) => setTimeout(r, 50));
    expect(kernel.failedReads).toBe(1);
    clock.advance(10_000);
    expect(kernel.failedReads).toBe(5);
    expect(logs.filter((l) => l.includes("ENODEV"))).toHaveLength(1);
    kernel.unplugged = false;
    kernel.closeSwitch(CHIP, "GPIO17", true);
    clock.advance(40_000);
    expect(logs.some((l) => l.includes("read again"))).toBe(true);
    expect(seen).toEqual(["offHook"]);
    // Watched again: the next edge comes by readiness, without the clock.
    kernel.closeSwitch(CHIP, "GPIO17", false);
    await kernel.settled();
    clock.advance(2000);
    expect(seen).toEqual(["offHook", "onHook"]);
    await handset.close();
  });
});
