/** What an LED shows, as data; hal/ carries it out. */

export type LedName = "status" | "line" | "message" | "emergency";
export const LED_NAMES: readonly LedName[] = ["status", "line", "message", "emergency"];

export type LedPattern =
  | { kind: "off" }
  | { kind: "on" }
  | { kind: "blink"; onMs: number; offMs: number }
  | { kind: "sequence"; steps: readonly { on: boolean; ms: number }[] };

export const LED = {
  off: { kind: "off" } as LedPattern,
  on: { kind: "on" } as LedPattern,
  blink: (onMs: number, offMs: number): LedPattern => ({ kind: "blink", onMs, offMs }),
};

export function sameLedPattern(a: LedPattern, b: LedPattern): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
