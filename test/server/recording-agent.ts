/**
 * A phone on the lab exchange for the routing tests: a PhoneAgent that
 * records every INVITE and incoming call that reaches it, by user, so a test
 * can say which phones an emergency number reached and with which headers.
 */
import { type IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";

export interface Reached {
  /** The INVITEs as they arrived on the wire, by user. */
  invites: Map<string, string[]>;
  /** The calls the agent offered, by user. */
  incoming: Map<string, IncomingCall[]>;
}

/** Not started yet: `answer` ones pick up, the rest say 486 Busy Here. */
export function recordingAgent(
  server: string,
  user: string,
  answer: boolean,
  reached: Reached,
): PhoneAgent {
  reached.invites.set(user, []);
  reached.incoming.set(user, []);
  const a = new PhoneAgent({
    server,
    user,
    wireTap: (dir, m) => {
      if (dir === "in" && /^INVITE /.test(m)) reached.invites.get(user)?.push(m);
    },
  });
  a.on("incoming", (c) => {
    reached.incoming.get(user)?.push(c);
    if (answer) void a.answer(c.callId);
    else a.reject(c.callId, 486);
  });
  return a;
}
