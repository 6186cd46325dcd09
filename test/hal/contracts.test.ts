/**
 * The contract suite of hal/contracts.ts. Each backend supplies a rig that
 * can move the "physical" parts; the mock is the first. Hardware backends
 * join through fakes at their lowest seam as they arrive.
 */
import { describe, expect, it } from "vitest";
import type { HookEvent, HookSwitch, KeyName, Keypad, LedName, Leds } from "../../hal/contracts.ts";
import { LedAnimator } from "../../hal/led-animator.ts";
import { MockHandset } from "../../hal/mock.ts";
import { ManualClock } from "../support/manual-clock.ts";

interface Rig {
  hook: HookSwitch;
  keypad: Keypad;
  leds: Leds;
  lift(): void;
  replace(): void;
  flash(): void;
  press(key: KeyName): void;
  settle(): void | Promise<void>;
}

function contract(name: string, make: () => Rig) {
  describe(`${name}: HookSwitch`, () => {
    it("reports each change once and keeps the settled state", async () => {
      const r = make();
      const seen: HookEvent[] = [];
      for (const e of ["offHook", "onHook", "flash"] as const) r.hook.on(e, () => seen.push(e));
      r.lift();
      await r.settle();
      r.lift();
      await r.settle();
      expect(r.hook.offHook).toBe(true);
      r.flash();
      await r.settle();
      r.replace();
      await r.settle();
      expect(seen).toEqual(["offHook", "flash", "onHook"]);
      expect(r.hook.offHook).toBe(false);
    });
    it("delivers nothing after close", async () => {
      const r = make();
      const seen: HookEvent[] = [];
      r.hook.on("offHook", () => seen.push("offHook"));
      await r.hook.close();
      r.lift();
      await r.settle();
      expect(seen).toEqual([]);
    });
  });
  describe(`${name}: Keypad`, () => {
    it("gives one keyDown and one keyUp a press, in order", async () => {
      const r = make();
      const seen: string[] = [];
      r.keypad.on("keyDown", (k) => seen.push(`+${k}`));
      r.keypad.on("keyUp", (k) => seen.push(`-${k}`));
      await r.settle(); // the backend has configured its chip
      for (const k of ["1", "#", "dnd"] as KeyName[]) r.press(k);
      await r.settle();
      expect(seen).toEqual(["+1", "-1", "+#", "-#", "+dnd", "-dnd"]);
    });
  });
  describe(`${name}: Leds`, () => {
    it("replaces a pattern at once, and close turns every LED off", async () => {
      const r = make();
      const names: LedName[] = ["status", "line", "message", "emergency"];
      for (const n of names) r.leds.set(n, { kind: "blink", onMs: 100, offMs: 100 });
      r.leds.set("line", { kind: "on" });
      expect(r.leds.pattern("line")).toEqual({ kind: "on" });
      expect(r.leds.pattern("emergency")).toEqual({ kind: "blink", onMs: 100, offMs: 100 });
      await r.leds.close();
      for (const n of names) expect(r.leds.pattern(n)).toEqual({ kind: "off" });
    });
  });
}

contract("mock", () => {
  const m = new MockHandset(new ManualClock());
  return {
    hook: m.hook,
    keypad: m.keypad,
    leds: m.leds,
    lift: () => m.lift(),
    replace: () => m.replace(),
    flash: () => m.flash(),
    press: (k) => m.press(k),
    settle: () => {},
  };
});

describe("mock controls", () => {
  it("records each LED's timeline on the clock", () => {
    const clock = new ManualClock();
    const m = new MockHandset(clock);
    m.leds.set("emergency", { kind: "blink", onMs: 100, offMs: 100 });
    clock.advance(500);
    m.leds.set("emergency", { kind: "on" });
    expect(m.leds.timeline("emergency")).toEqual([
      { at: 0, pattern: { kind: "blink", onMs: 100, offMs: 100 } },
      { at: 500, pattern: { kind: "on" } },
    ]);
  });
  it("press takes a string of digits or one named key", () => {
    const m = new MockHandset();
    const keys: string[] = [];
    m.keypad.on("keyDown", (k) => keys.push(k));
    m.press("112#");
    m.press("ack");
    expect(keys).toEqual(["1", "1", "2", "#", "ack"]);
  });
});

