/**
 * The far end's address from SDP as an IPv4 literal: `c=` may name a host
 * (RFC 4566 §5.7), which is looked up first. Shared by both call media
 * implementations (audio/call-media.ts).
 */
import { lookup } from "node:dns";
import { isIPv4 } from "node:net";

/**
 * Calls `use` with the address now (a literal) or once looked up; `failed`
 * with the reason if the name does not resolve. Nothing is called if
 * `current()` is false by then (the media closed, or a newer far end named).
 */
export function resolveFarEnd(
  address: string,
  current: () => boolean,
  use: (ipv4: string) => void,
  failed: (reason: string) => void,
): void {
  if (isIPv4(address)) return use(address);
  lookup(address, { family: 4 }, (err, resolved) => {
    if (!current()) return;
    if (err) failed(`cannot resolve ${address}: ${err.message}`);
    else use(resolved);
  });
}
