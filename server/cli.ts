/**
 * deskphone-exchange: administers the lab exchange's emergency routing table
 * and runs a lab Kamailio in the foreground.
 */
import { EmergencyTable, EmergencyTableError } from "./emergency-table.ts";
import { focusMain } from "./focus/cli.ts";
import { LabExchangeError, startLabExchange } from "./kamailio/lab-exchange.ts";

const USAGE = `usage: deskphone-exchange <command> [args]

  create-db DB                          create or update the database's tables
                                        DB: a SQLite path, or --db sqlite:PATH,
                                        or --db postgres://USER:PASSWORD@HOST:PORT/NAME
  list DB                               print the emergency numbers and their users (JSON)
  bind DB NUMBER USER                   ring USER for calls to NUMBER (creates NUMBER)
  unbind DB NUMBER USER
  number DB NUMBER [--alert-info V] [--enabled yes|no] [--description TEXT]
                                        NUMBER: 1-32 of 0-9 * # +; V: one line of
                                        printable ASCII, at most 256 characters
  remove-number DB NUMBER
  subscriber DB USER PASSWORD           add or change a SIP account (digest auth)
  start [--auth] [--host ADDR] [--tls-cert PEM --tls-key PEM] [--db URL] [--bind NUMBER=USER[,USER...]]...
                                        run a lab Kamailio on loopback until Ctrl-C
                                        (--host ::1 for IPv6; --tls-* add a wss:// listener;
                                        --db postgres://… reads the table from PostgreSQL)
  focus --server URL [...]              run the conference focus (focus --help for its options)
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new EmergencyTableError(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

async function start(args: string[]): Promise<number> {
  const auth = args.includes("--auth");
  const host = option(args, "--host");
  const cert = option(args, "--tls-cert");
  const key = option(args, "--tls-key");
  const db = option(args, "--db");
  if ((cert === undefined) !== (key === undefined)) {
    throw new EmergencyTableError("start: --tls-cert and --tls-key go together");
  }
  const binds: string[] = [];
  for (let v = option(args, "--bind"); v !== undefined; v = option(args, "--bind")) binds.push(v);
  const ex = await startLabExchange({
    auth,
    ...(host !== undefined && { host }),
    ...(cert !== undefined && key !== undefined && { tls: { cert, key } }),
    ...(db !== undefined && { db }),
  });
  for (const b of binds) {
    const [number, users] = b.split("=");
    for (const u of (users ?? "").split(",").filter(Boolean)) ex.table.bind(number ?? "", u);
  }
  console.log(
    JSON.stringify({
      udp: `${ex.domain}:${ex.udpPort}`,
      ws: ex.wsUrl,
      ...(ex.wssPort !== undefined && { wss: ex.wssUrl() }),
      db: ex.table.path,
      pid: ex.pid,
    }),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await ex.stop();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const args = [...rest];
  try {
    if (cmd === "focus") return await focusMain(rest);
    if (!cmd || cmd === "--help" || cmd === "-h" || args.includes("--help")) {
      process.stdout.write(USAGE);
      return cmd ? 0 : 2;
    }
    if (cmd === "start") return await start(args);
    // The database: --db sqlite:PATH or --db postgres://…, or (as before) a
    // SQLite path as the first argument.
    const db = option(args, "--db") ?? args.shift();
    const [a, b] = args;
    if (!db) throw new EmergencyTableError(`${cmd}: the database is missing (DB or --db)`);
    const table = new EmergencyTable(db);
    try {
      switch (cmd) {
        case "create-db":
          table.create();
          return 0;
        case "list":
          console.log(JSON.stringify(table.list(), null, 2));
          return 0;
        case "bind":
        case "unbind":
          if (!a || !b) throw new EmergencyTableError(`${cmd}: NUMBER and USER are required`);
          cmd === "bind" ? table.bind(a, b) : table.unbind(a, b);
          return 0;
        case "number": {
          const alertInfo = option(args, "--alert-info");
          const enabled = option(args, "--enabled");
          const description = option(args, "--description");
          if (!args[0]) throw new EmergencyTableError("number: NUMBER is required");
          if (enabled !== undefined && !["yes", "no"].includes(enabled)) {
            throw new EmergencyTableError("--enabled takes yes or no");
          }
          table.setNumber(args[0], {
            ...(alertInfo !== undefined && { alertInfo }),
            ...(enabled !== undefined && { enabled: enabled === "yes" }),
            ...(description !== undefined && { description }),
          });
          return 0;
        }
        case "remove-number":
          if (!a) throw new EmergencyTableError("remove-number: NUMBER is required");
          table.removeNumber(a);
          return 0;
        case "subscriber":
          if (!a || !b) throw new EmergencyTableError("subscriber: USER and PASSWORD are required");
          table.setSubscriber(a, b);
          return 0;
        default:
          process.stderr.write(`deskphone-exchange: unknown command "${cmd}"\n${USAGE}`);
          return 2;
      }
    } finally {
      table.close();
    }
  } catch (e) {
    if (e instanceof EmergencyTableError || e instanceof LabExchangeError) {
      process.stderr.write(`deskphone-exchange: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
