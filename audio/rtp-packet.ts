/**
 * RTP fixed header (RFC 3550 §5.1):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 *  |            contributing source (CSRC) identifiers  ...        |
 */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

export function encodeRtp(p: RtpPacket): Buffer {
  const b = Buffer.alloc(12 + p.payload.length);
  b[0] = 0x80; // V=2, no padding, no extension, no CSRC
  b[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  b.writeUInt16BE(p.sequence & 0xffff, 2);
  b.writeUInt32BE(p.timestamp >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  b.set(p.payload, 12);
  return b;
}

/** Parses an RTP packet; undefined for anything that is not valid RTP version 2. */
export function decodeRtp(b: Uint8Array): RtpPacket | undefined {
  if (b.length < 12) return undefined;
  const v = b[0] as number;
  if (v >> 6 !== 2) return undefined;
  const cc = v & 0x0f;
  let offset = 12 + cc * 4;
  if (v & 0x10) {
    // Header extension (§5.3.1): 16-bit profile, 16-bit length in words.
    if (b.length < offset + 4) return undefined;
    offset += 4 + (((b[offset + 2] as number) << 8) | (b[offset + 3] as number)) * 4;
  }
  let end = b.length;
  if (v & 0x20) end -= b[b.length - 1] as number; // padding (§5.1)
  if (offset > end) return undefined;
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    payloadType: (b[1] as number) & 0x7f,
    marker: ((b[1] as number) & 0x80) !== 0,
    sequence: view.readUInt16BE(2),
    timestamp: view.readUInt32BE(4),
    ssrc: view.readUInt32BE(8),
    payload: b.subarray(offset, end),
  };
}

/** Signed distance from sequence number a to b, modulo 2^16 (RFC 3550 §A.1). */
export function seqDelta(a: number, b: number): number {
  return ((b - a + 0x8000) & 0xffff) - 0x8000;
}

/** True for the RTCP packet types 200–204 (RFC 5761 §4: demultiplexing RTP and RTCP). */
export function looksLikeRtcp(b: Uint8Array): boolean {
  return b.length >= 8 && (b[1] as number) >= 200 && (b[1] as number) <= 204;
}
