/**
 * The TCA8418 driven by its INT output: the fake chip (test/support/fake-i2c.ts,
 * SCPS215's INT_STAT, FIFO and INT) pulls a line of the fake GPIO kernel low
 * (test/support/fake-gpio-kernel.ts, whose line requests are real pollable
 * fds watched by the event loop's epoll), and the driver reads the FIFO on
 * that edge. The clock is never moved unless a test says so: a key read
 * without it was read on the edge, and the clock's armed timers are counted.
 */
import { describe, expect, it } from "vitest";
import { buildHandset } from "../../firmware/app/build-handset.ts";
import { validateConfig } from "../../firmware/app/config.ts";
import type { KeyName } from "../../hal/contracts.ts";
import { FLAG } from "../../hal/gpio-uapi.ts";
import { GpioInterruptLine } from "../../hal/interrupt-line.ts";
import { Tca8418Keypad } from "../../hal/tca8418.ts";
import { FakeGpioKernel } from "../support/fake-gpio-kernel.ts";
import { FakeI2cBus, FakeTca8418 } from "../support/fake-i2c.ts";
import { ManualClock } from "../support/manual-clock.ts";

const CHIP = "pinctrl-bcm2711";
const INT = "GPIO4";

/** A manual clock that knows which of its timers are still armed. */
class CountingClock extends ManualClock {
  readonly armed = new Set<unknown>();
  override setTimeout(fn: () => void, ms: number): unknown {
    const h = super.setTimeout(() => {
      this.armed.delete(h);
      fn();
    }, ms);
    this.armed.add(h);
    return h;
  }
  override clearTimeout(h: unknown): void {
    this.armed.delete(h);
    super.clearTimeout(h);
  }
}

