/**
 * Benchmark: what an idle phone costs (issue 14, "idle at nothing"). The
 * firmware as `deskphone run` starts it (startPhone: controller, SIP agent
 * registered on a lab Kamailio over WebSocket, journal on disk, the systemd
 * notifier with a 20 s watchdog) with the GPIO character-device backend: hook,
 * keys and LEDs on a fake kernel at the ioctl seam (test/support/fake-gpio-kernel.ts)
 * whose line requests are real pollable file descriptors. Once registered and
 * settled, it samples every thread of the phone's process for `seconds`:
 * CPU time (/proc/PID/task/TID/schedstat, ns), wake-ups (voluntary and
 * involuntary context switches, /proc/PID/task/TID/status) and, as a cross-
 * check, utime+stime of the process (/proc/PID/stat, clock ticks).
 * Target: ≤ 0.1 % of one core. Prints; asserts nothing.
 *
 * The phone runs as the firmware does, plain `node` on JavaScript: this file
 * bundled by esbuild (as scripts/build.mjs bundles `deskphone`) into a
 * directory beside native/, as build/ is; `--tsx` runs it from the sources
 * through tsx instead (its loader thread and esbuild's 1 s ping included).
 *
 *   npx tsx bench/idle-cpu.ts [--seconds 60] [--tsx]
 *   import { measureIdleCpu } from "./idle-cpu.ts"   (npm run bench)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ThreadFigures {
  /** The thread's name (comm): "node" (the event loop), "libuv-worker", "V8 Worker", … */
  name: string;
  count: number;
  cpuMs: number;
  wakeups: number;
}

export interface IdleCpuFigures {
  seconds: number;
  /** CPU of every thread of the phone, % of one core. */
  cpuPercent: number;
  cpuMs: number;
  /** Context switches of every thread, per second. */
  wakeupsPerS: number;
  /** utime+stime of the process over the same time (10 ms resolution), % of one core. */
  statCpuPercent: number;
  rssMb: number;
  threads: ThreadFigures[];
  configuration: string;
}

const PHONE = "--phone";
const CHIP = "pinctrl-bcm2711";
const WIRING = {
  chip: CHIP,
  hook: "GPIO17",
  hookActiveLow: true,
  keys: { "1": "GPIO5", "#": "GPIO6", dnd: "GPIO13" },
  leds: { status: "GPIO22", line: "GPIO23", message: "GPIO24", emergency: "GPIO25" },
};

interface TaskSample {
  name: string;
  ns: number;
  switches: number;
}

