/**
 * `deskphone-exchange focus`: runs the conference focus in the foreground
 * until SIGTERM or SIGINT (systemd/deskphone-focus.service). Log lines go to
 * stderr with sd-daemon priority prefixes (<6> info, <4> warning, <3> error),
 * which journald reads as levels.
 */
import { readFileSync } from "node:fs";
import { Focus, type FocusLog } from "./focus.ts";

export const FOCUS_USAGE = `usage: deskphone-exchange focus --server URL [options]

  --server URL            the exchange, ws://HOST:PORT or wss://NAME:PORT
  --user NAME             the focus's service user (default focus; the exchange's FOCUS_USER)
  --password-file FILE    its digest password (first line), for an exchange with WITH_AUTH
  --ca-file PEM           the CA that signed the exchange's certificate (wss://)
  --media-address IP      the address in the focus's SDP (default: its address toward the exchange)
  --rtp-ports LO-HI       the RTP port range (default 16384-32766)
  --retry-every-s N       a bound user refused or unregistered is called again after N s (10)
  --max-attempts N        at most N INVITEs to one bound user per room (30)
  --media-timeout-s N     a participant silent N s (no RTP, no RTCP) has gone (10)
`;

export class FocusUsageError extends Error {}

function take(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new FocusUsageError(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new FocusUsageError(`${name}: a positive number`);
  return n;
}

/** The focus's options from its command line (throws FocusUsageError with what is wrong). */
export function focusOptions(argv: string[], log: FocusLog) {
  const args = [...argv];
  const server = take(args, "--server");
  if (!server || !/^wss?:\/\/./.test(server)) {
    throw new FocusUsageError("--server ws://HOST:PORT or wss://NAME:PORT is required");
  }
  const user = take(args, "--user");
  const passwordFile = take(args, "--password-file");
  const caFile = take(args, "--ca-file");
  const mediaAddress = take(args, "--media-address");
  const ports = take(args, "--rtp-ports");
  const everyS = positive("--retry-every-s", take(args, "--retry-every-s"));
  const attempts = positive("--max-attempts", take(args, "--max-attempts"));
  const timeoutS = positive("--media-timeout-s", take(args, "--media-timeout-s"));
  if (args.length) throw new FocusUsageError(`unknown argument ${args[0]}`);
  let rtpPorts: [number, number] | undefined;
  if (ports !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(ports);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2]);
    if (!m || lo < 1024 || hi > 65535 || hi - lo < 2) {
      throw new FocusUsageError("--rtp-ports LO-HI within 1024-65535");
    }
    rtpPorts = [lo, hi];
  }
  let password: string | undefined;
  if (passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, "utf8").split("\n")[0]?.trim();
    } catch (e) {
      throw new FocusUsageError(`--password-file: ${(e as Error).message}`);
    }
    if (!password) throw new FocusUsageError(`--password-file ${passwordFile} is empty`);
  }
  return {
    server,
    log,
    ...(user !== undefined && { user }),
    ...(password !== undefined && { password }),
    ...(caFile !== undefined && { tls: { caFile } }),
    ...(mediaAddress !== undefined && { mediaAddress }),
    ...(rtpPorts && { rtpPorts }),
    retry: {
      ...(everyS !== undefined && { everyMs: everyS * 1000 }),
      ...(attempts !== undefined && { maxAttempts: Math.floor(attempts) }),
    },
    ...(timeoutS !== undefined && { mediaTimeoutMs: timeoutS * 1000 }),
  };
}

export async function focusMain(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write(FOCUS_USAGE);
    return 0;
  }
  const prio = { info: 6, warn: 4, error: 3 } as const;
  const log: FocusLog = (level, m) =>
    process.stderr.write(`<${prio[level]}>focus: ${m.replace(/\n/g, " | ")}\n`);
  let focus: Focus;
  try {
    focus = new Focus(focusOptions(argv, log));
  } catch (e) {
    if (!(e instanceof FocusUsageError)) throw e;
    process.stderr.write(`deskphone-exchange focus: ${e.message}\n${FOCUS_USAGE}`);
    return 2;
  }
  focus.start();
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  log("info", `${signal}: stopping (open rooms end now)`);
  await focus.stop();
  return 0;
}
