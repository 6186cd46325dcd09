/**
 * DTMF as RTP telephone-events (RFC 4733 §2.3):
 *
 *   0                   1                   2                   3
 *  |     event     |E|R| volume    |          duration             |
 *
 * A digit is sent as packets every 20 ms with one timestamp and a growing
 * duration, the first with the marker bit; the end packet (E=1) is sent three
 * times (§2.5.1.4).
 */

export const EVENT_CODES: Record<string, number> = {
  "0": 0,
  "1": 1,
  "2": 2,
  "3": 3,
  "4": 4,
  "5": 5,
  "6": 6,
  "7": 7,
  "8": 8,
  "9": 9,
  "*": 10,
  "#": 11,
  A: 12,
  B: 13,
  C: 14,
  D: 15,
};
const DIGITS = Object.fromEntries(Object.entries(EVENT_CODES).map(([d, c]) => [c, d]));

export interface TelephoneEvent {
  digit: string;
  end: boolean;
  volume: number;
  /** In timestamp units. */
  duration: number;
}

export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  const code = EVENT_CODES[e.digit];
  if (code === undefined) throw new RangeError(`not a DTMF digit: ${e.digit}`);
  return Uint8Array.of(
    code,
    (e.end ? 0x80 : 0) | (e.volume & 0x3f),
    (e.duration >> 8) & 0xff,
    e.duration & 0xff,
  );
}

export function decodeTelephoneEvent(p: Uint8Array): TelephoneEvent | undefined {
  if (p.length < 4) return undefined;
  const digit = DIGITS[p[0] as number];
  if (digit === undefined) return undefined;
  return {
    digit,
    end: ((p[1] as number) & 0x80) !== 0,
    volume: (p[1] as number) & 0x3f,
    duration: ((p[2] as number) << 8) | (p[3] as number),
  };
}
