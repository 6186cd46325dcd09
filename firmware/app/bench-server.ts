/**
 * Bench mode's HTTP server: the virtual handset page and a JSON control API
 * (docs/bench.md). One server can show several phones (the demo). Every
 * request passes the bench guard first (Host, Origin, token; bench-guard.ts).
 *
 *   GET  /                         the page (/?token=T once, when a token is needed)
 *   GET  /api/phones               ["2001", …]
 *   GET  /api/state                the first phone's state   (/api/phones/USER/state)
 *   POST /api/hook   {"offHook": true}                        (/api/phones/USER/hook)
 *   POST /api/keys   {"keys": "1100#"} or {"keys": "dnd"|"ack"} (/api/phones/USER/keys)
 *   POST /api/flash                                            (/api/phones/USER/flash)
 *   GET  /api/journal                                          (/api/phones/USER/journal)
 *   GET  /api/events               server-sent events: "state" with a phone's state
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { MockHandset } from "../../hal/mock.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { BenchGuard, HttpError, isLoopback, requireJson } from "./bench-guard.ts";
import { BENCH_PAGE } from "./bench-page.ts";
import type { Log } from "./build-phone.ts";
import type { Phone } from "./phone.ts";
import { phoneView } from "./phone-view.ts";

export interface BenchPhone {
  user: string;
  phone: Phone;
  agent: PhoneAgent;
  handset: MockHandset;
  journal?: { records: readonly unknown[] };
}

export interface BenchServer {
  /** The server's base URL (the API is under api/). */
  url: string;
  /** What to open in a browser: the base URL, with ?token=… when a token is needed. */
  pageUrl: string;
  /** The token clients must present (Authorization: Bearer), if one is needed. */
  token: string | undefined;
  /** The token was generated at start (no bench.token was configured). */
  tokenGenerated: boolean;
  close(): Promise<void>;
}

export interface BenchServerOptions {
  /** bench.token: required from every client; generated when listening beyond loopback without one. */
  token?: string;
  log?: Log;
}

/** The largest request body read (docs/bench.md: 413 past 4 KiB). */
export const MAX_BODY = 4096;
/** A refused body is still read (and thrown away) up to this much, so the client sees the answer. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  requireJson(req);
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY) throw new HttpError(413, "request body over 4 KiB");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (d: Buffer) => {
      size += d.length;
      if (size <= MAX_BODY) return void chunks.push(d);
      req.off("data", onData);
      req.off("end", onEnd);
      req.pause();
      reject(new HttpError(413, "request body over 4 KiB"));
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (!body.trim()) return resolve({});
      try {
        const v = JSON.parse(body);
        if (typeof v !== "object" || v === null || Array.isArray(v))
          throw new Error("not an object");
        resolve(v);
      } catch {
        reject(new HttpError(400, "the body must be a JSON object"));
      }
    };
    req.on("data", onData);
    req.on("end", onEnd);
  });
}

/**
 * Answers a refusal. When the request's body is still arriving, the answer is
 * written whole first and the rest of the body read and thrown away (bounded);
 * the connection closes only then. Closing with unread bytes would make the
 * kernel send a TCP reset, and the client could lose the answer with it.
 */
function refuse(req: IncomingMessage, res: ServerResponse, e: Error): void {
  const status = e instanceof HttpError ? e.status : 500;
  const body = JSON.stringify({ error: e.message });
  if (res.headersSent) return void res.end();
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...(e instanceof HttpError ? e.headers : {}),
  };
  if (req.complete) {
    res.writeHead(status, headers);
    return void res.end(body);
  }
  res.writeHead(status, { ...headers, connection: "close" });
  res.write(body);
  let drained = 0;
  const giveUp = setTimeout(() => req.destroy(), DRAIN_MAX_MS);
  req.removeAllListeners("data");
  req.on("data", (d: Buffer) => {
    drained += d.length;
    if (drained > DRAIN_MAX_BYTES) {
      clearTimeout(giveUp);
      req.destroy();
    }
  });
  req.on("end", () => {
    clearTimeout(giveUp);
    res.end();
  });
  req.on("close", () => clearTimeout(giveUp));
  req.resume();
}

