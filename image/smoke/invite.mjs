// image:boot's caller inside the emulated phone: an INVITE over UDP to the
// exchange (127.0.0.1:5060) for 2001, marked emergency as an exchange marks it
// (Alert-Info, docs/alerting.md), held ringing for HOLD seconds, then
// CANCELled (RFC 3261 §9.1) and the 487 ACKed. Prints each status line.
//   node invite.mjs HOLD_S
import { createSocket } from "node:dgram";

const hold = Number(process.argv[2] ?? 10) * 1000;
const sock = createSocket("udp4");
await new Promise((r) => sock.bind(0, "127.0.0.1", r));
const port = sock.address().port;
const branch = `z9hG4bK-smoke-${Date.now()}`;
const callId = `smoke-${Date.now()}@127.0.0.1`;
const sdp = [
  "v=0",
  "o=smoke 1 1 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 40000 RTP/AVP 0",
  "a=rtpmap:0 PCMU/8000",
  "a=sendrecv",
  "",
].join("\r\n");
const common = (method) => [
  `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
  "Max-Forwards: 70",
  `From: <sip:112@127.0.0.1>;tag=smoke`,
  "To: <sip:2001@127.0.0.1>",
  `Call-ID: ${callId}`,
  `CSeq: 1 ${method}`,
];
const send = (lines, body = "") =>
  new Promise((r) =>
    sock.send(
      `${[...lines, `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n")}`,
      5060,
      "127.0.0.1",
      r,
    ),
  );
let ringing = false;
let final = 0;
let toTag = "";
sock.on("message", (m) => {
  const text = m.toString();
  const status = text.split("\r\n")[0];
  const code = Number(status.split(" ")[1]);
  if (Number.isNaN(code)) return;
  const cseq = /\r\nCSeq:\s*\d+\s+(\w+)/i.exec(text)?.[1];
  console.log(`invite: ${status} (${cseq})`);
  if (cseq !== "INVITE") return;
  if (code === 180) ringing = true;
  if (code >= 200) {
    final = code;
    toTag = /\r\nTo:[^\r]*;tag=([^;\r]+)/i.exec(text)?.[1] ?? "";
    const to = toTag ? `To: <sip:2001@127.0.0.1>;tag=${toTag}` : "To: <sip:2001@127.0.0.1>";
    const ack = common("ACK").map((l) =>
      l.startsWith("To:") ? to : l.startsWith("CSeq") ? "CSeq: 1 ACK" : l,
    );
    send(["ACK sip:2001@127.0.0.1 SIP/2.0", ...ack]);
  }
});
await send(
  [
    "INVITE sip:2001@127.0.0.1 SIP/2.0",
    ...common("INVITE"),
    `Contact: <sip:112@127.0.0.1:${port}>`,
    "Alert-Info: <http://deskphone.invalid/alert/emergency>;info=alert-emergency",
    "Content-Type: application/sdp",
  ],
  sdp,
);
await new Promise((r) => setTimeout(r, hold));
if (!final) await send(["CANCEL sip:2001@127.0.0.1 SIP/2.0", ...common("CANCEL")]);
await new Promise((r) => setTimeout(r, 3000));
sock.close();
console.log(`invite: ${ringing ? "ringing" : "NOT ringing"}, final ${final || "none"}`);
process.exit(ringing ? 0 : 1);
