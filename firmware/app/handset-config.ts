/**
 * The `hal` section of the config: which backend serves the hook switch, the
 * keypad and the LEDs, and where each is wired (docs/wiring.md). Its shape and
 * words are in handset-schema.ts; here are the checks a schema cannot make
 * (a line wired twice, a backend without its wiring) and the defaults that
 * depend on another setting (a chip's address, the keypad's keymap).
 * build-handset.ts opens what it describes.
 */
import type { KeyName, LedName } from "../../hal/contracts.ts";
import { PHONE_KEYMAP } from "../../hal/tca8418.ts";
import { at, type ConfigError, entriesOf } from "./config-errors.ts";
import type { ConfigDocument } from "./config-schema.ts";

type Section = ConfigDocument["hal"];
type Gpio = NonNullable<Section["gpio"]>;
type I2c = NonNullable<Section["i2c"]>;
type Keymap = (KeyName | null)[][];

/** The handset's wiring: the validated `hal` section with every default in. */
export type HalConfig = Omit<Section, "gpio" | "i2c"> & {
  gpio?: Omit<Gpio, "keys" | "matrix" | "leds"> & {
    keys?: Partial<Record<KeyName, string>>;
    matrix?: { rows: string[]; cols: string[]; keymap: Keymap };
    leds?: Partial<Record<LedName, string>>;
  };
  i2c?: Omit<I2c, "keypad" | "leds"> & {
    keypad?: {
      chip: NonNullable<I2c["keypad"]>["chip"];
      address: number;
      keymap: Keymap;
      /** The line (on gpio.chip) the chip's INT output is wired to. */
      interrupt?: string;
    };
    leds?: Omit<NonNullable<I2c["leds"]>, "map"> & { map: Partial<Record<LedName, number>> };
  };
};

/** The I2C keypad chips' addresses when none is given. */
const KEYPAD_ADDRESS = { tca8418: 0x34, mcp23017: 0x20 } as const;

/** The wiring a valid `hal` section describes, with the defaults that depend on other settings. */
export function halConfigFrom(s: Section): HalConfig {
  const c: HalConfig = { backend: s.backend };
  if (s.gpio) {
    const { keys, matrix, leds, ...gpio } = s.gpio;
    c.gpio = {
      ...gpio,
      // The schema allows key and LED names only.
      ...(keys && { keys: keys as Partial<Record<KeyName, string>> }),
      ...(matrix && { matrix: { ...matrix, keymap: matrix.keymap ?? PHONE_KEYMAP } }),
      ...(leds && { leds: leds as Partial<Record<LedName, string>> }),
    };
  }
  if (s.i2c) {
    const { keypad, leds, ...i2c } = s.i2c;
    c.i2c = {
      ...i2c,
      ...(keypad && {
        keypad: {
          chip: keypad.chip,
          address: keypad.address ?? KEYPAD_ADDRESS[keypad.chip],
          keymap: keypad.keymap ?? PHONE_KEYMAP,
          ...(keypad.interrupt && { interrupt: keypad.interrupt }),
        },
      }),
      ...(leds && { leds: { ...leds, map: leds.map as Partial<Record<LedName, number>> } }),
    };
  }
  if (s.timing) c.timing = s.timing;
  return c;
}

/**
 * What the schema cannot see in a `hal` section (paths below `hal`): a backend
 * without its wiring, a matrix on sysfs, a line wired to two things. Runs on
 * a section the schema may have refused, reading only what has the right type.
 */
export function wiringProblems(hal: unknown): ConfigError[] {
  const errors: ConfigError[] = [];
  const backend = at(hal, "backend");
  const gpio = at(hal, "gpio");
  if ((backend === "gpio" || backend === "sysfs") && gpio === undefined)
    errors.push({ path: "gpio", reason: `the ${backend} backend needs gpio.chip and gpio.hook` });
  if (backend === "sysfs" && at(gpio, "matrix") !== undefined)
    errors.push({
      path: "gpio.matrix",
      reason: "a CPU-scanned matrix needs the gpio backend (sysfs is too slow to scan)",
    });
  const used = new Map<string, string>();
  const line = (path: string, v: unknown) => {
    if (typeof v !== "string") return;
    const by = used.get(v);
    if (by) errors.push({ path, reason: `line ${v} is already used by ${by}` });
    else used.set(v, path);
  };
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  line("gpio.hook", at(gpio, "hook"));
  for (const [k, v] of entriesOf(at(gpio, "keys"))) line(`gpio.keys.${k}`, v);
  for (const side of ["rows", "cols"])
    for (const [i, v] of list(at(gpio, "matrix", side)).entries())
      line(`gpio.matrix.${side}[${i}]`, v);
  for (const [k, v] of entriesOf(at(gpio, "leds"))) line(`gpio.leds.${k}`, v);
  const interrupt = at(hal, "i2c", "keypad", "interrupt");
  line("i2c.keypad.interrupt", interrupt);
  if (interrupt !== undefined && at(hal, "i2c", "keypad", "chip") === "mcp23017")
    errors.push({
      path: "i2c.keypad.interrupt",
      reason: "the MCP23017 is polled (its INTA/INTB are not read); an INT line is the TCA8418's",
    });
  else if (interrupt !== undefined && backend !== "gpio")
    errors.push({
      path: "i2c.keypad.interrupt",
      reason: "an INT line is read through the GPIO character device: it needs the gpio backend",
    });
  return errors;
}
