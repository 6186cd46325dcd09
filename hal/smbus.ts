/**
 * The I2C seam: SMBus byte reads and writes to a register of a chip at an
 * address (what the kernel's i2c-dev and i2c-stub answer). The real one is
 * `i2c-bus` (openPromisified); tests put fake chips behind it.
 */
import { createRequire } from "node:module";

export interface Smbus {
  readByte(address: number, register: number): Promise<number>;
  writeByte(address: number, register: number, value: number): Promise<void>;
  close(): Promise<void>;
}

interface I2cBusModule {
  openPromisified(bus: number): Promise<{
    readByte(a: number, c: number): Promise<number>;
    writeByte(a: number, c: number, b: number): Promise<void>;
    close(): Promise<void>;
  }>;
}

/** /dev/i2c-N through the i2c-bus package (native; built by npm ci with allowScripts). */
export async function openI2cBus(bus: number): Promise<Smbus> {
  const mod = createRequire(import.meta.url)("i2c-bus") as I2cBusModule;
  const b = await mod.openPromisified(bus);
  return {
    readByte: (a, c) => b.readByte(a, c),
    writeByte: (a, c, v) => b.writeByte(a, c, v),
    close: () => b.close(),
  };
}

/**
 * Calls to one chip with the fault rules of the HAL: an error is logged once
 * with the part named, later calls are skipped until a backoff (0.5 s
 * doubling to 30 s) has passed, and the first success after that is logged.
 */
export class ChipLink {
  private failedAt: number | undefined;
  private backoff = 500;
  private reported = false;

  constructor(
    readonly bus: Smbus,
    readonly address: number,
    readonly part: string,
    private readonly now: () => number,
    private readonly log: (level: "warn" | "error" | "info", m: string) => void,
  ) {}

  get name(): string {
    return `${this.part} at 0x${this.address.toString(16)}`;
  }

  /** How long until `run` tries the chip again (0 when it is not backing off). */
  retryInMs(): number {
    if (this.failedAt === undefined) return 0;
    return Math.max(0, this.backoff - (this.now() - this.failedAt));
  }

  /** Runs `op`, or skips it while backing off; false when it failed or was skipped. */
  async run(op: (bus: Smbus, address: number) => Promise<void>): Promise<boolean> {
    if (this.failedAt !== undefined && this.now() - this.failedAt < this.backoff) return false;
    try {
      await op(this.bus, this.address);
      if (this.reported) this.log("info", `${this.name} answers again`);
      this.reported = false;
      this.failedAt = undefined;
      this.backoff = 500;
      return true;
    } catch (e) {
      if (!this.reported) {
        this.reported = true;
        this.log(
          "error",
          `${this.name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; retrying with backoff`,
        );
      } else this.backoff = Math.min(this.backoff * 2, 30_000);
      this.failedAt = this.now();
      return false;
    }
  }
}
