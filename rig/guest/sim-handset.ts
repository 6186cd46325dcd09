/**
 * The scenario's hands on the simulated handset: the hook switch and the LEDs
 * on gpio-sim lines (sysfs: sim_gpioN/pull moves the "switch", sim_gpioN/value
 * is what the phone drives), and key presses on the TCA8418 at 0x34 of the
 * i2c-stub bus (the chip's FIFO played by test/support/stub-tca8418.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyName } from "../../hal/contracts.ts";
import { openI2cBus, type Smbus } from "../../hal/smbus.ts";
import { StubTca8418 } from "../../test/support/stub-tca8418.ts";
import type { RigHardware } from "./hardware-env.ts";
import { sleep } from "./report.ts";

export class SimHandset {
  private constructor(
    private readonly hw: RigHardware,
    private readonly bus: Smbus,
  ) {}

  static async open(hw: RigHardware): Promise<SimHandset> {
    return new SimHandset(hw, await openI2cBus(hw.i2cBus));
  }

  private line(name: string, attr: "pull" | "value"): string {
    return join(this.hw.gpioSimDir, `sim_gpio${Number(name.replace("GPIO", ""))}`, attr);
  }

  /** The switch closes to ground when the handset is lifted (docs/wiring.md). */
  hook(offHook: boolean): void {
    writeFileSync(this.line("GPIO17", "pull"), offHook ? "pull-down" : "pull-up");
  }

  /** What the phone drives on a line now. */
  level(name: string): number {
    return Number(readFileSync(this.line(name, "value"), "utf8").trim());
  }

  /** A line's level every `everyMs` for `ms`: [ms since the first sample, level]. */
  async sample(name: string, ms: number, everyMs = 5): Promise<[number, number][]> {
    const out: [number, number][] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      out.push([performance.now() - t0, this.level(name)]);
      await sleep(everyMs);
    }
    return out;
  }

  /** A PCA9532 register (0x60) as the phone last wrote it. */
  pca9532(register: number): Promise<number> {
    return this.bus.readByte(0x60, register);
  }

  /**
   * What the chip does with the driver's start-up write of ones to INT_STAT:
   * clears it (write-1-to-clear). The stub keeps the ones, and the driver then
   * reports an overflow at every poll — and writes the flags it read back, so
   * a clear that lands between its read and its write-back is undone (under
   * emulation the two can be 100 ms and more apart): cleared until INT_STAT
   * reads 0 for 1.5 s running. Returns the writes it took.
   */
  async clearKeypadFlags(): Promise<number> {
    let writes = 0;
    for (let clean = 0; clean < 50 && writes < 50; ) {
      if ((await this.bus.readByte(0x34, 0x02)) === 0) clean++;
      else {
        clean = 0;
        writes++;
        await this.bus.writeByte(0x34, 0x02, 0);
      }
      await sleep(30);
    }
    return writes;
  }

  /** Presses and releases each key of `keys` (0-9 * #) on the 4×3 keypad. */
  async press(keys: string): Promise<void> {
    const chip = new StubTca8418(this.bus);
    for (const k of keys) {
      await chip.press(k as KeyName);
      await sleep(60);
    }
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}
