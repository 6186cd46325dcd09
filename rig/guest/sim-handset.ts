/**
 * The scenario's hands on the simulated handset: the hook switch and the LEDs
 * on gpio-sim lines (sysfs: sim_gpioN/pull moves the "switch", sim_gpioN/value
 * is what the phone drives), and key presses on the TCA8418 at 0x34 of the
 * i2c-stub bus, its INT output on GPIO4 (docs/wiring.md): the chip's FIFO,
 * write-1-to-clear INT_STAT and INT played by test/support/stub-tca8418.ts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KeyName } from "../../hal/contracts.ts";
import { openI2cBus, type Smbus } from "../../hal/smbus.ts";
import { StubTca8418 } from "../../test/support/stub-tca8418.ts";
import type { RigHardware } from "./hardware-env.ts";
import { sleep } from "./report.ts";

/** The TCA8418's INT output (docs/wiring.md). */
export const KEYPAD_INT = "GPIO4";

export class SimHandset {
  private readonly keypad: StubTca8418;

  private constructor(
    private readonly hw: RigHardware,
    private readonly bus: Smbus,
  ) {
    // INT is open-drain: asserted, the chip pulls the line to ground.
    this.keypad = new StubTca8418(bus, {
      int: (asserted) =>
        writeFileSync(this.line(KEYPAD_INT, "pull"), asserted ? "pull-down" : "pull-up"),
    });
  }

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

  /** The TCA8418's INT_STAT and INT line as the phone left them (0x00 and 1: nothing pending). */
  async keypadState(): Promise<string> {
    const stat = await this.bus.readByte(0x34, 0x02);
    return `TCA8418 INT_STAT 0x${stat.toString(16).padStart(2, "0")}, INT (${KEYPAD_INT}) ${this.level(KEYPAD_INT) ? "released" : "asserted"}`;
  }

  /** Lines of the phone's journal (this boot) that report a TCA8418 FIFO overflow. */
  overflowLines(): number {
    const text = execFileSync(
      "journalctl",
      ["-b", "-u", "deskphone.service", "-o", "cat", "--no-pager"],
      { encoding: "utf8", maxBuffer: 64 << 20 },
    );
    return text.split("\n").filter((l) => l.includes("FIFO overflow")).length;
  }

  /** Presses and releases each key of `keys` (0-9 * #) on the 4×3 keypad. */
  async press(keys: string): Promise<void> {
    for (const k of keys) {
      await this.keypad.press(k as KeyName);
      await sleep(60);
    }
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}
