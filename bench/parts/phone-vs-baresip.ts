/**
 * Our phone and baresip through one lab Kamailio, interleaved (ours, baresip,
 * ours, baresip, …), each timed the same way from a packet capture on
 * loopback (bench/parts/sip-capture.ts):
 *
 * - start → registered: the process spawned → the exchange's 200 OK to its
 *   REGISTER leaving Kamailio (a user of its own per start, so no stale
 *   registration is in the way);
 * - INVITE → 180 inside the phone: the exchange's INVITE to the phone → the
 *   phone's 180 to the exchange, same Call-ID (sipp calls, then CANCELs);
 * - RSS registered and idle, 1 s after registering (/proc/PID/status VmRSS).
 *
 * Ours is `bin/deskphone.mjs run` (whatever that runs: compiled or not), the
 * mock handset, journal on disk, the ringer at 48 kHz, call media on its
 * thread (the defaults), SIP over WebSocket. baresip is Debian's baresip-core
 * over UDP, headless (g711, alsa on ALSA null, account, menu).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  type LabExchange,
  startLabExchange,
} from "../../server/kamailio/lab-exchange.ts";
import { alsaLab } from "../../test/support/alsa-lab.ts";
import { startBench } from "../../test/support/bench-process.ts";
import { outputOf } from "../../test/support/child-output.ts";
import { call } from "../../test/support/lab-phones.ts";
import { labAudio, writeConfig } from "../../test/support/phone-config.ts";
import { runSipp } from "../../test/support/sipp.ts";
import { callScenario, cancelScenario } from "../../test/support/sipp-scenarios.ts";
import { type PartResult, type Row, spread } from "../bench-table.ts";
import {
  type Capture,
  cseqMethod,
  headerOf,
  isRequest,
  isResponse,
  type SipOnWire,
  startCapture,
  wallNow,
} from "./sip-capture.ts";

export interface PhoneVsBaresipOptions {
  quick?: boolean;
  /** Starts of each phone (default 5, quick 2). */
  rounds?: number;
  /** INVITEs to each start (default 4, quick 2). */
  invites?: number;
  /** Calls to baresip before its RSS "after many calls" (default 1,000, quick 50). */
  calls?: number;
  log?: (s: string) => void;
}

