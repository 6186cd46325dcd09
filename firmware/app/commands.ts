/** `deskphone run`, `bench`, `check-config`, `ring-test` (`log`: log-command.ts). */
import { existsSync } from "node:fs";
import { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { systemClock } from "../../hal/contracts.ts";
import { LedAnimator } from "../../hal/led-animator.ts";
import { MockHandset } from "../../hal/mock.ts";
import { CADENCES, type Cadence } from "../alerting/cadences.ts";
import type { BenchServer } from "./bench-server.ts";
import { buildHandset, type HandsetDeps } from "./build-handset.ts";
import { type BuiltPhone, buildPhone, type Handset, type Log } from "./build-phone.ts";
import type { CliIO } from "./classify-alert.ts";
import { args, DEFAULT_CONFIG_PATH, load } from "./cli-args.ts";
import type { PhoneConfig } from "./config.ts";
import { SystemdNotifier } from "./systemd-notify.ts";

/** Structured log lines for journald: "<level>deskphone: message" with syslog priority prefixes. */
export function journaldLog(io: CliIO): Log {
  const prio = { error: 3, warn: 4, info: 6, debug: 7 } as const;
  return (level, message) => {
    if (level === "debug" && !process.env.DESKPHONE_DEBUG) return;
    io.err(`<${prio[level]}>${message.replace(/\n/g, " | ")}\n`);
  };
}

export const CHECK_USAGE = `usage: deskphone check-config [--config FILE]

Validates the configuration without starting. Prints each problem as FILE: PATH: REASON.
Exit codes: 0 valid; 2 invalid or unreadable.
`;

export function checkConfigCommand(argv: string[], io: CliIO): number {
  const a = args(argv, CHECK_USAGE, io);
  if (!a) return 2;
  if (a.values.help) {
    io.out(CHECK_USAGE);
    return 0;
  }
  const path = (a.values.config as string | undefined) ?? a.positionals[0] ?? DEFAULT_CONFIG_PATH;
  const c = load(path, io);
  if (!c) return 2;
  io.out(`${path}: valid (user ${c.account.user} on ${c.exchange.url})\n`);
  return 0;
}

export const RUN_USAGE = `usage: deskphone run [--config FILE]

Runs the phone: registers with the exchange, drives the handset, rings and
answers. Under systemd (Type=notify) it reports READY once registered (or after
30 s) and sends watchdog heartbeats. Logs go to stderr (journald) with syslog
priorities.
`;

/** A phone started by `run` or `bench`, until stop(). */
export interface RunningPhone {
  built: BuiltPhone;
  handset: Handset;
  /** "degraded: hook switch unreadable: …" when a handset part could not be read. */
  degraded: string | undefined;
  server: BenchServer | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  log: Log;
  io: CliIO;
  /** Bench mode: the mock handset, driven through the bench server. */
  bench?: { listen: string };
  /** NOTIFY_SOCKET, WATCHDOG_USEC (the process's own by default). */
  env?: NodeJS.ProcessEnv;
  handsetDeps?: HandsetDeps;
}

/**
 * Builds and starts the phone as `run` and `bench` do. A handset part that
 * cannot be read does not stop the start (the phone can still ring and light
 * its LEDs), but it is loud: an error in the log, systemd's STATUS begins with
 * "degraded: …" for as long as the phone runs, and the status LED blinks the
 * degraded pattern (firmware/controller/outputs.ts).
 */
export async function startPhone(c: PhoneConfig, o: StartOptions): Promise<RunningPhone> {
  const { log, io } = o;
  const mock = new MockHandset();
  const useHardware = !o.bench && (c.hal.backend !== "mock" || c.hal.i2c !== undefined);
  const hw = useHardware ? await buildHandset(c.hal, log, o.handsetDeps) : undefined;
  const handset: Handset = hw ?? mock;
  if (!o.bench && !useHardware) {
    log("warn", "hal.backend is mock: no hook switch or keypad is read (docs/wiring.md)");
  }
  const degraded = hw?.problems.length ? `degraded: ${hw.problems.join("; ")}` : undefined;
  if (degraded) {
    log(
      "error",
      `handset ${degraded}. The phone runs on (it registers, rings and lights its LEDs) but what is listed above does not work; the status LED blinks twice every 2 s until it is fixed (docs/wiring.md)`,
    );
  }
  const built = buildPhone(c, handset, { log, degraded: degraded !== undefined });
  const notifier = new SystemdNotifier(o.env, log);
  // Every STATUS says degraded first, so `systemctl status` never shows a plain "registered".
  const status = (s: string) => (degraded ? `${degraded}; ${s}` : s);
  if (degraded) notifier.status(degraded);
  built.agent.on("registration", (state, why) => {
    log(state === "registered" ? "info" : "warn", `registration: ${state} (${why})`);
    notifier.status(status(`${state}: ${why}`));
    if (state !== "registered") return;
    clearTimeout(readyAnyway); // registered: "not registered yet" would be false in 30 s
    notifier.ready(status(`registered as ${c.account.user}`));
  });
  const readyAnyway = setTimeout(
    () => notifier.ready(status("not registered yet; running")),
    30_000,
  );
  readyAnyway.unref();
  notifier.startWatchdog();
  built.phone.start();
  let server: BenchServer | undefined;
  if (o.bench) {
    const listen = o.bench.listen;
    const [host, port] = [
      listen.slice(0, listen.lastIndexOf(":")),
      Number(listen.slice(listen.lastIndexOf(":") + 1)),
    ];
    // Loaded for bench mode only: `run` does not carry the page and its server.
    const { startBenchServer } = await import("./bench-server.ts");
    server = await startBenchServer(
      [
        {
          user: c.account.user,
          phone: built.phone,
          agent: built.agent,
          handset: mock,
          journal: built.journal,
        },
      ],
      host,
      port,
      { log, ...(c.bench.token && { token: c.bench.token }) },
    );
    io.out(`deskphone bench: ${server.url}\n`);
    if (server.tokenGenerated)
      io.out(
        `deskphone bench: token ${server.token} (for this run; set bench.token to keep one): open ${server.pageUrl}; API clients send "Authorization: Bearer TOKEN"\n`,
      );
    else if (server.token)
      io.out(
        `deskphone bench: open ${server.url}?token=<bench.token>; API clients send "Authorization: Bearer <bench.token>"\n`,
      );
  }
  return {
    built,
    handset,
    degraded,
    server,
    async stop() {
      notifier.stop();
      clearTimeout(readyAnyway);
      await server?.close();
      await built.stop();
    },
  };
}

async function runPhone(argv: string[], io: CliIO, bench: boolean): Promise<number> {
  const usage = bench ? BENCH_USAGE : RUN_USAGE;
  const a = args(argv, usage, io, bench ? { listen: { type: "string" } } : {});
  if (!a) return 2;
  if (a.values.help) {
    io.out(usage);
    return 0;
  }
  const path = (a.values.config as string | undefined) ?? DEFAULT_CONFIG_PATH;
  const c = load(path, io);
  if (!c) return 2;
  const running = await startPhone(c, {
    log: journaldLog(io),
    io,
    ...(bench && { bench: { listen: (a.values.listen as string | undefined) ?? c.bench.listen } }),
  });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await running.stop();
  return 0;
}

export const runCommand = (argv: string[], io: CliIO) => runPhone(argv, io, false);

export const BENCH_USAGE = `usage: deskphone bench [--config FILE] [--listen HOST:PORT]

Runs the real firmware with the mock handset and serves the virtual handset
page and the JSON control API (docs/bench.md) on bench.listen (127.0.0.1:8088).
`;

export const benchCommand = (argv: string[], io: CliIO) => runPhone(argv, io, true);

export const RING_TEST_USAGE = `usage: deskphone ring-test CLASS [--config FILE] [--seconds N]

Plays an alert class's cadence on the configured ringer device and its LED
pattern (on the mock LEDs, printed), so an installer can audition it.
`;

export async function ringTestCommand(argv: string[], io: CliIO): Promise<number> {
  const a = args(argv, RING_TEST_USAGE, io, { seconds: { type: "string" } });
  if (!a) return 2;
  if (a.values.help || a.positionals.length !== 1) {
    (a.values.help ? io.out : io.err)(RING_TEST_USAGE);
    return a.values.help ? 0 : 2;
  }
  const path =
    (a.values.config as string | undefined) ??
    (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  let c: PhoneConfig | undefined;
  if (path) {
    c = load(path, io);
    if (!c) return 2;
  }
  const { parseAlertConfig } = await import("./alerting-config.ts");
  const alerting =
    c?.alerting ??
    (parseAlertConfig(undefined) as { ok: true; config: PhoneConfig["alerting"] }).config;
  const name = a.positionals[0] as string;
  const cls = alerting.classes[name];
  if (!cls) {
    io.err(
      `deskphone ring-test: no alert class "${name}" (known: ${Object.keys(alerting.classes).join(", ")})\n`,
    );
    return 2;
  }
  const cadenceName = cls.cadence === "ring" ? `ring-${alerting.country}` : cls.cadence;
  const cadence = CADENCES[cadenceName] as Cadence;
  const ringer = c?.audio.ringer ?? { device: "default", rate: 48000 as const };
  const seconds = Number(a.values.seconds ?? 6);
  const player = new AlsaPlayback({ device: ringer.device, rate: ringer.rate });
  let failed = false;
  player.on("error", (e) => {
    failed = true;
    io.err(`${e.message}\n`);
  });
  const leds = new LedAnimator(systemClock, (led, on) =>
    io.out(`led ${led} ${on ? "on" : "off"}\n`),
  );
  io.out(
    `ring-test ${name}: cadence ${cadence.name}, level ${cls.ringLevel}, LED ${cls.led.name} ${JSON.stringify(cls.led.pattern)} on ${ringer.device}\n`,
  );
  leds.set(cls.led.name, cls.led.pattern);
  const gainDb = cls.ringLevel === "full" ? 0 : (c?.audio.ringerVolumeDb ?? -6);
  player.play(new ToneSource(cadence, { rate: ringer.rate, gainDb }));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  leds.stop();
  await player.close();
  return failed ? 1 : 0;
}
