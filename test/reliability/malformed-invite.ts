/**
 * A valid INVITE and the damage the malformed-input probes do to it
 * (malformed-sip.reliability.ts down the phone's WebSocket,
 * malformed-exchange.reliability.ts over UDP through Kamailio). Each probe
 * makes its own INVITE, addressed as its transport wants; the damage is the
 * same. The corpora stay in the probes: their sizes and cases follow the
 * transport (a datagram's limit, what a WebSocket frame carries).
 */

/** The offer every probe's INVITE carries: one PCMU stream on loopback. */
export const OFFER = [
  "v=0",
  "o=- 1 1 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 40000 RTP/AVP 0",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

/** A request as its start line, header lines and body. */
export interface SipText {
  start: string;
  headers: string[];
  body: string;
}

/** Makes a valid INVITE, with `extra` headers before Content-Type and `body` for the offer. */
export type MakeInvite = (o?: { extra?: string[]; body?: string }) => SipText;

export const text = (m: SipText) => `${m.start}\r\n${m.headers.join("\r\n")}\r\n\r\n${m.body}`;

/**
 * The header fields every request must carry (RFC 3261 §8.1.1): To, From,
 * CSeq, Call-ID, Max-Forwards and Via.
 */
const REQUIRED = ["Via", "Call-ID", "CSeq", "From", "To", "Max-Forwards"] as const;

/** The ways the probes damage the INVITE that `invite` makes, each as the text sent. */
export function damage(invite: MakeInvite) {
  const edit = (f: (m: SipText) => void) => {
    const m = invite();
    f(m);
    return text(m);
  };
  const without = (name: string) =>
    edit((m) => {
      m.headers = m.headers.filter((h) => !h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    });
  const lengthSaid = (n: string) =>
    edit((m) => {
      m.headers = m.headers.map((h) =>
        h.startsWith("Content-Length") ? `Content-Length: ${n}` : h,
      );
    });
  return {
    edit,
    without,
    withHeaders: (extra: string[], body?: string) =>
      text(invite({ extra, ...(body !== undefined && { body }) })),
    /** Each required header left out, in turn. */
    requiredMissing: (): [string, string][] => REQUIRED.map((h) => [`no ${h}`, without(h)]),
    /** A Content-Length that is not the body's (RFC 3261 §20.14). */
    lengthsWrong: (): [string, string][] => [
      ["Content-Length too large", lengthSaid("5000")],
      ["Content-Length too small", lengthSaid("10")],
      ["Content-Length negative", lengthSaid("-1")],
      ["Content-Length not a number", lengthSaid("lots")],
    ],
  };
}
