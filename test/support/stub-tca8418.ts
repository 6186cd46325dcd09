/**
 * A TCA8418 played on an i2c-stub register file (the kernel's i2c-stub module,
 * as the VM rig loads it: a flat array of registers per address), with its INT
 * output on a gpio-sim line. The stub lacks what the chip does on its own
 * (datasheet SCPS215): reading KEY_EVENT_A pops the FIFO, KEY_LCK_EC counts
 * what is queued, INT_STAT's flags are cleared by writing ones to them (on a
 * flat file a write of ones *sets* them), and INT is asserted while a flag is
 * up. This side plays that:
 *
 * - The FIFO is kept here (10 deep; an 11th event sets OVR_FLOW_INT and is
 *   lost). A read pops nothing on the stub, so the oldest event alone is shown:
 *   KEY_EVENT_A = it, KEY_LCK_EC = 1, INT_STAT = the flags, INT asserted.
 * - Bit 7 of INT_STAT (unused on the chip, which reads it as 0) is set in what
 *   this side writes; the driver writes back only flags (bits 4:0), so its
 *   write is seen as bit 7 going. It is taken as the chip takes it: the flags
 *   written are cleared (K_INT stays while events are queued), and the event
 *   shown was read (the driver reads KEY_EVENT_A before it clears).
 * - With events left, INT is released and asserted again (INT_CFG's 50 µs
 *   pulse, SCPS215 §8.3.5.1) with the next one shown; with none, INT is
 *   released and the registers read empty.
 *
 * Without an INT line the driver polls, and finds the same registers.
 */
import type { KeyName } from "../../hal/contracts.ts";
import type { Smbus } from "../../hal/smbus.ts";
import { INT_STAT, PHONE_KEYMAP, TCA8418 } from "../../hal/tca8418.ts";

const MARK = 0x80;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StubTca8418Options {
  keymap?: (KeyName | null)[][];
  address?: number;
  /** Drives the INT line: asserted = pulled low (gpio-sim: write "pull-down" to its pull). */
  int?: (asserted: boolean) => void;
  /** How long the driver may take to read an event, ms. */
  readTimeoutMs?: number;
}

export class StubTca8418 {
  private readonly fifo: number[] = [];
  private stat = 0;
  private serving: Promise<void> | undefined;
  private readonly keymap: (KeyName | null)[][];
  private readonly address: number;
  /** Overflows this side made (events lost to a full FIFO). */
  lost = 0;

  constructor(
    private readonly bus: Smbus,
    private readonly o: StubTca8418Options = {},
  ) {
    this.keymap = o.keymap ?? PHONE_KEYMAP;
    this.address = o.address ?? 0x34;
  }

  /** The chip's scan saw key events (bit 7 = press; key number row*10 + col + 1). */
  queue(...codes: number[]): void {
    for (const code of codes) {
      if (this.fifo.length >= 10) {
        this.stat |= INT_STAT.OVR_FLOW_INT; // OVR_FLOW_M = 0: the new event is dropped
        this.lost++;
      } else {
        this.fifo.push(code);
        this.stat |= INT_STAT.K_INT;
      }
    }
    this.serving ??= this.serve().finally(() => {
      this.serving = undefined;
    });
  }

  /** Resolves once the driver has read every queued event and cleared every flag. */
  async drained(): Promise<void> {
    while (this.serving) await this.serving;
  }

  private async serve(): Promise<void> {
    const a = this.address;
    while (this.stat) {
      await this.bus.writeByte(a, TCA8418.KEY_EVENT_A, this.fifo[0] ?? 0);
      await this.bus.writeByte(a, TCA8418.KEY_LCK_EC, this.fifo.length ? 1 : 0);
      await this.bus.writeByte(a, TCA8418.INT_STAT, MARK | this.stat);
      this.o.int?.(true);
      const cleared = (await this.driverClear()) & INT_STAT.ALL;
      if (cleared & (INT_STAT.K_INT | INT_STAT.OVR_FLOW_INT)) this.fifo.shift();
      this.stat &= ~cleared;
      if (this.fifo.length) this.stat |= INT_STAT.K_INT;
      this.o.int?.(false);
    }
    await this.bus.writeByte(a, TCA8418.KEY_EVENT_A, 0);
    await this.bus.writeByte(a, TCA8418.KEY_LCK_EC, 0);
    await this.bus.writeByte(a, TCA8418.INT_STAT, 0);
  }

  /** Waits for the driver's write to INT_STAT (bit 7 gone); the flags it wrote. */
  private async driverClear(): Promise<number> {
    const end = performance.now() + (this.o.readTimeoutMs ?? 5000);
    for (;;) {
      const v = await this.bus.readByte(this.address, TCA8418.INT_STAT);
      if (!(v & MARK)) return v;
      if (performance.now() > end)
        throw new Error(
          `TCA8418 on i2c-stub: the driver did not read the key event within ${this.o.readTimeoutMs ?? 5000} ms`,
        );
      await sleep(2);
    }
  }

  /** The key's number on the chip, from the keymap. */
  keyNumber(key: KeyName): number {
    for (const [r, row] of this.keymap.entries()) {
      const c = row.indexOf(key);
      if (c >= 0) return r * 10 + c + 1;
    }
    throw new Error(`no key ${key} in the keymap`);
  }

  /** Presses and releases one key, each event read before the next comes. */
  async press(key: KeyName, holdMs = 60): Promise<void> {
    const n = this.keyNumber(key);
    this.queue(0x80 | n);
    await this.drained();
    await sleep(holdMs);
    this.queue(n);
    await this.drained();
  }
}