function sampleTasks(pid: number): Map<string, TaskSample> {
  const out = new Map<string, TaskSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const base = `/proc/${pid}/task/${tid}`;
      const ns = Number(readFileSync(`${base}/schedstat`, "utf8").split(" ")[0]);
      const status = readFileSync(`${base}/status`, "utf8");
      const count = (k: string) =>
        Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
      out.set(tid, {
        // Node names few of its threads: the event loop is the one whose id is the process's.
        name: tid === String(pid) ? "event loop" : readFileSync(`${base}/comm`, "utf8").trim(),
        ns,
        switches: count("voluntary_ctxt_switches") + count("nonvoluntary_ctxt_switches"),
      });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

function statTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

function rssMb(pid: number): number {
  return (Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096) / 2 ** 20;
}

/** Starts the phone on a lab exchange, lets it settle, and measures it idle for `seconds`. */
export async function measureIdleCpu(
  o: { seconds?: number; settleS?: number; tsx?: boolean; log?: (m: string) => void } = {},
): Promise<IdleCpuFigures> {
  const seconds = o.seconds ?? 60;
  const root = fileURLToPath(new URL("..", import.meta.url));
  const bundleDir = mkdtempSync(join(root, ".bench-idle-"));
  let entry = [fileURLToPath(import.meta.url)];
  if (o.tsx) entry = ["--import", "tsx", ...entry];
  else {
    const esbuild = await import("esbuild");
    const outfile = join(bundleDir, "idle-phone.mjs");
    await esbuild.build({
      entryPoints: [fileURLToPath(import.meta.url)],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      outfile,
      logLevel: "error",
    });
    entry = [outfile];
  }
  const { startLabExchange } = await import("../server/kamailio/lab-exchange.ts");
  const { minimalConfig, writeConfig } = await import("../test/support/phone-config.ts");
  const ex = await startLabExchange();
  const dir = mkdtempSync(join(tmpdir(), "deskphone-idle-"));
  // A notify socket as systemd holds it, when native/system's test receiver is built.
  const receiverPath = new URL(
    "../native/system/build/Release/notify_receiver.node",
    import.meta.url,
  );
  let receiver: { fd: number; close(fd: number): void } | undefined;
  const notifySocket = `@deskphone-idle-${process.pid}`;
  if (existsSync(receiverPath)) {
    const r = createRequire(import.meta.url)(fileURLToPath(receiverPath)) as {
      bind(p: string): number;
      close(fd: number): void;
    };
    receiver = { fd: r.bind(notifySocket), close: r.close };
  }
  const config = writeConfig(
    join(dir, "config.yaml"),
    minimalConfig("2001", ex.wsUrl, dir, { hal: { backend: "gpio", gpio: WIRING } }),
  );
  const phone = spawn(process.execPath, [...entry, PHONE, config], {
    env: {
      ...process.env,
      ...(receiver && { NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: "20000000" }),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  phone.stderr?.on("data", (d) => {
    log += d;
  });
  try {
    const t0 = Date.now();
    while (!/registration: registered/.test(log)) {
      if (phone.exitCode !== null || Date.now() - t0 > 20_000)
        throw new Error(`the phone did not register: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, (o.settleS ?? 5) * 1000));
    const pid = phone.pid as number;
    const a = sampleTasks(pid);
    const ticksA = statTicks(pid);
    const at = process.hrtime.bigint();
    o.log?.(`idle-cpu: measuring the idle phone (pid ${pid}) for ${seconds} s`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const b = sampleTasks(pid);
    const ticksB = statTicks(pid);
    const wall = Number(process.hrtime.bigint() - at) / 1e9;
    const byName = new Map<string, ThreadFigures>();
    let ns = 0;
    let switches = 0;
    for (const [tid, end] of b) {
      const start = a.get(tid) ?? { ns: 0, switches: 0 };
      const t = byName.get(end.name) ?? { name: end.name, count: 0, cpuMs: 0, wakeups: 0 };
      t.count++;
      t.cpuMs += (end.ns - start.ns) / 1e6;
      t.wakeups += end.switches - start.switches;
      byName.set(end.name, t);
      ns += end.ns - start.ns;
      switches += end.switches - start.switches;
    }
    if (!/registration: registered/.test(log)) throw new Error("unexpected");
    return {
      seconds: wall,
      cpuMs: ns / 1e6,
      cpuPercent: (ns / 1e9 / wall) * 100,
      wakeupsPerS: switches / wall,
      statCpuPercent: ((ticksB - ticksA) / 100 / wall) * 100,
      rssMb: rssMb(pid),
      threads: [...byName.values()].sort((x, y) => y.wakeups - x.wakeups),
      configuration: `${o.tsx ? "through tsx" : "plain node on a bundle"}: deskphone run (startPhone) registered over ws:// on a lab Kamailio, journal on disk, ${receiver ? "systemd notifier with WatchdogSec=20" : "no notify socket (native/system not built)"}, GPIO chardev backend (hook, 3 keys, 4 LEDs) on the fake kernel; Node ${process.version}`,
    };
  } finally {
    phone.kill("SIGTERM");
    await new Promise((r) => (phone.exitCode !== null ? r(null) : phone.once("exit", r)));
    if (receiver) receiver.close(receiver.fd);
    await ex.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

/** The phone's process: `deskphone run`'s start with the GPIO chip on the fake kernel. */
async function runPhone(configPath: string): Promise<void> {
  const { loadConfig } = await import("../firmware/app/config.ts");
  const { startPhone, journaldLog } = await import("../firmware/app/commands.ts");
  const { FakeGpioKernel } = await import("../test/support/fake-gpio-kernel.ts");
  const r = loadConfig(configPath);
  if (!r.ok) throw new Error(`config: ${r.errors.map((e) => `${e.path}: ${e.reason}`).join("; ")}`);
  const kernel = new FakeGpioKernel(() => performance.now());
  kernel.addChip(
    CHIP,
    Array.from({ length: 28 }, (_, i) => `GPIO${i}`),
  );
  const io = {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
  };
  const running = await startPhone(r.config, {
    log: journaldLog(io),
    io,
    handsetDeps: { gpio: kernel },
  });
  await new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()));
  await running.stop();
  process.exit(0);
}

function print(f: IdleCpuFigures): void {
  console.log(`idle CPU, ${f.configuration}`);
  console.log(
    `  ${f.seconds.toFixed(1)} s: ${f.cpuPercent.toFixed(3)} % of one core (${f.cpuMs.toFixed(1)} ms; utime+stime ${f.statCpuPercent.toFixed(3)} %), ${f.wakeupsPerS.toFixed(2)} wake-ups/s, RSS ${f.rssMb.toFixed(1)} MB  (target ≤ 0.1 %)`,
  );
  for (const t of f.threads)
    console.log(
      `    ${`${t.name} ×${t.count}`.padEnd(22)} ${t.cpuMs.toFixed(1).padStart(8)} ms ${String(t.wakeups).padStart(7)} wake-ups`,
    );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === PHONE) await runPhone(process.argv[3] as string);
  else {
    const i = process.argv.indexOf("--seconds");
    const seconds = i > 0 ? Number(process.argv[i + 1]) : 60;
    const tsx = process.argv.includes("--tsx");
    print(await measureIdleCpu({ seconds, tsx, log: (m) => console.error(m) }));
  }
}
