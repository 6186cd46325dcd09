/**
 * A phone on the lab exchange for the routing tests: a PhoneAgent that
 * records every INVITE, ACK and incoming call that reaches it, by user, so a
 * test can say which phones an emergency number reached and with which
 * headers, and wait until a dialog's ACK has reached the phone before it sends
 * the next request in that dialog.
 */
import { type IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";

export interface Reached {
  /** The INVITEs as they arrived on the wire, by user. */
  invites: Map<string, string[]>;
  /** The calls the agent offered, by user. */
  incoming: Map<string, IncomingCall[]>;
  /** The ACKs as they arrived on the wire, by user (when the test keeps them). */
  acks?: Map<string, string[]>;
}

const callIdOf = (m: string): string | undefined =>
  /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(m)?.[1];

/**
 * Resolves once an ACK with `callId` has reached `user`'s phone; throws after
 * `timeoutMs`. The exchange relays in parallel workers, so a caller's next
 * request in the dialog (re-INVITE, BYE) can overtake its ACK; a phone still
 * busy with the ACK answers a re-INVITE 500 with Retry-After (RFC 3261 §14.2,
 * RFC 6337 §4.3), and the test then proves nothing about what it meant to.
 */
export async function ackReached(
  reached: Reached,
  user: string,
  callId: string,
  timeoutMs = 5000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (reached.acks?.get(user)?.some((m) => callIdOf(m) === callId)) return;
    if (performance.now() >= until) {
      throw new Error(`no ACK for ${callId} reached ${user} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
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
  reached.acks?.set(user, []);
  const a = new PhoneAgent({
    server,
    user,
    wireTap: (dir, m) => {
      if (dir === "in" && /^INVITE /.test(m)) reached.invites.get(user)?.push(m);
      if (dir === "in" && /^ACK /.test(m)) reached.acks?.get(user)?.push(m);
    },
  });
  a.on("incoming", (c) => {
    reached.incoming.get(user)?.push(c);
    if (answer) void a.answer(c.callId);
    else a.reject(c.callId, 486);
  });
  return a;
}
