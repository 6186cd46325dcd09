#!/usr/bin/env node
// The yardstick for `deskphone run`'s start (bench/start-up.ts): the least a
// Node + sip.js phone does to register — one UserAgent over WebSocket, one
// Registerer, no configuration, handset, audio or journal. Plain JavaScript,
// run with plain `node`: what any Node phone pays before its REGISTER leaves.
//   node bench/bare-phone.mjs ws://127.0.0.1:PORT USER [DOMAIN]
// Prints "registered" on stdout once the exchange has answered 200 OK.
import { Registerer, RegistererState, UserAgent } from "sip.js";
import { WebSocket } from "ws";

// Node 20 has no global WebSocket (22 has); sip.js's transport uses the global.
globalThis.WebSocket ??= WebSocket;

const [server, user, domain] = process.argv.slice(2);
if (!server || !user) {
  process.stderr.write("usage: node bench/bare-phone.mjs WS_URL USER [DOMAIN]\n");
  process.exit(2);
}
const host = domain ?? new URL(server).hostname;
const ua = new UserAgent({
  uri: UserAgent.makeURI(`sip:${user}@${host}`),
  transportOptions: { server },
  logLevel: "error",
});
await ua.start();
const registerer = new Registerer(ua);
registerer.stateChange.addListener((s) => {
  if (s === RegistererState.Registered) process.stdout.write("registered\n");
});
await registerer.register();
const stop = async () => {
  await ua.stop();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
