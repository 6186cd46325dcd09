/**
 * Starts a private Kamailio lab exchange on loopback: its own temporary
 * directory, database and free ports, never /etc or the system service.
 * Used by the test fixtures and by the demo.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer, isIPv6 } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { EmergencyTable } from "../emergency-table.ts";

// A literal path beside this module: the build rewrites it for build/ (scripts/build.mjs).
export const KAMAILIO_CFG = fileURLToPath(new URL("./deskphone-exchange.cfg", import.meta.url));

export interface LabExchangeOptions {
  /** Require digest auth against the `subscriber` table. */
  auth?: boolean;
  /** Loopback address to listen on (default 127.0.0.1; "::1" for IPv6). */
  host?: string;
  /**
   * Also listen for SIP over secure WebSocket (wss://, RFC 7118) with this
   * certificate and private key (PEM files).
   */
  tls?: { cert: string; key: string };
  /** How long to wait for Kamailio to answer OPTIONS (ms, default 10 s). */
  readyTimeoutMs?: number;
  /** Shortest registration the registrar grants, s (default 30; tests of refreshes use less). */
  minExpires?: number;
  /**
   * Per-source request rate limit (pike, FLOOD_REQS per FLOOD_UNIT_S): the
   * configuration's default is 100 requests per 2 s; tests of the limit use less.
   */
  floodLimit?: { requests: number; unitS: number };
  /** Keep the temporary directory after stop (for debugging a failed test). */
  keepDir?: boolean;
  /** Another Kamailio configuration to run (default KAMAILIO_CFG), e.g. an old one to compare. */
  cfg?: string;
  /**
   * The database: a postgres://… URL (Kamailio's db_postgres; its tables are
   * created if missing, and it may be shared with other instances). Default: a
   * new SQLite file in the instance's directory.
   */
  db?: string;
  /** The UDP port to listen on (default: a free one); a cluster's nodes know each other's. */
  udpPort?: number;
  /**
   * One node of a cluster (WITH_DMQ): registrations are replicated with the
   * other nodes over their UDP listeners; `peer` is another node's sip:HOST:PORT,
   * `nodes` every node's HOST:PORT, comma-separated (DMQ_NODES).
   */
  dmq?: { peer: string; nodes: string };
}

export interface LabExchange {
  readonly host: string;
  readonly udpPort: number;
  readonly wsPort: number;
  /** Where deskphone connects: ws://host:wsPort */
  readonly wsUrl: string;
  /** The TLS port for wss:// (only with the `tls` option). */
  readonly wssPort?: number;
  /** wss://<hostName>:<wssPort>; the name must be one the certificate carries. */
  wssUrl(hostName?: string): string;
  /** The SIP domain users register in (the host address; an IPv6 one in brackets). */
  readonly domain: string;
  readonly dir: string;
  readonly pid: number;
  readonly table: EmergencyTable;
  /** Kamailio's log so far. */
  log(): string;
  stop(): Promise<void>;
  /** Kills Kamailio without warning (SIGKILL). */
  kill(): Promise<void>;
  /** Kills it if running and starts it again on the same ports and database. */
  restart(): Promise<void>;
}

export class LabExchangeError extends Error {}

/** The host as it is written in a URI or a listener: an IPv6 address in brackets. */
export function uriHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** A port that was free on the moment of asking, for UDP or TCP. */
export function freePort(kind: "udp" | "tcp", host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    if (kind === "udp") {
      const s = createSocket(isIPv6(host) ? "udp6" : "udp4");
      s.once("error", reject);
      s.bind(0, host, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    } else {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, host, () => {
        const addr = s.address();
        const port = typeof addr === "object" && addr ? addr.port : 0;
        s.close(() => resolve(port));
      });
    }
  });
}

