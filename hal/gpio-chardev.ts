/**
 * GPIO through the Linux character device (uAPI v2), the supported
 * interface on current Raspberry Pi OS: chips found by label, lines by name
 * (e.g. "pinctrl-rp1" / "GPIO17"), one line request for many lines with bias,
 * kernel debounce and edge events carrying kernel timestamps and sequence
 * numbers.
 *
 * The seam is `GpioIo`: open/close/ioctl/read/watch on file descriptors.
 * The real one uses native/gpio-ioctl for ioctl(2) and for waiting on a line
 * request's fd (epoll, through a libuv poll handle on the event loop: an
 * idle phone wakes for nothing); tests use a fake kernel behind it whose line
 * requests are real pollable file descriptors.
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import type { Clock } from "./contracts.ts";
import {
  ATTR,
  type ChipInfo,
  decodeChipInfo,
  decodeLineEvent,
  decodeLineInfo,
  decodeLineRequest,
  encodeLineRequest,
  encodeLineValues,
  FLAG,
  GPIO_GET_CHIPINFO_IOCTL,
  GPIO_V2_GET_LINE_IOCTL,
  GPIO_V2_GET_LINEINFO_IOCTL,
  GPIO_V2_LINE_GET_VALUES_IOCTL,
  GPIO_V2_LINE_SET_VALUES_IOCTL,
  type LineAttribute,
  type LineEvent,
  SIZES,
} from "./gpio-uapi.ts";

export interface GpioIo {
  /** The chip devices present, e.g. ["/dev/gpiochip0", "/dev/gpiochip4"]. */
  chips(): string[];
  open(path: string): number;
  close(fd: number): void;
  /** ioctl(2); throws an error with a `code` (EBUSY, EINVAL, …). */
  ioctl(fd: number, request: number, buf: Buffer): void;
  /** Makes a line request's fd non-blocking. */
  setNonBlocking(fd: number): void;
  /** Non-blocking read: bytes read, 0 when nothing is waiting. */
  read(fd: number, buf: Buffer): number;
  /**
   * Calls `ready` on the event loop each time `fd` is readable (an event is
   * waiting, or the device failed: the read says which), for as long as
   * something is left unread; an error when polling itself failed. Close the
   * watch before the fd.
   */
  watch(fd: number, ready: (error?: Error) => void): FdWatch;
}

export interface FdWatch {
  close(): void;
}

interface NativeIoctl {
  ioctl(fd: number, request: number, buf: Buffer): number;
  setNonBlocking(fd: number): void;
  watch(fd: number, ready: (error: string | null) => void): FdWatch;
}

let native: NativeIoctl | undefined;
function loadNative(): NativeIoctl {
  if (native) return native;
  try {
    native = createRequire(import.meta.url)(
      "../native/gpio-ioctl/build/Release/gpio_ioctl.node",
    ) as NativeIoctl;
    return native;
  } catch (e) {
    throw new Error(
      `the GPIO character-device backend needs native/gpio-ioctl, which is not built (${(e as Error).message.split("\n")[0]}); run "npm rebuild" or "node scripts/build-native.mjs" with build-essential installed`,
    );
  }
}

export const linuxGpioIo: GpioIo = {
  chips: () =>
    readdirSync("/dev")
      .filter((n) => /^gpiochip\d+$/.test(n))
      .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
      .map((n) => `/dev/${n}`),
  open: (path) => openSync(path, "r+"),
  close: (fd) => closeSync(fd),
  ioctl: (fd, request, buf) => {
    loadNative().ioctl(fd, request, buf);
  },
  setNonBlocking: (fd) => loadNative().setNonBlocking(fd),
  read: (fd, buf) => {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") return 0;
      throw e;
    }
  },
  watch: (fd, ready) =>
    loadNative().watch(fd, (error) =>
      ready(
        error === null ? undefined : Object.assign(new Error(`poll: ${error}`), { code: error }),
      ),
    ),
};

export class GpioError extends Error {}

export interface OpenChip {
  path: string;
  fd: number;
  info: ChipInfo;
}

