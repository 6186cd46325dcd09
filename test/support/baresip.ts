/**
 * baresip (Debian baresip-core) as a real third-party softphone: headless,
 * controlled over ctrl_tcp (netstring JSON), its sound through the project's
 * ALSA lab devices and the ausine tone as its microphone. Everything on
 * loopback (net_interface 127.0.0.1).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LabExchange } from "../../server/kamailio/lab-exchange.ts";
import { freePort } from "../../server/kamailio/lab-exchange.ts";
import type { AlsaLab } from "./alsa-lab.ts";
import { outputOf } from "./child-output.ts";

export interface BaresipEvent {
  type: string;
  param?: string;
  peeruri?: string;
  [k: string]: unknown;
}

export interface Baresip {
  user: string;
  pid: number;
  dir: string;
  events: BaresipEvent[];
  output(): string;
  command(command: string, params?: string): Promise<unknown>;
  waitEvent(type: string, timeoutMs?: number, after?: number): Promise<BaresipEvent>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function netstring(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(",")]);
}

export async function startBaresip(
  ex: LabExchange,
  user: string,
  o: {
    lab?: AlsaLab;
    /** Its environment (default: the lab's). */
    env?: NodeJS.ProcessEnv;
    toneHz?: number;
    /** Its sound devices, as baresip names them (default: ALSA null, and the tone). */
    player?: string;
    source?: string;
    /** The source's rate and channels (default 48000, 2: ausine's). */
    sourceRate?: number;
    sourceChannels?: number;
    /** Dump decoded audio to WAV files in `dir` (default true). */
    dump?: boolean;
    /** Its packet time, ms (the account's ptime; baresip's default is 20). */
    ptime?: number;
  },
): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-baresip-"));
  let sipPort = await freePort("udp");
  while (sipPort % 2 === 1 || sipPort > 65000) sipPort = await freePort("udp");
  const ctrlPort = await freePort("tcp");
  const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
  writeFileSync(
    join(dir, "config"),
    [
      "poll_method epoll",
      "net_interface 127.0.0.1",
      `sip_listen 127.0.0.1:${sipPort}`,
      // ALSA null takes audio as fast as it comes; what baresip received is
      // read from the sndfile module's dump of decoded audio instead.
      `audio_player ${o.player ?? "alsa,null"}`,
      "audio_alert alsa,null",
      `snd_path ${dir}`,
      `audio_source ${o.source ?? `ausine,${o.toneHz ?? 700}`}`,
      `ausrc_srate ${o.sourceRate ?? 48000}`,
      `ausrc_channels ${o.sourceChannels ?? 2}`,
      "auplay_srate 8000",
      "auplay_channels 1",
      `rtp_ports ${rtpBase}-${rtpBase + 20}`,
      "module_path /usr/lib/baresip/modules",
      "module g711.so",
      "module alsa.so",
      "module ausine.so",
      ...(o.dump === false ? [] : ["module sndfile.so"]),
      "module_app account.so",
      "module_app menu.so",
      "module_app ctrl_tcp.so",
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "accounts"),
    `<sip:${user}@${ex.host}:${ex.udpPort};transport=udp>;regint=60;audio_codecs=PCMU,PCMA;dtmfmode=rtpevent${o.ptime ? `;ptime=${o.ptime}` : ""}\n`,
  );
  writeFileSync(join(dir, "contacts"), "");
  const child: ChildProcess = spawn("baresip", ["-f", dir], {
    env: o.env ?? o.lab?.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  const out = outputOf(child);
  const events: BaresipEvent[] = [];
  const pending = new Map<string, (v: unknown) => void>();
  let sock: Socket | undefined;
  for (let i = 0; i < 50 && !sock; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sock = await new Promise<Socket | undefined>((resolve) => {
      const s = connect(ctrlPort, "127.0.0.1");
      s.once("connect", () => resolve(s));
      s.once("error", () => resolve(undefined));
    });
  }
  if (!sock) {
    child.kill("SIGKILL");
    throw new Error(`baresip did not open its control port:\n${out()}`);
  }
  let buf = Buffer.alloc(0);
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const colon = buf.indexOf(":");
      if (colon < 0) break;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 1 + len + 1) break;
      const msg = JSON.parse(buf.subarray(colon + 1, colon + 1 + len).toString());
      buf = buf.subarray(colon + 1 + len + 1);
      if (msg.event) events.push({ ...msg, at: Date.now() });
      else if (msg.response && pending.has(msg.token)) {
        pending.get(msg.token)?.(msg);
        pending.delete(msg.token);
      }
    }
  });
  let token = 0;
  const api: Baresip = {
    user,
    pid: child.pid ?? 0,
    dir,
    events,
    output: out,
    command(command, params) {
      const t = String(++token);
      return new Promise((resolve) => {
        pending.set(t, resolve);
        sock?.write(
          netstring(JSON.stringify({ command, ...(params !== undefined && { params }), token: t })),
        );
      });
    },
    waitEvent(type, timeoutMs = 10_000, after = 0) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = () => {
          const hit = events.find((e) => e.type === type && (e.at as number) >= after);
          if (hit) return resolve(hit);
          if (Date.now() - t0 > timeoutMs) {
            return reject(
              new Error(
                `baresip: no ${type} in ${timeoutMs} ms; events ${events.map((e) => e.type).join(",")}\n${out().slice(-2000)}`,
              ),
            );
          }
          setTimeout(check, 20);
        };
        check();
      });
    },
    async stop() {
      sock?.destroy();
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 2000);
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Its REGISTER may finish before the control connection is up: read its console instead.
  for (let i = 0; i < 100 && !/\} 200 OK .*binding/.test(out()); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!/\} 200 OK .*binding/.test(out())) {
    await api.stop();
    throw new Error(`baresip did not register:\n${out()}`);
  }
  return api;
}
