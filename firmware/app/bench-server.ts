/**
 * Bench mode's HTTP server on 127.0.0.1: the virtual handset page and a JSON
 * control API (docs/bench.md). One server can show several phones (the demo).
 *
 *   GET  /                         the page
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
import { BENCH_PAGE } from "./bench-page.ts";
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
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
      if (body.length > 4096) {
        reject(new HttpError(413, "request body over 4 KiB"));
        req.destroy();
      }
    });
    req.on("end", () => {
      if (!body.trim()) return resolve({});
      try {
        const v = JSON.parse(body);
        if (typeof v !== "object" || v === null || Array.isArray(v))
          throw new Error("not an object");
        resolve(v);
      } catch {
        reject(new HttpError(400, "the body must be a JSON object"));
      }
    });
  });
}

const KEYS = /^[0-9*#]{1,32}$/;

export function startBenchServer(
  phones: BenchPhone[],
  host: string,
  port: number,
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

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://bench");
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
    handle(req, res).catch((e: Error) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: e.message }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === "object" && addr ? addr.port : port;
      resolve({
        url: `http://${host}:${p}/`,
        close: () =>
          new Promise((r) => {
            for (const c of clients) c.end();
            server.close(() => r());
          }),
      });
    });
  });
}