/** Finds a chip by its label (e.g. "pinctrl-bcm2711", "pinctrl-rp1") or its name ("gpiochip0"). */
export function openChip(io: GpioIo, labelOrName: string): OpenChip {
  const seen: string[] = [];
  for (const path of io.chips()) {
    let fd: number;
    try {
      fd = io.open(path);
    } catch (e) {
      seen.push(`${path} (${(e as NodeJS.ErrnoException).code})`);
      continue;
    }
    const buf = Buffer.alloc(SIZES.chipInfo);
    io.ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, buf);
    const info = decodeChipInfo(buf);
    if (info.label === labelOrName || info.name === labelOrName) return { path, fd, info };
    seen.push(`${info.name} "${info.label}"`);
    io.close(fd);
  }
  throw new GpioError(
    `no GPIO chip labelled "${labelOrName}" (found: ${seen.join(", ") || "no /dev/gpiochip*"})`,
  );
}

/** The offset of a named line on a chip (names come from the device tree: "GPIO17"). */
export function lineOffset(io: GpioIo, chip: OpenChip, name: string): number {
  const buf = Buffer.alloc(SIZES.lineInfo);
  for (let offset = 0; offset < chip.info.lines; offset++) {
    buf.fill(0);
    buf.writeUInt32LE(offset, 64);
    io.ioctl(chip.fd, GPIO_V2_GET_LINEINFO_IOCTL, buf);
    if (decodeLineInfo(buf).name === name) return offset;
  }
  throw new GpioError(`chip "${chip.info.label}" has no line named "${name}"`);
}

export interface LineSpec {
  offset: number;
  direction: "input" | "output";
  activeLow?: boolean;
  bias?: "pull-up" | "pull-down" | "disabled";
  edges?: boolean;
  debounceUs?: number;
  initial?: boolean;
}

/** Flags of one line (enum gpio_v2_line_flag). */
function flagsOf(s: LineSpec): bigint {
  let f = s.direction === "input" ? FLAG.INPUT : FLAG.OUTPUT;
  if (s.activeLow) f |= FLAG.ACTIVE_LOW;
  if (s.bias === "pull-up") f |= FLAG.BIAS_PULL_UP;
  else if (s.bias === "pull-down") f |= FLAG.BIAS_PULL_DOWN;
  else if (s.bias === "disabled") f |= FLAG.BIAS_DISABLED;
  if (s.edges) f |= FLAG.EDGE_RISING | FLAG.EDGE_FALLING;
  return f;
}

export interface EdgeEvent {
  offset: number;
  /** The logical level after the edge (active-low already applied by the kernel). */
  active: boolean;
  /** Kernel timestamp, ms on CLOCK_MONOTONIC. */
  atMs: number;
  seqno: number;
}

/**
 * One line request holding several lines of a chip. Lines with the same
 * settings share an attribute; a request has at most 10 attributes.
 */
export class LineRequestHandle {
  private timer: unknown;
  private clearTimer: () => void = () => {};
  private fdWatch: FdWatch | undefined;
  private lastSeqno = 0;
  private released = false;
  readonly fd: number;

  constructor(
    private readonly io: GpioIo,
    readonly chip: OpenChip,
    readonly lines: readonly LineSpec[],
    consumer: string,
    private readonly onGap?: (missed: number) => void,
  ) {
    const groups = new Map<string, { flags: bigint; mask: bigint }>();
    lines.forEach((l, i) => {
      const key = flagsOf(l).toString();
      const g = groups.get(key) ?? { flags: flagsOf(l), mask: 0n };
      g.mask |= 1n << BigInt(i);
      groups.set(key, g);
    });
    const attrs: LineAttribute[] = [...groups.values()].map((g) => ({
      id: ATTR.FLAGS,
      value: g.flags,
      mask: g.mask,
    }));
    const outputs = lines
      .map((l, i) => (l.direction === "output" ? 1n << BigInt(i) : 0n))
      .reduce((a, b) => a | b, 0n);
    if (outputs) {
      const values = lines
        .map((l, i) => (l.initial ? 1n << BigInt(i) : 0n))
        .reduce((a, b) => a | b, 0n);
      attrs.push({ id: ATTR.OUTPUT_VALUES, value: values, mask: outputs });
    }
    const debounced = new Map<number, bigint>();
    lines.forEach((l, i) => {
      if (l.debounceUs)
        debounced.set(l.debounceUs, (debounced.get(l.debounceUs) ?? 0n) | (1n << BigInt(i)));
    });
    for (const [us, mask] of debounced) attrs.push({ id: ATTR.DEBOUNCE, value: BigInt(us), mask });
    if (attrs.length > 10)
      throw new GpioError("too many different line settings in one request (10 at most)");
    const req = encodeLineRequest({
      offsets: lines.map((l) => l.offset),
      consumer,
      config: { flags: 0n, attrs },
      eventBufferSize: 0,
    });
    try {
      io.ioctl(chip.fd, GPIO_V2_GET_LINE_IOCTL, req);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new GpioError(
        code === "EBUSY"
          ? `a line of ${lines.map((l) => l.offset).join(", ")} on "${chip.info.label}" is already in use`
          : `requesting lines ${lines.map((l) => l.offset).join(", ")} on "${chip.info.label}" failed: ${code}`,
      );
    }
    this.fd = decodeLineRequest(req).fd ?? -1;
    io.setNonBlocking(this.fd);
  }