/** Turns the event loop (epoll readiness, the driver's bus calls) until `done`, 2 s at most. */
async function until(done: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > 2000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A few turns of the event loop with nothing expected to happen. */
async function idle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** The fake GPIO kernel and a fake TCA8418 at 0x34 on a fake bus, its INT wired to the line INT. */
function wiredChip() {
  const clock = new CountingClock();
  const kernel = new FakeGpioKernel(() => clock.now());
  kernel.addChip(
    CHIP,
    Array.from({ length: 28 }, (_, i) => `GPIO${i}`),
  );
  const bus = new FakeI2cBus();
  const chip = new FakeTca8418();
  bus.attach(0x34, chip);
  // INT is open-drain: asserted, the chip pulls the line to ground.
  chip.onInt = (asserted) => kernel.closeSwitch(CHIP, INT, asserted);
  return { clock, kernel, bus, chip };
}

function rig(opts: { before?: (chip: FakeTca8418) => void } = {}) {
  const { clock, kernel, bus, chip } = wiredChip();
  opts.before?.(chip);
  const logs: string[] = [];
  const interrupt = new GpioInterruptLine(kernel, CHIP, INT, clock);
  const keypad = new Tca8418Keypad(bus, clock, {
    interrupt,
    log: (l, m) => logs.push(`${l} ${m}`),
  });
  const seen: string[] = [];
  keypad.on("keyDown", (k: KeyName) => seen.push(`+${k}`));
  keypad.on("keyUp", (k: KeyName) => seen.push(`-${k}`));
  /** Presses and releases the key at (row, col) on the chip's matrix. */
  const tap = (row: number, col: number) => {
    chip.key(row, col, true);
    chip.key(row, col, false);
  };
  return { clock, kernel, bus, chip, keypad, logs, seen, tap };
}

describe("TCA8418 keypad on its INT line", () => {
  it("reads keys on the INT edge, and arms no timer and touches no bus while idle", async () => {
    const { clock, kernel, chip, keypad, seen, tap } = rig();
    const flags = kernel.flags(CHIP, INT);
    for (const f of [FLAG.INPUT, FLAG.BIAS_PULL_UP, FLAG.ACTIVE_LOW, FLAG.EDGE_FALLING])
      expect(flags & f).toBe(f);
    expect(kernel.debounceUs(CHIP, INT), "no debounce: INT_CFG's 50 µs pulse must pass").toBe(0);
    await idle();
    expect(clock.armed.size, "timers armed while idle").toBe(0);
    await until(() => chip.regs[0x01] === 0x19, "the chip configured");
    const transfers = chip.transfers;
    await idle();
    expect(chip.transfers, "bus transfers while idle").toBe(transfers);

    tap(0, 0); // 1
    await until(() => seen.length === 2, "the 1 key read on the edge");
    tap(3, 2); // #
    chip.key(1, 1, true); // 5 held
    await until(() => seen.length === 5, "three more events");
    expect(seen).toEqual(["+1", "-1", "+#", "-#", "+5"]);
    expect(chip.regs[0x02], "INT_STAT cleared").toBe(0);
    expect(kernel.level(CHIP, INT), "INT released (the line pulled up)").toBe(true);
    await idle();
    expect(clock.armed.size, "timers armed after the keys").toBe(0);
    const after = chip.transfers;
    await idle();
    expect(chip.transfers).toBe(after);
    await keypad.close();
    expect(kernel.consumer(CHIP, INT), "the line released at close").toBe("");
  });

  it("reads what the chip queued before it started, which gives no edge", async () => {
    const { chip, seen, clock } = rig({
      before: (c) => {
        // Left configured and holding events by an earlier run of the phone.
        c.write(0x1d, 0x0f);
        c.write(0x1e, 0x07);
        c.write(0x01, 0x19);
        c.key(2, 1, true); // 8
        c.key(2, 1, false);
      },
    });
    await until(() => seen.length === 2, "the queued events read at start");
    expect(seen).toEqual(["+8", "-8"]);
    expect(chip.regs[0x02]).toBe(0);
    expect(clock.armed.size).toBe(0);
  });

  it("an overflow: logged once, then counted every 10 s while it goes on; the FIFO drained, the flag cleared, later keys read", async () => {
    const { clock, chip, logs, seen, tap } = rig();
    await until(() => chip.regs[0x01] === 0x19, "the chip configured");
    const overflowLines = () => logs.filter((l) => l.includes("FIFO overflow"));
    // Four bursts of 6 taps (12 events each) before the driver can read: 10 queued, 2 lost.
    for (let burst = 0; burst < 4; burst++) {
      for (let i = 0; i < 6; i++) tap(1, 1);
      await until(() => seen.length === 10 * (burst + 1), `burst ${burst} read`);
      await idle();
      expect(chip.regs[0x02], "INT_STAT cleared after the burst").toBe(0);
    }
    expect(overflowLines()).toEqual([
      "warn TCA8418 keypad at 0x34: key events lost (FIFO overflow: more than 10 events came before they were read)",
    ]);
    clock.advance(10_000);
    expect(overflowLines()).toHaveLength(2);
    expect(overflowLines()[1]).toBe(
      "warn TCA8418 keypad at 0x34: FIFO overflow 3 more time(s) in the last 10 s (key events lost)",
    );
    clock.advance(10_000); // a window with none: nothing logged, nothing armed
    expect(overflowLines()).toHaveLength(2);
    expect(clock.armed.size).toBe(0);
    seen.length = 0;
    tap(0, 1); // 2
    await until(() => seen.length === 2, "a key after the overflow");
    expect(seen).toEqual(["+2", "-2"]);
    expect(overflowLines()).toHaveLength(2);
  });

  it("an I2C error on the edge: logged once, retried on the clock, the key delivered, then idle again", async () => {
    const { clock, bus, chip, logs, seen, tap } = rig();
    await until(() => chip.regs[0x01] === 0x19, "the chip configured");
    bus.gone.add(0x34);
    tap(0, 2); // 3, while the chip does not answer
    await until(() => logs.some((l) => l.includes("ENXIO")), "the error logged");
    expect(clock.armed.size, "a retry armed").toBe(1);
    bus.gone.delete(0x34);
    clock.advance(500);
    await until(() => seen.length === 2, "the key read by the retry");
    expect(seen).toEqual(["+3", "-3"]);
    expect(logs.filter((l) => l.includes("ENXIO"))).toHaveLength(1);
    expect(logs.some((l) => l.includes("answers again"))).toBe(true);
    await idle();
    expect(clock.armed.size).toBe(0);
  });
});

describe("the keypad's INT line in the config", () => {
  const base = { account: { user: "2001" }, exchange: { url: "wss://pbx:8443" } };
  const gpio = { chip: CHIP, hook: "GPIO17" };
  const errors = (hal: unknown) => {
    const r = validateConfig({ ...base, hal });
    return r.ok ? {} : Object.fromEntries(r.errors.map((e) => [e.path, e.reason]));
  };

  it("is a line on gpio.chip, not used twice, for the TCA8418 on the gpio backend", () => {
    const i2c = (keypad: object) => ({ bus: 1, keypad });
    expect(
      errors({ backend: "gpio", gpio, i2c: i2c({ chip: "tca8418", interrupt: INT }) }),
    ).toEqual({});
    expect(
      errors({ backend: "gpio", gpio, i2c: i2c({ chip: "tca8418", interrupt: "GPIO17" }) })[
        "hal.i2c.keypad.interrupt"
      ],
    ).toMatch(/line GPIO17 is already used by gpio.hook/);
    expect(
      errors({ backend: "gpio", gpio, i2c: i2c({ chip: "mcp23017", interrupt: INT }) })[
        "hal.i2c.keypad.interrupt"
      ],
    ).toMatch(/the MCP23017 is polled/);
    expect(
      errors({ backend: "sysfs", gpio, i2c: i2c({ chip: "tca8418", interrupt: INT }) })[
        "hal.i2c.keypad.interrupt"
      ],
    ).toMatch(/needs the gpio backend/);
    expect(
      errors({ backend: "gpio", gpio, i2c: i2c({ chip: "tca8418", interrupt: "GPIO 4" }) })[
        "hal.i2c.keypad.interrupt"
      ],
    ).toMatch(/line name/);
  });

  it("buildHandset reads the keypad on its INT line; close releases the line", async () => {
    const { clock, kernel, bus, chip } = wiredChip();
    const r = validateConfig({
      ...base,
      hal: {
        backend: "gpio",
        gpio,
        i2c: { bus: 1, keypad: { chip: "tca8418", interrupt: INT } },
      },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const logs: string[] = [];
    const h = await buildHandset(r.config.hal, (l, m) => logs.push(`${l} ${m}`), {
      gpio: kernel,
      openBus: async () => bus,
      clock,
    });
    expect(h.problems).toEqual([]);
    expect(kernel.consumer(CHIP, INT)).toBe("deskphone-int");
    const seen: string[] = [];
    h.keypad.on("keyDown", (k) => seen.push(k));
    await until(() => chip.regs[0x01] === 0x19, "the chip configured");
    await idle();
    expect(clock.armed.size).toBe(0);
    chip.key(3, 0, true); // *
    await until(() => seen.length === 1, "the key read on the edge");
    expect(seen).toEqual(["*"]);
    expect(logs).toEqual([]);
    await h.close();
    expect(kernel.consumer(CHIP, INT)).toBe("");
  });
});
