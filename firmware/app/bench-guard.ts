/**
 * Who may drive the bench server (docs/bench.md). The bench API presses the
 * phone's keys, so a web page open in the user's browser must not be able to
 * reach it — not by a cross-origin POST, not by DNS rebinding.
 *
 * - Host: the address the server listens on with its port; on loopback (or the
 *   any address) also localhost, 127.0.0.1 and [::1]. A name that merely
 *   resolves here (DNS rebinding) is refused with 421 Misdirected Request
 *   (RFC 9110 §7.2, §15.5.20).
 * - Origin: when a browser sends one (RFC 6454 §7), it must be the server's own
 *   origin; anything else, including "null", is refused with 403.
 * - Token: required when the server listens beyond loopback, or when
 *   bench.token is set. `Authorization: Bearer TOKEN` (RFC 6750 §2.1), or the
 *   cookie the page gets by opening `/?token=TOKEN` once (HttpOnly,
 *   SameSite=Strict, RFC 6265 §4.1). Missing or wrong: 401.
 * - Bodies: `Content-Type: application/json` only (415): text/plain and form
 *   bodies are what a page may POST cross-origin without a CORS preflight.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const unbracket = (h: string) => h.toLowerCase().replace(/^\[(.*)\]$/, "$1");

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form), localhost. */
export function isLoopback(host: string): boolean {
  const h = unbracket(host);
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const isAnyAddress = (host: string) => ["", "0.0.0.0", "::", "::0"].includes(unbracket(host));

/** The Host header values that name this server (RFC 9110 §7.2: host [":" port]). */
export function acceptedHosts(listenHost: string, port: number): Set<string> {
  const hosts = new Set<string>();
  const add = (name: string) => {
    const h = unbracket(name);
    const written = isIP(h) === 6 ? `[${h}]` : h;
    hosts.add(`${written}:${port}`);
    if (port === 80) hosts.add(written);
  };
  add(listenHost);
  if (isLoopback(listenHost) || isAnyAddress(listenHost))
    for (const n of ["localhost", "127.0.0.1", "::1"]) add(n);
  if (isAnyAddress(listenHost))
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) add(a.address);
  return hosts;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export interface BenchGuardOptions {
  /** Where the server listens, as given to listen(). */
  host: string;
  port: number;
  /** A token the clients must present; required (generated if absent) beyond loopback. */
  token?: string;
}

export class BenchGuard {
  readonly hosts: Set<string>;
  /** The token clients must present, if any. */
  readonly token: string | undefined;
  /** Cookies are not scoped by port (RFC 6265 §8.5): the name carries it. */
  readonly cookie: string;
  /** The token was made up here (none was configured), so it must be printed. */
  readonly generated: boolean;

  constructor(o: BenchGuardOptions) {
    this.hosts = acceptedHosts(o.host, o.port);
    this.generated = !o.token && !isLoopback(o.host);
    this.token = o.token || (this.generated ? randomBytes(18).toString("base64url") : undefined);
    this.cookie = `deskphone-bench-${o.port}`;
  }

  /** Throws the refusal for a request that may not be served. */
  check(req: IncomingMessage, url: URL): void {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!this.hosts.has(host))
      throw new HttpError(421, `this server does not answer for host "${host}"`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== new URL(`http://${host}`).origin)
      throw new HttpError(403, `requests from ${origin} are not allowed`);
    if (!this.token) return;
    if (this.presented(req)) return;
    if (this.tokenInQuery(req, url)) return;
    throw new HttpError(
      401,
      "this bench needs its token: open the URL it printed at start (/?token=…) or send Authorization: Bearer TOKEN",
      { "www-authenticate": 'Bearer realm="deskphone bench"' },
    );
  }

  /** The page's first visit: GET /?token=TOKEN (answered with the cookie and a redirect to /). */
  tokenInQuery(req: IncomingMessage, url: URL): boolean {
    const t = url.searchParams.get("token");
    return req.method === "GET" && url.pathname === "/" && t !== null && this.matches(t);
  }

  /** The token came as a bearer token or in the page's cookie. */
  presented(req: IncomingMessage): boolean {
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (auth !== undefined) return this.matches(auth);
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const [k, v] = part.trim().split("=", 2);
      if (k === this.cookie && v !== undefined && this.matches(v)) return true;
    }
    return false;
  }

  matches(candidate: string): boolean {
    return this.token !== undefined && timingSafeEqual(digest(candidate), digest(this.token));
  }

  /** The Set-Cookie value that lets the page's own requests (and EventSource) carry the token. */
  setCookie(): string {
    return `${this.cookie}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

/** A POST body must say it is JSON (RFC 8259 §11: application/json; a charset parameter is tolerated). */
export function requireJson(req: IncomingMessage): void {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new HttpError(415, 'the body must be JSON, sent with "Content-Type: application/json"');
}