describe("LedAnimator", () => {
  it("steps a blink on the clock, starting with on, and stops on replace", () => {
    const clock = new ManualClock();
    const levels: string[] = [];
    const a = new LedAnimator(clock, (n, on) => levels.push(`${clock.now()}:${n}:${on ? 1 : 0}`));
    a.set("emergency", { kind: "blink", onMs: 100, offMs: 50 });
    clock.advance(320);
    a.set("emergency", { kind: "off" });
    clock.advance(500);
    expect(levels).toEqual([
      "0:emergency:1",
      "100:emergency:0",
      "150:emergency:1",
      "250:emergency:0",
      "300:emergency:1",
      "320:emergency:0",
    ]);
  });
});

// ---- The GPIO character-device backend, through the fake kernel at the ioctl seam.
import { GpioHandset } from "../../hal/gpio-handset.ts";
import { FakeGpioKernel } from "../support/fake-gpio-kernel.ts";

const PI_LINES = Array.from({ length: 28 }, (_, i) => `GPIO${i}`);
const WIRING = {
  chip: "pinctrl-bcm2711",
  hook: "GPIO17",
  keys: { "1": "GPIO5", "#": "GPIO6", dnd: "GPIO13" } as Record<string, string>,
  leds: { status: "GPIO22", line: "GPIO23", message: "GPIO24", emergency: "GPIO25" },
};

function gpioRig(): Rig & { kernel: FakeGpioKernel; clock: ManualClock; handset: GpioHandset } {
  const clock = new ManualClock();
  const kernel = new FakeGpioKernel(() => clock.now());
  kernel.addChip("pinctrl-bcm2711", PI_LINES);
  const handset = new GpioHandset(kernel, WIRING, clock);
  // Edge events reach the backend when the event loop sees the request's fd readable.
  const settle = async () => {
    await kernel.settled();
    clock.advance(1200);
  };
  return {
    kernel,
    clock,
    handset,
    hook: handset.hook,
    keypad: handset.keypad,
    leds: handset.leds,
    lift: () => kernel.closeSwitch("pinctrl-bcm2711", "GPIO17", true),
    replace: () => kernel.closeSwitch("pinctrl-bcm2711", "GPIO17", false),
    flash: () => {
      kernel.closeSwitch("pinctrl-bcm2711", "GPIO17", false);
      clock.advance(300);
      kernel.closeSwitch("pinctrl-bcm2711", "GPIO17", true);
    },
    press: (k) => {
      const line = WIRING.keys[k];
      if (!line) return;
      kernel.closeSwitch("pinctrl-bcm2711", line, true);
      clock.advance(50);
      kernel.closeSwitch("pinctrl-bcm2711", line, false);
      clock.advance(50);
    },
    settle,
  };
}

contract("gpio character device (fake kernel)", () => gpioRig());

import { GpioInterruptLine } from "../../hal/interrupt-line.ts";
// ---- I2C chips through fakes at the SMBus seam: TCA8418 keypad and PCA9532 LEDs, hook on GPIO.
import { Pca9532Leds } from "../../hal/pca9532.ts";
import { PHONE_KEYMAP, Tca8418Keypad } from "../../hal/tca8418.ts";
import { FakeI2cBus, FakePca9532, FakeTca8418 } from "../support/fake-i2c.ts";

