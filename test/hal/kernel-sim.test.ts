/**
 * The HAL contract (hal/contracts.ts, as test/hal/contracts.test.ts states it
 * for the fakes) against kernel-simulated hardware, for the VM rig (npm run
 * rig, docs/rig.md): the GPIO character-device backend on a gpio-sim chip
 * (hook switch, direct keys, an LED; the scenario's side moves a line's pull
 * and reads what the phone drives in sysfs), and the I2C chips on an i2c-stub
 * bus (PCA9532 LEDs read back from its registers; the TCA8418's FIFO, flags
 * and INT played by test/support/stub-tca8418.ts, INT on gpio-sim's GPIO4).
 * They run only where the environment names
 * the simulated hardware; elsewhere each suite is skipped with the reason in
 * its title.
 *
 *   DESKPHONE_GPIO_SIM_CHIP=<label>  DESKPHONE_GPIO_SIM_DIR=/sys/devices/platform/gpio-sim.0/gpiochipN
 *     (lines named GPIO0…GPIO27 like a Pi's: hook GPIO17, keys GPIO5/6/13, LED GPIO25,
 *     the TCA8418's INT GPIO4)
 *   DESKPHONE_I2C_STUB_BUS=<N>  (modprobe i2c-stub chip_addr=0x34,0x60)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type HookEvent, type KeyName, systemClock } from "../../hal/contracts.ts";
import { linuxGpioIo } from "../../hal/gpio-chardev.ts";
import { GpioHandset } from "../../hal/gpio-handset.ts";
import { GpioInterruptLine } from "../../hal/interrupt-line.ts";
import { Pca9532Leds } from "../../hal/pca9532.ts";
import { openI2cBus, type Smbus } from "../../hal/smbus.ts";
import { Tca8418Keypad } from "../../hal/tca8418.ts";
import { StubTca8418 } from "../support/stub-tca8418.ts";

const sim = process.env.DESKPHONE_GPIO_SIM_CHIP;
const simDir = process.env.DESKPHONE_GPIO_SIM_DIR ?? "";
const stubBus = process.env.DESKPHONE_I2C_STUB_BUS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gpio-sim line by its Pi name: sim_gpioN is offset N, named GPION by the rig. */
const line = (name: string, attr: "pull" | "value") =>
  join(simDir, `sim_gpio${Number(name.replace("GPIO", ""))}`, attr);
/** A switch to ground: closed pulls the line down (the lines are active-low). */
const closeSwitch = (name: string, closed: boolean) =>
  writeFileSync(line(name, "pull"), closed ? "pull-down" : "pull-up");
const level = (name: string) => Number(readFileSync(line(name, "value"), "utf8").trim());

const WIRING = {
  chip: sim ?? "",
  hook: "GPIO17",
  keys: { "1": "GPIO5", "#": "GPIO6", dnd: "GPIO13" } as Partial<Record<KeyName, string>>,
  leds: { emergency: "GPIO25" },
};

describe.skipIf(!sim)(
  "gpio-sim (skipped unless DESKPHONE_GPIO_SIM_CHIP names a gpio-sim chip: the VM rig)",
  () => {
    const open: GpioHandset[] = [];
    const handset = () => {
      for (const n of ["GPIO17", "GPIO5", "GPIO6", "GPIO13"]) closeSwitch(n, false);
      const h = new GpioHandset(linuxGpioIo, WIRING, systemClock);
      open.push(h);
      return h;
    };
    afterEach(async () => {
      for (const h of open.splice(0)) await h.close().catch(() => {});
    });

    it("HookSwitch: reports each change once and keeps the settled state", async () => {
      const h = handset();
      const seen: HookEvent[] = [];
      for (const e of ["offHook", "onHook", "flash"] as const) h.hook.on(e, () => seen.push(e));
      closeSwitch("GPIO17", true);
      await sleep(300);
      closeSwitch("GPIO17", true);
      await sleep(300);
      expect(h.hook.offHook).toBe(true);
      closeSwitch("GPIO17", false); // a flash: on-hook 100–900 ms
      await sleep(300);
      closeSwitch("GPIO17", true);
      await sleep(1200);
      closeSwitch("GPIO17", false);
      await sleep(1200);
      expect(seen).toEqual(["offHook", "flash", "onHook"]);
      expect(h.hook.offHook).toBe(false);
    });

    it("HookSwitch: delivers nothing after close", async () => {
      const h = handset();
      const seen: HookEvent[] = [];
      h.hook.on("offHook", () => seen.push("offHook"));
      await h.hook.close();
      closeSwitch("GPIO17", true);
      await sleep(300);
      expect(seen).toEqual([]);
    });

    it("Keypad (direct keys): one keyDown and one keyUp a press, in order", async () => {
      const h = handset();
      const seen: string[] = [];
      h.keypad.on("keyDown", (k) => seen.push(`+${k}`));
      h.keypad.on("keyUp", (k) => seen.push(`-${k}`));
      await sleep(100);
      for (const k of ["1", "#", "dnd"] as KeyName[]) {
        const n = WIRING.keys[k] as string;
        closeSwitch(n, true);
        await sleep(100);
        closeSwitch(n, false);
        await sleep(100);
      }
      await sleep(200);
      expect(seen).toEqual(["+1", "-1", "+#", "-#", "+dnd", "-dnd"]);
    });

    it("Leds: the line follows the pattern (on, blinking, off)", async () => {
      const h = handset();
      h.leds.set("emergency", { kind: "on" });
      await sleep(50);
      expect(level("GPIO25")).toBe(1);
      h.leds.set("emergency", { kind: "blink", onMs: 100, offMs: 100 });
      const levels = new Set<number>();
      for (let t = 0; t < 600; t += 10) {
        levels.add(level("GPIO25"));
        await sleep(10);
      }
      expect([...levels].sort()).toEqual([0, 1]);
      h.leds.set("emergency", { kind: "off" });
      await sleep(50);
      expect(level("GPIO25")).toBe(0);
      // (Off at close is not visible here: a released gpio-sim line reads its pull.)
    });
  },
);

