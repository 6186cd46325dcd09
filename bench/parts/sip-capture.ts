/**
 * SIP on loopback as the kernel saw it: tcpdump writes the exchange's traffic
 * to a pcap file (kernel timestamps, µs, the wall clock), and this reads it
 * back as SIP messages — from UDP datagrams, and from WebSocket frames
 * (RFC 6455 §5.2; a client's frames are masked, §5.3) over TCP. One method for
 * every phone, whichever transport it registers over, so figures taken here
 * compare: our phone speaks SIP over WebSocket (RFC 7118), baresip over UDP.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SipOnWire {
  /** Wall clock, ms since the epoch (µs resolution): the kernel's capture time. */
  at: number;
  transport: "udp" | "ws";
  srcPort: number;
  dstPort: number;
  text: string;
}

/** The wall clock with sub-millisecond resolution, on the capture's clock. */
export const wallNow = () => performance.timeOrigin + performance.now();

interface Segment {
  at: number;
  proto: "udp" | "tcp";
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** A classic pcap file (tcpdump -w): Ethernet (lo on Linux) or Linux cooked frames, IPv4. */
export function pcapSegments(file: Buffer): Segment[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error("not a pcap file");
  const nano = (le ? magic : file.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const link = u32(20);
  const out: Segment[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const at = u32(o) * 1000 + u32(o + 4) / (nano ? 1e6 : 1e3);
    const len = u32(o + 8);
    const start = o + 16;
    o = start + len;
    if (o > file.length) break; // the record tcpdump is still writing
    const frame = file.subarray(start, o);
    // DLT_EN10MB: 14-byte Ethernet header; DLT_LINUX_SLL: 16 bytes; DLT_NULL: 4.
    const l2 = link === 1 ? 14 : link === 113 ? 16 : link === 0 ? 4 : -1;
    if (l2 < 0 || frame.length < l2 + 20) continue;
    const ip = frame.subarray(l2);
    if (ip[0] === undefined || ip[0] >> 4 !== 4) continue;
    const ihl = (ip[0] & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const proto = ip[9];
    const l4 = ip.subarray(ihl, total);
    if (proto === 17 && l4.length >= 8)
      out.push({
        at,
        proto: "udp",
        srcPort: l4.readUInt16BE(0),
        dstPort: l4.readUInt16BE(2),
        payload: l4.subarray(8),
      });
    else if (proto === 6 && l4.length >= 20) {
      const off = ((l4[12] as number) >> 4) * 4;
      const payload = l4.subarray(off);
      if (payload.length)
        out.push({
          at,
          proto: "tcp",
          srcPort: l4.readUInt16BE(0),
          dstPort: l4.readUInt16BE(2),
          payload,
        });
    }
  }
  return out;
}

/**
 * The text frames of one direction of a WebSocket connection, from its TCP
 * payload in order: the HTTP upgrade first (skipped), then frames (RFC 6455
 * §5.2), unmasked (§5.3). A frame is timed by the segment that completed it.
 */
export class WebSocketStream {
  private buf = Buffer.alloc(0);
  private upgraded = false;
  private parts: Buffer[] = [];

  push(data: Buffer, at: number): { at: number; text: string }[] {
    this.buf = Buffer.concat([this.buf, data]);
    if (!this.upgraded) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return [];
      this.upgraded = true;
      this.buf = this.buf.subarray(end + 4);
    }
    const out: { at: number; text: string }[] = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const fin = ((b[0] as number) & 0x80) !== 0;
      const opcode = (b[0] as number) & 0x0f;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let len = (b[1] as number) & 0x7f;
      let o = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        o = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        o = 10;
      }
      const key = masked ? b.subarray(o, o + 4) : undefined;
      if (masked) o += 4;
      if (b.length < o + len) break;
      const payload = Buffer.from(b.subarray(o, o + len));
      if (key)
        for (let i = 0; i < payload.length; i++)
          payload[i] = (payload[i] as number) ^ (key[i % 4] as number);
      this.buf = b.subarray(o + len);
      // Text (1), binary (2) and their continuations (0) carry SIP; control frames do not.
      if (opcode > 2) continue;
      this.parts.push(payload);
      if (fin) {
        out.push({ at, text: Buffer.concat(this.parts).toString("utf8") });
        this.parts = [];
      }
    }
    return out;
  }
}

