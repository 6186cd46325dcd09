/**
 * The phone's body as small typed contracts. Every backend (GPIO character
 * device, sysfs, I2C chips, the mock) implements them and honours the rules
 * written here; one contract test suite runs against each.
 */

/** Milliseconds on a monotonic clock (kernel event timestamps where the backend has them). */
export type Ms = number;

export interface Clock {
  now(): Ms;
  setTimeout(fn: () => void, ms: Ms): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type HookEvent = "offHook" | "onHook" | "flash";

/**
 * The hook switch.
 *
 * Rules for backends:
 * - Contact bounce shorter than `debounceMs` (default 25) never produces an event.
 * - On-hook for between `flashMinMs` and `flashMaxMs` (defaults 100 and 900) and back is
 *   one `flash`, with no `onHook`/`offHook` around it. Shorter is a glitch (no event);
 *   longer is `onHook`, reported as soon as `flashMaxMs` has passed.
 * - Durations come from the backend's event timestamps (kernel timestamps for GPIO), not
 *   from when JavaScript runs.
 * - `offHook` is the current settled state; listeners get every change exactly once.
 * - After `close()` no more events are delivered and the lines are released.
 */
export interface HookSwitch {
  readonly offHook: boolean;
  on(event: HookEvent, listener: () => void): this;
  off(event: HookEvent, listener: () => void): this;
  close(): Promise<void>;
}

export type KeyName =
  | "0"
  | "1"
  | "2"
  | "3"
  | "4"
  | "5"
  | "6"
  | "7"
  | "8"
  | "9"
  | "*"
  | "#"
  | "dnd"
  | "ack";
export const KEY_NAMES: readonly KeyName[] = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "*",
  "#",
  "dnd",
  "ack",
];

/**
 * The keypad.
 *
 * Rules for backends:
 * - Each press gives one `keyDown` and, when released, one `keyUp`; bounce never gives more.
 * - Two keys held at once are reported in the order they went down.
 * - A key the wiring does not name is never reported.
 * - After `close()` no more events are delivered.
 */
export interface Keypad {
  on(event: "keyDown" | "keyUp", listener: (key: KeyName) => void): this;
  off(event: "keyDown" | "keyUp", listener: (key: KeyName) => void): this;
  close(): Promise<void>;
}

export type LedName = "status" | "line" | "message" | "emergency";
export const LED_NAMES: readonly LedName[] = ["status", "line", "message", "emergency"];

/**
 * What an LED shows. This is the one definition: the controller decides in
 * these words (firmware/alerting takes them with `import type`, the one kind
 * of import the layer rules let the pure layers make of hal/), every backend shows them.
 */
export type LedPattern =
  | { kind: "off" }
  | { kind: "on" }
  | { kind: "blink"; onMs: number; offMs: number }
  | { kind: "sequence"; steps: readonly { on: boolean; ms: number }[] };

/**
 * The LEDs.
 *
 * Rules for backends:
 * - `set` replaces the LED's pattern at once; a blink starts with its "on" phase.
 * - Blinking continues without further calls (in hardware where the chip can, e.g.
 *   PCA9532, so it keeps flashing if the process stalls).
 * - An LED the wiring does not have is ignored (and logged once by the backend).
 * - A failure to drive one LED never stops the others.
 * - `close()` turns every LED off and releases the lines.
 */
export interface Leds {
  set(name: LedName, pattern: LedPattern): void;
  pattern(name: LedName): LedPattern;
  close(): Promise<void>;
}
