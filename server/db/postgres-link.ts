/**
 * A synchronous connection to PostgreSQL for the emergency table, whose API
 * (and every caller of it: the admin command, the tests' `ex.table.bind(…)`)
 * is synchronous like the SQLite one.
 *
 * The `pg` client is asynchronous, so it lives in a worker thread; each query
 * is posted to it with its parameters and this thread sleeps on a shared
 * counter (Atomics.wait) until the worker has put the answer on a message port,
 * which is then read without an event-loop turn (receiveMessageOnPort).
 * Queries are always parameterised ($1, $2, … — the PostgreSQL wire protocol's
 * extended query, values never spliced into the text).
 */
import { createRequire } from "node:module";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { EmergencyTableError } from "./table-store.ts";

/** How long one statement may take before the admin command gives up. */
const QUERY_TIMEOUT_MS = 15_000;

// The worker is plain JavaScript (it must run without a TypeScript loader).
const WORKER = `
const { workerData } = require("node:worker_threads");
const { Client } = require(workerData.pgPath);
const { port, flag, url } = workerData;
const client = new Client({ connectionString: url, connectionTimeoutMillis: 10000 });
let ready = client.connect();
ready.catch(() => {});
port.on("message", async ({ text, params }) => {
  let reply;
  try {
    await ready;
    const r = await client.query({ text, values: params });
    reply = { rows: r.rows };
  } catch (e) {
    reply = { error: String(e && e.message ? e.message : e), code: e && e.code };
  }
  port.postMessage(reply);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
});
port.on("close", () => { client.end().catch(() => {}); });
`;

export class PostgresLink {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private closed = false;

  constructor(readonly url: string) {
    const { port1, port2 } = new MessageChannel();
    const pgPath = createRequire(import.meta.url).resolve("pg");
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { port: port2, flag: this.flag, url, pgPath },
      transferList: [port2],
    });
    // A connection left open must not keep the admin command (or a test) alive.
    this.worker.unref();
    this.worker.on("error", () => {});
    this.port = port1;
    port1.unref();
  }

  /** Runs one parameterised statement and returns its rows. */
  query(text: string, params: readonly unknown[] = []): Record<string, unknown>[] {
    if (this.closed) throw new EmergencyTableError("postgres: the connection is closed");
    const before = Atomics.load(this.flag, 0);
    this.port.postMessage({ text, params });
    if (Atomics.wait(this.flag, 0, before, QUERY_TIMEOUT_MS) === "timed-out") {
      this.close();
      throw new EmergencyTableError(
        `postgres ${redact(this.url)}: no answer within ${QUERY_TIMEOUT_MS / 1000} s`,
      );
    }
    const got = receiveMessageOnPort(this.port)?.message as
      | { rows?: Record<string, unknown>[]; error?: string }
      | undefined;
    if (!got) throw new EmergencyTableError("postgres: the worker gave no answer");
    if (got.error !== undefined) {
      throw new EmergencyTableError(`postgres ${redact(this.url)}: ${got.error}`);
    }
    return got.rows ?? [];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
