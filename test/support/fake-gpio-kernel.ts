/**
 * A fake of the kernel's GPIO character device at the ioctl/read seam
 * (hal/gpio-chardev.ts GpioIo): chips with labels and named lines, line
 * requests with their flags, bias, active-low, output values and debounce,
 * "busy" lines, and edge events with timestamps and sequence numbers, as
 * include/uapi/linux/gpio.h and drivers/gpio/gpiolib-cdev.c behave.
 *
 * Readiness is real: each line request's fd is a real FIFO (opened read and
 * write, non-blocking), holding one byte while events are queued (or while
 * the chip is unplugged, as the kernel's linereq_poll says EPOLLERR), so
 * `watch` is the real one (native/gpio-ioctl's epoll through libuv) on a real
 * fd, and the backend wakes exactly when the kernel would. Chip fds are
 * numbers of the fake's own (from 1,000,000: never a real fd's).
 */
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FdWatch, type GpioIo, linuxGpioIo } from "../../hal/gpio-chardev.ts";
import {
  ATTR,
  decodeLineInfo,
  decodeLineRequest,
  EVENT,
  encodeChipInfo,
  encodeLineEvent,
  encodeLineInfo,
  FLAG,
  GPIO_GET_CHIPINFO_IOCTL,
  GPIO_V2_GET_LINE_IOCTL,
  GPIO_V2_GET_LINEINFO_IOCTL,
  GPIO_V2_LINE_GET_VALUES_IOCTL,
  GPIO_V2_LINE_SET_VALUES_IOCTL,
  SIZES,
} from "../../hal/gpio-uapi.ts";

interface Line {
  name: string;
  /** The electrical level: what a pull or a switch makes it (inputs), or what is driven (outputs). */
  physical: boolean;
  /** Something external forces it (a closed switch); otherwise the bias decides. */
  forced?: boolean;
  flags: bigint;
  consumer: string;
  history: { atMs: number; physical: boolean }[];
  debounceUs: number;
}
interface Chip {
  path: string;
  name: string;
  label: string;
  lines: Line[];
}
interface Request {
  fd: number;
  chip: Chip;
  offsets: number[];
  events: Buffer[];
  nonBlocking: boolean;
  /** The FIFO holds its byte: the fd polls readable. */
  readable: boolean;
  watch?: FdWatch;
}

const err = (code: string) => Object.assign(new Error(code), { code });

export class FakeGpioKernel implements GpioIo {
  private readonly chipList: Chip[] = [];
  private readonly fds = new Map<number, { chip: Chip } | { request: Request }>();
  private nextFd = 1_000_000;
  private seqno = 0;
  /** Every ioctl made, for assertions on what the backend asked. */
  readonly calls: { request: number; fd: number }[] = [];
  /** Reads of line requests, and how many of them found the chip unplugged. */
  reads = 0;
  failedReads = 0;

  constructor(private readonly nowMs: () => number) {}