/** The SIP messages in a capture: UDP on `udpPort`, WebSocket on `wsPort` (the exchange's). */
export function sipMessages(segments: Segment[], ports: { udp: number; ws: number }): SipOnWire[] {
  const streams = new Map<string, WebSocketStream>();
  const out: SipOnWire[] = [];
  for (const s of segments) {
    if (s.proto === "udp") {
      const text = s.payload.toString("utf8");
      if (/^(SIP\/2\.0 \d{3} [^\r\n]*|[A-Z]+ \S+ SIP\/2\.0)\r\n/.test(text))
        out.push({ at: s.at, transport: "udp", srcPort: s.srcPort, dstPort: s.dstPort, text });
      continue;
    }
    if (s.srcPort !== ports.ws && s.dstPort !== ports.ws) continue;
    const key = `${s.srcPort}>${s.dstPort}`;
    let ws = streams.get(key);
    if (!ws) {
      ws = new WebSocketStream();
      streams.set(key, ws);
    }
    for (const m of ws.push(s.payload, s.at))
      out.push({ at: m.at, transport: "ws", srcPort: s.srcPort, dstPort: s.dstPort, text: m.text });
  }
  return out;
}

// --- reading a message ---

export const firstLine = (m: SipOnWire) => m.text.slice(0, m.text.indexOf("\r\n"));
export function headerOf(m: SipOnWire, name: string): string | undefined {
  return new RegExp(`^${name}\\s*:\\s*(.*?)\\r?$`, "im").exec(m.text)?.[1];
}
/** The CSeq's method: which request a response answers. */
export const cseqMethod = (m: SipOnWire) => headerOf(m, "CSeq")?.split(/\s+/)[1];
export const isResponse = (m: SipOnWire, code: number) =>
  firstLine(m).startsWith(`SIP/2.0 ${code} `);
export const isRequest = (m: SipOnWire, method: string) => firstLine(m).startsWith(`${method} `);

export interface Capture {
  /** What the capture holds so far (tcpdump writes each packet as it comes: -U). */
  messages(): SipOnWire[];
  /** Polls until `find` finds something in the capture, or throws after `timeoutMs`. */
  waitFor<T>(
    what: string,
    find: (ms: SipOnWire[]) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  stop(): Promise<void>;
}

/** Starts tcpdump on lo for the exchange's UDP and WebSocket ports. Needs root or CAP_NET_RAW. */
export async function startCapture(ports: { udp: number; ws: number }): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-bench-pcap-"));
  const file = join(dir, "sip.pcap");
  const child: ChildProcess = spawn(
    "tcpdump",
    [
      "-i",
      "lo",
      "-U",
      "--immediate-mode",
      "-s",
      "0",
      "-n",
      "-w",
      file,
      `udp port ${ports.udp} or tcp port ${ports.ws}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  await new Promise<void>((resolve, reject) => {
    child.once("error", (e) => reject(new Error(`tcpdump: ${e.message}`)));
    child.once("exit", (c) => reject(new Error(`tcpdump exited ${c}: ${err.trim()}`)));
    const t0 = Date.now();
    const check = () =>
      /listening on/.test(err)
        ? resolve()
        : Date.now() - t0 > 5000
          ? reject(new Error(`tcpdump did not start: ${err.trim()}`))
          : setTimeout(check, 20);
    check();
  });
  const messages = () => {
    try {
      return sipMessages(pcapSegments(readFileSync(file)), ports);
    } catch {
      return [];
    }
  };
  return {
    messages,
    async waitFor(what, find, timeoutMs = 10_000) {
      const t0 = Date.now();
      for (;;) {
        const hit = find(messages());
        if (hit !== undefined) return hit;
        if (Date.now() - t0 > timeoutMs) throw new Error(`not seen on the wire: ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGINT");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