contract("i2c chips (fake bus): TCA8418 keypad, PCA9532 LEDs", () => {
  const g = gpioRig();
  const bus = new FakeI2cBus();
  const keyChip = new FakeTca8418();
  bus.attach(0x34, keyChip);
  bus.attach(0x60, new FakePca9532());
  const keymap = [...PHONE_KEYMAP, ["dnd", "ack", null]] as typeof PHONE_KEYMAP;
  const keypad = new Tca8418Keypad(bus, g.clock, { keymap });
  const leds = new Pca9532Leds(bus, g.clock, {
    map: { status: 0, line: 1, message: 2, emergency: 3 },
  });
  const settle = async () => {
    await g.kernel.settled();
    for (let t = 0; t < 1200; t += 10) {
      g.clock.advance(10);
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
  };
  return {
    ...g,
    keypad,
    leds,
    press: (k) => {
      for (const [r, row] of keymap.entries()) {
        for (const [c, key] of row.entries()) {
          if (key !== k) continue;
          keyChip.key(r, c, true);
          keyChip.key(r, c, false);
        }
      }
    },
    settle,
  };
});

contract("i2c chips (fake bus): TCA8418 keypad read on its INT line (fake GPIO kernel)", () => {
  const g = gpioRig();
  const bus = new FakeI2cBus();
  const keyChip = new FakeTca8418();
  bus.attach(0x34, keyChip);
  bus.attach(0x60, new FakePca9532());
  // INT is open-drain: asserted, the chip pulls the line (GPIO4) to ground.
  keyChip.onInt = (asserted) => g.kernel.closeSwitch("pinctrl-bcm2711", "GPIO4", asserted);
  const keymap = [...PHONE_KEYMAP, ["dnd", "ack", null]] as typeof PHONE_KEYMAP;
  const interrupt = new GpioInterruptLine(g.kernel, "pinctrl-bcm2711", "GPIO4", g.clock);
  const keypad = new Tca8418Keypad(bus, g.clock, { keymap, interrupt });
  const leds = new Pca9532Leds(bus, g.clock, {
    map: { status: 0, line: 1, message: 2, emergency: 3 },
  });
  const settle = async () => {
    for (let t = 0; t < 1200; t += 10) {
      await g.kernel.settled();
      g.clock.advance(10);
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
  };
  return {
    ...g,
    keypad,
    leds,
    press: (k) => {
      for (const [r, row] of keymap.entries()) {
        for (const [c, key] of row.entries()) {
          if (key !== k) continue;
          keyChip.key(r, c, true);
          keyChip.key(r, c, false);
        }
      }
    },
    settle,
  };
});

// ---- sysfs through onoff (a fake onoff over an in-memory sysfs; numbers from a fake sysfs tree).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SysfsHookSwitch, SysfsKeypad, SysfsLeds } from "../../hal/sysfs-gpio.ts";
import { fakeOnoff } from "../support/fake-onoff.ts";

contract("sysfs via onoff (Pi 4 on kernel 6.6: base 512)", () => {
  const root = mkdtempSync(join(tmpdir(), "deskphone-sysfs-"));
  mkdirSync(join(root, "gpiochip512"));
  writeFileSync(join(root, "gpiochip512", "label"), "pinctrl-bcm2711\n");
  writeFileSync(join(root, "gpiochip512", "base"), "512\n");
  writeFileSync(join(root, "gpiochip512", "ngpio"), "58\n");
  const clock = new ManualClock();
  const onoff = fakeOnoff();
  const chip = "pinctrl-bcm2711";
  const keys = { "1": "GPIO5", "#": "GPIO6", dnd: "GPIO13" } as const;
  onoff.switchTo(512 + 17, false);
  const hook = new SysfsHookSwitch({ chip, line: "GPIO17", root }, onoff.Gpio, clock);
  const keypad = new SysfsKeypad({ chip, keys, root }, onoff.Gpio, clock);
  const leds = new SysfsLeds(
    {
      chip,
      leds: { status: "GPIO22", line: "GPIO23", message: "GPIO24", emergency: "GPIO25" },
      root,
    },
    onoff.Gpio,
    clock,
  );
  return {
    hook,
    keypad,
    leds,
    lift: () => onoff.switchTo(529, true),
    replace: () => onoff.switchTo(529, false),
    flash: () => {
      onoff.switchTo(529, false);
      clock.advance(300);
      onoff.switchTo(529, true);
    },
    press: (k) => {
      const line = (keys as Record<string, string>)[k];
      if (!line) return;
      const n = 512 + Number(line.slice(4));
      onoff.switchTo(n, true);
      clock.advance(50);
      onoff.switchTo(n, false);
      clock.advance(50);
    },
    settle: () => clock.advance(1200),
  };
});
