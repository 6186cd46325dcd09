/**
 * A key matrix on a Microchip MCP23017 I/O expander (I2C, 0x20–0x27,
 * IOCON.BANK = 0): rows on port A driven low one at a time, columns on port
 * B read with pull-ups; a pressed key pulls its column low.
 *
 * Datasheet (DS20001952): IODIRA 0x00, IODIRB 0x01 (1 = input), GPPUB 0x0D
 * (pull-ups), GPIOB 0x13 (read), OLATA 0x14 (write). Scans every `scanMs`
 * (10 ms) while a key is down, every `idleMs` (20 ms) otherwise; a change
 * must hold for two scans (debounce).
 */
import { EventEmitter } from "node:events";
import type { Clock, KeyName, Keypad } from "./contracts.ts";
import { ChipLink, type Smbus } from "./smbus.ts";
import { PHONE_KEYMAP } from "./tca8418.ts";

export const MCP23017 = {
  IODIRA: 0x00,
  IODIRB: 0x01,
  GPPUB: 0x0d,
  GPIOB: 0x13,
  OLATA: 0x14,
} as const;

export interface Mcp23017Options {
  address?: number;
  keymap?: (KeyName | null)[][];
  scanMs?: number;
  idleMs?: number;
  log?: (level: "warn" | "error" | "info", m: string) => void;
}

export class Mcp23017Keypad extends EventEmitter implements Keypad {
  private readonly link: ChipLink;
  private readonly keymap: (KeyName | null)[][];
  private configured = false;
  private closed = false;
  private timer: unknown;
  private stable = new Set<KeyName>();
  private candidate = "";

  constructor(
    bus: Smbus,
    private readonly clock: Clock,
    private readonly o: Mcp23017Options = {},
  ) {
    super();
    this.keymap = o.keymap ?? PHONE_KEYMAP;
    this.link = new ChipLink(
      bus,
      o.address ?? 0x20,
      "MCP23017 key matrix",
      () => clock.now(),
      o.log ?? (() => {}),
    );
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.closed) this.timer = this.clock.setTimeout(() => void this.scan(), ms);
  }

  private async scan(): Promise<void> {
    const rows = this.keymap.length;
    if (!this.configured) {
      this.configured = await this.link.run(async (bus, a) => {
        await bus.writeByte(a, MCP23017.IODIRA, 0xff & ~((1 << rows) - 1)); // rows: outputs
        await bus.writeByte(a, MCP23017.IODIRB, 0xff); // columns: inputs
        await bus.writeByte(a, MCP23017.GPPUB, 0xff); // with pull-ups
        await bus.writeByte(a, MCP23017.OLATA, 0xff); // rows idle high
      });
    }
    const down = new Set<KeyName>();
    const ok =
      this.configured &&
      (await this.link.run(async (bus, a) => {
        for (let r = 0; r < rows; r++) {
          await bus.writeByte(a, MCP23017.OLATA, 0xff & ~(1 << r));
          const cols = await bus.readByte(a, MCP23017.GPIOB);
          this.keymap[r]?.forEach((key, c) => {
            if (key && !(cols & (1 << c))) down.add(key);
          });
        }
        await bus.writeByte(a, MCP23017.OLATA, 0xff);
      }));
    if (ok && !this.closed) {
      const sig = [...down].sort().join(",");
      if (sig === this.candidate) this.apply(down);
      this.candidate = sig;
    }
    this.schedule(this.stable.size || down.size ? (this.o.scanMs ?? 10) : (this.o.idleMs ?? 20));
  }

  /** Emits the differences: releases first, then presses in keymap order. */
  private apply(down: Set<KeyName>): void {
    for (const k of this.stable) if (!down.has(k)) this.emit("keyUp", k);
    for (const k of down) if (!this.stable.has(k)) this.emit("keyDown", k);
    this.stable = down;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.removeAllListeners();
  }
}
