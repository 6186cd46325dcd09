/**
 * A keypad scanned by a TI TCA8418 keypad controller (I2C, 0x34): the chip
 * scans the matrix itself and queues key events in a 10-deep FIFO.
 *
 * Datasheet (SCPS215): CFG 0x01, INT_STAT 0x02 (K_INT bit 0, GPI_INT 1,
 * K_LCK_INT 2, OVR_FLOW_INT 3, CAD_INT 4; bits 7:5 unused; each cleared by
 * writing a one to it), KEY_LCK_EC 0x03 (bits 3:0 = events queued),
 * KEY_EVENT_A 0x04 (reading pops the FIFO: bit 7 = press, bits 6:0 = key
 * number row*10 + col + 1), KP_GPIO1–3 0x1D–0x1F (which rows/columns are
 * keypad). CFG 0x19: INT_CFG | OVR_FLOW_IEN | KE_IEN.
 *
 * When the chip's INT output is wired to a GPIO line (`interrupt`), the FIFO
 * is read when INT is asserted, once at start and again after an error, and
 * nothing runs while the phone is idle. Without it the chip is polled every
 * `pollMs` (one read of INT_STAT a poll).
 */
import { EventEmitter } from "node:events";
import type { Clock, KeyName, Keypad } from "./contracts.ts";
import type { InterruptLine } from "./interrupt-line.ts";
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

/** INT_STAT's flags (SCPS215, INT_STAT register). */
export const INT_STAT = {
  K_INT: 0x01,
  OVR_FLOW_INT: 0x08,
  /** Every flag the chip has: K_INT, GPI_INT, K_LCK_INT, OVR_FLOW_INT, CAD_INT. */
  ALL: 0x1f,
} as const;

/** CFG: KE_IEN (key events assert INT), OVR_FLOW_IEN (so does an overflow), INT_CFG (below). */
export const CFG_KEYPAD = 0x19;

/** The usual 4×3 phone keypad, rows top to bottom. */
export const PHONE_KEYMAP: (KeyName | null)[][] = [
  ["1", "2", "3"],
  ["4", "5", "6"],
  ["7", "8", "9"],
  ["*", "0", "#"],
];

type Log = (level: "warn" | "error" | "info", m: string) => void;

export interface Tca8418Options {
  address?: number;
  /** keymap[row][col]; null for no key. Up to 8 rows, 10 columns. */
  keymap?: (KeyName | null)[][];
  /** The chip's INT output on a GPIO line: the FIFO is read when it is asserted, with no poll. */
  interrupt?: InterruptLine;
  /** How often the chip is polled when no interrupt line is wired, ms. */
  pollMs?: number;
  /** While the FIFO keeps overflowing, how often the log counts it, ms (10 s). */
  overflowReportMs?: number;
  log?: Log;
}

export class Tca8418Keypad extends EventEmitter implements Keypad {
  private readonly link: ChipLink;
  private readonly keymap: (KeyName | null)[][];
  private readonly overflow: OverflowReport;
  private timer: unknown;
  private closed = false;
  private configured = false;
  private busy = false;
  /** INT was asserted while the FIFO was being read: read it again. */
  private again = false;

  constructor(
    bus: Smbus,
    private readonly clock: Clock,
    private readonly o: Tca8418Options = {},
  ) {
    super();
    this.keymap = o.keymap ?? PHONE_KEYMAP;
    const log = o.log ?? (() => {});
    this.link = new ChipLink(bus, o.address ?? 0x34, "TCA8418 keypad", () => clock.now(), log);
    this.overflow = new OverflowReport(clock, this.link.name, o.overflowReportMs ?? 10_000, log);
    o.interrupt?.watch(
      () => void this.service(),
      (e) => log("error", `${this.link.name}: its INT line: ${e.message}`),
    );
    void this.service();
  }