const KEYS = /^[0-9*#]{1,32}$/;

export function startBenchServer(
  phones: BenchPhone[],
  host: string,
  port: number,
  o: BenchServerOptions = {},
): Promise<BenchServer> {
  const byUser = new Map(phones.map((p) => [p.user, p]));
  const clients = new Set<ServerResponse>();
  // The journal's length rides along, so the page fetches the journal only when it grew.
  const stateOf = (b: BenchPhone) => ({
    ...phoneView(b.user, b.phone, b.agent.registrationState),
    journalEntries: b.journal?.records.length ?? 0,
  });
  const push = (b: BenchPhone) => {
    const data = `event: state\ndata: ${JSON.stringify(stateOf(b))}\n\n`;
    for (const c of clients) c.write(data);
  };
  for (const b of phones) {
    b.phone.on("state", () => push(b));
    b.agent.on("registration", () => push(b));
  }

  let guard: BenchGuard | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://bench");
    if (!guard) throw new HttpError(503, "starting");
    guard.check(req, url);
    if (guard.tokenInQuery(req, url)) {
      // The token leaves the address bar and history; the page's requests carry the cookie.
      res.writeHead(303, { location: "/", "set-cookie": guard.setCookie() });
      return res.end();
    }
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(BENCH_PAGE);
    }
    if (req.method === "GET" && url.pathname === "/api/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(": deskphone bench\n\n");
      clients.add(res);
      for (const b of phones) res.write(`event: state\ndata: ${JSON.stringify(stateOf(b))}\n\n`);
      req.on("close", () => clients.delete(res));
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/phones")
      return send(
        200,
        phones.map((p) => p.user),
      );
    const m = /^\/api\/(?:phones\/([^/]+)\/)?(state|hook|keys|flash|journal)$/.exec(url.pathname);
    if (!m) throw new HttpError(404, `no such resource: ${url.pathname}`);
    const b = m[1] ? byUser.get(decodeURIComponent(m[1])) : phones[0];
    if (!b) throw new HttpError(404, `no phone ${m[1]}`);
    const what = m[2];
    if (req.method === "GET" && what === "state") return send(200, stateOf(b));
    if (req.method === "GET" && what === "journal") return send(200, b.journal?.records ?? []);
    if (req.method !== "POST")
      throw new HttpError(405, `${req.method} not allowed on ${url.pathname}`);
    const body = await readJson(req);
    if (what === "hook") {
      if (typeof body.offHook !== "boolean")
        throw new HttpError(400, 'expected {"offHook": true|false}');
      body.offHook ? b.handset.lift() : b.handset.replace();
    } else if (what === "keys") {
      const keys = body.keys;
      if (keys === "dnd" || keys === "ack") b.handset.press(keys);
      else if (typeof keys === "string" && KEYS.test(keys)) b.handset.press(keys);
      else
        throw new HttpError(400, 'expected {"keys": "0-9 * #, up to 32"} or {"keys": "dnd"|"ack"}');
    } else if (what === "flash") b.handset.flash();
    return send(200, stateOf(b));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => refuse(req, res, e));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === "object" && addr ? addr.port : port;
      const g = new BenchGuard({ host, port: p, ...(o.token && { token: o.token }) });
      guard = g;
      if (!isLoopback(host))
        o.log?.(
          "warn",
          `bench: listening on ${host}:${p}, beyond loopback: anyone who can reach it and holds the token can use this phone${g.generated ? " (token generated for this run; set bench.token to keep one)" : ""}`,
        );
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${p}/`;
      resolve({
        url,
        pageUrl: g.token ? `${url}?token=${encodeURIComponent(g.token)}` : url,
        token: g.token,
        tokenGenerated: g.generated,
        close: () =>
          new Promise((r) => {
            for (const c of clients) c.end();
            server.close(() => r());
          }),
      });
    });
  });
}
