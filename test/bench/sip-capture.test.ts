/**
 * npm run bench's packet reader (bench/parts/sip-capture.ts): SIP out of a
 * pcap file as tcpdump writes it — UDP datagrams, and WebSocket frames over
 * TCP after the upgrade, a client's masked (RFC 6455 §5.3), a message split
 * over two segments timed by the one that completed it.
 */
import { describe, expect, it } from "vitest";
import { pcapSegments, sipMessages, WebSocketStream } from "../../bench/parts/sip-capture.ts";

function ipv4(proto: number, src: number, dst: number, payload: Buffer): Buffer {
  const l4 = proto === 17 ? Buffer.alloc(8) : Buffer.alloc(20, 0);
  l4.writeUInt16BE(src, 0);
  l4.writeUInt16BE(dst, 2);
  if (proto === 6) l4[12] = 5 << 4;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length + payload.length, 2);
  ip[9] = proto;
  return Buffer.concat([Buffer.alloc(14), ip, l4, payload]); // an Ethernet header first (lo)
}

function pcap(frames: { sec: number; usec: number; frame: Buffer }[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20); // DLT_EN10MB
  const recs = frames.map(({ sec, usec, frame }) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(sec, 0);
    r.writeUInt32LE(usec, 4);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(frame.length, 12);
    return Buffer.concat([r, frame]);
  });
  return Buffer.concat([head, ...recs]);
}

function wsFrame(text: string, mask?: number[]): Buffer {
  const p = Buffer.from(text);
  const len =
    p.length < 126 ? Buffer.from([p.length]) : Buffer.from([126, p.length >> 8, p.length & 255]);
  if (mask) {
    len[0] = (len[0] as number) | 0x80;
    const m = Buffer.from(p.map((b, i) => b ^ (mask[i % 4] as number)));
    return Buffer.concat([Buffer.from([0x81]), len, Buffer.from(mask), m]);
  }
  return Buffer.concat([Buffer.from([0x81]), len, p]);
}

const RINGING = "SIP/2.0 180 Ringing\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\n\r\n";
const INVITE = "INVITE sip:2001@127.0.0.1 SIP/2.0\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\n\r\n";

describe("sip capture", () => {
  it("reads UDP SIP and masked WebSocket frames after the upgrade, timed to the µs", () => {
    const framed = wsFrame(RINGING, [1, 2, 3, 4]);
    const file = pcap([
      { sec: 100, usec: 1, frame: ipv4(17, 5060, 40000, Buffer.from(INVITE)) },
      { sec: 100, usec: 2, frame: ipv4(17, 5060, 40000, Buffer.from("not sip")) },
      {
        sec: 100,
        usec: 10,
        frame: ipv4(6, 50000, 8080, Buffer.from("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")),
      },
      { sec: 100, usec: 20, frame: ipv4(6, 50000, 8080, framed.subarray(0, 10)) },
      { sec: 100, usec: 500, frame: ipv4(6, 50000, 8080, framed.subarray(10)) },
    ]);
    const ms = sipMessages(pcapSegments(file), { udp: 5060, ws: 8080 });
    expect(ms.map((m) => [m.transport, m.srcPort, m.dstPort, m.text])).toEqual([
      ["udp", 5060, 40000, INVITE],
      ["ws", 50000, 8080, RINGING],
    ]);
    expect(ms[1]?.at).toBeCloseTo(100_000.5, 6);
  });
  it("leaves control frames out and joins continuations", () => {
    const ws = new WebSocketStream();
    const ping = Buffer.from([0x89, 0]);
    const a = Buffer.concat([Buffer.from([0x01, 4]), Buffer.from("SIP/")]); // text, not final
    const b = Buffer.concat([Buffer.from([0x80, 3]), Buffer.from("2.0")]); // continuation, final
    expect(ws.push(Buffer.from("HTTP/1.1 101 Switching Protocols\r\n\r\n"), 1)).toEqual([]);
    expect(ws.push(Buffer.concat([ping, a, b]), 2)).toEqual([{ at: 2, text: "SIP/2.0" }]);
  });
  it("stops at a record tcpdump is still writing", () => {
    const file = pcap([{ sec: 1, usec: 0, frame: ipv4(17, 5060, 1, Buffer.from(INVITE)) }]);
    expect(pcapSegments(file.subarray(0, file.length - 5))).toEqual([]);
    expect(pcapSegments(file)).toHaveLength(1);
  });
});
