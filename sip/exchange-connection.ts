/**
 * What the phone's one connection to the exchange tells: whether it is the
 * verified exchange (trust comes from the connection, never from header
 * text; docs/sip.md) and which local address the far end can reach us at.
 */
import type { UserAgent } from "sip.js";

/** Whether the exchange connection is verified (see WsTransport.verified). */
export function connectionVerified(ua: UserAgent): boolean {
  const t = ua.transport as unknown as { verified?: boolean } | undefined;
  return t?.verified === true;
}

/** The address this phone uses to reach the exchange: the one the far end can reach. */
export function localAddress(ua: UserAgent): string {
  // biome-ignore lint/suspicious/noExplicitAny: reaching the ws socket for its local address
  const sock = (ua.transport as any)?.ws?._socket;
  return sock?.localAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1";
}