interface Started {
  pid: number;
  stop(): Promise<void>;
  output(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

function spawnLogged(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Started & { child: ChildProcess } {
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  return {
    child,
    pid: child.pid ?? 0,
    output: outputOf(child),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Who is being measured: how to start it as `user`. */
interface Contender {
  name: string;
  /** Writes its configuration (not timed); returns the start, which is. */
  prepare(user: string, dir: string): () => Started;
  /** Started as `user`, registered, and answering the next call (for RSS in a call). */
  answering(user: string, dir: string): Promise<Started & { answer(): Promise<void> }>;
}

function oursConfig(ex: LabExchange, user: string, dir: string) {
  return {
    account: { user },
    exchange: { url: ex.wsUrl },
    audio: labAudio(48000),
    journal: { path: join(dir, `${user}.jsonl`) },
  };
}

function ours(ex: LabExchange, env: NodeJS.ProcessEnv): Contender {
  return {
    name: "ours",
    prepare(user, dir) {
      const file = join(dir, `${user}.yaml`);
      writeConfig(file, oursConfig(ex, user, dir));
      return () =>
        spawnLogged(process.execPath, ["bin/deskphone.mjs", "run", "--config", file], env);
    },
    // `deskphone run` has no one to lift its handset: `deskphone bench`, the same firmware
    // with the bench API, is answered through it.
    async answering(user, dir) {
      const b = await startBench(dir, user, oursConfig(ex, user, dir), env);
      await b.waitFor("registered", (s) => s.registration === "registered");
      return {
        pid: b.pid,
        output: b.output,
        stop: () => b.kill(),
        async answer() {
          await b.waitFor("ringing", (s) => s.phase === "ringing");
          await b.post("hook", { offHook: true });
          await b.waitFor("talking", (s) => s.phase === "talking");
        },
      };
    },
  };
}

function baresip(ex: LabExchange): Contender {
  let port = 25060 + 2 * Math.floor(Math.random() * 1000);
  return {
    name: "baresip",
    prepare(user, dir, answermode = "manual") {
      port += 2;
      const cfg = mkdtempSync(join(dir, `baresip-${user}-`));
      writeFileSync(
        join(cfg, "config"),
        [
          "poll_method epoll",
          "net_interface 127.0.0.1",
          `sip_listen 127.0.0.1:${port}`,
          "audio_player alsa,null",
          "audio_alert alsa,null",
          "audio_source alsa,null",
          `rtp_ports ${port + 10000}-${port + 10020}`,
          "module_path /usr/lib/baresip/modules",
          "module g711.so",
          "module alsa.so",
          "module_app account.so",
          "module_app menu.so",
          "",
        ].join("\n"),
      );
      writeFileSync(
        join(cfg, "accounts"),
        `<sip:${user}@${ex.host}:${ex.udpPort};transport=udp>;regint=600;audio_codecs=PCMU,PCMA;answermode=${answermode}\n`,
      );
      writeFileSync(join(cfg, "contacts"), "");
      return () => spawnLogged("baresip", ["-f", cfg], process.env);
    },
    async answering(user, dir) {
      const p = this.prepare(user, dir, "auto")();
      return { ...p, answer: async () => {} };
    },
  } as Contender & { prepare(user: string, dir: string, answermode?: string): () => Started };
}

const fromExchange = (ex: LabExchange, m: SipOnWire) =>
  m.srcPort === ex.udpPort || m.srcPort === ex.wsPort;
const toExchange = (ex: LabExchange, m: SipOnWire) =>
  m.dstPort === ex.udpPort || m.dstPort === ex.wsPort;
const forUser = (m: SipOnWire, user: string) =>
  new RegExp(`sip:${user}@`).test(headerOf(m, "To") ?? "");

async function registered(ex: LabExchange, cap: Capture, user: string, since: number) {
  return cap.waitFor(
    `200 OK to ${user}'s REGISTER`,
    (ms) =>
      ms.find(
        (m) =>
          m.at >= since &&
          fromExchange(ex, m) &&
          isResponse(m, 200) &&
          cseqMethod(m) === "REGISTER" &&
          forUser(m, user),
      )?.at,
    15_000,
  );
}

async function inviteTo180(ex: LabExchange, cap: Capture, user: string): Promise<number> {
  const since = wallNow();
  const caller = runSipp({
    xml: cancelScenario({ from: "3001", to: user, afterMs: 200 }),
    target: `${ex.host}:${ex.udpPort}`,
  });
  try {
    return await cap.waitFor(
      `INVITE to ${user} and its 180`,
      (ms) => {
        const invite = ms.find(
          (m) => m.at >= since && fromExchange(ex, m) && isRequest(m, "INVITE") && forUser(m, user),
        );
        if (!invite) return undefined;
        const id = headerOf(invite, "Call-ID");
        const ringing = ms.find(
          (m) =>
            m.at >= invite.at &&
            toExchange(ex, m) &&
            isResponse(m, 180) &&
            headerOf(m, "Call-ID") === id,
        );
        return ringing ? ringing.at - invite.at : undefined;
      },
      5000,
    );
  } finally {
    await caller;
  }
}

export async function run(o: PhoneVsBaresipOptions = {}): Promise<PartResult> {
  const log = o.log ?? ((s: string) => console.error(s));
  const rounds = o.rounds ?? (o.quick ? 2 : 5);
  const invites = o.invites ?? (o.quick ? 2 : 4);
  const calls = o.calls ?? (o.quick ? 50 : 1000);
  let someFailed = false;
  // sipp's many calls to baresip come from one source: above the exchange's per-source limit.
  const ex = await startLabExchange({ floodLimit: { requests: 10_000, unitS: 2 } });
  const lab = alsaLab();
  const dir = mkdtempSync(join(tmpdir(), "deskphone-bench-vs-"));
  const cap = await startCapture({ udp: ex.udpPort, ws: ex.wsPort });
  const contenders = [ours(ex, lab.env), baresip(ex)];
  const figures = new Map(
    contenders.map((c) => [
      c.name,
      {
        start: [] as number[],
        first: [] as number[],
        call: [] as number[],
        after: [] as number[],
        i180: [] as number[],
        rss: [] as number[],
        errors: [] as string[],
        callError: "",
      },
    ]),
  );
  try {
    for (let round = 0; round < rounds; round++)
      for (const [k, c] of contenders.entries()) {
        const f = figures.get(c.name) as NonNullable<ReturnType<typeof figures.get>>;
        const user = String(2100 + 100 * k + round);
        const start = c.prepare(user, dir);
        const t0 = wallNow();
        const p = start();
        try {
          f.start.push((await registered(ex, cap, user, t0)) - t0);
          await sleep(1000);
          f.rss.push(rssMb(p.pid));
          // The first call after a start finds code not yet compiled: a figure of its own.
          f.first.push(await inviteTo180(ex, cap, user));
          await sleep(300);
          for (let i = 0; i < invites; i++) {
            f.i180.push(await inviteTo180(ex, cap, user));
            await sleep(300);
          }
          log(
            `  ${c.name} ${user}: registered ${f.start.at(-1)?.toFixed(1)} ms, RSS ${f.rss.at(-1)?.toFixed(1)} MB, INVITE → 180 ${f.first.at(-1)?.toFixed(2)} (first), ${f.i180
              .slice(-invites)
              .map((x) => x.toFixed(2))
              .join(", ")} ms`,
          );
        } catch (e) {
          f.errors.push((e as Error).message);
          log(`  ${c.name} ${user}: ${(e as Error).message}\n${p.output().slice(-1500)}`);
        } finally {
          await p.stop();
        }
      }
    // RSS in a call: each answers a call from sipp (G.711, RTP to sipp), RSS 2 s in.
    for (const [k, c] of contenders.entries()) {
      const f = figures.get(c.name) as NonNullable<ReturnType<typeof figures.get>>;
      const user = String(2190 + 100 * k);
      let p: (Started & { answer(): Promise<void> }) | undefined;
      try {
        p = await c.answering(user, dir);
        await sleep(500);
        const caller = call(ex, { from: "3002", to: user, talkMs: 3000 });
        await p.answer();
        await sleep(2000);
        f.call.push(rssMb(p.pid));
        const r = await caller;
        if (r.code !== 0)
          throw new Error(`the call to ${c.name} failed (sipp ${r.code}): ${r.errors}`);
        log(`  ${c.name} ${user}: RSS in a call ${f.call.at(-1)?.toFixed(1)} MB`);
        // baresip over as many calls as our memory part makes (ours: bench/memory.ts).
        if (c.name === "baresip") {
          if (!(await manyCalls(ex, user, calls))) someFailed = true;
          await sleep(2000);
          f.after.push(rssMb(p.pid));
          log(
            `  ${c.name} ${user}: RSS after ${calls} more calls ${f.after.at(-1)?.toFixed(1)} MB`,
          );
        }
      } catch (e) {
        f.callError = (e as Error).message;
        log(`  ${c.name} ${user}: ${(e as Error).message}\n${p?.output().slice(-1500) ?? ""}`);
      } finally {
        await p?.stop();
      }
    }
  } finally {
    await cap.stop();
    await ex.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  const of = (name: string, k: "start" | "first" | "i180" | "rss" | "call" | "after") => {
    const f = figures.get(name);
    const s = spread(f?.[k] ?? []);
    const why = k === "call" || k === "after" ? f?.callError : f?.errors[0];
    return "notMeasured" in s && why ? { notMeasured: why } : s;
  };
  const how = `${rounds} starts of each, interleaved, through one lab Kamailio; tcpdump on lo`;
  const oursCfg =
    "`deskphone run` (mock handset, journal on disk, ringer 48 kHz on a lab ALSA file device, call media thread), SIP over WebSocket";
  const rows: Row[] = [
    {
      id: "start-registered",
      label: "start → registered",
      unit: "ms",
      ours: of("ours", "start"),
      ref: { name: "baresip", value: of("baresip", "start") },
      target: { kind: "atMost", value: 250 },
      config: `${how}; process spawned → Kamailio's 200 OK to its REGISTER on the wire; ours: ${oursCfg}; baresip 1.0.0 over UDP`,
    },
    {
      id: "invite-180",
      label: "INVITE → 180 inside the phone",
      unit: "ms",
      ours: of("ours", "i180"),
      ref: { name: "baresip", value: of("baresip", "i180") },
      target: { kind: "ratioAtMost", value: 3 },
      config: `${how}, ${invites} calls to each start (sipp, CANCEL after the 180); Kamailio's INVITE to the phone → the phone's 180 to Kamailio, both on the wire (ours: WebSocket frames, unmasked; baresip: UDP)`,
    },
    {
      id: "invite-180-first",
      label: "the first INVITE after start → 180",
      unit: "ms",
      ours: of("ours", "first"),
      ref: { name: "baresip", value: of("baresip", "first") },
      config: `as INVITE → 180, the first call of each start (not among those above)`,
    },
    {
      id: "rss-idle-vs",
      label: "RSS, registered and idle (1 s after registering)",
      unit: "MB",
      ours: of("ours", "rss"),
      ref: { name: "baresip", value: of("baresip", "rss") },
      target: { kind: "atMost", value: 60 },
      config: `${how}; /proc/PID/status VmRSS; ours: ${oursCfg}`,
    },
    {
      id: "rss-call-vs",
      label: "RSS in a call (2 s into an answered call)",
      unit: "MB",
      ours: of("ours", "call"),
      ref: { name: "baresip", value: of("baresip", "call") },
      target: { kind: "atMost", value: 70 },
      config:
        "one call each from sipp (PCMU, RTP to sipp), VmRSS 2 s after the answer; ours: `deskphone bench` (the same firmware and configuration as `run`, plus the bench API that lifts its handset), call media on its thread on lab ALSA file devices; baresip: answermode=auto, alsa null devices",
    },
  ];
  return {
    rows,
    refs: [
      {
        row: "rss-after-calls",
        ref: {
          name: `baresip after ${calls} calls (sipp, answered, 20 ms each${someFailed ? "; sipp saw some fail" : ""})`,
          value: of("baresip", "after"),
        },
      },
    ],
  };
}

/** `calls` answered calls to `user`, one at a time, from one sipp (-m, -l 1). */
async function manyCalls(ex: LabExchange, user: string, calls: number): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-bench-calls-"));
  try {
    const sf = join(dir, "calls.xml");
    writeFileSync(sf, callScenario({ from: "3003", to: user, talkMs: 20 }));
    const port = await freePort("udp");
    const child = spawn(
      "sipp",
      [
        `${ex.host}:${ex.udpPort}`,
        ...["-sf", sf, "-i", ex.host, "-p", String(port), "-mp", String(await freePort("udp"))],
        ...["-m", String(calls), "-l", "1", "-r", "50", "-timeout", `${60 + calls}s`],
        ...["-timeout_error", "-nostdin", "-aa", "-trace_err", "-error_file", join(dir, "err.log")],
      ],
      { stdio: "ignore" },
    );
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    // 1: some call did not follow the scenario (a retransmission on a loaded machine); the
    // others were made, which is what the RSS after them is about. Anything else: no figure.
    if (code !== 0 && code !== 1) {
      let err = "";
      try {
        err = readFileSync(join(dir, "err.log"), "utf8").slice(-500);
      } catch {}
      throw new Error(`sipp's ${calls} calls to ${user} exited ${code}: ${err}`);
    }
    return code === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
