/**
 * A private PostgreSQL cluster for a test file: Debian's own server binaries
 * (package postgresql), initdb into a temporary directory, one postmaster on a
 * free loopback port with its socket in that directory, password auth
 * (SCRAM) for the one role it has. Never the system cluster, never /var/lib.
 *
 * PostgreSQL refuses to run as root: as root, the cluster is created and run
 * as `nobody` (spawn's uid/gid), in a directory nobody owns. The postmaster is
 * stopped by its PID (its own process group): stop() asks for a fast shutdown,
 * then kills; a process-exit hook kills it if a test forgot; and a watcher
 * ends it and removes the directory when the test process dies without
 * running any hook (a worker killed on a timeout).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../../server/kamailio/lab-exchange.ts";

export interface LabPostgres {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** postgres://deskphone:PASSWORD@127.0.0.1:PORT/DB */
  url(database?: string): string;
  /** Creates an empty database (name: a-z 0-9 _) and gives its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs one statement as the cluster's owner, with parameters. */
  query(database: string, text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  log(): string;
  stop(): Promise<void>;
}

export class LabPostgresError extends Error {}

const USER = "deskphone";

/** The newest Debian server version's bin directory (/usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const v = versions[0];
  if (v === undefined) {
    throw new LabPostgresError(
      "PostgreSQL server binaries not found under /usr/lib/postgresql (scripts/install-debian-deps.sh)",
    );
  }
  return join(root, v, "bin");
}

/** Who runs the cluster: ourselves, or nobody when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

const running = new Map<ChildProcess, string>();
process.once("exit", () => {
  for (const [child, dir] of running) {
    killGroup(child, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Ends the cluster's process group and removes its directory once this process
 * is gone (SIGKILLed workers run no exit hook). SIGQUIT is PostgreSQL's
 * immediate shutdown; SIGKILL follows for anything left.
 */
function reapWhenGone(pgid: number, dir: string): void {
  const watcher = spawn(
    "sh",
    [
      "-c",
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 -${pgid} 2>/dev/null; do sleep 2; done; ` +
        `kill -QUIT -${pgid} 2>/dev/null; sleep 1; kill -9 -${pgid} 2>/dev/null; ` +
        `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; rm -rf '${dir}'`,
    ],
    { detached: true, stdio: "ignore" },
  );
  watcher.on("error", () => {});
  watcher.unref();
}

export async function startLabPostgres(
  opts: { readyTimeoutMs?: number } = {},
): Promise<LabPostgres> {
  const bin = postgresBinDir();
  const host = "127.0.0.1";
  const dir = mkdtempSync(join(tmpdir(), "deskphone-postgres-"));
  const data = join(dir, "data");
  const logPath = join(dir, "postgres.log");
  const password = randomBytes(12).toString("hex");
  const user = runAs();
  const pwfile = join(dir, "password");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    execFileSync(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        USER,
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { cwd: dir, stdio: "pipe", env: { ...process.env, LC_ALL: "C" }, ...as },
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new LabPostgresError(`initdb failed: ${String(err.stderr ?? err.message).trim()}`);
  }
  rmSync(pwfile, { force: true });

  const port = await freePort("tcp", host);
  const logFd = openSync(logPath, "a");
  if (user) chownSync(logPath, user.uid, user.gid);
  const child = spawn(
    join(bin, "postgres"),
    [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      `listen_addresses=${host}`,
      // A test cluster: nothing to keep after a crash, so no flushes to disk.
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=40",
      "-c",
      "shared_buffers=16MB",
    ],
    { cwd: dir, detached: true, stdio: ["ignore", logFd, logFd], ...as },
  );
  let spawnError: Error | undefined;
  child.once("error", (e) => {
    spawnError = e;
  });
  running.set(child, dir);
  if (child.pid !== undefined) reapWhenGone(child.pid, dir);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = () => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  const url = (database = "postgres") =>
    `postgres://${USER}:${password}@${host}:${port}/${database}`;

  const stop = async () => {
    killGroup(child, "SIGINT"); // fast shutdown: ends sessions, checkpoints
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
    if (child.exitCode === null && child.signalCode === null && !spawnError) await exited;
    clearTimeout(timer);
    killGroup(child, "SIGKILL");
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const query = async (database: string, text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query({ text, values: params })).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };

  // Ready when a login with the password succeeds.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      const why = spawnError?.message ?? `exited (${child.exitCode ?? child.signalCode})`;
      const text = log();
      await stop();
      throw new LabPostgresError(`postgres ${why}:\n${text.split("\n").slice(-10).join("\n")}`);
    }
    try {
      await query("postgres", "SELECT 1");
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        const text = log();
        await stop();
        throw new LabPostgresError(`postgres did not accept a login: ${e}\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    host,
    port,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    url,
    query,
    log,
    stop,
    async createDatabase(name: string) {
      // An identifier cannot be a parameter: the name is checked instead.
      if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) {
        throw new LabPostgresError(`database name "${name}": a-z 0-9 _`);
      }
      await query("postgres", `CREATE DATABASE ${name}`);
      return url(name);
    },
  };
}
