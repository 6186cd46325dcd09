/**
 * The TCA8418's FIFO played on an i2c-stub register file (the kernel's
 * i2c-stub module: a flat array of registers per address, as the VM rig loads
 * it). Reading KEY_EVENT_A does not pop anything there (datasheet SCPS215:
 * KEY_LCK_EC 0x03 counts queued events, KEY_EVENT_A 0x04 pops one, INT_STAT
 * 0x02 is cleared by writing ones), so this side puts one event in the
 * registers just after the driver finished a poll, and takes it out as soon
 * as the driver's write-back of INT_STAT shows it was read. Bit 7 of INT_STAT
 * (unused on the chip) marks what this side wrote; the driver writes back only
 * bits 3:0, so its write-back is seen.
 */
import type { KeyName } from "../../hal/contracts.ts";
import type { Smbus } from "../../hal/smbus.ts";
import { PHONE_KEYMAP, TCA8418 } from "../../hal/tca8418.ts";

const MARK = 0x80;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StubTca8418 {
  constructor(
    private readonly bus: Smbus,
    private readonly keymap: (KeyName | null)[][] = PHONE_KEYMAP,
    private readonly address = 0x34,
  ) {}

  private async awaitWriteBack(what: string): Promise<void> {
    const end = performance.now() + 3000;
    while ((await this.bus.readByte(this.address, TCA8418.INT_STAT)) & MARK) {
      if (performance.now() > end)
        throw new Error(`TCA8418 on i2c-stub: the driver did not ${what}`);
      await sleep(1);
    }
  }

  /** One key event (bit 7 = press; key number row*10 + col + 1). */
  async event(code: number): Promise<void> {
    const a = this.address;
    await this.bus.writeByte(a, TCA8418.INT_STAT, MARK);
    await this.awaitWriteBack("poll the chip"); // a poll just ended: the next is a poll period away
    await this.bus.writeByte(a, TCA8418.KEY_EVENT_A, code);
    await this.bus.writeByte(a, TCA8418.KEY_LCK_EC, 1);
    await this.bus.writeByte(a, TCA8418.INT_STAT, MARK | 0x01);
    await this.awaitWriteBack("read the key event");
    await this.bus.writeByte(a, TCA8418.KEY_LCK_EC, 0);
    await this.bus.writeByte(a, TCA8418.KEY_EVENT_A, 0);
  }

  /** The key's number on the chip, from the keymap. */
  keyNumber(key: KeyName): number {
    for (const [r, row] of this.keymap.entries()) {
      const c = row.indexOf(key);
      if (c >= 0) return r * 10 + c + 1;
    }
    throw new Error(`no key ${key} in the keymap`);
  }

  /** Presses and releases one key. */
  async press(key: KeyName, holdMs = 60): Promise<void> {
    const n = this.keyNumber(key);
    await this.event(0x80 | n);
    await sleep(holdMs);
    await this.event(n);
  }
}
