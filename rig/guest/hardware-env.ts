/** What rig/guest/hardware.sh made, from /run/rig/hardware.env. */
import { readFileSync } from "node:fs";

export interface RigHardware {
  gpioChip: string;
  gpioDev: string;
  /** The gpio-sim chip's sysfs directory: sim_gpioN/{name,pull,value}. */
  gpioSimDir: string;
  i2cBus: number;
}

export function hardware(path = "/run/rig/hardware.env"): RigHardware {
  const env = Object.fromEntries(
    readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${path} has no ${k}`);
    return v;
  };
  return {
    gpioChip: need("RIG_GPIO_CHIP"),
    gpioDev: need("RIG_GPIO_DEV"),
    gpioSimDir: need("RIG_GPIO_SIM_DIR"),
    i2cBus: Number(need("RIG_I2C_BUS")),
  };
}
