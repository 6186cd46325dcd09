/**
 * The first INVITE after start would meet sip.js's message parser, its
 * header grammar and our SDP reading cold: each function compiled on first
 * use and interpreted until V8 has watched it run — tens of milliseconds on
 * this class of machine before the 180, against about one once warm
 * (docs/sip.md, "INVITE → 180"). So once the phone is registered, it parses a
 * made-up INVITE as an exchange forwards one, a few dozen times, one per
 * event-loop turn so that a real message never waits behind more than one:
 * the same parsing a real INVITE gets, nothing sent, nothing kept but what
 * sip/parsed-headers.ts remembers of its values.
 */
import { Core, Grammar } from "sip.js";
import { parseSdp } from "./sdp.ts";

const SDP = [
  "v=0",
  "o=- 1 1 IN IP4 192.0.2.1",
  "s=-",
  "c=IN IP4 192.0.2.1",
  "t=0 0",
  "m=audio 40000 RTP/AVP 0 8 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-15",
  "a=ptime:20",
  "a=sendrecv",
  "",
].join("\r\n");

/**
 * A made-up INVITE (RFC 5737 documentation addresses). `n` varies what a real
 * one varies; the values sip/parsed-headers.ts keeps go round 8 of each (the
 * grammar runs for each of them, and only 8 are kept).
 */
function invite(n: number): string {
  const v = n % 8;
  return [
    `INVITE sip:w${v}@192.0.2.1;transport=ws SIP/2.0`,
    `Record-Route: <sip:192.0.2.2:${5000 + v};transport=ws;r2=on;lr>`,
    "Record-Route: <sip:192.0.2.2;r2=on;lr>",
    `Via: SIP/2.0/WS 192.0.2.2:8080;branch=z9hG4bKw${n}`,
    `Via: SIP/2.0/UDP 192.0.2.3:5062;received=192.0.2.3;rport=5062;branch=z9hG4bKv${n}`,
    "Max-Forwards: 69",
    `From: "Warm ${v}" <sip:${3000 + v}@192.0.2.1>;tag=w${n}`,
    `To: <sip:w${v}@192.0.2.1>`,
    `Call-ID: warm-${n}@192.0.2.3`,
    "CSeq: 1 INVITE",
    `Contact: <sip:${3000 + v}@192.0.2.3:5062>`,
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
    "Supported: replaces, timer",
    "Session-Expires: 1800",
    "Content-Type: application/sdp",
    `Content-Length: ${SDP.length}`,
    "",
    SDP,
  ].join("\r\n");
}

const quiet = { log() {}, warn() {}, error() {} } as unknown as Parameters<
  typeof Core.Parser.parseMessage
>[1];

/**
 * Parses the made-up INVITE `rounds` times, one round per turn; resolves when
 * done. Each round reads the headers sip.js and the phone read of an INVITE.
 */
export function warmUpIncoming(rounds = 40): Promise<void> {
  return new Promise((resolve) => {
    let n = 0;
    const round = () => {
      const v = n % 8;
      try {
        const m = Core.Parser.parseMessage(invite(n), quiet);
        for (const name of ["Session-Expires", "Supported", "Min-SE"]) m?.parseHeader(name);
        Grammar.nameAddrHeaderParse(`"Warm" <sip:w${v}@192.0.2.1>`);
        parseSdp(m?.body ?? SDP);
      } catch {
        // A warm-up that fails costs nothing but its warmth.
      }
      n += 1;
      if (n < rounds) setImmediate(round);
      else resolve();
    };
    setImmediate(round);
  });
}
