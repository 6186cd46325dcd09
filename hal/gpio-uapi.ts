/**
 * The Linux GPIO character device ABI, uAPI v2 (include/uapi/linux/gpio.h):
 * ioctl numbers, flags and the structs as byte layouts (x86-64 and arm64
 * agree: every u64 is 8-aligned). Sizes checked against the kernel header:
 * gpiochip_info 68, gpio_v2_line_info 256, gpio_v2_line_request 592,
 * gpio_v2_line_config 272, gpio_v2_line_values 16, gpio_v2_line_event 48.
 */

/** _IOC(dir, 0xB4, nr, size): dir 2 = read, 3 = read|write. */
const ioc = (dir: number, nr: number, size: number) =>
  ((dir << 30) | (size << 16) | (0xb4 << 8) | nr) >>> 0;

export const GPIO_GET_CHIPINFO_IOCTL = ioc(2, 0x01, 68);
export const GPIO_V2_GET_LINEINFO_IOCTL = ioc(3, 0x05, 256);
export const GPIO_V2_GET_LINE_IOCTL = ioc(3, 0x07, 592);
export const GPIO_V2_LINE_SET_CONFIG_IOCTL = ioc(3, 0x0d, 272);
export const GPIO_V2_LINE_GET_VALUES_IOCTL = ioc(3, 0x0e, 16);
export const GPIO_V2_LINE_SET_VALUES_IOCTL = ioc(3, 0x0f, 16);

/** enum gpio_v2_line_flag */
export const FLAG = {
  USED: 1n << 0n,
  ACTIVE_LOW: 1n << 1n,
  INPUT: 1n << 2n,
  OUTPUT: 1n << 3n,
  EDGE_RISING: 1n << 4n,
  EDGE_FALLING: 1n << 5n,
  OPEN_DRAIN: 1n << 6n,
  OPEN_SOURCE: 1n << 7n,
  BIAS_PULL_UP: 1n << 8n,
  BIAS_PULL_DOWN: 1n << 9n,
  BIAS_DISABLED: 1n << 10n,
} as const;

/** enum gpio_v2_line_attr_id */
export const ATTR = { FLAGS: 1, OUTPUT_VALUES: 2, DEBOUNCE: 3 } as const;
/** enum gpio_v2_line_event_id */
export const EVENT = { RISING_EDGE: 1, FALLING_EDGE: 2 } as const;

export const SIZES = {
  chipInfo: 68,
  lineInfo: 256,
  lineRequest: 592,
  lineConfig: 272,
  lineValues: 16,
  lineEvent: 48,
};
export const MAX_LINES = 64;

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString("utf8");
}

export interface ChipInfo {
  name: string;
  label: string;
  lines: number;
}

export function decodeChipInfo(b: Buffer): ChipInfo {
  return { name: cstr(b, 0, 32), label: cstr(b, 32, 32), lines: b.readUInt32LE(64) };
}
export function encodeChipInfo(i: ChipInfo, b: Buffer = Buffer.alloc(SIZES.chipInfo)): Buffer {
  b.fill(0);
  b.write(i.name.slice(0, 31), 0);
  b.write(i.label.slice(0, 31), 32);
  b.writeUInt32LE(i.lines, 64);
  return b;
}

export interface LineInfo {
  name: string;
  consumer: string;
  offset: number;
  flags: bigint;
}

/** struct gpio_v2_line_info: name[32] consumer[32] offset num_attrs flags attrs[10] padding[4]. */
export function decodeLineInfo(b: Buffer): LineInfo {
  return {
    name: cstr(b, 0, 32),
    consumer: cstr(b, 32, 32),
    offset: b.readUInt32LE(64),
    flags: b.readBigUInt64LE(72),
  };
}
export function encodeLineInfo(i: LineInfo, b: Buffer = Buffer.alloc(SIZES.lineInfo)): Buffer {
  const offset = i.offset;
  b.fill(0);
  b.write(i.name.slice(0, 31), 0);
  b.write(i.consumer.slice(0, 31), 32);
  b.writeUInt32LE(offset, 64);
  b.writeBigUInt64LE(i.flags, 72);
  return b;
}

export interface LineAttribute {
  id: number;
  /** Flags or output values (u64), or the debounce period in µs. */
  value: bigint;
  /** Which of the request's lines (bit i = offsets[i]) it applies to. */
  mask: bigint;
}

