/** Wiring as configuration: validated with clear errors, built on fake hardware, failing parts fall back. */
import { describe, expect, it } from "vitest";
import { buildHandset } from "../../../firmware/app/build-handset.ts";
import { validateConfig } from "../../../firmware/app/config.ts";
import type { HalConfig } from "../../../firmware/app/handset-config.ts";
import { MockHandset } from "../../../hal/mock.ts";
import { FakeGpioKernel } from "../../support/fake-gpio-kernel.ts";
import { FakeI2cBus, FakePca9532, FakeTca8418 } from "../../support/fake-i2c.ts";
import { ManualClock } from "../../support/manual-clock.ts";

const base = { account: { user: "2001" }, exchange: { url: "wss://pbx:8443" } };
const LINES = Array.from({ length: 28 }, (_, i) => `GPIO${i}`);

describe("hal wiring in the config", () => {
  it("accepts a Raspberry Pi wiring", () => {
    const r = validateConfig({
      ...base,
      hal: {
        backend: "gpio",
        gpio: { chip: "pinctrl-bcm2711", hook: "GPIO17", leds: { emergency: "GPIO25" } },
        i2c: {
          bus: 1,
          keypad: { chip: "tca8418", address: 0x34 },
          leds: { chip: "pca9532", address: 0x60, map: { status: 0, line: 1 } },
        },
      },
    });
    expect(r.ok, JSON.stringify(r.ok ? [] : r.errors)).toBe(true);
  });

  it("names the path and reason of wiring mistakes", () => {
    const r = validateConfig({
      ...base,
      hal: {
        backend: "spi",
        gpio: {
          chip: "",
          hook: "GPIO17",
          keys: { "1": "GPIO17", x: "GPIO5" },
          leds: { beacon: "GPIO6" },
        },
        i2c: {
          bus: -1,
          keypad: { chip: "tca9999", address: 0x99 },
          leds: { chip: "pca9532", map: { status: 20 } },
        },
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = Object.fromEntries(r.errors.map((e) => [e.path, e.reason]));
    expect(got["hal.backend"]).toMatch(/expected "mock", "gpio" .* or "sysfs"/);
    expect(got["hal.gpio.chip"]).toMatch(/label/);
    expect(got["hal.gpio.keys.1"]).toMatch(/line GPIO17 is already used by gpio.hook/);
    expect(got["hal.gpio.keys.x"]).toMatch(/not a key/);
    expect(got["hal.gpio.leds.beacon"]).toMatch(/not an LED/);
    expect(got["hal.i2c.bus"]).toMatch(/bus number/);
    expect(got["hal.i2c.keypad.chip"]).toMatch(/tca8418/);
    expect(got["hal.i2c.leds.map.status"]).toMatch(/0-15/);
  });
});

describe("building the handset", () => {
  const cfg: HalConfig = {
    backend: "gpio",
    gpio: {
      chip: "pinctrl-bcm2711",
      hook: "GPIO17",
      hookActiveLow: true,
      leds: { emergency: "GPIO25" },
    },
    i2c: {
      bus: 1,
      keypad: { chip: "tca8418", address: 0x34, keymap: [["1", "2", "3"]] },
      leds: { chip: "pca9532", address: 0x60, map: { status: 0 } },
    },
  };

  it("wires the GPIO hook and LED, the I2C keypad and LED driver", async () => {
    const clock = new ManualClock();
    const kernel = new FakeGpioKernel(() => clock.now());
    kernel.addChip("pinctrl-bcm2711", LINES);
    const bus = new FakeI2cBus();
    bus.attach(0x34, new FakeTca8418());
    bus.attach(0x60, new FakePca9532());
    const logs: string[] = [];
    const h = await buildHandset(cfg, (l, m) => logs.push(`${l} ${m}`), {
      gpio: kernel,
      openBus: async () => bus,
      clock,
    });
    expect(h.hook.constructor.name).toBe("GpioHookSwitch");
    expect(h.keypad.constructor.name).toBe("Tca8418Keypad");
    expect(logs).toEqual([]);
    await h.close();
  });

  it("lights each LED where it is wired: emergency on its GPIO line, status on the PCA9532", async () => {
    const clock = new ManualClock();
    const kernel = new FakeGpioKernel(() => clock.now());
    kernel.addChip("pinctrl-bcm2711", LINES);
    const bus = new FakeI2cBus();
    const pca = new FakePca9532();
    bus.attach(0x34, new FakeTca8418());
    bus.attach(0x60, pca);
    const h = await buildHandset(cfg, () => {}, { gpio: kernel, openBus: async () => bus, clock });
    h.leds.set("emergency", { kind: "on" });
    h.leds.set("status", { kind: "on" });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(kernel.level("pinctrl-bcm2711", "GPIO25")).toBe(true);
    expect(pca.led(0).state).toBe("on");
    expect(h.leds.pattern("emergency")).toEqual({ kind: "on" });
    h.leds.set("emergency", { kind: "off" });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(kernel.level("pinctrl-bcm2711", "GPIO25")).toBe(false);
    expect(pca.led(0).state).toBe("on");
    await h.close();
  });

  it("reports an unknown chip and an I2C address that does not answer, and falls back to the mock", async () => {
    const clock = new ManualClock();
    const kernel = new FakeGpioKernel(() => clock.now());
    kernel.addChip("pinctrl-rp1", LINES);
    const bus = new FakeI2cBus();
    bus.attach(0x60, new FakePca9532());
    const logs: string[] = [];
    const h = await buildHandset(cfg, (l, m) => logs.push(`${l} ${m}`), {
      gpio: kernel,
      openBus: async () => bus,
      clock,
    });
    expect(logs.join("\n")).toMatch(/hal\.gpio: no GPIO chip labelled "pinctrl-bcm2711"/);
    expect(logs.join("\n")).toMatch(/TCA8418 at 0x34 on \/dev\/i2c-1 does not answer \(ENXIO\)/);
    expect(h.hook).toBe(h.mock.hook);
    expect(h.keypad).toBe(h.mock.keypad);
    expect(h.leds.constructor.name).toBe("Pca9532Leds");
    expect(h.mock).toBeInstanceOf(MockHandset);
    await h.close();
  });
});

describe("the sysfs backend from the config", () => {
  it("builds hook, keys and LEDs on onoff with the chip base applied", async () => {
    const { mkdirSync, mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { fakeOnoff } = await import("../../support/fake-onoff.ts");
    const root = mkdtempSync(join(tmpdir(), "deskphone-sysfs-"));
    mkdirSync(join(root, "gpiochip571"));
    writeFileSync(join(root, "gpiochip571", "label"), "pinctrl-rp1\n");
    writeFileSync(join(root, "gpiochip571", "base"), "571\n");
    writeFileSync(join(root, "gpiochip571", "ngpio"), "54\n");
    const onoff = fakeOnoff();
    const r = validateConfig({
      ...base,
      hal: {
        backend: "sysfs",
        gpio: {
          chip: "pinctrl-rp1",
          hook: "GPIO17",
          keys: { ack: "GPIO5" },
          leds: { emergency: "GPIO25" },
        },
      },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const clock = new ManualClock();
    const h = await buildHandset(r.config.hal, () => {}, {
      onoff: onoff.Gpio,
      sysfsRoot: root,
      clock,
    });
    expect([...onoff.exported].sort()).toEqual([571 + 17, 571 + 25, 571 + 5].sort());
    h.leds.set("emergency", { kind: "on" });
    expect(onoff.level(571 + 25)).toBe(true);
    await h.close();
  });
});
