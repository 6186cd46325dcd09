/**
 * Plays LED patterns on LEDs that can only be on or off (GPIO, expanders):
 * each LED steps through its pattern on the clock. Hardware that blinks by
 * itself (PCA9532) does not need it.
 */
import type { Clock, LedName, LedPattern } from "./contracts.ts";

export type LedDriver = (name: LedName, on: boolean) => void;

function steps(p: LedPattern): { on: boolean; ms: number }[] {
  switch (p.kind) {
    case "off":
      return [{ on: false, ms: 0 }];
    case "on":
      return [{ on: true, ms: 0 }];
    case "blink":
      return [
        { on: true, ms: p.onMs },
        { on: false, ms: p.offMs },
      ];
    case "sequence":
      return p.steps.length ? p.steps.map((s) => ({ ...s })) : [{ on: false, ms: 0 }];
  }
}

export class LedAnimator {
  private readonly timers = new Map<LedName, unknown>();
  private readonly patterns = new Map<LedName, LedPattern>();

  constructor(
    private readonly clock: Clock,
    private readonly drive: LedDriver,
  ) {}

  set(name: LedName, pattern: LedPattern): void {
    this.clock.clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.patterns.set(name, pattern);
    const s = steps(pattern);
    const run = (i: number) => {
      const step = s[i % s.length] as { on: boolean; ms: number };
      this.drive(name, step.on);
      if (step.ms > 0 && s.length > 1) {
        this.timers.set(
          name,
          this.clock.setTimeout(() => run(i + 1), step.ms),
        );
      }
    };
    run(0);
  }

  pattern(name: LedName): LedPattern {
    return this.patterns.get(name) ?? { kind: "off" };
  }

  stop(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }
}
