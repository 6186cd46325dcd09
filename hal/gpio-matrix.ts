/**
 * A key matrix scanned by the CPU on GPIO lines (character device): rows are
 * outputs, columns inputs with pull-ups and edge events. At rest every row
 * is driven low, so any key pulls its column low and wakes the scanner; it
 * then drives one row low at a time and reads the columns every `scanMs`
 * (10 ms) until every key is released, and goes back to rest. A change must
 * hold for two scans. The keypad opens its chip itself and closes it with
 * its lines (on close, or at once if a line cannot be had).
 */
import { EventEmitter } from "node:events";
import type { Clock, KeyName, Keypad } from "./contracts.ts";
import {
  type GpioIo,
  LineRequestHandle,
  lineOffset,
  type OpenChip,
  openChip,
} from "./gpio-chardev.ts";

export interface MatrixWiring {
  rows: string[];
  cols: string[];
  keymap: (KeyName | null)[][];
  scanMs?: number;
}

export class GpioMatrixKeypad extends EventEmitter implements Keypad {
  private readonly rows: LineRequestHandle;
  private readonly cols: LineRequestHandle;
  private scanning = false;
  private timer: unknown;
  private stable = new Set<KeyName>();
  private candidate = "";
  private closed = false;

  private readonly chip: OpenChip;

  constructor(
    private readonly io: GpioIo,
    chipLabel: string,
    private readonly w: MatrixWiring,
    private readonly clock: Clock,
  ) {
    super();
    const chip = openChip(io, chipLabel);
    this.chip = chip;
    let rows: LineRequestHandle | undefined;
    try {
      rows = new LineRequestHandle(
        io,
        chip,
        w.rows.map((n) => ({
          offset: lineOffset(io, chip, n),
          direction: "output" as const,
          initial: false,
        })),
        "deskphone-matrix",
      );
      this.rows = rows;
      this.cols = new LineRequestHandle(
        io,
        chip,
        w.cols.map((n) => ({
          offset: lineOffset(io, chip, n),
          direction: "input" as const,
          bias: "pull-up" as const,
          edges: true,
        })),
        "deskphone-matrix",
      );
    } catch (e) {
      rows?.release();
      io.close(chip.fd);
      throw e;
    }
    this.rest();
    this.cols.watch(() => {
      if (!this.scanning && !this.closed) this.startScanning();
    }, clock);
  }

  /** All rows low: a key press shows on its column. */
  private rest(): void {
    this.rows.set(new Map(this.w.rows.map((_, i) => [i, false])));
  }

  private startScanning(): void {
    this.scanning = true;
    this.scan();
  }

  private scan(): void {
    if (this.closed) return;
    const down = new Set<KeyName>();
    for (let r = 0; r < this.w.rows.length; r++) {
      this.rows.set(new Map(this.w.rows.map((_, i) => [i, i !== r])));
      const cols = this.cols.get();
      cols.forEach((high, c) => {
        const key = this.w.keymap[r]?.[c];
        if (key && !high) down.add(key);
      });
    }
    this.rest();
    const sig = [...down].sort().join(",");
    if (sig === this.candidate) {
      for (const k of this.stable) if (!down.has(k)) this.emit("keyUp", k);
      for (const k of down) if (!this.stable.has(k)) this.emit("keyDown", k);
      this.stable = down;
      if (down.size === 0) {
        this.scanning = false;
        return;
      }
    }
    this.candidate = sig;
    this.timer = this.clock.setTimeout(() => this.scan(), this.w.scanMs ?? 10);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.rows.release();
    this.cols.release();
    this.io.close(this.chip.fd);
    this.removeAllListeners();
  }
}
