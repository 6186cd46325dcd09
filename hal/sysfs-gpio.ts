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
import { type Clock, type HookSwitch, systemClock } from "./contracts.ts";
import { DEFAULT_HOOK_TIMING, HookDebouncer, type HookTiming } from "./hook-debouncer.ts";

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
