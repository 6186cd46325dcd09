/** sysfs GPIO via onoff: the chip-base numbering of current kernels, against a fake sysfs tree. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type OnoffGpio, SysfsHookSwitch, sysfsNumber } from "../../hal/sysfs-gpio.ts";
import { ManualClock } from "../support/manual-clock.ts";

const root = mkdtempSync(join(tmpdir(), "deskphone-sysfs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
function chip(name: string, label: string, base: number, ngpio: number) {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, "label"), `${label}\n`);
  writeFileSync(join(root, name, "base"), `${base}\n`);
  writeFileSync(join(root, name, "ngpio"), `${ngpio}\n`);
}
// A Pi 5 on kernel 6.6: the RP1's lines start at 571.
chip("gpiochip571", "pinctrl-rp1", 571, 54);
chip("gpiochip625", "gpio-brcmstb@107d508500", 625, 32);

describe("sysfs numbering", () => {
  it("adds the chip base (a plain BCM number would be EINVAL on kernels ≥ 6.6)", () => {
    expect(sysfsNumber("pinctrl-rp1", 17, root)).toBe(588);
    expect(() => sysfsNumber("pinctrl-bcm2711", 17, root)).toThrow(
      /no sysfs GPIO chip labelled "pinctrl-bcm2711" \(found: .*pinctrl-rp1" base 571/,
    );
    expect(() => sysfsNumber("pinctrl-rp1", 60, root)).toThrow(/lines 0-53/);
    expect(() => sysfsNumber("x", 1, join(root, "none"))).toThrow(/no sysfs GPIO/);
  });

  it("drives onoff with the resolved number and debounces its edges", () => {
    const made: { n: number; dir: string; edge?: string; activeLow?: boolean }[] = [];
    let watcher: ((e: Error | null | undefined, v: 0 | 1) => void) | undefined;
    let unexported = false;
    class FakeOnoff implements OnoffGpio {
      constructor(n: number, dir: string, edge?: string, o?: { activeLow?: boolean }) {
        made.push({
          n,
          dir,
          ...(edge && { edge }),
          ...(o?.activeLow !== undefined && { activeLow: o.activeLow }),
        });
      }
      readSync(): 0 | 1 {
        return 0;
      }
      writeSync(): void {}
      watch(cb: (e: Error | null | undefined, v: 0 | 1) => void) {
        watcher = cb;
      }
      unexport() {
        unexported = true;
      }
    }
    const clock = new ManualClock();
    const hook = new SysfsHookSwitch(
      { chip: "pinctrl-rp1", line: "GPIO17", root },
      FakeOnoff,
      clock,
    );
    const seen: string[] = [];
    hook.on("offHook", () => seen.push("offHook"));
    expect(made).toEqual([{ n: 588, dir: "in", edge: "both", activeLow: true }]);
    watcher?.(null, 1);
    clock.advance(5);
    watcher?.(null, 0); // bounce
    clock.advance(5);
    watcher?.(null, 1);
    clock.advance(100);
    expect(seen).toEqual(["offHook"]);
    void hook.close();
    expect(unexported).toBe(true);
  });
});

describe("native packages", () => {
  it("onoff (epoll), i2c-bus and native/gpio-ioctl are built and load after npm ci", () => {
    const require = createRequire(import.meta.url);
    expect(typeof require("onoff").Gpio).toBe("function");
    expect(typeof require("i2c-bus").openPromisified).toBe("function");
    expect(typeof require("../../native/gpio-ioctl/build/Release/gpio_ioctl.node").ioctl).toBe(
      "function",
    );
  });
});
