/**
 * G.711 μ-law and A-law (ITU-T G.711 §2, §3), table-driven: a 64 Ki-entry
 * table per law encodes 16-bit linear PCM, a 256-entry table decodes. The
 * tables are filled once by a segment search over the segment end points of
 * G.711 Tables 1a/2a. Negative samples are taken as their one's complement,
 * as the ITU-T G.191 reference implementation does, so the result is
 * bit-exact with it (checked on every input by test/audio/g711.test.ts).
 */

const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SIGN_BIT = 0x80;
/** μ-law bias on the 16-bit scale (33 on the 14-bit scale). */
const ULAW_BIAS = 0x84;
/** Largest 14-bit magnitude μ-law encodes before clipping. */
const ULAW_CLIP = 8159;
/** Segment end points: 14-bit biased magnitudes (μ-law), 13-bit magnitudes (A-law). */
const ULAW_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= (ends[i] as number)) return i;
  return ends.length;
}

function linearToUlaw(sample: number): number {
  // One's complement magnitude on the 14-bit scale; codes are sent inverted.
  const negative = sample < 0;
  let mag = (negative ? ~sample : sample) >> 2;
  const mask = negative ? 0x7f : 0xff;
  if (mag > ULAW_CLIP) mag = ULAW_CLIP;
  mag += ULAW_BIAS >> 2;
  const seg = segment(mag, ULAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << SEG_SHIFT) | ((mag >> (seg + 1)) & QUANT_MASK)) ^ mask;
}

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & QUANT_MASK) << 3) + ULAW_BIAS;
  t <<= (u >> SEG_SHIFT) & 0x07;
  return u & SIGN_BIT ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function linearToAlaw(sample: number): number {
  // One's complement magnitude on the 13-bit scale; even bits inverted (0x55).
  const negative = sample < 0;
  const mag = (negative ? ~sample : sample) >> 3;
  const mask = negative ? 0x55 : 0xd5;
  const seg = segment(mag, ALAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const quant = seg < 2 ? (mag >> 1) & QUANT_MASK : (mag >> seg) & QUANT_MASK;
  return ((seg << SEG_SHIFT) | quant) ^ mask;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const seg = (a >> SEG_SHIFT) & 0x07;
  let t = (a & QUANT_MASK) << 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return a & SIGN_BIT ? t : -t;
}

function encodeTable(f: (s: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f(i < 32768 ? i : i - 65536);
  return t;
}
function decodeTable(f: (c: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let c = 0; c < 256; c++) t[c] = f(c);
  return t;
}

export type G711Law = "pcmu" | "pcma";

// Built on a law's first use, not when the module loads: 2 × 65,536 encodings
// cost tens of milliseconds before a phone's REGISTER could leave, and the
// native media thread (native/call-media) does not use them at all.
const ENCODE: Partial<Record<G711Law, Uint8Array>> = {};
const DECODE: Partial<Record<G711Law, Int16Array>> = {};
const encoder = (law: G711Law) =>
  (ENCODE[law] ??= encodeTable(law === "pcmu" ? linearToUlaw : linearToAlaw));
const decoder = (law: G711Law) =>
  (DECODE[law] ??= decodeTable(law === "pcmu" ? ulawToLinear : alawToLinear));

export function encodeG711(
  law: G711Law,
  pcm: Int16Array,
  out = new Uint8Array(pcm.length),
): Uint8Array {
  const t = encoder(law);
  for (let i = 0; i < pcm.length; i++) out[i] = t[(pcm[i] as number) & 0xffff] as number;
  return out;
}

export function decodeG711(
  law: G711Law,
  codes: Uint8Array,
  out = new Int16Array(codes.length),
): Int16Array {
  const t = decoder(law);
  for (let i = 0; i < codes.length; i++) out[i] = t[codes[i] as number] as number;
  return out;
}

/** The code of digital silence: μ-law 0xFF, A-law 0xD5. */
export function silenceCode(law: G711Law): number {
  return law === "pcmu" ? 0xff : 0xd5;
}
