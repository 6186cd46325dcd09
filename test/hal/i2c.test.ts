/** The I2C chips through fakes at the SMBus seam: TCA8418 keypad, MCP23017 matrix, PCA9532 LEDs. */
import { describe, expect, it } from "vitest";
import type { KeyName } from "../../hal/contracts.ts";
import { Mcp23017Keypad } from "../../hal/mcp23017-matrix.ts";
import { Pca9532Leds } from "../../hal/pca9532.ts";
import { Tca8418Keypad } from "../../hal/tca8418.ts";
import { FakeI2cBus, FakeMcp23017, FakePca9532, FakeTca8418 } from "../support/fake-i2c.ts";
import { ManualClock } from "../support/manual-clock.ts";

/** Moves the clock on in steps, letting the drivers' async bus calls finish between them. */
async function run(clock: ManualClock, ms: number, step = 5) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}

function keys(k: { on(e: "keyDown" | "keyUp", l: (key: KeyName) => void): unknown }) {
  const seen: string[] = [];
  k.on("keyDown", (x) => seen.push(`+${x}`));
  k.on("keyUp", (x) => seen.push(`-${x}`));
  return seen;
}

describe("TCA8418 keypad", () => {
  it("configures a 4x3 keypad and turns FIFO events into key downs and ups", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakeTca8418();
    bus.attach(0x34, chip);
    const kp = new Tca8418Keypad(bus, clock);
    const seen = keys(kp);
    await run(clock, 30);
    expect([chip.regs[0x1d], chip.regs[0x1e], chip.regs[0x01]]).toEqual([0x0f, 0x07, 0x19]);
    chip.key(0, 0, true); // 1
    chip.key(0, 0, false);
    chip.key(3, 2, true); // #
    chip.key(3, 2, false);
    await run(clock, 40);
    expect(seen).toEqual(["+1", "-1", "+#", "-#"]);
    expect(chip.regs[0x02]).toBe(0); // interrupt status cleared
    await kp.close();
  });

  it("reports a FIFO overflow and a chip that stops answering, once each, and recovers", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakeTca8418();
    bus.attach(0x34, chip);
    const logs: string[] = [];
    const kp = new Tca8418Keypad(bus, clock, { log: (l, m) => logs.push(`${l} ${m}`) });
    const seen = keys(kp);
    await run(clock, 30);
    for (let i = 0; i < 12; i++) chip.key(1, 1, i % 2 === 0);
    await run(clock, 30);
    expect(seen).toHaveLength(10);
    expect(logs.filter((l) => l.includes("FIFO overflow"))).toHaveLength(1);
    bus.gone.add(0x34);
    await run(clock, 3000);
    expect(logs.filter((l) => l.includes("TCA8418 keypad at 0x34: ENXIO"))).toHaveLength(1);
    bus.gone.delete(0x34);
    chip.key(2, 1, true); // 8
    await run(clock, 20_000, 50);
    expect(logs.some((l) => l.includes("answers again"))).toBe(true);
    expect(seen.at(-1)).toBe("+8");
    await kp.close();
  });
});

describe("TCA8418 keypad without an INT line (polled)", () => {
  it("clears INT_STAT only by writing back the flags it read (SCPS215: write-1-to-clear; bits 7:5 unused)", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakeTca8418();
    bus.attach(0x34, chip);
    const kp = new Tca8418Keypad(bus, clock);
    await run(clock, 30);
    for (let i = 0; i < 12; i++) chip.key(0, 1, i % 2 === 0);
    await run(clock, 30);
    chip.key(2, 2, true);
    await run(clock, 30);
    const clears = bus.writes.filter((w) => w.register === 0x02).map((w) => w.value);
    // On a flat register file (the rig's i2c-stub) a blind write of ones would *set* them:
    // the driver's start-up 0xff left OVR_FLOW_INT up there, an overflow at every poll.
    expect(clears).toEqual([0x09, 0x01]);
    await kp.close();
  });

  it("a persisting overflow is logged once, then counted every 10 s; keys after it are read", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakeTca8418();
    bus.attach(0x34, chip);
    const logs: string[] = [];
    const kp = new Tca8418Keypad(bus, clock, { log: (l, m) => logs.push(`${l} ${m}`) });
    const seen = keys(kp);
    await run(clock, 30);
    for (let second = 0; second < 5; second++) {
      for (let i = 0; i < 12; i++) chip.key(1, 1, i % 2 === 0);
      await run(clock, 1000, 20);
    }
    expect(seen).toHaveLength(50);
    const lines = () => logs.filter((l) => l.includes("FIFO overflow"));
    expect(lines()).toHaveLength(1);
    await run(clock, 6000, 20);
    expect(lines()).toHaveLength(2);
    expect(lines()[1]).toMatch(/FIFO overflow 4 more time\(s\) in the last 10 s/);
    chip.key(0, 0, true);
    await run(clock, 40);
    expect(seen.at(-1)).toBe("+1");
    expect(chip.regs[0x02]).toBe(0);
    await kp.close();
  });
});