/** Sends OPTIONS to the exchange until it answers 200 (RFC 3261 §11). */
function probe(host: string, port: number, timeoutMs: number, died: () => string | undefined) {
  return new Promise<void>((resolve, reject) => {
    const sock = createSocket(isIPv6(host) ? "udp6" : "udp4");
    const h = uriHost(host);
    const deadline = Date.now() + timeoutMs;
    let n = 0;
    const finish = (err?: Error) => {
      clearInterval(timer);
      sock.close();
      err ? reject(err) : resolve();
    };
    sock.on("message", (msg) => {
      if (/^SIP\/2\.0 200 /.test(msg.toString("latin1"))) finish();
    });
    sock.on("error", (e) => finish(e));
    const send = () => {
      const why = died();
      if (why) return finish(new LabExchangeError(why));
      if (Date.now() > deadline) {
        return finish(
          new LabExchangeError(`Kamailio did not answer OPTIONS within ${timeoutMs} ms`),
        );
      }
      const { port: lport } = sock.address();
      n += 1;
      const text =
        `OPTIONS sip:${h}:${port} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${h}:${lport};branch=z9hG4bK-probe-${process.pid}-${n}\r\n` +
        `From: <sip:probe@${h}>;tag=probe${n}\r\nTo: <sip:${h}>\r\n` +
        `Call-ID: probe-${process.pid}-${n}@${h}\r\nCSeq: ${n} OPTIONS\r\n` +
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
      sock.send(text, port, host);
    };
    const timer = setInterval(send, 100);
    sock.bind(0, host, send);
  });
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

/**
 * Kamailio runs in a process group of its own; if this process is killed (a test
 * runner's worker that timed out gets SIGTERM or SIGKILL, and "exit" never runs),
 * a small watcher ends that group once this process is gone, so no exchange is
 * left behind on the machine.
 */
function reapWhenGone(pgid: number): void {
  const watcher = spawn(
    "sh",
    [
      "-c",
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 -${pgid} 2>/dev/null; do sleep 2; done; kill -9 -${pgid} 2>/dev/null`,
    ],
    { detached: true, stdio: "ignore" },
  );
  watcher.on("error", () => {});
  watcher.unref();
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function startLabExchange(opts: LabExchangeOptions = {}): Promise<LabExchange> {
  const host = opts.host ?? "127.0.0.1";
  const dir = mkdtempSync(join(tmpdir(), "deskphone-exchange-"));
  const table = new EmergencyTable(opts.db ?? join(dir, "exchange.db"));
  try {
    table.create();
  } catch (e) {
    table.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const udpPort = opts.udpPort ?? (await freePort("udp", host));
  let wsPort = await freePort("tcp", host);
  while (wsPort === udpPort) wsPort = await freePort("tcp", host);
  let wssPort: number | undefined;
  if (opts.tls) {
    wssPort = await freePort("tcp", host);
    while (wssPort === wsPort || wssPort === udpPort) wssPort = await freePort("tcp", host);
  }
  const h = uriHost(host);

  const logPath = join(dir, "kamailio.log");
  const logFd = openSync(logPath, "a");
  const args = [
    "-f",
    opts.cfg ?? KAMAILIO_CFG,
    "-DD",
    "-E",
    "-Y",
    dir,
    "-w",
    dir,
    "-m",
    "48",
    "-M",
    "8",
    "-l",
    `udp:${h}:${udpPort}`,
    "-l",
    `tcp:${h}:${wsPort}`,
    ...(opts.tls && wssPort !== undefined
      ? [
          "-l",
          `tls:${h}:${wssPort}`,
          "-A",
          "WITH_TLS",
          "-A",
          `TLS_CERT="${resolvePath(opts.tls.cert)}"`,
          "-A",
          `TLS_KEY="${resolvePath(opts.tls.key)}"`,
        ]
      : []),
    "-A",
    `DBURL="${table.kamailioUrl}"`,
    "-A",
    `SQLCON="emdb=>${table.kamailioUrl}"`,
    ...(table.kind === "postgres" ? ["-A", "WITH_POSTGRES"] : []),
    ...(opts.dmq
      ? [
          "-A",
          "WITH_DMQ",
          "-A",
          `DMQ_SELF="sip:${h}:${udpPort}"`,
          "-A",
          `DMQ_PEER="${opts.dmq.peer}"`,
          "-A",
          `DMQ_NODES="${opts.dmq.nodes}"`,
        ]
      : []),
    // Phones that name the exchange "localhost" (the test certificate's name)
    // register in that domain: it is the exchange's own, as its address is.
    "-A",
    'SIP_ALIAS="localhost"',
    // The configuration challenges by default; the lab only when asked.
    ...(opts.auth ? ["-A", "WITH_AUTH"] : ["-A", "WITHOUT_AUTH"]),
    ...(opts.minExpires ? ["-A", `MIN_EXPIRES=${Math.max(1, Math.floor(opts.minExpires))}`] : []),
    ...(opts.floodLimit
      ? [
          "-A",
          `FLOOD_REQS=${Math.max(1, Math.floor(opts.floodLimit.requests))}`,
          "-A",
          `FLOOD_UNIT_S=${Math.max(1, Math.floor(opts.floodLimit.unitS))}`,
        ]
      : []),
  ];
  let child!: ChildProcess;
  let spawnError: Error | undefined;
  let exited!: Promise<void>;
  const launch = () => {
    spawnError = undefined;
    try {
      child = spawn("kamailio", args, { detached: true, stdio: ["ignore", logFd, logFd] });
    } catch (e) {
      throw new LabExchangeError(`cannot start kamailio: ${(e as Error).message}`);
    }
    running.add(child);
    child.once("error", (e) => {
      spawnError = e;
    });
    if (child.pid !== undefined) reapWhenGone(child.pid);
    const c = child;
    exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
  };
  launch();
  const log = () => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  const died = () => {
    if (spawnError) {
      return (spawnError as NodeJS.ErrnoException).code === "ENOENT"
        ? "kamailio is not installed (scripts/install-debian-deps.sh)"
        : `cannot start kamailio: ${spawnError.message}`;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = log()
        .split("\n")
        .filter((l) => /ERROR|CRITICAL/.test(l))
        .slice(-8)
        .join("\n");
      return `kamailio exited (${child.exitCode ?? child.signalCode}):\n${tail}`;
    }
    return undefined;
  };

  const halt = async (signal: NodeJS.Signals) => {
    killGroup(child, signal);
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
    if (child.exitCode === null && child.signalCode === null && !spawnError) await exited;
    clearTimeout(timer);
    killGroup(child, "SIGKILL");
    running.delete(child);
  };

  const stop = async () => {
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
    if (child.exitCode === null && child.signalCode === null && !spawnError) await exited;
    clearTimeout(timer);
    // Children of the group may outlive the main process by a moment.
    killGroup(child, "SIGKILL");
    running.delete(child);
    table.close();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  /** Kills Kamailio without warning (SIGKILL), as a crash or power cut would. */
  const kill = () => halt("SIGKILL");
  /** Starts it again on the same ports and database; registrations are gone (in-memory). */
  const restart = async () => {
    await halt("SIGKILL");
    // The children of the group may hold the sockets a moment longer.
    await new Promise((r) => setTimeout(r, 200));
    launch();
    await probe(host, udpPort, opts.readyTimeoutMs ?? 10_000, died);
  };

  try {
    await probe(host, udpPort, opts.readyTimeoutMs ?? 10_000, died);
  } catch (e) {
    const logText = log();
    await stop();
    throw e instanceof LabExchangeError ? e : new LabExchangeError(`${e}\n${logText}`);
  }

  return {
    host,
    udpPort,
    wsPort,
    dir,
    table,
    log,
    stop,
    kill,
    restart,
    wsUrl: `ws://${h}:${wsPort}`,
    ...(wssPort !== undefined && { wssPort }),
    wssUrl(hostName = "localhost") {
      if (wssPort === undefined) throw new LabExchangeError("started without the tls option");
      return `wss://${uriHost(hostName)}:${wssPort}`;
    },
    domain: h,
    get pid() {
      return child.pid ?? -1;
    },
  };
}