export interface LineConfig {
  flags: bigint;
  attrs: LineAttribute[];
}

/** struct gpio_v2_line_config: flags num_attrs padding[5] attrs[10] (attr 16 + mask 8). */
export function encodeLineConfig(c: LineConfig, b: Buffer, at = 0): void {
  if (c.attrs.length > 10) throw new RangeError("at most 10 line config attributes");
  b.writeBigUInt64LE(c.flags, at);
  b.writeUInt32LE(c.attrs.length, at + 8);
  c.attrs.forEach((a, i) => {
    const o = at + 32 + i * 24;
    b.writeUInt32LE(a.id, o);
    if (a.id === ATTR.DEBOUNCE) b.writeUInt32LE(Number(a.value), o + 8);
    else b.writeBigUInt64LE(a.value, o + 8);
    b.writeBigUInt64LE(a.mask, o + 16);
  });
}
export function decodeLineConfig(b: Buffer, at = 0): LineConfig {
  const n = b.readUInt32LE(at + 8);
  const attrs: LineAttribute[] = [];
  for (let i = 0; i < Math.min(n, 10); i++) {
    const o = at + 32 + i * 24;
    const id = b.readUInt32LE(o);
    attrs.push({
      id,
      value: id === ATTR.DEBOUNCE ? BigInt(b.readUInt32LE(o + 8)) : b.readBigUInt64LE(o + 8),
      mask: b.readBigUInt64LE(o + 16),
    });
  }
  return { flags: b.readBigUInt64LE(at), attrs };
}

export interface LineRequest {
  offsets: number[];
  consumer: string;
  config: LineConfig;
  eventBufferSize: number;
  /** Filled in by the kernel. */
  fd?: number;
}

/** struct gpio_v2_line_request: offsets[64] consumer[32] config num_lines event_buffer_size padding[5] fd. */
export function encodeLineRequest(r: LineRequest): Buffer {
  if (r.offsets.length === 0 || r.offsets.length > MAX_LINES)
    throw new RangeError("1-64 lines per request");
  const b = Buffer.alloc(SIZES.lineRequest);
  for (const [i, o] of r.offsets.entries()) b.writeUInt32LE(o, i * 4);
  b.write(r.consumer.slice(0, 31), 256);
  encodeLineConfig(r.config, b, 288);
  b.writeUInt32LE(r.offsets.length, 560);
  b.writeUInt32LE(r.eventBufferSize, 564);
  return b;
}
export function decodeLineRequest(b: Buffer): LineRequest {
  const n = b.readUInt32LE(560);
  return {
    offsets: Array.from({ length: Math.min(n, MAX_LINES) }, (_, i) => b.readUInt32LE(i * 4)),
    consumer: cstr(b, 256, 32),
    config: decodeLineConfig(b, 288),
    eventBufferSize: b.readUInt32LE(564),
    fd: b.readInt32LE(588),
  };
}

/** struct gpio_v2_line_values { u64 bits; u64 mask; } — bit i is offsets[i] of the request. */
export function encodeLineValues(
  bits: bigint,
  mask: bigint,
  b: Buffer = Buffer.alloc(SIZES.lineValues),
): Buffer {
  b.writeBigUInt64LE(bits, 0);
  b.writeBigUInt64LE(mask, 8);
  return b;
}

export interface LineEvent {
  timestampNs: bigint;
  id: number;
  offset: number;
  seqno: number;
  lineSeqno: number;
}

/** struct gpio_v2_line_event: timestamp_ns id offset seqno line_seqno padding[6]. */
export function decodeLineEvent(b: Buffer, at = 0): LineEvent {
  return {
    timestampNs: b.readBigUInt64LE(at),
    id: b.readUInt32LE(at + 8),
    offset: b.readUInt32LE(at + 12),
    seqno: b.readUInt32LE(at + 16),
    lineSeqno: b.readUInt32LE(at + 20),
  };
}
export function encodeLineEvent(
  e: LineEvent,
  b: Buffer = Buffer.alloc(SIZES.lineEvent),
  at = 0,
): Buffer {
  b.fill(0, at, at + SIZES.lineEvent);
  b.writeBigUInt64LE(e.timestampNs, at);
  b.writeUInt32LE(e.id, at + 8);
  b.writeUInt32LE(e.offset, at + 12);
  b.writeUInt32LE(e.seqno, at + 16);
  b.writeUInt32LE(e.lineSeqno, at + 20);
  return b;
}
