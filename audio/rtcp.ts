/**
 * Basic RTCP (RFC 3550 §6): sender and receiver reports with one report
 * block, always sent compound with an SDES CNAME (§6.1), and a parser for
 * the report blocks the far end sends.
 */

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, 0–1. */
  fractionLost: number;
  cumulativeLost: number;
  highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  lsr: number;
  dlsr: number;
}

export interface SenderInfo {
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packets: number;
  octets: number;
}

export interface RtcpReport {
  type: "SR" | "RR";
  ssrc: number;
  sender?: SenderInfo;
  blocks: ReportBlock[];
}

function header(pt: number, count: number, words: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = 0x80 | (count & 0x1f);
  b[1] = pt;
  b.writeUInt16BE(words, 2);
  return b;
}

function block(r: ReportBlock): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(r.ssrc >>> 0, 0);
  b[4] = Math.max(0, Math.min(255, Math.floor(r.fractionLost * 256)));
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)) & 0xffffff;
  b.writeUIntBE(lost, 5, 3);
  b.writeUInt32BE(r.highestSeq >>> 0, 8);
  b.writeUInt32BE(Math.round(r.jitter) >>> 0, 12);
  b.writeUInt32BE(r.lsr >>> 0, 16);
  b.writeUInt32BE(r.dlsr >>> 0, 20);
  return b;
}

function sdes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname.slice(0, 255), "utf8");
  const itemLen = 2 + text.length + 1; // CNAME item + END
  const pad = (4 - ((4 + itemLen) % 4)) % 4;
  const body = Buffer.alloc(4 + itemLen + pad);
  body.writeUInt32BE(ssrc >>> 0, 0);
  body[4] = 1; // CNAME
  body[5] = text.length;
  text.copy(body, 6);
  return Buffer.concat([header(202, 1, body.length / 4), body]);
}

/** A compound SR (when we sent media) or RR, followed by SDES. */
export function encodeReport(r: RtcpReport, cname: string): Buffer {
  const blocks = r.blocks.slice(0, 31).map(block);
  const parts: Buffer[] = [];
  const ssrc = Buffer.alloc(4);
  ssrc.writeUInt32BE(r.ssrc >>> 0, 0);
  if (r.sender) {
    const s = Buffer.alloc(20);
    s.writeUInt32BE(r.sender.ntpSec >>> 0, 0);
    s.writeUInt32BE(r.sender.ntpFrac >>> 0, 4);
    s.writeUInt32BE(r.sender.rtpTimestamp >>> 0, 8);
    s.writeUInt32BE(r.sender.packets >>> 0, 12);
    s.writeUInt32BE(r.sender.octets >>> 0, 16);
    parts.push(header(200, blocks.length, (4 + 20 + 24 * blocks.length) / 4), ssrc, s, ...blocks);
  } else {
    parts.push(header(201, blocks.length, (4 + 24 * blocks.length) / 4), ssrc, ...blocks);
  }
  parts.push(sdes(r.ssrc, cname));
  return Buffer.concat(parts);
}

/** Reads the SR and RR packets of a compound RTCP packet; ignores the rest. Never throws. */
export function decodeRtcp(data: Uint8Array): RtcpReport[] {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: RtcpReport[] = [];
  let off = 0;
  while (off + 4 <= b.length) {
    const v = b[off] as number;
    if (v >> 6 !== 2) break;
    const pt = b[off + 1] as number;
    const len = (b.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > b.length) break;
    const count = v & 0x1f;
    if ((pt === 200 || pt === 201) && len >= 8) {
      const ssrc = b.readUInt32BE(off + 4);
      let p = off + 8;
      let sender: SenderInfo | undefined;
      if (pt === 200 && len >= 28) {
        sender = {
          ntpSec: b.readUInt32BE(p),
          ntpFrac: b.readUInt32BE(p + 4),
          rtpTimestamp: b.readUInt32BE(p + 8),
          packets: b.readUInt32BE(p + 12),
          octets: b.readUInt32BE(p + 16),
        };
        p += 20;
      }
      const blocks: ReportBlock[] = [];
      for (let i = 0; i < count && p + 24 <= off + len; i++, p += 24) {
        const lost = b.readUIntBE(p + 5, 3);
        blocks.push({
          ssrc: b.readUInt32BE(p),
          fractionLost: (b[p + 4] as number) / 256,
          cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
          highestSeq: b.readUInt32BE(p + 8),
          jitter: b.readUInt32BE(p + 12),
          lsr: b.readUInt32BE(p + 16),
          dlsr: b.readUInt32BE(p + 20),
        });
      }
      out.push({ type: pt === 200 ? "SR" : "RR", ssrc, ...(sender && { sender }), blocks });
    }
    off += len;
  }
  return out;
}
