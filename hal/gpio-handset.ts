/**
 * Hook switch, direct-wired keys and LEDs on GPIO lines of one chip, through
 * the character device. Inputs use pull-up bias and are active-low (a switch
 * to ground), with kernel debounce where the chip offers it; the hook switch
 * also goes through HookDebouncer, timed by the kernel's event timestamps.
 */
import { EventEmitter } from "node:events";
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
import {
  type GpioIo,
  LineRequestHandle,
  lineOffset,
  type OpenChip,
  openChip,
} from "./gpio-chardev.ts";
import { DEFAULT_HOOK_TIMING, HookDebouncer, type HookTiming } from "./hook-debouncer.ts";
import { LedAnimator } from "./led-animator.ts";

export interface GpioWiring {
  /** Chip label (or name), e.g. "pinctrl-bcm2711" (Pi 4) or "pinctrl-rp1" (Pi 5). */
  chip: string;
  /** The hook switch line; closed (to ground) when the handset is lifted, unless `hookActiveLow` is false. */
  hook: string;
  hookActiveLow?: boolean;
  /** One line per key, closing to ground when pressed. */
  keys?: Partial<Record<KeyName, string>>;
  /** One line per LED, high = lit. */
  leds?: Partial<Record<LedName, string>>;
  hookTiming?: HookTiming;
  /** Kernel debounce on inputs, µs (0: none). */
  kernelDebounceUs?: number;
}

type Log = (level: "warn" | "error", m: string) => void;

export class GpioHandset {
  readonly hook: GpioHookSwitch;
  readonly keypad: GpioKeypad;
  readonly leds: GpioLeds;
  private readonly chip: OpenChip;

  constructor(
    private readonly io: GpioIo,
    w: GpioWiring,
    clock: Clock = systemClock,
    log: Log = () => {},
  ) {
    this.chip = openChip(io, w.chip);
    const used = new Map<string, string>();
    const offset = (what: string, name: string) => {
      if (used.has(name))
        throw new Error(`wiring: line ${name} is used twice (${used.get(name)} and ${what})`);
      used.set(name, what);
      return lineOffset(io, this.chip, name);
    };
    const hookOffset = offset("hook", w.hook);
    const keyLines = Object.entries(w.keys ?? {}).map(([k, n]) => ({
      key: k as KeyName,
      offset: offset(`key ${k}`, n as string),
    }));
    const ledLines = Object.entries(w.leds ?? {}).map(([l, n]) => ({
      led: l as LedName,
      offset: offset(`led ${l}`, n as string),
    }));
    const debounceUs = w.kernelDebounceUs ?? 5000;
    const inputs = new LineRequestHandle(
      io,
      this.chip,
      [
        {
          offset: hookOffset,
          direction: "input",
          bias: "pull-up",
          activeLow: w.hookActiveLow ?? true,
          edges: true,
          debounceUs,
        },
        ...keyLines.map((k) => ({
          offset: k.offset,
          direction: "input" as const,
          bias: "pull-up" as const,
          activeLow: true,
          edges: true,
          debounceUs,
        })),
      ],
      "deskphone",
      (n) => log("warn", `GPIO: ${n} edge event(s) lost (the kernel's buffer overflowed)`),
    );
    const outputs = ledLines.length
      ? new LineRequestHandle(
          io,
          this.chip,
          ledLines.map((l) => ({ offset: l.offset, direction: "output" as const })),
          "deskphone",
        )
      : undefined;
    this.hook = new GpioHookSwitch(
      inputs.get()[0] ?? false,
      clock,
      w.hookTiming ?? DEFAULT_HOOK_TIMING,
    );
    this.keypad = new GpioKeypad();
    inputs.watch(
      (e) => {
        if (e.offset === hookOffset) this.hook.edge(e.active, e.atMs);
        else {
          const k = keyLines.find((x) => x.offset === e.offset);
          if (k) this.keypad.edge(k.key, e.active, e.atMs);
        }
      },
      clock,
      (e) =>
        log(
          "error",
          `GPIO inputs on "${w.chip}": ${(e as NodeJS.ErrnoException).code ?? e.message}`,
        ),
    );
    this.hook.onClose(() => inputs.release());
    this.leds = new GpioLeds(clock, outputs, ledLines, log);
  }

  async close(): Promise<void> {
    await Promise.all([this.hook.close(), this.keypad.close(), this.leds.close()]);
    this.io.close(this.chip.fd);
  }
}

export class GpioHookSwitch extends EventEmitter implements HookSwitch {
  private readonly debouncer: HookDebouncer;
  private closed = false;
  private closers: (() => void)[] = [];

  constructor(initial: boolean, clock: Clock, timing: HookTiming) {
    super();
    this.debouncer = new HookDebouncer(initial, clock, (e) => !this.closed && this.emit(e), timing);
  }
  get offHook(): boolean {
    return this.debouncer.offHook;
  }
  edge(active: boolean, atMs: number): void {
    if (!this.closed) this.debouncer.edge(active, atMs);
  }
  onClose(f: () => void): void {
    this.closers.push(f);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.debouncer.dispose();
    for (const f of this.closers) f();
    this.removeAllListeners();
  }
}

/** Keys with their own 10 ms debounce on top of the kernel's: one down and one up a press. */
export class GpioKeypad extends EventEmitter implements Keypad {
  private readonly down = new Map<KeyName, boolean>();
  private readonly lastEdge = new Map<KeyName, number>();
  private closed = false;

  edge(key: KeyName, active: boolean, atMs: number): void {
    if (this.closed) return;
    const last = this.lastEdge.get(key) ?? Number.NEGATIVE_INFINITY;
    this.lastEdge.set(key, atMs);
    if ((this.down.get(key) ?? false) === active) return;
    if (active && atMs - last < 10) return; // a bounce right after release
    this.down.set(key, active);
    this.emit(active ? "keyDown" : "keyUp", key);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.removeAllListeners();
  }
}

export class GpioLeds implements Leds {
  private readonly animator: LedAnimator;
  private readonly warned = new Set<string>();

  constructor(
    clock: Clock,
    private readonly lines: LineRequestHandle | undefined,
    private readonly map: { led: LedName; offset: number }[],
    private readonly log: Log,
  ) {
    this.animator = new LedAnimator(clock, (name, on) => this.drive(name, on));
  }

  private drive(name: LedName, on: boolean): void {
    const i = this.map.findIndex((m) => m.led === name);
    if (i < 0 || !this.lines) {
      if (!this.warned.has(name)) {
        this.warned.add(name);
        this.log("warn", `LED ${name} is not wired; ignored`);
      }
      return;
    }
    try {
      this.lines.set(new Map([[i, on]]));
    } catch (e) {
      if (!this.warned.has(`${name}:err`)) {
        this.warned.add(`${name}:err`);
        this.log("error", `LED ${name}: ${(e as Error).message}`);
      }
    }
  }

  set(name: LedName, pattern: LedPattern): void {
    this.animator.set(name, pattern);
  }
  pattern(name: LedName): LedPattern {
    return this.animator.pattern(name);
  }
  async close(): Promise<void> {
    for (const name of LED_NAMES) this.animator.set(name, { kind: "off" });
    this.animator.stop();
    this.lines?.release();
  }
}
