/**
 * The `hal` section of the config: which backend serves the hook switch,
 * the keypad and the LEDs, and where each is wired (docs/wiring.md). Parsed
 * with path-and-reason errors; built into a Handset at start, where wiring
 * that does not match the hardware (unknown chip label, line used twice or
 * already in use, an I2C address that does not answer) is reported clearly:
 * the part falls back to the mock so the phone still starts, and the phone
 * reports itself degraded (commands.ts).
 */
import type { Clock, KeyName, LedName } from "../../hal/contracts.ts";
import { KEY_NAMES, LED_NAMES, systemClock } from "../../hal/contracts.ts";
import { type GpioIo, linuxGpioIo, openChip } from "../../hal/gpio-chardev.ts";
import { GpioHandset } from "../../hal/gpio-handset.ts";
import { GpioMatrixKeypad } from "../../hal/gpio-matrix.ts";
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
import { PHONE_KEYMAP, Tca8418Keypad } from "../../hal/tca8418.ts";
import type { ConfigError } from "../alerting/alert-config.ts";
import type { Handset, Log } from "./build-phone.ts";

export interface HalConfig {
  backend: "mock" | "gpio" | "sysfs";
  gpio?: {
    chip: string;
    hook: string;
    hookActiveLow: boolean;
    keys?: Partial<Record<KeyName, string>>;
    matrix?: { rows: string[]; cols: string[]; keymap: (KeyName | null)[][] };
    leds?: Partial<Record<LedName, string>>;
  };
  i2c?: {
    bus: number;
    keypad?: { chip: "tca8418" | "mcp23017"; address: number; keymap: (KeyName | null)[][] };
    leds?: { chip: "pca9532"; address: number; map: Partial<Record<LedName, number>> };
  };
  timing?: { debounceMs: number; flashMinMs: number; flashMaxMs: number };
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const LINE = /^[A-Za-z0-9_.-]{1,31}$/;

export function parseHalConfig(raw: unknown, errors: ConfigError[]): HalConfig {
  if (raw === undefined) return { backend: "mock" };
  if (!isObj(raw)) {
    errors.push({ path: "hal", reason: "expected a mapping" });
    return { backend: "mock" };
  }
  const err = (path: string, reason: string) => errors.push({ path: `hal.${path}`, reason });
  for (const k of Object.keys(raw))
    if (!["backend", "gpio", "i2c", "timing"].includes(k))
      err(k, "unknown setting (known: backend, gpio, i2c, timing)");
  const backend = raw.backend ?? "mock";
  if (backend !== "mock" && backend !== "gpio" && backend !== "sysfs") {
    err(
      "backend",
      'expected "mock", "gpio" (GPIO character device) or "sysfs" (onoff, older kernels)',
    );
  }
  const c: HalConfig = { backend: backend === "gpio" || backend === "sysfs" ? backend : "mock" };
  const used = new Map<string, string>();
  const line = (path: string, v: unknown): string | undefined => {
    if (typeof v !== "string" || !LINE.test(v)) {
      err(path, "expected a line name such as GPIO17");
      return undefined;
    }
    if (used.has(v)) err(path, `line ${v} is already used by ${used.get(v)}`);
    used.set(v, path);
    return v;
  };
  const keymap = (path: string, v: unknown): (KeyName | null)[][] | undefined => {
    if (v === undefined) return undefined;
    if (
      Array.isArray(v) &&
      v.every((row) => Array.isArray(row) && row.every((k) => k === null || KEY_NAMES.includes(k)))
    ) {
      return v as (KeyName | null)[][];
    }
    err(path, `expected rows of keys (${KEY_NAMES.join(" ")}) or null`);
    return undefined;
  };
  if (raw.gpio !== undefined) {
    const g = raw.gpio;
    if (!isObj(g)) err("gpio", "expected a mapping");
    else {
      if (typeof g.chip !== "string" || !g.chip)
        err(
          "gpio.chip",
          "expected the chip's label, e.g. pinctrl-bcm2711 (Pi 4) or pinctrl-rp1 (Pi 5)",
        );
      const hook = line("gpio.hook", g.hook);
      const gpio: NonNullable<HalConfig["gpio"]> = {
        chip: String(g.chip ?? ""),
        hook: hook ?? "",
        hookActiveLow: g.hookActiveLow !== false,
      };
      if (isObj(g.keys)) {
        gpio.keys = {};
        for (const [k, v] of Object.entries(g.keys)) {
          if (!KEY_NAMES.includes(k as KeyName))
            err(`gpio.keys.${k}`, `not a key (${KEY_NAMES.join(" ")})`);
          const l = line(`gpio.keys.${k}`, v);
          if (l) gpio.keys[k as KeyName] = l;
        }
      }
      if (isObj(g.matrix)) {
        const m = g.matrix;
        const rows = Array.isArray(m.rows)
          ? m.rows.map((v, i) => line(`gpio.matrix.rows[${i}]`, v) ?? "")
          : [];
        const cols = Array.isArray(m.cols)
          ? m.cols.map((v, i) => line(`gpio.matrix.cols[${i}]`, v) ?? "")
          : [];
        if (!rows.length || !cols.length)
          err("gpio.matrix", "expected rows: [...] and cols: [...] line names");
        gpio.matrix = {
          rows,
          cols,
          keymap: keymap("gpio.matrix.keymap", m.keymap) ?? PHONE_KEYMAP,
        };
      }
      if (isObj(g.leds)) {
        gpio.leds = {};
        for (const [k, v] of Object.entries(g.leds)) {
          if (!LED_NAMES.includes(k as LedName))
            err(`gpio.leds.${k}`, `not an LED (${LED_NAMES.join(", ")})`);
          const l = line(`gpio.leds.${k}`, v);
          if (l) gpio.leds[k as LedName] = l;
        }
      }
      c.gpio = gpio;
    }
  } else if (c.backend !== "mock")
    err("gpio", `the ${c.backend} backend needs gpio.chip and gpio.hook`);
  if (c.backend === "sysfs" && c.gpio?.matrix)
    err("gpio.matrix", "a CPU-scanned matrix needs the gpio backend (sysfs is too slow to scan)");
  if (raw.i2c !== undefined) {
    const i = raw.i2c;
    if (!isObj(i)) err("i2c", "expected a mapping");
    else {
      let bus = 1;
      if (typeof i.bus === "number" && Number.isInteger(i.bus) && i.bus >= 0) bus = i.bus;
      else err("i2c.bus", "expected the bus number (1 is the Pi's header bus)");
      const addr = (path: string, v: unknown, lo: number, hi: number, dflt: number) => {
        if (v === undefined) return dflt;
        if (typeof v === "number" && v >= lo && v <= hi) return v;
        err(path, `expected an address from 0x${lo.toString(16)} to 0x${hi.toString(16)}`);
        return dflt;
      };
      const i2c: NonNullable<HalConfig["i2c"]> = { bus };
      if (isObj(i.keypad)) {
        const chip = i.keypad.chip;
        if (chip !== "tca8418" && chip !== "mcp23017")
          err("i2c.keypad.chip", 'expected "tca8418" or "mcp23017"');
        const isTca = chip !== "mcp23017";
        i2c.keypad = {
          chip: isTca ? "tca8418" : "mcp23017",
          address: isTca
            ? addr("i2c.keypad.address", i.keypad.address, 0x34, 0x34, 0x34)
            : addr("i2c.keypad.address", i.keypad.address, 0x20, 0x27, 0x20),
          keymap: keymap("i2c.keypad.keymap", i.keypad.keymap) ?? PHONE_KEYMAP,
        };
      }
      if (isObj(i.leds)) {
        if (i.leds.chip !== "pca9532") err("i2c.leds.chip", 'expected "pca9532"');
        const map: Partial<Record<LedName, number>> = {};
        if (isObj(i.leds.map)) {
          for (const [k, v] of Object.entries(i.leds.map)) {
            if (!LED_NAMES.includes(k as LedName))
              err(`i2c.leds.map.${k}`, `not an LED (${LED_NAMES.join(", ")})`);
            else if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 15)
              err(`i2c.leds.map.${k}`, "expected an LED output 0-15");
            else map[k as LedName] = v;
          }
        } else err("i2c.leds.map", "expected { status: 0, line: 1, … }");
        i2c.leds = {
          chip: "pca9532",
          address: addr("i2c.leds.address", i.leds.address, 0x60, 0x67, 0x60),
          map,
        };
      }
      c.i2c = i2c;
    }
  }
  if (raw.timing !== undefined) {
    const t = raw.timing;
    const num = (k: string, lo: number, hi: number, d: number) => {
      const v = isObj(t) ? t[k] : undefined;
      if (v === undefined) return d;
      if (typeof v === "number" && v >= lo && v <= hi) return v;
      err(`timing.${k}`, `expected ${lo}-${hi} ms`);
      return d;
    };
    c.timing = {
      debounceMs: num("debounceMs", 5, 100, 25),
      flashMinMs: num("flashMinMs", 50, 500, 100),
      flashMaxMs: num("flashMaxMs", 200, 2000, 900),
    };
  }
  return c;
}

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
      if (c.gpio.leds && Object.keys(c.gpio.leds).length) parts.leds = g.leds;
      closers.push(() => g.close());
    } catch (e) {
      // The hook, direct keys and LEDs are one line request on one chip: all or none.
      failed("hook switch unreadable", "hal.gpio", e);
    }
    if (c.gpio.matrix) {
      try {
        const m = new GpioMatrixKeypad(io, openChip(io, c.gpio.chip), c.gpio.matrix, clock);
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
          parts.leds = new SysfsLeds(
            { chip: g.chip, leds: g.leds, ...(root && { root }) },
            Gpio,
            clock,
          );
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
    const k = c.i2c.keypad;
    if (k && (await answers(k.address, k.chip.toUpperCase(), "keypad unreadable")) && bus) {
      parts.keypad =
        k.chip === "tca8418"
          ? new Tca8418Keypad(bus, clock, { address: k.address, keymap: k.keymap, log: i2cLog })
          : new Mcp23017Keypad(bus, clock, { address: k.address, keymap: k.keymap, log: i2cLog });
    }
    const l = c.i2c.leds;
    if (l && (await answers(l.address, "PCA9532", "LEDs not driven")) && bus) {
      parts.leds = new Pca9532Leds(bus, clock, { address: l.address, map: l.map, log: i2cLog });
    }
    const b = bus;
    if (b) closers.push(() => b.close());
  }
  return {
    ...parts,
    mock,
    problems,
    async close() {
      for (const f of closers) await f().catch(() => {});
    },
  };
}