  /** Logical levels of every line, by index in `lines`. */
  get(): boolean[] {
    const mask = (1n << BigInt(this.lines.length)) - 1n;
    const b = encodeLineValues(0n, mask);
    this.io.ioctl(this.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, b);
    const bits = b.readBigUInt64LE(0);
    return this.lines.map((_, i) => ((bits >> BigInt(i)) & 1n) === 1n);
  }

  /** Sets output lines by index. */
  set(values: Map<number, boolean>): void {
    let bits = 0n;
    let mask = 0n;
    for (const [i, v] of values) {
      mask |= 1n << BigInt(i);
      if (v) bits |= 1n << BigInt(i);
    }
    this.io.ioctl(this.fd, GPIO_V2_LINE_SET_VALUES_IOCTL, encodeLineValues(bits, mask));
  }

  /**
   * Delivers edge events when the kernel has them: the request's fd is
   * watched (no timer), and read until empty each time it is readable. The
   * kernel timestamps events when they happen, so durations stay exact
   * however late they are read; a jump in sequence numbers (the kernel's
   * buffer overflowed) is reported. A read that fails (the chip went away:
   * ENODEV, EIO) is reported once; the fd, which stays "readable" with an
   * error, is no longer watched but read again on the clock with backoff
   * (0.5 s doubling to 30 s) until it reads, which is reported too.
   */
  watch(
    onEdge: (e: EdgeEvent) => void,
    clock: Pick<Clock, "setTimeout" | "clearTimeout">,
    onError: (e: Error) => void = () => {},
  ): void {
    const buf = Buffer.alloc(SIZES.lineEvent * 16);
    let backoff = 0;
    let failing = false;
    const drain = () => {
      for (;;) {
        const n = this.io.read(this.fd, buf);
        if (n <= 0) break;
        for (let at = 0; at + SIZES.lineEvent <= n; at += SIZES.lineEvent) {
          const ev: LineEvent = decodeLineEvent(buf, at);
          if (this.lastSeqno && ev.seqno > this.lastSeqno + 1)
            this.onGap?.(ev.seqno - this.lastSeqno - 1);
          this.lastSeqno = ev.seqno;
          onEdge({
            offset: ev.offset,
            active: ev.id === 1,
            atMs: Number(ev.timestampNs) / 1e6,
            seqno: ev.seqno,
          });
          if (this.released) return;
        }
      }
    };
    const fail = (e: Error) => {
      this.fdWatch?.close();
      this.fdWatch = undefined;
      if (!failing) onError(e);
      failing = true;
      backoff = Math.min(Math.max(backoff * 2, 500), 30_000);
      this.timer = clock.setTimeout(retry, backoff);
    };
    const ready = (pollError?: Error) => {
      if (this.released) return;
      if (pollError) return fail(pollError);
      try {
        drain();
      } catch (e) {
        fail(e as Error);
      }
    };
    const retry = () => {
      if (this.released) return;
      try {
        drain();
      } catch (e) {
        return fail(e as Error);
      }
      failing = false;
      backoff = 0;
      onError(new Error(`lines on "${this.chip.info.label}" read again`));
      if (!this.released) this.fdWatch = this.io.watch(this.fd, ready);
    };
    this.clearTimer = () => clock.clearTimeout(this.timer);
    this.fdWatch = this.io.watch(this.fd, ready);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.clearTimer();
    this.fdWatch?.close();
    this.fdWatch = undefined;
    this.io.close(this.fd);
  }
}
