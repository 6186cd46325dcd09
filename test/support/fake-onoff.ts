/**
 * A stand-in for onoff's Gpio over an in-memory sysfs: exported numbers,
 * direction, active-low, values and edges; `wire(n)` gives the outside
 * world's side of a line (a switch to ground, an LED's level).
 */
import type { OnoffGpio, OnoffGpioClass } from "../../hal/sysfs-gpio.ts";

export function fakeOnoff() {
  const lines = new Map<
    number,
    {
      level: boolean;
      dir: string;
      activeLow: boolean;
      watchers: ((e: null, v: 0 | 1) => void)[];
      history: boolean[];
    }
  >();
  const exported = new Set<number>();
  const Gpio: OnoffGpioClass = class implements OnoffGpio {
    constructor(
      private readonly n: number,
      dir: string,
      _edge?: string,
      o?: { activeLow?: boolean },
    ) {
      if (exported.has(n)) throw Object.assign(new Error("EBUSY"), { code: "EBUSY" });
      exported.add(n);
      const l = lines.get(n) ?? {
        level: dir === "in",
        dir,
        activeLow: false,
        watchers: [],
        history: [],
      };
      l.dir = dir;
      l.activeLow = o?.activeLow ?? false;
      if (dir === "low" || dir === "high") l.level = dir === "high";
      lines.set(n, l);
    }
    private get l() {
      return lines.get(this.n) as NonNullable<ReturnType<typeof lines.get>>;
    }
    readSync(): 0 | 1 {
      return this.l.level !== this.l.activeLow ? 1 : 0;
    }
    writeSync(v: 0 | 1): void {
      this.l.level = (v === 1) !== this.l.activeLow;
      this.l.history.push(this.l.level);
    }
    watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void {
      this.l.watchers.push(cb as (e: null, v: 0 | 1) => void);
    }
    unexport(): void {
      exported.delete(this.n);
      this.l.watchers = [];
    }
  };
  return {
    Gpio,
    /** A switch to ground on line n (pulled up otherwise) opens or closes. */
    switchTo(n: number, closed: boolean) {
      const l = lines.get(n) ?? {
        level: true,
        dir: "in",
        activeLow: false,
        watchers: [],
        history: [],
      };
      lines.set(n, l);
      const level = !closed;
      if (l.level === level) return;
      l.level = level;
      const v = (level !== l.activeLow ? 1 : 0) as 0 | 1;
      for (const w of l.watchers) w(null, v);
    },
    level: (n: number) => lines.get(n)?.level ?? false,
    exported,
  };
}
