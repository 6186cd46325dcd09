/**
 * INVITE → 180 of `deskphone run` from a packet capture on loopback (as
 * bench/parts/phone-vs-baresip.ts takes it), for trees compared in one run:
 * each ROOT (a checkout with its build/) is started in turn, interleaved,
 * through one lab Kamailio; per start, the first call is left out and the next
 * ones counted.
 *
 *   npx tsx bench/ab-invite-180.ts [--rounds N] [--invites N] [--probe] [--strace DIR] [--env K=V] ROOT...
 *
 * --probe splits each figure with bench/invite-180-probe.mjs: the INVITE on lo → the
 * phone's socket `data`, `data` → its next socket write (the 180; with the CPU time the
 * process spent meanwhile, which waiting for a core on a loaded machine does not inflate),
 * that write → the 180 on lo.
 * --node-args "ARGS" go to node before the script (--cpu-prof …).
 * --strace DIR runs each phone under `strace -f -tt -T` (slow; for the order of
 * the system calls, not the figures). --env K=V goes to the phones (repeatable);
 * a ROOT written ROOT@K=V gets that variable alone.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { alsaLab } from "../test/support/alsa-lab.ts";
import { outputOf } from "../test/support/child-output.ts";
import { labAudio, writeConfig } from "../test/support/phone-config.ts";
import { runSipp } from "../test/support/sipp.ts";
import { cancelScenario } from "../test/support/sipp-scenarios.ts";
import {
  cseqMethod,
  headerOf,
  isRequest,
  isResponse,
  type SipOnWire,
  startCapture,
  wallNow,
} from "./parts/sip-capture.ts";

const argv = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = argv.indexOf(name);
  if (i < 0) return d;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const rounds = opt("--rounds", 3);
const invites = opt("--invites", 6);
let straceDir: string | undefined;
const extraEnv: Record<string, string> = {};
const nodeArgs: string[] = [];
let probe = false;
for (let i = 0; i < argv.length; ) {
  if (argv[i] === "--strace") {
    straceDir = argv[i + 1];
    argv.splice(i, 2);
  } else if (argv[i] === "--probe") {
    probe = true;
    argv.splice(i, 1);
  } else if (argv[i] === "--node-args") {
    nodeArgs.push(
      ...String(argv[i + 1])
        .split(" ")
        .filter(Boolean),
    );
    argv.splice(i, 2);
  } else if (argv[i] === "--env") {
    const [k, ...v] = String(argv[i + 1]).split("=");
    extraEnv[k as string] = v.join("=");
    argv.splice(i, 2);
  } else i++;
}
const trees = argv.map((a) => {
  const [root, kv] = a.split("@");
  const env: Record<string, string> = {};
  if (kv) {
    const [k, ...v] = kv.split("=");
    env[k as string] = v.join("=");
  }
  return { name: a, root: resolve(root as string), env };
});
if (trees.length === 0) {
  console.error("usage: npx tsx bench/ab-invite-180.ts [--rounds N] [--invites N] ROOT...");
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] as number) : Number.NaN;
};
const p90 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)] as number;
};

const ex = await startLabExchange({ floodLimit: { requests: 10_000, unitS: 2 } });
const lab = alsaLab();
const dir = mkdtempSync(join(tmpdir(), "deskphone-ab-180-"));
const cap = await startCapture({ udp: ex.udpPort, ws: ex.wsPort });
const fromEx = (m: SipOnWire) => m.srcPort === ex.udpPort || m.srcPort === ex.wsPort;
const toEx = (m: SipOnWire) => m.dstPort === ex.udpPort || m.dstPort === ex.wsPort;
const forUser = (m: SipOnWire, user: string) =>
  new RegExp(`sip:${user}@`).test(headerOf(m, "To") ?? "");
const figures = new Map(trees.map((t) => [t.name, [] as number[]]));
const parts = new Map(trees.map((t) => [t.name, [] as number[][]]));
const wire: [number, number][] = [];
try {
  let n = 0;
  for (let round = 0; round < rounds; round++)
    for (const t of trees) {
      const user = String(2500 + n++);
      const file = join(dir, `${user}.yaml`);
      writeConfig(file, {
        account: { user },
        exchange: { url: ex.wsUrl },
        audio: labAudio(48000),
        journal: { path: join(dir, `${user}.jsonl`) },
      });
      const node = [
        process.execPath,
        ...nodeArgs,
        join(t.root, "bin/deskphone.mjs"),
        "run",
        "--config",
        file,
      ];
      const cmd = straceDir
        ? ["strace", "-f", "-tt", "-T", "-o", join(straceDir, `${user}.strace`), ...node]
        : node;
      const child = spawn(cmd[0] as string, cmd.slice(1), {
        env: {
          ...lab.env,
          ...(probe && {
            NODE_OPTIONS: `--import=${new URL("./invite-180-probe.mjs", import.meta.url).pathname}`,
            INVITE_180_PROBE_DIR: dir,
          }),
          ...extraEnv,
          ...t.env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out = outputOf(child);
      const t0 = wallNow();
      try {
        await cap.waitFor(
          `${user} registered`,
          (ms) =>
            ms.find(
              (m) =>
                m.at >= t0 &&
                fromEx(m) &&
                isResponse(m, 200) &&
                cseqMethod(m) === "REGISTER" &&
                forUser(m, user),
            ),
          30_000,
        );
        await sleep(1500);
        const got: number[] = [];
        wire.length = 0;
        for (let i = 0; i <= invites; i++) {
          const since = wallNow();
          const caller = runSipp({
            xml: cancelScenario({ from: "3001", to: user, afterMs: 200 }),
            target: `${ex.host}:${ex.udpPort}`,
          });
          try {
            const d = await cap.waitFor(
              `INVITE to ${user} and its 180`,
              (ms) => {
                const inv = ms.find(
                  (m) => m.at >= since && fromEx(m) && isRequest(m, "INVITE") && forUser(m, user),
                );
                if (!inv) return undefined;
                const id = headerOf(inv, "Call-ID");
                const r = ms.find(
                  (m) =>
                    m.at >= inv.at &&
                    toEx(m) &&
                    isResponse(m, 180) &&
                    headerOf(m, "Call-ID") === id,
                );
                return r ? ([inv.at, r.at] as [number, number]) : undefined;
              },
              8000,
            );
            wire.push(d);
            if (i > 0) got.push(d[1] - d[0]);
          } finally {
            await caller;
          }
          await sleep(300);
        }
        figures.get(t.name)?.push(...got);
        if (process.env.AB_SHOW_LOG) console.log(out());
        console.log(`${t.name} ${user}: ${got.map((x) => x.toFixed(2)).join(" ")} ms`);
      } catch (e) {
        console.log(`${t.name} ${user}: ${(e as Error).message}\n${out().slice(-1500)}`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((r) => child.once("exit", r));
          child.kill("SIGTERM");
          await gone;
        }
        const probeFile = join(dir, `probe-${child.pid}.json`);
        if (existsSync(probeFile)) {
          const ev = JSON.parse(readFileSync(probeFile, "utf8")) as {
            k: string;
            at: number;
            cpu: number;
          }[];
          const ins = ev.filter((e) => e.k === "in");
          const outs = ev.filter((e) => e.k === "out");
          wire.forEach(([a, b], j) => {
            const i1 = ins[j]?.at ?? Number.NaN;
            const o1 = outs[j]?.at ?? Number.NaN;
            const cpuMs = ((outs[j]?.cpu ?? Number.NaN) - (ins[j]?.cpu ?? Number.NaN)) / 1000;
            const row = [i1 - a, o1 - i1, b - o1, cpuMs];
            if (j > 0) parts.get(t.name)?.push(row);
            console.log(
              `  wire→data ${row[0]?.toFixed(2)}  data→write ${row[1]?.toFixed(2)} (CPU ${cpuMs.toFixed(2)})  write→wire ${row[2]?.toFixed(2)}`,
            );
          });
          rmSync(probeFile);
        }
      }
    }
} finally {
  await cap.stop();
  await ex.stop();
  lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
const base = median(figures.get(trees[0]?.name as string) ?? []);
for (const [name, xs] of figures)
  console.log(
    `${name}: median ${median(xs).toFixed(3)} ms, p90 ${p90(xs).toFixed(3)}, min ${Math.min(...xs).toFixed(3)}, n=${xs.length}, ${(median(xs) / base).toFixed(2)} × the first`,
  );
for (const [name, rows] of parts)
  if (rows.length)
    console.log(
      `${name}: medians wire→data ${median(rows.map((r) => r[0] as number)).toFixed(3)}, data→write ${median(rows.map((r) => r[1] as number)).toFixed(3)} (the process's CPU ${median(rows.map((r) => r[3] as number)).toFixed(3)}), write→wire ${median(rows.map((r) => r[2] as number)).toFixed(3)} ms`,
    );
