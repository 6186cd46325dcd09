/**
 * Builds the handset the config's `hal` section describes (handset-config.ts)
 * at start, where wiring that does not match the hardware (unknown chip label,
 * line already in use, an I2C address that does not answer) is reported
 * clearly: the part falls back to the mock so the phone still starts, and the
 * phone reports itself degraded (commands.ts).
 */
import type { Clock, LedName, LedPattern, Leds } from "../../hal/contracts.ts";
import { systemClock } from "../../hal/contracts.ts";
import { type GpioIo, linuxGpioIo } from "../../hal/gpio-chardev.ts";
import { GpioHandset } from "../../hal/gpio-handset.ts";
import { GpioMatrixKeypad } from "../../hal/gpio-matrix.ts";
import { GpioInterruptLine } from "../../hal/interrupt-line.ts";
import { Mcp23017Keypad } from "../../hal/mcp23017-matrix.ts";
import { MockHandset } from "../../hal/mock.ts";
import { Pca9532Leds } from "../../hal/pca9532.ts";
import { openI2cBus, type Smbus } from "../../hal/smbus.ts";
import {
  loadOnoff,
  type OnoffGpioClass,
  SysfsHookSwitch,
  SysfsKeypad,
  SysfsLeds,
} from "../../hal/sysfs-gpio.ts";
import { Tca8418Keypad } from "../../hal/tca8418.ts";
import type { Handset, Log } from "./build-phone.ts";
import type { HalConfig } from "./handset-config.ts";

export interface HandsetDeps {
  gpio?: GpioIo;
  onoff?: OnoffGpioClass;
  sysfsRoot?: string;
  openBus?: (bus: number) => Promise<Smbus>;
  clock?: Clock;
}

/** A handset part that was asked for and could not be opened: "hook switch unreadable: <reason>". */
export type HandsetProblem = string;

/** The built handset; `problems` lists what the config asked for and the hardware would not give. */
export interface BuiltHandset extends Handset {
  mock: MockHandset;
  problems: HandsetProblem[];
  close(): Promise<void>;
}

/**
 * Builds the handset the config describes. A part that cannot be opened is
 * logged as an error, listed in `problems` and replaced by the mock, so the
 * phone still starts (it can still ring and light what works); the caller
 * reports the phone as degraded (commands.ts: systemd STATUS, the status LED).
 */
