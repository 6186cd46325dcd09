/** The far end of the media benchmark: sends a tone to the given port and reads what it receives. */
import { RtpSession } from "../audio/rtp-session.ts";
import { ToneSource } from "../audio/tone-source.ts";

const port = Number(process.argv[2]);
const s = await RtpSession.open({ localAddress: "127.0.0.1" });
s.setRemote("127.0.0.1", port);
s.startSending(new ToneSource({ segments: [{ ms: 1000, freqs: [600] }], repeat: true }));
const frame = new Int16Array(160);
setInterval(() => s.read(frame), 20);
process.stdout.write(`${s.port}\n`);
process.on("SIGTERM", () => {
  s.close();
  process.exit(0);
});
