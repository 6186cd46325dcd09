/**
 * sipp scenarios for tests, made per call so each carries its own values.
 * Unlike sipp's built-in uac/uas, they follow the route set (RFC 3261
 * §12.1.2: requests in a dialog carry Route headers from Record-Route), so ACK
 * and BYE go back through the exchange.
 */

function sdp(
  codecs: readonly [number, string][] = [[0, "PCMU/8000"]],
  more: string[] = [],
): string {
  return [
    "v=0",
    "o=sipp 1 1 IN IP4 [local_ip]",
    "s=-",
    "c=IN IP4 [local_ip]",
    "t=0 0",
    `m=audio [media_port] RTP/AVP ${codecs.map(([pt]) => pt).join(" ")}`,
    ...codecs.map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
    ...more,
  ].join("\n");
}
const SDP = sdp();

const scenario = (name: string, body: string) =>
  `<?xml version="1.0" encoding="ISO-8859-1"?>\n<scenario name="${name}">\n${body}\n</scenario>\n`;

const send = (text: string, extra = "") => `<send${extra}><![CDATA[\n${text.trim()}\n]]></send>`;

export interface RegisterOptions {
  user: string;
  /** The port of the sipp process that will take the calls (its Contact). */
  contactPort: number;
  password?: string;
  expires?: number;
  /** The final answer expected to the (authenticated) REGISTER. */
  expect?: 200 | 401 | 403;
}

/** REGISTERs `user` with a Contact that points at another sipp process. */
export function registerScenario(o: RegisterOptions): string {
  const register = (cseq: number, auth: string) =>
    send(`
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:${o.user}@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:${o.user}@[remote_ip]>
Call-ID: [call_id]
CSeq: ${cseq} REGISTER
Contact: <sip:${o.user}@[local_ip]:${o.contactPort}>
Expires: ${o.expires ?? 3600}
Max-Forwards: 70
${auth}Content-Length: 0
`);
  const expect = o.expect ?? 200;
  const steps = o.password
    ? [
        register(1, ""),
        '<recv response="401" auth="true"/>',
        register(2, `[authentication username=${o.user} password=${o.password}]\n`),
        `<recv response="${expect}"/>`,
      ]
    : [register(1, ""), `<recv response="${expect}"/>`];
  return scenario(`register ${o.user}`, steps.join("\n"));
}

/**
 * A phone that rings for `ringMs`, answers, and waits for the caller's BYE; with
 * `expectInfo` it first takes one SIP INFO (DTMF when its answer offers no
 * telephone-event, RFC 4733, which this phone's SDP never does).
 */
export function answerScenario(o: { ringMs?: number; expectInfo?: boolean } = {}): string {
  const reply = (code: string, sdp: boolean) =>
    send(`
SIP/2.0 ${code}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]uas[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:phone@[local_ip]:[local_port]>
${sdp ? `Content-Type: application/sdp\nContent-Length: [len]\n\n${SDP}` : "Content-Length: 0"}
`);
  return scenario(
    o.expectInfo ? "answer, then expect DTMF as INFO" : "answer",
    [
      '<recv request="INVITE" crlf="true"/>',
      reply("180 Ringing", false),
      `<pause milliseconds="${o.ringMs ?? 200}"/>`,
      reply("200 OK", true),
      '<recv request="ACK" crlf="true"/>',
      ...(o.expectInfo ? ['<recv request="INFO"/>', reply("200 OK", false)] : []),
      '<recv request="BYE"/>',
      reply("200 OK", false),
    ].join("\n"),
  );
}

/** A phone that rings until the exchange CANCELs the INVITE (RFC 3261 §9.2). */
export function ringUntilCancelScenario(): string {
  const head = (code: string, cseq: string) => `
SIP/2.0 ${code}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]uas[call_number]
[last_Call-ID:]
${cseq}
Content-Length: 0
`;
  return scenario(
    "ring until cancel",
    [
      '<recv request="INVITE" crlf="true"><action>' +
        '<ereg regexp="[0-9]+ INVITE" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>' +
        "</action></recv>",
      send(head("180 Ringing", "[last_CSeq:]")),
      '<recv request="CANCEL"/>',
      send(head("200 OK", "[last_CSeq:]")),
      // The INVITE itself then ends with 487 (RFC 3261 §9.2).
      send(head("487 Request Terminated", "CSeq: [$invite_cseq]")),
      '<recv request="ACK"/>',
    ].join("\n"),
  );
}

