/**
 * The same HAL backends against kernel-simulated hardware, for the VM rig:
 * a gpio-sim chip and an i2c-stub bus. They run only where the environment
 * names them; elsewhere each test is skipped with the reason below.
 *
 *   DESKPHONE_GPIO_SIM_CHIP=<label>  DESKPHONE_GPIO_SIM_DIR=/sys/devices/platform/gpio-sim.0/gpiochipN
 *   DESKPHONE_GPIO_SIM_HOOK=<line name>  (its offset is read from the sim_gpioK/name files)
 *   DESKPHONE_I2C_STUB_BUS=<N>  (modprobe i2c-stub chip_addr=0x60)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../hal/contracts.ts";
import { linuxGpioIo } from "../../hal/gpio-chardev.ts";
import { GpioHandset } from "../../hal/gpio-handset.ts";
import { Pca9532Leds } from "../../hal/pca9532.ts";
import { openI2cBus } from "../../hal/smbus.ts";

const sim = process.env.DESKPHONE_GPIO_SIM_CHIP;
const simDir = process.env.DESKPHONE_GPIO_SIM_DIR ?? "";
const stubBus = process.env.DESKPHONE_I2C_STUB_BUS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!sim)(
  "gpio-sim (skipped: DESKPHONE_GPIO_SIM_CHIP names no gpio-sim chip here)",
  () => {
    it("the hook switch sees a pull change on the simulated line as off-hook", async () => {
      const hookName = process.env.DESKPHONE_GPIO_SIM_HOOK ?? "hook";
      const bank = readdirSync(simDir).find((d) => {
        try {
          return readFileSync(join(simDir, d, "name"), "utf8").trim() === hookName;
        } catch {
          return false;
        }
      });
      if (!bank) throw new Error(`no sim_gpio line named ${hookName} in ${simDir}`);
      const pull = (v: string) => writeFileSync(join(simDir, bank, "pull"), v);
      pull("pull-up");
      const h = new GpioHandset(linuxGpioIo, { chip: sim as string, hook: hookName }, systemClock);
      const seen: string[] = [];
      h.hook.on("offHook", () => seen.push("offHook"));
      pull("pull-down"); // active-low: the switch closes to ground
      await sleep(200);
      expect(seen).toEqual(["offHook"]);
      await h.close();
    });
  },
);

describe.skipIf(!stubBus)(
  "i2c-stub (skipped: DESKPHONE_I2C_STUB_BUS names no i2c-stub bus here)",
  () => {
    it("the PCA9532 driver writes its LED selectors through the real SMBus calls", async () => {
      const bus = await openI2cBus(Number(stubBus));
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
      await bus.close();
    });
  },
);
