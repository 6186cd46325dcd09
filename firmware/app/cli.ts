/**
 * The `deskphone` command: one entry, a subcommand each. Each command's code
 * is imported when that command runs, so `--version` loads nothing and `run`
 * loads what the phone needs (docs/build.md, start-up).
 */
import { readFileSync } from "node:fs";
import type { CliIO } from "./classify-alert.ts";

const USAGE = `usage: deskphone <command> [options]

Commands:
  run              run the phone (--config /etc/deskphone/config.yaml)
  bench            run the firmware with the mock handset and the virtual handset page
  check-config     validate the configuration without starting (exit 2 if invalid)
  ring-test CLASS  audition an alert class's cadence on the ringer and its LED pattern
  log              print the call journal
  classify-alert   print what the phone does with an incoming call's Alert-Info,
                   Priority and Resource-Priority headers (JSON)
  sip-probe        register, answer or dial with the SIP agent alone; events as JSON lines

  deskphone <command> --help    more about one command
  deskphone --version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "classify-alert":
      return (await import("./classify-alert.ts")).classifyAlertCommand(rest, io);
    case "sip-probe":
      return (await import("./sip-probe.ts")).sipProbeCommand(rest, io);
    case "run":
      return (await import("./commands.ts")).runCommand(rest, io);
    case "bench":
      return (await import("./commands.ts")).benchCommand(rest, io);
    case "check-config":
      return (await import("./commands.ts")).checkConfigCommand(rest, io);
    case "ring-test":
      return (await import("./commands.ts")).ringTestCommand(rest, io);
    case "log":
      return (await import("./log-command.ts")).logCommand(rest, io);
    case "--version":
    case "-v":
      io.out(`deskphone ${version()}\n`);
      return 0;
    case "--help":
    case "-h":
      io.out(USAGE);
      return 0;
    case undefined:
      io.err(USAGE);
      return 2;
    default:
      io.err(`deskphone: unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}