describe.skipIf(!stubBus)(
  "i2c-stub (skipped unless DESKPHONE_I2C_STUB_BUS names an i2c-stub bus: the VM rig)",
  () => {
    let bus: Smbus | undefined;
    afterEach(async () => {
      await bus?.close();
      bus = undefined;
    });

    it("Leds (PCA9532): the LED selectors through the real SMBus calls", async () => {
      bus = await openI2cBus(Number(stubBus));
      const leds = new Pca9532Leds(bus, systemClock, {
        address: 0x60,
        map: { status: 0, emergency: 3 },
      });
      leds.set("status", { kind: "on" });
      leds.set("emergency", { kind: "blink", onMs: 100, offMs: 100 });
      await leds.settled();
      expect(await bus.readByte(0x60, 0x06)).toBe(0b10_00_00_01);
      expect(await bus.readByte(0x60, 0x02)).toBe(29);
      await leds.close();
      expect(await bus.readByte(0x60, 0x06)).toBe(0);
    });

    /** The TCA8418 on the stub, its INT on gpio-sim's GPIO4 (docs/wiring.md), the driver on the edge. */
    const tca8418 = async () => {
      bus = await openI2cBus(Number(stubBus));
      closeSwitch("GPIO4", false);
      const logs: string[] = [];
      const interrupt = new GpioInterruptLine(linuxGpioIo, sim ?? "", "GPIO4", systemClock);
      const keypad = new Tca8418Keypad(bus, systemClock, {
        interrupt,
        log: (l, m) => logs.push(`${l} ${m}`),
      });
      // INT is open-drain: asserted, the chip pulls the line to ground.
      const chip = new StubTca8418(bus, { int: (asserted) => closeSwitch("GPIO4", asserted) });
      const seen: string[] = [];
      keypad.on("keyDown", (k) => seen.push(`+${k}`));
      keypad.on("keyUp", (k) => seen.push(`-${k}`));
      await sleep(400); // the driver configures the chip
      expect(await bus.readByte(0x34, 0x01)).toBe(0x19);
      return { keypad, chip, seen, logs };
    };

    it.skipIf(!sim)(
      "Keypad (TCA8418, INT on gpio-sim): one keyDown and one keyUp a press, in order (skipped without DESKPHONE_GPIO_SIM_CHIP: its INT line)",
      async () => {
        const { keypad, chip, seen } = await tca8418();
        for (const k of ["1", "#", "0"] as KeyName[]) await chip.press(k);
        await sleep(100);
        await keypad.close();
        expect(seen).toEqual(["+1", "-1", "+#", "-#", "+0", "-0"]);
      },
    );

    it.skipIf(!sim)(
      "Keypad (TCA8418, INT on gpio-sim): an overflow is logged once, the 10 queued events read, keys after it too (skipped without DESKPHONE_GPIO_SIM_CHIP: its INT line)",
      async () => {
        const { keypad, chip, seen, logs } = await tca8418();
        const five = chip.keyNumber("5");
        chip.queue(...Array.from({ length: 12 }, (_, i) => (i % 2 ? five : 0x80 | five)));
        await chip.drained();
        await chip.press("9");
        await sleep(100);
        await keypad.close();
        expect(chip.lost).toBe(2);
        expect(seen).toEqual([...Array(5).fill(["+5", "-5"]).flat(), "+9", "-9"]);
        expect(logs.filter((l) => l.includes("FIFO overflow"))).toHaveLength(1);
        expect(await bus?.readByte(0x34, 0x02)).toBe(0);
      },
    );
  },
);