describe("MCP23017 key matrix", () => {
  it("scans rows on port A, reads columns on port B, debounced over two scans", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakeMcp23017();
    bus.attach(0x20, chip);
    const kp = new Mcp23017Keypad(bus, clock);
    const seen = keys(kp);
    await run(clock, 50);
    expect(chip.regs[0x00]).toBe(0xf0); // rows 0-3 outputs
    expect(chip.regs[0x0d]).toBe(0xff); // column pull-ups
    chip.press(1, 1, true); // 5
    await run(clock, 60);
    chip.press(1, 1, false);
    await run(clock, 60);
    // A bounce shorter than a scan is never seen.
    chip.press(2, 0, true);
    await run(clock, 2, 1);
    chip.press(2, 0, false);
    await run(clock, 60);
    expect(seen).toEqual(["+5", "-5"]);
    await kp.close();
  });
});

describe("PCA9532 LEDs", () => {
  it("blinks in hardware with the right rate registers, and shares rates between LEDs", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakePca9532();
    bus.attach(0x60, chip);
    const leds = new Pca9532Leds(bus, clock, {
      map: { status: 0, line: 1, message: 2, emergency: 3 },
    });
    leds.set("emergency", { kind: "blink", onMs: 100, offMs: 100 });
    leds.set("line", { kind: "blink", onMs: 500, offMs: 500 });
    leds.set("status", { kind: "on" });
    leds.set("message", { kind: "blink", onMs: 100, offMs: 100 });
    await leds.settled();
    const e = chip.led(3);
    expect(e.state).toBe("blink");
    if (e.state === "blink") {
      expect(Math.abs(e.periodMs - 200)).toBeLessThan(7); // (PSC+1)/152 s
      expect(Math.abs(e.onMs - 100)).toBeLessThan(5);
    }
    expect(chip.led(2)).toEqual(chip.led(3)); // same rate slot
    const l = chip.led(1);
    expect(l.state === "blink" && Math.abs(l.periodMs - 1000) < 7).toBe(true);
    expect(chip.led(0)).toEqual({ state: "on" });
    expect(Pca9532Leds.rate(100, 100)).toEqual({ psc: 29, pwm: 128 });
  });

  it("an LED set while the chip does not answer shows once it answers again", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakePca9532();
    bus.attach(0x60, chip);
    const logs: string[] = [];
    const leds = new Pca9532Leds(bus, clock, {
      map: { status: 0, emergency: 3 },
      log: (_l, m) => logs.push(m),
    });
    bus.gone.add(0x60);
    leds.set("emergency", { kind: "on" });
    leds.set("status", { kind: "blink", onMs: 100, offMs: 100 });
    await leds.settled();
    expect(chip.led(3)).toEqual({ state: "off" });
    bus.gone.delete(0x60);
    for (let i = 0; i < 10 && chip.led(3).state === "off"; i++) {
      await run(clock, 500, 100);
      await leds.settled();
    }
    expect(chip.led(3)).toEqual({ state: "on" });
    expect(chip.led(0).state).toBe("blink");
    expect(logs.filter((m) => /ENXIO; retrying/.test(m))).toHaveLength(1);
    await leds.close();
  });

  it("falls back to a software blink for a third rate and for sequences; close turns all off", async () => {
    const clock = new ManualClock();
    const bus = new FakeI2cBus();
    const chip = new FakePca9532();
    bus.attach(0x60, chip);
    const logs: string[] = [];
    const leds = new Pca9532Leds(bus, clock, {
      map: { status: 0, line: 1, message: 2, emergency: 3 },
      log: (_l, m) => logs.push(m),
    });
    leds.set("status", { kind: "blink", onMs: 250, offMs: 1750 });
    leds.set("line", { kind: "blink", onMs: 500, offMs: 500 });
    leds.set("emergency", { kind: "blink", onMs: 100, offMs: 100 });
    await leds.settled();
    expect(logs.join()).toMatch(/no free blink rate for emergency/);
    const states: string[] = [];
    for (let i = 0; i < 4; i++) {
      await run(clock, 100, 100);
      await leds.settled();
      states.push(chip.led(3).state);
    }
    expect(new Set(states)).toEqual(new Set(["on", "off"]));
    await leds.close();
    for (let i = 0; i < 4; i++) expect(chip.led(i)).toEqual({ state: "off" });
  });
});