  /** A real FIFO, opened for reading and writing without blocking: a pollable fd of our own. */
  private pollableFd(): number {
    const dir = mkdtempSync(join(tmpdir(), "deskphone-fake-gpio-"));
    try {
      const path = join(dir, "line-request");
      const r = spawnSync("mkfifo", ["-m", "600", path]);
      if (r.status !== 0) throw new Error(`fake: mkfifo ${path} failed: ${r.stderr}`);
      return openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The fd polls readable (a byte in the FIFO) while `want`. */
  private setReadable(req: Request, want: boolean): void {
    if (want === req.readable) return;
    if (want) writeSync(req.fd, Buffer.of(1));
    else readSync(req.fd, Buffer.alloc(1), 0, 1, null);
    req.readable = want;
  }

  /** Resolves once every watched line request has been read empty (bounded: 2 s). */
  async settled(): Promise<void> {
    const busy = () =>
      [...this.fds.values()].some(
        (v) => "request" in v && v.request.watch && v.request.events.length > 0,
      );
    const t0 = Date.now();
    do {
      await new Promise((r) => setImmediate(r));
      if (Date.now() - t0 > 2000) throw new Error("fake: events queued but never read");
    } while (busy());
  }

  /** File descriptors open now: chips and line requests (a closed part leaves none). */
  get openFds(): number {
    return this.fds.size;
  }

  addChip(label: string, lineNames: string[]): void {
    const n = this.chipList.length;
    this.chipList.push({
      path: `/dev/gpiochip${n}`,
      name: `gpiochip${n}`,
      label,
      lines: lineNames.map((name) => ({
        name,
        physical: false,
        flags: 0n,
        consumer: "",
        history: [],
        debounceUs: 0,
      })),
    });
  }

  private line(label: string, name: string): [Chip, number, Line] {
    const chip = this.chipList.find((c) => c.label === label);
    const i = chip?.lines.findIndex((l) => l.name === name) ?? -1;
    if (!chip || i < 0) throw new Error(`fake: no line ${label}/${name}`);
    return [chip, i, chip.lines[i] as Line];
  }

  /** The outside world: a switch closes to ground (true) or opens (false) at a time. */
  closeSwitch(label: string, name: string, closed: boolean, atMs = this.nowMs()): void {
    const [chip, offset, line] = this.line(label, name);
    line.forced = closed;
    this.settle(chip, offset, line, atMs);
  }

  /** Key-matrix switches: a closed one connects a row line to a column line. */
  private readonly matrix = new Set<string>();

  /** The outside world: a matrix key between `row` and `col` closes or opens. */
  matrixKey(label: string, row: string, col: string, closed: boolean, atMs = this.nowMs()): void {
    const key = `${label}/${row}/${col}`;
    if (closed) this.matrix.add(key);
    else this.matrix.delete(key);
    const [chip, offset, line] = this.line(label, col);
    this.settle(chip, offset, line, atMs);
  }

  private levelOf(line: Line): boolean {
    if (line.flags & FLAG.OUTPUT) return line.physical;
    if (line.forced) return false; // closed to ground
    for (const k of this.matrix) {
      const [label, row, col] = k.split("/") as [string, string, string];
      if (col !== line.name) continue;
      const r = this.chipList.find((c) => c.label === label)?.lines.find((l) => l.name === row);
      if (r && r.flags & FLAG.OUTPUT && !r.physical) return false; // pulled low through a driven-low row
    }
    if (line.flags & FLAG.BIAS_PULL_UP) return true;
    return false;
  }

  /** After outputs change, inputs wired to them through the matrix may change too. */
  private resettleInputs(chip: Chip): void {
    chip.lines.forEach((l, offset) => {
      if (l.flags & FLAG.INPUT) this.settle(chip, offset, l, this.nowMs());
    });
  }

  private settle(chip: Chip, offset: number, line: Line, atMs: number): void {
    const level = this.levelOf(line);
    if (level === line.physical) return;
    line.physical = level;
    line.history.push({ atMs, physical: level });
    const req = this.requestHolding(chip, offset);
    if (!req || !(line.flags & FLAG.INPUT)) return;
    const logical = level !== Boolean(line.flags & FLAG.ACTIVE_LOW);
    const wanted = logical ? line.flags & FLAG.EDGE_RISING : line.flags & FLAG.EDGE_FALLING;
    if (!wanted) return;
    this.seqno++;
    this.setReadable(req, true);
    req.events.push(
      encodeLineEvent({
        timestampNs: BigInt(Math.round(atMs * 1e6)),
        id: logical ? EVENT.RISING_EDGE : EVENT.FALLING_EDGE,
        offset,
        seqno: this.seqno,
        lineSeqno: this.seqno,
      }),
    );
  }

  /** What an output line was driven to, over time. */
  history(label: string, name: string) {
    return this.line(label, name)[2].history;
  }
  level(label: string, name: string): boolean {
    return this.line(label, name)[2].physical;
  }
  consumer(label: string, name: string): string {
    return this.line(label, name)[2].consumer;
  }
  flags(label: string, name: string): bigint {
    return this.line(label, name)[2].flags;
  }
  debounceUs(label: string, name: string): number {
    return this.line(label, name)[2].debounceUs;
  }
  /** Drops queued events, as an overflowing kernel buffer would. */
  dropEvents(label: string, name: string, n: number): void {
    const [chip, offset] = this.line(label, name);
    const req = this.requestHolding(chip, offset);
    req?.events.splice(0, n);
    if (req && !req.events.length && !this.gone) this.setReadable(req, false);
  }

  private requestHolding(chip: Chip, offset: number): Request | undefined {
    for (const v of this.fds.values())
      if ("request" in v && v.request.chip === chip && v.request.offsets.includes(offset))
        return v.request;
    return undefined;
  }

  chips(): string[] {
    return this.chipList.map((c) => c.path);
  }

  open(path: string): number {
    const chip = this.chipList.find((c) => c.path === path);
    if (!chip) throw err("ENOENT");
    const fd = this.nextFd++;
    this.fds.set(fd, { chip });
    return fd;
  }

  close(fd: number): void {
    const v = this.fds.get(fd);
    if (!v) throw err("EBADF");
    this.fds.delete(fd);
    if ("request" in v) {
      if (v.request.watch) throw new Error("fake: a line request closed while still watched");
      closeSync(fd);
      for (const o of v.request.offsets) {
        const l = v.request.chip.lines[o] as Line;
        l.flags = 0n;
        l.consumer = "";
      }
    }
  }

  setNonBlocking(fd: number): void {
    const v = this.fds.get(fd);
    if (!v || !("request" in v)) throw err("EBADF");
    v.request.nonBlocking = true;
  }

  private gone = false;
  /**
   * A chip that went away (driver unbound): reads fail with ENODEV until it
   * is back, and its line requests poll readable meanwhile (EPOLLERR).
   */
  get unplugged(): boolean {
    return this.gone;
  }
  set unplugged(gone: boolean) {
    this.gone = gone;
    for (const v of this.fds.values())
      if ("request" in v) this.setReadable(v.request, gone || v.request.events.length > 0);
  }

  read(fd: number, buf: Buffer): number {
    this.reads++;
    if (this.gone) {
      this.failedReads++;
      throw err("ENODEV");
    }
    const v = this.fds.get(fd);
    if (!v || !("request" in v)) throw err("EBADF");
    if (!v.request.nonBlocking) throw new Error("fake: a blocking read would hold a thread");
    let n = 0;
    while (v.request.events.length && n + SIZES.lineEvent <= buf.length) {
      (v.request.events.shift() as Buffer).copy(buf, n);
      n += SIZES.lineEvent;
    }
    if (!v.request.events.length) this.setReadable(v.request, false);
    return n;
  }

  /** The real watch (epoll through libuv) on the request's real fd. */
  watch(fd: number, ready: (error?: Error) => void): FdWatch {
    const v = this.fds.get(fd);
    if (!v || !("request" in v)) throw err("EBADF");
    const req = v.request;
    if (req.watch) throw new Error("fake: a line request watched twice");
    const inner = linuxGpioIo.watch(fd, ready);
    const watch = {
      close: () => {
        inner.close();
        if (req.watch === watch) req.watch = undefined;
      },
    };
    req.watch = watch;
    return watch;
  }

  ioctl(fd: number, request: number, buf: Buffer): void {
    this.calls.push({ request, fd });
    const v = this.fds.get(fd);
    if (!v) throw err("EBADF");
    if ("chip" in v) {
      const chip = v.chip;
      if (request === GPIO_GET_CHIPINFO_IOCTL) {
        encodeChipInfo({ name: chip.name, label: chip.label, lines: chip.lines.length }, buf);
      } else if (request === GPIO_V2_GET_LINEINFO_IOCTL) {
        const offset = decodeLineInfo(buf).offset;
        const l = chip.lines[offset];
        if (!l) throw err("EINVAL");
        encodeLineInfo(
          {
            name: l.name,
            consumer: l.consumer,
            offset,
            flags: l.consumer ? l.flags | FLAG.USED : 0n,
          },
          buf,
        );
      } else if (request === GPIO_V2_GET_LINE_IOCTL) {
        this.getLine(chip, buf);
      } else throw err("ENOTTY");
      return;
    }
    const req = v.request;
    if (request === GPIO_V2_LINE_GET_VALUES_IOCTL) {
      const mask = buf.readBigUInt64LE(8);
      let bits = 0n;
      req.offsets.forEach((o, i) => {
        const l = req.chip.lines[o] as Line;
        const logical = l.physical !== Boolean(l.flags & FLAG.ACTIVE_LOW);
        if (mask & (1n << BigInt(i)) && logical) bits |= 1n << BigInt(i);
      });
      buf.writeBigUInt64LE(bits, 0);
    } else if (request === GPIO_V2_LINE_SET_VALUES_IOCTL) {
      const bits = buf.readBigUInt64LE(0);
      const mask = buf.readBigUInt64LE(8);
      req.offsets.forEach((o, i) => {
        if (!(mask & (1n << BigInt(i)))) return;
        const l = req.chip.lines[o] as Line;
        if (!(l.flags & FLAG.OUTPUT)) throw err("EPERM");
        const logical = (bits & (1n << BigInt(i))) !== 0n;
        const physical = logical !== Boolean(l.flags & FLAG.ACTIVE_LOW);
        if (physical !== l.physical) {
          l.physical = physical;
          l.history.push({ atMs: this.nowMs(), physical });
        }
      });
      this.resettleInputs(req.chip);
    } else throw err("ENOTTY");
  }

  private getLine(chip: Chip, buf: Buffer): void {
    const r = decodeLineRequest(buf);
    if (r.offsets.length === 0 || r.offsets.some((o) => o >= chip.lines.length))
      throw err("EINVAL");
    if (r.offsets.some((o) => (chip.lines[o] as Line).consumer)) throw err("EBUSY");
    const flagsFor = (i: number) => {
      let f = r.config.flags;
      for (const a of r.config.attrs)
        if (a.id === ATTR.FLAGS && a.mask & (1n << BigInt(i))) f = a.value;
      return f;
    };
    r.offsets.forEach((_o, i) => {
      const f = flagsFor(i);
      // gpiolib-cdev: exactly one direction; edges only on inputs; one bias.
      if (!(f & FLAG.INPUT) === !(f & FLAG.OUTPUT)) throw err("EINVAL");
      if (f & FLAG.OUTPUT && f & (FLAG.EDGE_RISING | FLAG.EDGE_FALLING)) throw err("EINVAL");
      const biases = [FLAG.BIAS_PULL_UP, FLAG.BIAS_PULL_DOWN, FLAG.BIAS_DISABLED].filter(
        (b) => f & b,
      ).length;
      if (biases > 1) throw err("EINVAL");
    });
    const fd = this.pollableFd();
    const request: Request = {
      fd,
      chip,
      offsets: r.offsets,
      events: [],
      nonBlocking: false,
      readable: false,
    };
    this.fds.set(fd, { request });
    r.offsets.forEach((o, i) => {
      const l = chip.lines[o] as Line;
      l.flags = flagsFor(i);
      l.consumer = r.consumer;
      for (const a of r.config.attrs) {
        if (!(a.mask & (1n << BigInt(i)))) continue;
        if (a.id === ATTR.OUTPUT_VALUES) {
          const logical = (a.value & (1n << BigInt(i))) !== 0n;
          l.physical = logical !== Boolean(l.flags & FLAG.ACTIVE_LOW);
          l.history.push({ atMs: this.nowMs(), physical: l.physical });
        }
        if (a.id === ATTR.DEBOUNCE) l.debounceUs = Number(a.value);
      }
      if (l.flags & FLAG.INPUT) l.physical = this.levelOf(l);
    });
    buf.writeInt32LE(fd, 588);
  }
}
