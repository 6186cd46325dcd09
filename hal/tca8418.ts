/**
 * A keypad scanned by a TI TCA8418 keypad controller (I2C, 0x34): the chip
 * scans the matrix itself and queues key events in a 10-deep FIFO.
 *
 * Datasheet (SCPS215): CFG 0x01, INT_STAT 0x02 (K_INT bit 0, OVR_FLOW_INT bit
 * 3; cleared by writing ones), KEY_LCK_EC 0x03 (bits 3:0 = events queued),
 * KEY_EVENT_A 0x04 (reading pops the FIFO: bit 7 = press, bits 6:0 = key
 * number row*10 + col + 1), KP_GPIO1–3 0x1D–0x1F (which rows/columns are
 * keypad). CFG 0x19: INT_CFG | OVR_FLOW_IEN | KE_IEN.
 */
import { EventEmitter } from "node:events";
import type { Clock, KeyName, Keypad } from "./contracts.ts";
import { ChipLink, type Smbus } from "./smbus.ts";

export const TCA8418 = {
  CFG: 0x01,
  INT_STAT: 0x02,
  KEY_LCK_EC: 0x03,
  KEY_EVENT_A: 0x04,
  KP_GPIO1: 0x1d,
  KP_GPIO2: 0x1e,
  KP_GPIO3: 0x1f,
} as const;

/** The usual 4×3 phone keypad, rows top to bottom. */
export const PHONE_KEYMAP: (KeyName | null)[][] = [
  ["1", "2", "3"],
  ["4", "5", "6"],
  ["7", "8", "9"],
  ["*", "0", "#"],
];

export interface Tca8418Options {
  address?: number;
  /** keymap[row][col]; null for no key. Up to 8 rows, 10 columns. */
  keymap?: (KeyName | null)[][];
  /** How often the FIFO is read when no interrupt line is wired, ms. */
  pollMs?: number;
  log?: (level: "warn" | "error" | "info", m: string) => void;
}

export class Tca8418Keypad extends EventEmitter implements Keypad {
  private readonly link: ChipLink;
  private readonly keymap: (KeyName | null)[][];
  private timer: unknown;
  private closed = false;
  private configured = false;
  private busy = false;

  constructor(
    bus: Smbus,
    private readonly clock: Clock,
    private readonly o: Tca8418Options = {},
  ) {
    super();
    this.keymap = o.keymap ?? PHONE_KEYMAP;
    this.link = new ChipLink(
      bus,
      o.address ?? 0x34,
      "TCA8418 keypad",
      () => clock.now(),
      o.log ?? (() => {}),
    );
    this.schedule(0);
  }

  private async configure(): Promise<boolean> {
    const rows = this.keymap.length;
    const cols = Math.max(...this.keymap.map((r) => r.length));
    return this.link.run(async (bus, a) => {
      await bus.writeByte(a, TCA8418.KP_GPIO1, (1 << rows) - 1);
      await bus.writeByte(a, TCA8418.KP_GPIO2, ((1 << Math.min(cols, 8)) - 1) & 0xff);
      await bus.writeByte(a, TCA8418.KP_GPIO3, cols > 8 ? (1 << (cols - 8)) - 1 : 0);
      await bus.writeByte(a, TCA8418.CFG, 0x19);
      await bus.writeByte(a, TCA8418.INT_STAT, 0xff);
    });
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => void this.service(), ms);
  }

  /** Reads the FIFO dry (also call it on the chip's interrupt line). */
  async service(): Promise<void> {
    if (this.closed || this.busy) return;
    this.busy = true;
    try {
      if (!this.configured) this.configured = await this.configure();
      if (this.configured) {
        await this.link.run(async (bus, a) => {
          let count = (await bus.readByte(a, TCA8418.KEY_LCK_EC)) & 0x0f;
          while (count-- > 0) {
            const ev = await bus.readByte(a, TCA8418.KEY_EVENT_A);
            if (ev === 0) break;
            const n = (ev & 0x7f) - 1;
            const key = this.keymap[Math.floor(n / 10)]?.[n % 10];
            if (key && !this.closed) this.emit(ev & 0x80 ? "keyDown" : "keyUp", key);
          }
          const stat = await bus.readByte(a, TCA8418.INT_STAT);
          if (stat & 0x08)
            this.o.log?.("warn", `${this.link.name}: key events lost (FIFO overflow)`);
          await bus.writeByte(a, TCA8418.INT_STAT, stat & 0x0f);
        });
      }
    } finally {
      this.busy = false;
      this.schedule(this.o.pollMs ?? 20);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.removeAllListeners();
  }
}
