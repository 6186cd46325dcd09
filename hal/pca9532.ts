/**
 * LEDs on an NXP PCA9532 16-bit LED dimmer (I2C, 0x60–0x67), blinking in
 * hardware: the LEDs keep flashing if the process stalls.
 *
 * Datasheet (PCA9532 rev. 03): PSC0 0x02, PWM0 0x03, PSC1 0x04, PWM1 0x05,
 * LS0–LS3 0x06–0x09, two bits an LED: 00 off, 01 on, 10 blink at rate 0,
 * 11 blink at rate 1. Period = (PSC + 1) / 152 s; on for PWM / 256 of it.
 * Two blink rates at most: a third pattern falls back to a software blink
 * (on/off written from the clock), and any pattern the chip cannot show
 * (a step sequence) too.
 *
 * A write the chip did not take (it did not answer: ChipLink logs it once and
 * backs off) is not lost: the whole state is written again every 0.5 s, as the
 * backoff allows, until the chip takes it — so an LED set while the chip was
 * away (a missed emergency's) shows once it answers again.
 */
import { type Clock, LED_NAMES, type LedName, type LedPattern, type Leds } from "./contracts.ts";
import { LedAnimator } from "./led-animator.ts";
import { ChipLink, type Smbus } from "./smbus.ts";

export const PCA9532 = { PSC0: 0x02, PWM0: 0x03, PSC1: 0x04, PWM1: 0x05, LS0: 0x06 } as const;

export interface Pca9532Options {
  address?: number;
  /** Which of the chip's LED outputs (0–15) each phone LED is on. */
  map: Partial<Record<LedName, number>>;
  log?: (level: "warn" | "error" | "info", m: string) => void;
}

type Mode = 0 | 1 | 2 | 3;

export class Pca9532Leds implements Leds {
  private readonly link: ChipLink;
  private readonly modes = new Array<Mode>(16).fill(0);
  private readonly patterns = new Map<LedName, LedPattern>();
  /** The blink (on, off) each rate slot shows, if any LED uses it. */
  private readonly slots: ({ onMs: number; offMs: number } | undefined)[] = [undefined, undefined];
  private readonly software: LedAnimator;
  private readonly softLeds = new Set<LedName>();
  private writing = Promise.resolve();
  private resyncTimer: unknown;
  private closed = false;

  constructor(
    bus: Smbus,
    private readonly clock: Clock,
    private readonly o: Pca9532Options,
  ) {
    this.link = new ChipLink(
      bus,
      o.address ?? 0x60,
      "PCA9532 LED driver",
      () => clock.now(),
      o.log ?? (() => {}),
    );
    this.software = new LedAnimator(clock, (name, on) => {
      const i = this.o.map[name];
      if (i === undefined || !this.softLeds.has(name)) return;
      this.modes[i] = on ? 1 : 0;
      this.flush();
    });
  }

  /** Register values of a blink: PSC from the period, PWM from the duty. */
  static rate(onMs: number, offMs: number): { psc: number; pwm: number } {
    const period = onMs + offMs;
    const psc = Math.max(0, Math.min(255, Math.round((period * 152) / 1000) - 1));
    const pwm = Math.max(0, Math.min(255, Math.round((256 * onMs) / period)));
    return { psc, pwm };
  }

  set(name: LedName, pattern: LedPattern): void {
    this.patterns.set(name, pattern);
    const i = this.o.map[name];
    if (i === undefined) return;
    this.softLeds.delete(name);
    this.software.set(name, { kind: "off" });
    if (pattern.kind === "off" || pattern.kind === "on") {
      this.modes[i] = pattern.kind === "on" ? 1 : 0;
    } else if (pattern.kind === "blink") {
      const slot = this.slotFor(name, pattern.onMs, pattern.offMs);
      if (slot === undefined) {
        this.o.log?.("warn", `PCA9532: no free blink rate for ${name}; blinking it from software`);
        this.soft(name, pattern);
        return;
      }
      this.modes[i] = (2 + slot) as Mode;
    } else {
      this.soft(name, pattern);
      return;
    }
    this.releaseUnusedSlots();
    this.flush();
  }

  private soft(name: LedName, pattern: LedPattern): void {
    this.softLeds.add(name);
    this.software.set(name, pattern);
  }

  private slotFor(name: LedName, onMs: number, offMs: number): 0 | 1 | undefined {
    const i = this.o.map[name] as number;
    for (const s of [0, 1] as const) {
      const v = this.slots[s];
      if (v && v.onMs === onMs && v.offMs === offMs) return s;
    }
    for (const s of [0, 1] as const) {
      const inUse = this.modes.some((m, led) => led !== i && m === 2 + s);
      if (!inUse) {
        this.slots[s] = { onMs, offMs };
        const { psc, pwm } = Pca9532Leds.rate(onMs, offMs);
        const [pscReg, pwmReg] =
          s === 0 ? [PCA9532.PSC0, PCA9532.PWM0] : [PCA9532.PSC1, PCA9532.PWM1];
        this.enqueue(async (bus, a) => {
          await bus.writeByte(a, pscReg, psc);
          await bus.writeByte(a, pwmReg, pwm);
        });
        return s;
      }
    }
    return undefined;
  }

  private releaseUnusedSlots(): void {
    for (const s of [0, 1] as const)
      if (!this.modes.includes((2 + s) as Mode)) this.slots[s] = undefined;
  }

  private enqueue(op: (bus: Smbus, a: number) => Promise<void>): void {
    this.writing = this.writing.then(() =>
      this.link.run(op).then((ok) => {
        if (!ok) this.resync();
      }),
    );
  }

  /** After a write the chip did not take: the whole state again, 0.5 s on (one timer at a time). */
  private resync(): void {
    if (this.closed || this.resyncTimer !== undefined) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      for (const s of [0, 1] as const) {
        const v = this.slots[s];
        if (!v) continue;
        const { psc, pwm } = Pca9532Leds.rate(v.onMs, v.offMs);
        const [pscReg, pwmReg] =
          s === 0 ? [PCA9532.PSC0, PCA9532.PWM0] : [PCA9532.PSC1, PCA9532.PWM1];
        this.enqueue(async (bus, a) => {
          await bus.writeByte(a, pscReg, psc);
          await bus.writeByte(a, pwmReg, pwm);
        });
      }
      this.flush();
    }, 500);
  }

  private flush(): void {
    const ls = [0, 1, 2, 3].map((r) =>
      this.modes.slice(r * 4, r * 4 + 4).reduce<number>((v, m, k) => v | (m << (2 * k)), 0),
    );
    this.enqueue(async (bus, a) => {
      for (let r = 0; r < 4; r++) await bus.writeByte(a, PCA9532.LS0 + r, ls[r] as number);
    });
  }

  /** Resolves when every register write so far has been made (or has failed). */
  settled(): Promise<void> {
    return this.writing;
  }

  pattern(name: LedName): LedPattern {
    return this.patterns.get(name) ?? { kind: "off" };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.resyncTimer);
    for (const n of LED_NAMES) this.set(n, { kind: "off" });
    this.software.stop();
    await this.writing;
  }
}
