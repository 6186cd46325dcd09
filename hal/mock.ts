/**
 * The mock handset: hook switch, keypad and LEDs in one instance (no module
 * state), with controls the contracts do not have — lift and replace the
 * handset, flash, press keys, read each LED's pattern and timeline. Used by
 * tests and by bench mode.
 */
import { EventEmitter } from "node:events";
import {
  type Clock,
  type HookEvent,
  type HookSwitch,
  type KeyName,
  type Keypad,
  type LedName,
  type LedPattern,
  type Leds,
  systemClock,
} from "./contracts.ts";

export interface LedChange {
  at: number;
  pattern: LedPattern;
}

export class MockHandset {
  readonly hook: MockHookSwitch;
  readonly keypad: MockKeypad;
  readonly leds: MockLeds;

  constructor(clock: Clock = systemClock) {
    this.hook = new MockHookSwitch();
    this.keypad = new MockKeypad();
    this.leds = new MockLeds(clock);
  }

  lift(): void {
    this.hook.set(true);
  }
  replace(): void {
    this.hook.set(false);
  }
  flash(): void {
    this.hook.flash();
  }
  /** Presses and releases each key of the string (0-9 * #), or one named key. */
  press(keys: string | KeyName): void {
    const list = keys === "dnd" || keys === "ack" ? [keys] : [...keys];
    for (const k of list) this.keypad.press(k as KeyName);
  }
}

export class MockHookSwitch extends EventEmitter implements HookSwitch {
  private state = false;
  private closed = false;

  get offHook(): boolean {
    return this.state;
  }

  set(offHook: boolean): void {
    if (this.closed || offHook === this.state) return;
    this.state = offHook;
    this.emit(offHook ? "offHook" : "onHook");
  }

  flash(): void {
    if (this.closed || !this.state) return;
    this.emit("flash" satisfies HookEvent);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.removeAllListeners();
  }
}

export class MockKeypad extends EventEmitter implements Keypad {
  private closed = false;

  press(key: KeyName): void {
    if (this.closed) return;
    this.emit("keyDown", key);
    this.emit("keyUp", key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.removeAllListeners();
  }
}

export class MockLeds implements Leds {
  private readonly current = new Map<LedName, LedPattern>();
  private readonly history = new Map<LedName, LedChange[]>();

  constructor(private readonly clock: Clock) {}

  set(name: LedName, pattern: LedPattern): void {
    this.current.set(name, pattern);
    const h = this.history.get(name) ?? [];
    h.push({ at: this.clock.now(), pattern });
    this.history.set(name, h);
  }

  pattern(name: LedName): LedPattern {
    return this.current.get(name) ?? { kind: "off" };
  }

  timeline(name: LedName): readonly LedChange[] {
    return this.history.get(name) ?? [];
  }

  async close(): Promise<void> {
    for (const name of this.current.keys()) this.set(name, { kind: "off" });
  }
}