  private async configure(): Promise<boolean> {
    const rows = this.keymap.length;
    const cols = Math.max(...this.keymap.map((r) => r.length));
    return this.link.run(async (bus, a) => {
      await bus.writeByte(a, TCA8418.KP_GPIO1, (1 << rows) - 1);
      await bus.writeByte(a, TCA8418.KP_GPIO2, ((1 << Math.min(cols, 8)) - 1) & 0xff);
      await bus.writeByte(a, TCA8418.KP_GPIO3, cols > 8 ? (1 << (cols - 8)) - 1 : 0);
      // INT_CFG: a clear while events are still queued releases INT for 50 µs and asserts it
      // again (SCPS215 §8.3.5.1), so every event left behind gives a new edge.
      await bus.writeByte(a, TCA8418.CFG, CFG_KEYPAD);
    });
  }

  /** Reads what the chip has (at start, on INT, on the poll, after an error). */
  async service(): Promise<void> {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    let ok = false;
    try {
      do {
        this.again = false;
        if (!this.configured) this.configured = await this.configure();
        ok = this.configured && (await this.readEvents());
      } while (ok && this.again && !this.closed);
    } finally {
      this.busy = false;
      this.next(ok);
    }
  }

  /**
   * SCPS215, KEY_EVENT_A: INT_STAT says what is pending; KEY_LCK_EC[3:0] how many events
   * are queued; KEY_EVENT_A is read that many times; then the flags read are cleared by
   * writing them back as ones — K_INT only once the FIFO is empty, which is why the
   * clear comes last. On an overflow the 10 queued events are still good (with
   * OVR_FLOW_M = 0 the ones after them were dropped): they are read like any others.
   */
  private async readEvents(): Promise<boolean> {
    const events: number[] = [];
    let stat = 0;
    const ok = await this.link.run(async (bus, a) => {
      stat = (await bus.readByte(a, TCA8418.INT_STAT)) & INT_STAT.ALL;
      if (!stat) return;
      if (stat & (INT_STAT.K_INT | INT_STAT.OVR_FLOW_INT)) {
        let count = (await bus.readByte(a, TCA8418.KEY_LCK_EC)) & 0x0f;
        while (count-- > 0) {
          const ev = await bus.readByte(a, TCA8418.KEY_EVENT_A);
          if (ev === 0) break;
          events.push(ev);
        }
      }
      await bus.writeByte(a, TCA8418.INT_STAT, stat);
    });
    // Events read are gone from the chip even when the clear failed: deliver them.
    for (const ev of events) {
      const n = (ev & 0x7f) - 1;
      const key = this.keymap[Math.floor(n / 10)]?.[n % 10];
      if (key && !this.closed) this.emit(ev & 0x80 ? "keyDown" : "keyUp", key);
    }
    if (ok && stat & INT_STAT.OVR_FLOW_INT && !this.closed) this.overflow.seen();
    return ok;
  }

  /** The poll's next read, or the retry after an error; with INT wired and all well, nothing. */
  private next(ok: boolean): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const pollMs = this.o.pollMs ?? 20;
    if (!ok) this.timer = this.clock.setTimeout(() => void this.service(), this.retryMs(pollMs));
    else if (!this.o.interrupt)
      this.timer = this.clock.setTimeout(() => void this.service(), pollMs);
  }

  private retryMs(pollMs: number): number {
    return Math.max(this.link.retryInMs(), this.o.interrupt ? 0 : pollMs, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.overflow.stop();
    this.o.interrupt?.close();
    this.removeAllListeners();
  }
}

/**
 * The FIFO overflow in the log: one line when it first happens, then, while it
 * goes on, one line every `everyMs` with how many more times it was seen. No
 * overflow goes uncounted, and a chip stuck overflowing cannot flood the log.
 */
class OverflowReport {
  private counting = false;
  private more = 0;
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly part: string,
    private readonly everyMs: number,
    private readonly log: Log,
  ) {}

  seen(): void {
    if (this.counting) {
      this.more++;
      return;
    }
    this.log(
      "warn",
      `${this.part}: key events lost (FIFO overflow: more than 10 events came before they were read)`,
    );
    this.window();
  }

  private window(): void {
    this.counting = true;
    this.timer = this.clock.setTimeout(() => {
      if (this.more === 0) {
        this.counting = false;
        return;
      }
      this.log(
        "warn",
        `${this.part}: FIFO overflow ${this.more} more time(s) in the last ${this.everyMs / 1000} s (key events lost)`,
      );
      this.more = 0;
      this.window();
    }, this.everyMs);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
  }
}
