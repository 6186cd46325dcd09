/**
 * What an LED shows, as data; hal/ carries it out. The words themselves
 * (LedName, LedPattern) have one home, the handset's contract in
 * hal/contracts.ts, whose types the pure layers may take (docs/layers.md).
 */
import type { LedName, LedPattern } from "../../hal/contracts.ts";

export type { LedName, LedPattern };

/** Every LED, in the order the controller works them out. */
export const LED_NAMES: readonly LedName[] = ["status", "line", "message", "emergency"];

export const LED = {
  off: { kind: "off" } as LedPattern,
  on: { kind: "on" } as LedPattern,
  blink: (onMs: number, offMs: number): LedPattern => ({ kind: "blink", onMs, offMs }),
};

export function sameLedPattern(a: LedPattern, b: LedPattern): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
