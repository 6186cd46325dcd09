/**
 * Fake I2C chips at the SMBus seam (hal/smbus.ts), modelled on their
 * datasheets: a TCA8418 with its key-event FIFO, a PCA9532 with its LED
 * selectors and blink rates, an MCP23017 with a key matrix behind it.
 */
import type { Smbus } from "../../hal/smbus.ts";

export interface FakeChip {
  read(register: number): number;
  write(register: number, value: number): void;
}

const eio = () => Object.assign(new Error("EIO"), { code: "EIO" });
const enxio = () => Object.assign(new Error("ENXIO"), { code: "ENXIO" });

export class FakeI2cBus implements Smbus {
  readonly chips = new Map<number, FakeChip>();
  /** Make the next N transfers fail with EIO (a noisy bus). */
  failNext = 0;
  /** Chips "unplugged": transfers to them fail with ENXIO. */
  readonly gone = new Set<number>();
  readonly writes: { address: number; register: number; value: number }[] = [];

  attach(address: number, chip: FakeChip): void {
    this.chips.set(address, chip);
  }

  private chip(address: number): FakeChip {
    if (this.failNext > 0) {
      this.failNext--;
      throw eio();
    }
    const c = this.chips.get(address);
    if (!c || this.gone.has(address)) throw enxio();
    return c;
  }

  async readByte(address: number, register: number): Promise<number> {
    return this.chip(address).read(register) & 0xff;
  }

  async writeByte(address: number, register: number, value: number): Promise<void> {
    this.chip(address).write(register, value & 0xff);
    this.writes.push({ address, register, value: value & 0xff });
  }

  async close(): Promise<void> {}
}

/**
 * TCA8418 (SCPS215): FIFO of 10 events, KEY_LCK_EC count, INT_STAT flags cleared by
 * writing ones — K_INT only once the FIFO is empty — and the INT output: asserted
 * while a flag whose interrupt CFG enables is set; with INT_CFG, a clear that leaves
 * K_INT set (events still queued) releases INT and asserts it again (the 50 µs pulse).
 */
export class FakeTca8418 implements FakeChip {
  readonly regs = new Uint8Array(0x30);
  private fifo: number[] = [];
  /** Register reads and writes the driver made. */
  transfers = 0;
  /** The INT output's level changes: true = asserted (pulled low). */
  onInt: (asserted: boolean) => void = () => {};
  private intAsserted = false;

  read(r: number): number {
    this.transfers++;
    if (r === 0x03) return ((this.regs[0x03] as number) & 0xf0) | this.fifo.length;
    if (r === 0x04) return this.fifo.shift() ?? 0;
    return this.regs[r] ?? 0;
  }

  write(r: number, v: number): void {
    this.transfers++;
    if (r !== 0x02) {
      this.regs[r] = v;
      this.updateInt();
      return;
    }
    let stat = (this.regs[0x02] as number) & ~v;
    const kIntStays = (v & 0x01) !== 0 && this.fifo.length > 0;
    if (kIntStays) stat |= 0x01;
    this.regs[0x02] = stat;
    if (kIntStays && (this.regs[0x01] as number) & 0x10 && this.intAsserted) {
      this.setInt(false); // INT_CFG: released for 50 µs, then asserted again
      this.setInt(true);
    }
    this.updateInt();
  }

  /** INT follows the flags CFG enables (KE_IEN, GPI_IEN, K_LCK_IEN, OVR_FLOW_IEN: bits 0-3 each). */
  private updateInt(): void {
    this.setInt(((this.regs[0x02] as number) & (this.regs[0x01] as number) & 0x0f) !== 0);
  }

  private setInt(asserted: boolean): void {
    if (asserted === this.intAsserted) return;
    this.intAsserted = asserted;
    this.onInt(asserted);
  }

  /** The chip's own scan saw a key go down or up at (row, col). */
  key(row: number, col: number, down: boolean): void {
    const inKeypad =
      ((this.regs[0x1d] as number) >> row) & 1 && ((this.regs[0x1e] as number) >> col) & 1;
    if (!inKeypad) return;
    if (this.fifo.length >= 10) {
      this.regs[0x02] = (this.regs[0x02] as number) | 0x08; // OVR_FLOW_INT; the event is lost
    } else {
      this.fifo.push((down ? 0x80 : 0) | (row * 10 + col + 1));
      this.regs[0x02] = (this.regs[0x02] as number) | 0x01; // K_INT
    }
    this.updateInt();
  }
}

/** PCA9532: LS0–LS3 selectors and the two blink rates. */
export class FakePca9532 implements FakeChip {
  readonly regs = new Uint8Array(10);
  read(r: number): number {
    return this.regs[r] ?? 0;
  }
  write(r: number, v: number): void {
    this.regs[r] = v;
  }
  /** What LED `i` does: off, on, or blinking with the rate's period (ms) and on-time (ms). */
  led(i: number): { state: "off" | "on" } | { state: "blink"; periodMs: number; onMs: number } {
    const mode = ((this.regs[6 + (i >> 2)] as number) >> (2 * (i & 3))) & 3;
    if (mode === 0) return { state: "off" };
    if (mode === 1) return { state: "on" };
    const psc = this.regs[mode === 2 ? 2 : 4] as number;
    const pwm = this.regs[mode === 2 ? 3 : 5] as number;
    const periodMs = ((psc + 1) / 152) * 1000;
    return { state: "blink", periodMs, onMs: (periodMs * pwm) / 256 };
  }
}

/** MCP23017 (BANK = 0) with switches between port A rows and port B columns. */
export class FakeMcp23017 implements FakeChip {
  readonly regs = new Uint8Array(0x16).fill(0);
  readonly pressed = new Set<string>();
  constructor() {
    this.regs[0x00] = 0xff;
    this.regs[0x01] = 0xff;
  }
  read(r: number): number {
    if (r !== 0x13) return this.regs[r] ?? 0;
    let cols = 0xff & ((this.regs[0x0d] as number) | ~(this.regs[0x01] as number)); // pulled up
    const olat = this.regs[0x14] as number;
    const iodirA = this.regs[0x00] as number;
    for (const k of this.pressed) {
      const [row, col] = k.split(",").map(Number) as [number, number];
      const rowLow = !((iodirA >> row) & 1) && !((olat >> row) & 1);
      if (rowLow) cols &= ~(1 << col);
    }
    return cols;
  }
  write(r: number, v: number): void {
    this.regs[r] = v;
  }
  press(row: number, col: number, down: boolean): void {
    if (down) this.pressed.add(`${row},${col}`);
    else this.pressed.delete(`${row},${col}`);
  }
}
