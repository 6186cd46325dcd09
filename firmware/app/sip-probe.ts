/**
 * `deskphone sip-probe`: the SIP user agent alone, for people and tests.
 * Registers, optionally answers incoming calls and/or dials, and prints every
 * event as one JSON line on stdout until Ctrl-C or --seconds.
 */
import { parseArgs } from "node:util";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import type { CliIO } from "./classify-alert.ts";

export const SIP_PROBE_USAGE = `usage: deskphone sip-probe --server ws://HOST:PORT --user USER [options]

  --password PASS     digest auth password
  --answer            answer incoming calls (after --answer-after ms, default 500)
  --reject CODE       refuse incoming calls with CODE instead (e.g. 486)
  --dial TARGET       call TARGET once registered (a number or a SIP URI)
  --hangup-after MS   end each established call after MS (default: never)
  --dtmf DIGITS       send DIGITS (RFC 4733) once a call is established
  --seconds N         stop after N seconds (default: run until Ctrl-C)
  --ca FILE           CA file for wss://;  --insecure  accept any certificate

Prints one JSON object a line: {"t": ms, "event": ..., ...}.
`;

export async function sipProbeCommand(argv: string[], io: CliIO): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        user: { type: "string" },
        password: { type: "string" },
        answer: { type: "boolean" },
        "answer-after": { type: "string" },
        reject: { type: "string" },
        dial: { type: "string" },
        "hangup-after": { type: "string" },
        dtmf: { type: "string" },
        seconds: { type: "string" },
        ca: { type: "string" },
        insecure: { type: "boolean" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    io.err(`deskphone sip-probe: ${(e as Error).message}\n${SIP_PROBE_USAGE}`);
    return 2;
  }
  if (v.help) {
    io.out(SIP_PROBE_USAGE);
    return 0;
  }
  if (typeof v.server !== "string" || typeof v.user !== "string") {
    io.err(`deskphone sip-probe: --server and --user are required\n${SIP_PROBE_USAGE}`);
    return 2;
  }
  const t0 = performance.now();
  const print = (event: string, fields: Record<string, unknown> = {}) =>
    io.out(`${JSON.stringify({ t: Math.round(performance.now() - t0), event, ...fields })}\n`);
  let agent: PhoneAgent;
  try {
    agent = new PhoneAgent({
      server: v.server,
      user: v.user,
      ...(typeof v.password === "string" && { password: v.password }),
      tls: { ...(typeof v.ca === "string" && { caFile: v.ca }), rejectUnauthorized: !v.insecure },
      log: (level, message) => {
        if (level === "warn" || level === "error") print("log", { level, message });
      },
    });
  } catch (e) {
    io.err(`deskphone sip-probe: ${(e as Error).message}\n`);
    return 2;
  }
  const hangupAfter = Number(v["hangup-after"] ?? Number.NaN);
  const established = (callId: string) => {
    if (typeof v.dtmf === "string") for (const d of v.dtmf) agent.sendDtmf(callId, d);
    if (Number.isFinite(hangupAfter)) setTimeout(() => agent.hangUp(callId), hangupAfter);
  };
  let dialled = false;
  agent.on("registration", (state, why) => {
    print("registration", { state, why });
    if (state === "registered" && typeof v.dial === "string" && !dialled) {
      dialled = true;
      print("dial", { callId: "out-1", target: v.dial });
      agent.dial("out-1", v.dial);
    }
  });
  agent.on("incoming", (call) => {
    print("incoming", { ...call });
    if (typeof v.reject === "string") agent.reject(call.callId, Number(v.reject));
    else if (v.answer) {
      agent.ringing(call.callId);
      setTimeout(
        () => void agent.answer(call.callId).then(() => established(call.callId)),
        Number(v["answer-after"] ?? 500),
      );
    } else agent.ringing(call.callId);
  });
  agent.on("remote-ringing", (callId) => print("remote-ringing", { callId }));
  agent.on("remote-answered", (callId) => {
    print("remote-answered", { callId });
    established(callId);
  });
  agent.on("remote-ended", (callId, cause, code) => print("remote-ended", { callId, cause, code }));
  agent.on("dtmf", (callId, digit) => print("dtmf", { callId, digit }));
  agent.on("refused", (sipCallId, code, why) => print("refused", { sipCallId, code, why }));
  agent.start();
  await new Promise<void>((resolve) => {
    const seconds = Number(v.seconds ?? Number.NaN);
    const timer = Number.isFinite(seconds) ? setTimeout(stop, seconds * 1000) : undefined;
    // A signal ends the probe now: the --seconds timer must not keep it alive after.
    function stop() {
      clearTimeout(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    }
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await agent.stop();
  print("stopped");
  return 0;
}
