/**
 * GPIO through sysfs with `onoff`, for kernels that offer only sysfs.
 *
 * sysfs is deprecated, and on kernels ≥ 6.6 and on the Pi 5 its numbers are
 * offset by the chip's base (512 on a Pi 4, 571 on a Pi 5): onoff given a
 * plain BCM number fails with EINVAL. So the number is resolved here from
 * /sys/class/gpio/gpiochipN/{label,base,ngpio}. sysfs edge events carry no
 * kernel timestamps: durations are measured when JavaScript sees the edge,
 * which is why the character device is the default backend (docs/hal.md).
 */

import { EventEmitter } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  type Clock,
  type HookSwitch,
  type KeyName,
  type Keypad,
  LED_NAMES,
  type LedName,
  type LedPattern,
  type Leds,
  systemClock,
} from "./contracts.ts";
import { DEFAULT_HOOK_TIMING, HookDebouncer, type HookTiming } from "./hook-debouncer.ts";
import { LedAnimator } from "./led-animator.ts";

/** The part of onoff's Gpio class the backend uses (so a fake can stand in for it). */
export interface OnoffGpio {
  readSync(): 0 | 1;
  writeSync(v: 0 | 1): void;
  watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unexport(): void;
}
export type OnoffGpioClass = new (
  gpio: number,
  direction: "in" | "out" | "high" | "low",
  edge?: "none" | "both",
  options?: { activeLow?: boolean },
) => OnoffGpio;

export function loadOnoff(): OnoffGpioClass {
  return (createRequire(import.meta.url)("onoff") as { Gpio: OnoffGpioClass }).Gpio;
}

/** The global sysfs number of `offset` on the chip labelled `label`. */
export function sysfsNumber(label: string, offset: number, root = "/sys/class/gpio"): number {
  const found: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    throw new Error(
      `${root} is missing: this kernel has no sysfs GPIO; use the character-device backend`,
    );
  }
  for (const chip of entries) {
    const read = (f: string) => readFileSync(join(root, chip, f), "utf8").trim();
    const l = read("label");
    const base = Number(read("base"));
    const ngpio = Number(read("ngpio"));
    found.push(`${chip} "${l}" base ${base}`);
    if (l !== label) continue;
    if (offset < 0 || offset >= ngpio)
      throw new Error(`chip "${label}" has lines 0-${ngpio - 1}, not ${offset}`);
    return base + offset;
  }
  throw new Error(`no sysfs GPIO chip labelled "${label}" (found: ${found.join(", ") || "none"})`);
}

/** "GPIO17" → 17: on the Pi's main chip line names are GPIO<offset>. */
export function offsetOfName(name: string): number {
  const m = /^GPIO(\d+)$/.exec(name);
  if (!m) throw new Error(`sysfs needs line names of the form GPIO<n>, not "${name}"`);
  return Number(m[1]);
}

export class SysfsHookSwitch extends EventEmitter implements HookSwitch {
  private readonly gpio: OnoffGpio;
  private readonly debouncer: HookDebouncer;
  private closed = false;

  constructor(
    o: { chip: string; line: string; activeLow?: boolean; root?: string; timing?: HookTiming },
    Gpio: OnoffGpioClass = loadOnoff(),
    private readonly clock: Clock = systemClock,
  ) {
    super();
    const n = sysfsNumber(o.chip, offsetOfName(o.line), o.root);
    this.gpio = new Gpio(n, "in", "both", { activeLow: o.activeLow ?? true });
    this.debouncer = new HookDebouncer(
      this.gpio.readSync() === 1,
      clock,
      (e) => !this.closed && this.emit(e),
      o.timing ?? DEFAULT_HOOK_TIMING,
    );
    this.gpio.watch((err, value) => {
      if (err || this.closed) return;
      this.debouncer.edge(value === 1, this.clock.now());
    });
  }

  get offHook(): boolean {
    return this.debouncer.offHook;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.debouncer.dispose();
    this.gpio.unexport();
    this.removeAllListeners();
  }
}

/** Direct-wired keys on sysfs lines (closed to ground = pressed), 10 ms debounce. */
export class SysfsKeypad extends EventEmitter implements Keypad {
  private readonly gpios: OnoffGpio[] = [];
  private readonly down = new Map<KeyName, boolean>();
  private readonly last = new Map<KeyName, number>();
  private closed = false;

  constructor(
    o: { chip: string; keys: Partial<Record<KeyName, string>>; root?: string },
    Gpio: OnoffGpioClass = loadOnoff(),
    private readonly clock: Clock = systemClock,
  ) {
    super();
    for (const [key, line] of Object.entries(o.keys) as [KeyName, string][]) {
      const g = new Gpio(sysfsNumber(o.chip, offsetOfName(line), o.root), "in", "both", {
        activeLow: true,
      });
      this.gpios.push(g);
      g.watch((err, value) => {
        if (err || this.closed) return;
        const now = this.clock.now();
        const active = value === 1;
        const prev = this.last.get(key) ?? Number.NEGATIVE_INFINITY;
        this.last.set(key, now);
        if ((this.down.get(key) ?? false) === active || (active && now - prev < 10)) return;
        this.down.set(key, active);
        this.emit(active ? "keyDown" : "keyUp", key);
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const g of this.gpios) g.unexport();
    this.removeAllListeners();
  }
}

/** LEDs on sysfs output lines (high = lit), patterns played from the clock. */
export class SysfsLeds implements Leds {
  private readonly gpios = new Map<LedName, OnoffGpio>();
  private readonly animator: LedAnimator;

  constructor(
    o: { chip: string; leds: Partial<Record<LedName, string>>; root?: string },
    Gpio: OnoffGpioClass = loadOnoff(),
    clock: Clock = systemClock,
  ) {
    for (const [led, line] of Object.entries(o.leds) as [LedName, string][]) {
      this.gpios.set(led, new Gpio(sysfsNumber(o.chip, offsetOfName(line), o.root), "low"));
    }
    this.animator = new LedAnimator(clock, (name, on) =>
      this.gpios.get(name)?.writeSync(on ? 1 : 0),
    );
  }

  set(name: LedName, pattern: LedPattern): void {
    this.animator.set(name, pattern);
  }
  pattern(name: LedName): LedPattern {
    return this.animator.pattern(name);
  }
  async close(): Promise<void> {
    for (const n of LED_NAMES) this.animator.set(n, { kind: "off" });
    this.animator.stop();
    for (const g of this.gpios.values()) g.unexport();
  }
}
