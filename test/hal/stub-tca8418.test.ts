/**
 * The rig's TCA8418 (test/support/stub-tca8418.ts) played on a flat register
 * file, as Linux's i2c-stub is, against the driver on its INT line (the fake
 * GPIO kernel): what the VM rig runs, here without the VM. A flat file keeps
 * whatever is written (a write of ones sets them), so these fail if the
 * driver writes anything but the flags it read, or if the stub stops playing
 * write-1-to-clear.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../hal/contracts.ts";
import { GpioInterruptLine } from "../../hal/interrupt-line.ts";
import { Tca8418Keypad } from "../../hal/tca8418.ts";
import { FakeGpioKernel } from "../support/fake-gpio-kernel.ts";
import { type FakeChip, FakeI2cBus } from "../support/fake-i2c.ts";
import { StubTca8418 } from "../support/stub-tca8418.ts";

const CHIP = "pinctrl-bcm2711";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** i2c-stub's chip: 256 registers that read what was last written. */
class FlatRegisters implements FakeChip {
  readonly regs = new Uint8Array(256);
  read(r: number): number {
    return this.regs[r] ?? 0;
  }
  write(r: number, v: number): void {
    this.regs[r] = v;
  }
}

async function rig() {
  const kernel = new FakeGpioKernel(() => systemClock.now());
  kernel.addChip(
    CHIP,
    Array.from({ length: 28 }, (_, i) => `GPIO${i}`),
  );
  const bus = new FakeI2cBus();
  const flat = new FlatRegisters();
  bus.attach(0x34, flat);
  const logs: string[] = [];
  const keypad = new Tca8418Keypad(bus, systemClock, {
    interrupt: new GpioInterruptLine(kernel, CHIP, "GPIO4", systemClock),
    log: (l, m) => logs.push(`${l} ${m}`),
  });
  const chip = new StubTca8418(bus, {
    int: (asserted) => kernel.closeSwitch(CHIP, "GPIO4", asserted),
    readTimeoutMs: 2000,
  });
  const seen: string[] = [];
  keypad.on("keyDown", (k) => seen.push(`+${k}`));
  keypad.on("keyUp", (k) => seen.push(`-${k}`));
  await sleep(20);
  return { kernel, flat, keypad, chip, seen, logs };
}

describe("the rig's TCA8418 on a flat register file (as on i2c-stub)", () => {
  it("keys pressed one after another are each read once, on INT; nothing left pending", async () => {
    const { kernel, flat, keypad, chip, seen, logs } = await rig();
    expect(flat.regs[0x01]).toBe(0x19);
    expect(flat.regs[0x02], "INT_STAT after the driver's start").toBe(0);
    for (const k of ["2", "0", "0", "2", "#"] as const) await chip.press(k, 5);
    expect(seen).toEqual(["+2", "-2", "+0", "-0", "+0", "-0", "+2", "-2", "+#", "-#"]);
    expect(flat.regs[0x02]).toBe(0);
    expect(kernel.level(CHIP, "GPIO4"), "INT released").toBe(true);
    expect(logs).toEqual([]);
    await keypad.close();
  });

  it("12 events at once: 10 read, 2 lost, one overflow line; keys after it read", async () => {
    const { keypad, chip, seen, logs, flat } = await rig();
    const five = chip.keyNumber("5");
    chip.queue(...Array.from({ length: 12 }, (_, i) => (i % 2 ? five : 0x80 | five)));
    await chip.drained();
    await chip.press("9", 5);
    expect(chip.lost).toBe(2);
    expect(seen).toEqual([...Array(5).fill(["+5", "-5"]).flat(), "+9", "-9"]);
    expect(logs.filter((l) => l.includes("FIFO overflow"))).toHaveLength(1);
    expect(flat.regs[0x02]).toBe(0);
    await keypad.close();
  });
});