export interface CallOptions {
  from: string;
  to: string;
  /** Extra header lines, e.g. a forged Alert-Info. */
  headers?: string[];
  /** 200: the call is answered, ACKed and hung up after `talkMs`; else the final code expected. */
  expect?: number;
  talkMs?: number;
  /** The offered codecs, as [payload type, rtpmap]; default PCMU. */
  codecs?: readonly [number, string][];
  /** SDP lines after the audio stream's: more streams, e.g. `m=video [media_port+2] RTP/AVP 96`. */
  moreMedia?: string[];
}

/** A caller: INVITE through the exchange, then ACK/BYE along the route set. */
export function callScenario(o: CallOptions): string {
  const expect = o.expect ?? 200;
  const common = `From: <sip:${o.from}@[remote_ip]>;tag=[pid]uac[call_number]
Call-ID: [call_id]`;
  const invite = send(
    `
INVITE sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${common}
To: <sip:${o.to}@[remote_ip]>
CSeq: 1 INVITE
Contact: <sip:${o.from}@[local_ip]:[local_port]>
Max-Forwards: 70
${(o.headers ?? []).join("\n")}
Content-Type: application/sdp
Content-Length: [len]

${sdp(o.codecs, o.moreMedia)}
`.replace(/\n\n+Content-Type/, "\nContent-Type"),
  );
  const provisional = [
    '<recv response="100" optional="true"/>',
    '<recv response="180" optional="true"/>',
    '<recv response="183" optional="true"/>',
  ];
  if (expect !== 200) {
    return scenario(
      `call ${o.to} expecting ${expect}`,
      [
        invite,
        ...provisional,
        `<recv response="${expect}"/>`,
        send(
          `
ACK sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
${common}
[last_To:]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`,
        ),
      ].join("\n"),
    );
  }
  const inDialog = (method: string, cseq: number) =>
    send(`
${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
${common}
[peer_tag_param]
CSeq: ${cseq} ${method}
Contact: <sip:${o.from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
`).replace("[peer_tag_param]", `To: <sip:${o.to}@[remote_ip]>[peer_tag_param]`);
  return scenario(
    `call ${o.to}`,
    [
      invite,
      ...provisional,
      '<recv response="200" rrs="true"/>',
      inDialog("ACK", 1),
      `<pause milliseconds="${o.talkMs ?? 100}"/>`,
      inDialog("BYE", 2),
      '<recv response="200"/>',
    ].join("\n"),
  );
}

/** A caller that gives up: INVITE, wait for 180, CANCEL (RFC 3261 §9.1), then 487. */
export function cancelScenario(o: {
  from: string;
  to: string;
  afterMs?: number;
  /** Extra header lines on the INVITE, e.g. Priority. */
  headers?: string[];
}): string {
  const common = `From: <sip:${o.from}@[remote_ip]>;tag=[pid]uac[call_number]
Call-ID: [call_id]
To: <sip:${o.to}@[remote_ip]>`;
  return scenario(
    `call ${o.to} and cancel`,
    [
      send(`
INVITE sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${common}
CSeq: 1 INVITE
Contact: <sip:${o.from}@[local_ip]:[local_port]>
Max-Forwards: 70
${(o.headers ?? []).map((h) => `${h}\n`).join("")}Content-Type: application/sdp
Content-Length: [len]

${SDP}
`),
      '<recv response="100" optional="true"/>',
      '<recv response="180"/>',
      `<pause milliseconds="${o.afterMs ?? 300}"/>`,
      // The 180's Via is ours: the same branch as the INVITE, as CANCEL needs (§9.1).
      send(`
CANCEL sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
${common}
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0
`),
      '<recv response="200"/>',
      '<recv response="487"/>',
      send(`
ACK sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:${o.from}@[remote_ip]>;tag=[pid]uac[call_number]
Call-ID: [call_id]
[last_To:]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
`),
    ].join("\n"),
  );
}