export async function buildHandset(
  c: HalConfig,
  log: Log,
  deps: HandsetDeps = {},
): Promise<BuiltHandset> {
  const clock = deps.clock ?? systemClock;
  const mock = new MockHandset(clock);
  const parts: Handset = { hook: mock.hook, keypad: mock.keypad, leds: mock.leds };
  const closers: (() => Promise<void>)[] = [];
  // Each LED driver with the names wired to it: GPIO lines and an I2C chip can share the LEDs.
  const wired: WiredLeds[] = [];
  const problems: HandsetProblem[] = [];
  const failed = (problem: string, section: string, e: unknown) => {
    problems.push(`${problem}: ${(e as Error).message}`);
    log("error", `${section}: ${(e as Error).message}; ${problem} (the mock stands in)`);
  };
  if (c.backend === "gpio" && c.gpio) {
    const io = deps.gpio ?? linuxGpioIo;
    try {
      const g = new GpioHandset(
        io,
        {
          chip: c.gpio.chip,
          hook: c.gpio.hook,
          hookActiveLow: c.gpio.hookActiveLow,
          ...(c.gpio.keys && { keys: c.gpio.keys }),
          ...(c.gpio.leds && { leds: c.gpio.leds }),
          ...(c.timing && { hookTiming: c.timing }),
        },
        clock,
        (l, m) => log(l, m),
      );
      parts.hook = g.hook;
      if (c.gpio.keys && Object.keys(c.gpio.keys).length) parts.keypad = g.keypad;
      if (c.gpio.leds && Object.keys(c.gpio.leds).length)
        wired.push({ names: Object.keys(c.gpio.leds) as LedName[], leds: g.leds });
      closers.push(() => g.close());
    } catch (e) {
      // The hook, direct keys and LEDs are one line request on one chip: all or none.
      failed("hook switch unreadable", "hal.gpio", e);
    }
    if (c.gpio.matrix) {
      try {
        const m = new GpioMatrixKeypad(io, c.gpio.chip, c.gpio.matrix, clock);
        parts.keypad = m;
        closers.push(() => m.close());
      } catch (e) {
        failed("keypad unreadable", "hal.gpio.matrix", e);
      }
    }
  }
  if (c.backend === "sysfs" && c.gpio) {
    let Gpio: OnoffGpioClass | undefined;
    try {
      Gpio = deps.onoff ?? loadOnoff();
    } catch (e) {
      failed("hook switch unreadable", "hal.gpio (sysfs)", e);
    }
    const g = c.gpio;
    const root = deps.sysfsRoot;
    if (Gpio) {
      try {
        parts.hook = new SysfsHookSwitch(
          {
            chip: g.chip,
            line: g.hook,
            activeLow: g.hookActiveLow,
            ...(root && { root }),
            ...(c.timing && { timing: c.timing }),
          },
          Gpio,
          clock,
        );
      } catch (e) {
        failed("hook switch unreadable", "hal.gpio (sysfs)", e);
      }
      try {
        if (g.keys)
          parts.keypad = new SysfsKeypad(
            { chip: g.chip, keys: g.keys, ...(root && { root }) },
            Gpio,
            clock,
          );
      } catch (e) {
        failed("keypad unreadable", "hal.gpio.keys (sysfs)", e);
      }
      try {
        if (g.leds)
          wired.push({
            names: Object.keys(g.leds) as LedName[],
            leds: new SysfsLeds({ chip: g.chip, leds: g.leds, ...(root && { root }) }, Gpio, clock),
          });
      } catch (e) {
        failed("LEDs not driven", "hal.gpio.leds (sysfs)", e);
      }
    }
  }
  if (c.i2c) {
    const name = `/dev/i2c-${c.i2c.bus}`;
    const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    let bus: Smbus | undefined;
    let busError: string | undefined;
    try {
      bus = await (deps.openBus ?? openI2cBus)(c.i2c.bus);
    } catch (e) {
      busError = `cannot open ${name}: ${code(e)}`;
      log("error", `hal.i2c: ${busError}`);
    }
    const answers = async (address: number, part: string, problem: string) => {
      if (!bus) {
        problems.push(`${problem}: ${busError}`);
        return false;
      }
      try {
        await bus.readByte(address, 0x00);
        return true;
      } catch (e) {
        const why = `${part} at 0x${address.toString(16)} on ${name} does not answer (${code(e)})`;
        problems.push(`${problem}: ${why}`);
        log("error", `hal.i2c: ${why}; ${problem} (the mock stands in)`);
        return false;
      }
    };
    const i2cLog = (l: "warn" | "error" | "info", m: string) => log(l, m);
    // The keypad's INT line; one that cannot be had leaves the chip polled, which works.
    const intLine = (line: string, chip: string) => {
      try {
        return new GpioInterruptLine(deps.gpio ?? linuxGpioIo, chip, line, clock);
      } catch (e) {
        log("error", `hal.i2c.keypad.interrupt: ${(e as Error).message}; the keypad is polled`);
        return undefined;
      }
    };
    const k = c.i2c.keypad;
    if (k && (await answers(k.address, k.chip.toUpperCase(), "keypad unreadable")) && bus) {
      const interrupt = k.interrupt && c.gpio && intLine(k.interrupt, c.gpio.chip);
      const keypad =
        k.chip === "tca8418"
          ? new Tca8418Keypad(bus, clock, {
              address: k.address,
              keymap: k.keymap,
              log: i2cLog,
              ...(interrupt && { interrupt }),
            })
          : new Mcp23017Keypad(bus, clock, { address: k.address, keymap: k.keymap, log: i2cLog });
      parts.keypad = keypad;
      closers.push(() => keypad.close());
    }
    const l = c.i2c.leds;
    if (l && (await answers(l.address, "PCA9532", "LEDs not driven")) && bus) {
      const leds = new Pca9532Leds(bus, clock, { address: l.address, map: l.map, log: i2cLog });
      wired.push({ names: Object.keys(l.map) as LedName[], leds });
    }
    const b = bus;
    if (b) closers.push(() => b.close());
  }
  if (wired.length === 1 && wired[0]) parts.leds = wired[0].leds;
  if (wired.length > 1) parts.leds = new LedsByName(wired, mock.leds);
  return {
    ...parts,
    mock,
    problems,
    async close() {
      for (const f of closers) await f().catch(() => {});
    },
  };
}

interface WiredLeds {
  names: LedName[];
  leds: Leds;
}

/**
 * The LEDs when more than one driver has some (docs/wiring.md's Pi 4: the
 * emergency LED on GPIO25, status, line and message on the PCA9532): each name
 * goes to the driver it is wired to, one wired nowhere to the mock.
 */
class LedsByName implements Leds {
  constructor(
    private readonly wired: readonly WiredLeds[],
    private readonly unwired: Leds,
  ) {}

  private driver(name: LedName): Leds {
    return this.wired.find((w) => w.names.includes(name))?.leds ?? this.unwired;
  }

  set(name: LedName, pattern: LedPattern): void {
    this.driver(name).set(name, pattern);
  }

  pattern(name: LedName): LedPattern {
    return this.driver(name).pattern(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.wired.map((w) => w.leds.close()));
  }
}
