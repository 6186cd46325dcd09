/**
 * Benchmark: INVITE → 180 inside the phone. The phone as the firmware builds
 * it (firmware/app/build-phone.ts: controller, alerting, journal on, ringer at
 * 48 kHz) registers with a stand-in exchange that runs on its own thread (its
 * work never lands inside the measured span); the exchange sends an INVITE as
 * Kamailio forwards one (two Via, Record-Route, an SDP offer), the phone
 * rings, the exchange CANCELs, and the next INVITE follows once the phone is
 * idle again. Timed on the phone's own WebSocket (the transport's wire tap):
 * from the INVITE's frame handed up by `ws` to the 180's frame handed to it.
 * Ordinary and emergency INVITEs (`Priority: emergency`) are interleaved;
 * ordinary ones pass the incoming triage's rate bound (sip/incoming-priority.ts),
 * so the runs are spaced to stay within it.
 *
 * Prints figures; asserts nothing. `--profile` adds the phone thread's CPU
 * profile over the measured runs (top functions by self time).
 *
 *   npx tsx bench/invite-to-180.ts [--runs 200] [--profile]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { buildPhone } from "../firmware/app/build-phone.ts";
import { validateConfig } from "../firmware/app/config.ts";
import { MockHandset } from "../hal/mock.ts";

export interface Figures {
  n: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

export interface InviteTo180Result {
  /** Inside the phone: INVITE frame in → 180 frame out (the transport's wire tap). */
  ordinary: Figures;
  emergency: Figures;
  /** At the exchange: INVITE written → 180 read (both WebSocket stacks and loopback). */
  roundTrip: Figures;
  /** Top functions by self time over the measured runs (share of the busy time), when asked for. */
  profile?: ProfileLine[];
}

export interface ProfileLine {
  selfMs: number;
  share: number;
  where: string;
}

export function figures(xs: number[]): Figures {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  const at = (i: number) => s[Math.max(0, Math.min(s.length - 1, i))] ?? Number.NaN;
  return {
    n: s.length,
    medianMs: s.length % 2 ? at(h) : (at(h - 1) + at(h)) / 2,
    p90Ms: at(Math.ceil(0.9 * s.length) - 1),
    maxMs: at(s.length - 1),
  };
}

/** The stand-in exchange, on a worker thread: plain JavaScript on `ws`. */
const EXCHANGE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const { WebSocketServer } = require(workerData.ws);
const { randomBytes } = require("node:crypto");
const id = () => randomBytes(6).toString("hex");
const header = (m, n) => new RegExp("^" + n + "\\s*:\\s*(.*)$", "im").exec(m)?.[1]?.trim();
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "sip" });
let phone;
let waiting;
wss.on("listening", () => parentPort.postMessage({ type: "listening", port: wss.address().port }));
wss.on("connection", (ws) => {
  phone = ws;
  ws.on("message", (data) => {
    const m = String(data);
    if (m.startsWith("REGISTER ")) {
      const lines = m.split("\r\n");
      ws.send([
        "SIP/2.0 200 OK",
        ...lines.filter((l) => /^(Via|v)\s*:/i.test(l)),
        "From: " + header(m, "From"),
        "To: " + header(m, "To") + ";tag=" + id(),
        "Call-ID: " + header(m, "Call-ID"),
        "CSeq: " + header(m, "CSeq"),
        "Contact: " + header(m, "Contact") + ";expires=600",
        "Content-Length: 0", "", ""].join("\r\n"));
      parentPort.postMessage({ type: "registered" });
      return;
    }
    if (waiting && waiting(m)) waiting = undefined;
  });
});
const until = (test) => new Promise((resolve) => { waiting = (m) => test(m) && (resolve(m), true); });
const SDP = ["v=0", "o=- 4242 4242 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
  "m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv", ""].join("\r\n");
async function call(emergency) {
  const port = wss.address().port;
  const callId = id() + "@127.0.0.1";
  const branch = "z9hG4bK" + id();
  const fromTag = id();
  const common = (method) => [
    "Via: SIP/2.0/WS 127.0.0.1:" + port + ";branch=" + branch,
    "Via: SIP/2.0/UDP 127.0.0.1:5062;received=127.0.0.1;rport=5062;branch=z9hG4bK" + callId.slice(0, 8),
    "Max-Forwards: 69",
    "From: \"Caller 3001\" <sip:3001@127.0.0.1>;tag=" + fromTag,
    "To: <sip:2001@127.0.0.1>",
    "Call-ID: " + callId,
    "CSeq: 1 " + method,
  ];
  const invite = ["INVITE sip:2001@127.0.0.1;transport=ws SIP/2.0",
    "Record-Route: <sip:127.0.0.1:" + port + ";transport=ws;r2=on;lr>",
    "Record-Route: <sip:127.0.0.1;r2=on;lr>",
    ...common("INVITE"),
    "Contact: <sip:3001@127.0.0.1:5062>",
    "User-Agent: stand-in exchange",
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY",
    "Supported: replaces, timer",
    ...(emergency ? ["Priority: emergency", "Alert-Info: <urn:alert:service:emergency>"] : []),
    "Content-Type: application/sdp",
    "Content-Length: " + Buffer.byteLength(SDP), "", SDP].join("\r\n");
  const ringing = until((m) => m.startsWith("SIP/2.0 180") && header(m, "Call-ID") === callId);
  const t0 = performance.now();
  phone.send(invite);
  const r = await ringing;
  const roundTripMs = performance.now() - t0;
  const terminated = until((m) => m.startsWith("SIP/2.0 487") && header(m, "Call-ID") === callId);
  phone.send(["CANCEL sip:2001@127.0.0.1;transport=ws SIP/2.0", ...common("CANCEL"),
    "Content-Length: 0", "", ""].join("\r\n"));
  const t = await terminated;
  phone.send(["ACK sip:2001@127.0.0.1;transport=ws SIP/2.0", ...common("ACK").map((l) =>
    l.startsWith("To:") ? "To: " + header(t, "To") : l), "Content-Length: 0", "", ""].join("\r\n"));
  return { callId, roundTripMs, ringing: Boolean(r) };
}
parentPort.on("message", async (msg) => {
  if (msg.type === "call") parentPort.postMessage({ type: "called", ...(await call(msg.emergency)) });
  if (msg.type === "stop") wss.close(() => process.exit(0));
});
`;

class ExchangeThread {
  private readonly worker: Worker;
  private readonly inbox: { type: string; [k: string]: unknown }[] = [];
  private wake: (() => void) | undefined;

  constructor() {
    const ws = createRequire(import.meta.url).resolve("ws");
    this.worker = new Worker(EXCHANGE, { eval: true, workerData: { ws } });
    this.worker.on("message", (m) => {
      this.inbox.push(m);
      this.wake?.();
    });
  }

  async next(type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Record<string, unknown>;
      if (Date.now() > until) throw new Error(`the stand-in exchange sent no ${type}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
  }

  post(m: unknown): void {
    this.worker.postMessage(m);
  }

  async stop(): Promise<void> {
    this.post({ type: "stop" });
    await new Promise((r) => this.worker.once("exit", r));
  }
}

const callIdOf = (m: string) => /^(?:Call-ID|i)\s*:\s*(.*)$/im.exec(m)?.[1]?.trim();

function topSelf(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}): ProfileLine[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const f = byId.get(samples[i] as number)?.callFrame;
    if (!f) continue;
    const us = profile.timeDeltas?.[i] ?? 0;
    const file = f.url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/main\//, "");
    const where = `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
    // Not the phone's work: time waiting, and the inspector writing out this very profile.
    if (where === "(idle) " || where === "dispatch ") continue;
    self.set(where, (self.get(where) ?? 0) + us);
    total += us;
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([where, us]) => ({ selfMs: us / 1000, share: us / total, where }));
}

export async function inviteTo180(o: { runs?: number; profile?: boolean } = {}) {
  const runs = o.runs ?? 200;
  const dir = mkdtempSync(join(tmpdir(), "deskphone-invite-180-"));
  const ex = new ExchangeThread();
  const { port } = (await ex.next("listening")) as { port: number };
  const c = validateConfig({
    account: { user: "2001" },
    exchange: { url: `ws://127.0.0.1:${port}` },
    audio: {
      ringer: { device: "null", rate: 48000 },
      earpiece: { device: "null", rate: 48000 },
      microphone: { device: "null", rate: 48000 },
    },
    journal: { path: join(dir, "journal.jsonl") },
  });
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  const inAt = new Map<string, number>();
  const spans = new Map<string, number>();
  const phone = buildPhone(c.config, new MockHandset(), {
    log: () => {},
    wireTap: (dir, m, at) => {
      if (dir === "in" && m.startsWith("INVITE ")) inAt.set(callIdOf(m) ?? "", at);
      if (dir === "out" && m.startsWith("SIP/2.0 180 ")) {
        const id = callIdOf(m) ?? "";
        const t0 = inAt.get(id);
        if (t0 !== undefined) spans.set(id, at - t0);
      }
    },
  });
  const result: Partial<InviteTo180Result> = {};
  try {
    phone.phone.start();
    await ex.next("registered");
    const idle = async () => {
      for (let i = 0; i < 500 && phone.phone.state.phase.kind !== "idle"; i++)
        await new Promise((r) => setTimeout(r, 2));
    };
    const ordinary: number[] = [];
    const emergency: number[] = [];
    const roundTrip: number[] = [];
    const one = async (isEmergency: boolean) => {
      ex.post({ type: "call", emergency: isEmergency });
      const r = (await ex.next("called")) as { callId: string; roundTripMs: number };
      await idle();
      // The triage hands ordinary INVITEs on at most 20 a second: stay under it.
      await new Promise((res) => setTimeout(res, 60));
      return r;
    };
    for (let i = 0; i < 10; i++) await one(i % 2 === 1); // warm-up, not counted
    const session = o.profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 100 });
      await session.post("Profiler.start");
    }
    for (let i = 0; i < runs; i++) {
      const isEmergency = i % 2 === 1;
      const r = await one(isEmergency);
      const span = spans.get(r.callId);
      if (span === undefined) throw new Error(`no 180 seen on the phone's wire for ${r.callId}`);
      (isEmergency ? emergency : ordinary).push(span);
      roundTrip.push(r.roundTripMs);
    }
    if (session) {
      const { profile } = await session.post("Profiler.stop");
      result.profile = topSelf(profile);
      session.disconnect();
    }
    result.ordinary = figures(ordinary);
    result.emergency = figures(emergency);
    result.roundTrip = figures(roundTrip);
  } finally {
    await phone.stop();
    await ex.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return result as InviteTo180Result;
}

const line = (name: string, f: Figures) =>
  `  ${name.padEnd(44)} median ${f.medianMs.toFixed(3)} ms, p90 ${f.p90Ms.toFixed(3)} ms, max ${f.maxMs.toFixed(3)} ms (n ${f.n})`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const r = await inviteTo180({
    runs: Number(arg("--runs") ?? 200),
    profile: process.argv.includes("--profile"),
  });
  console.log("INVITE → 180, the phone as the firmware builds it (journal on, ringer 48 kHz)");
  console.log(line("inside the phone, ordinary INVITE", r.ordinary));
  console.log(line("inside the phone, emergency INVITE", r.emergency));
  console.log(line("at the exchange (both WebSocket stacks)", r.roundTrip));
  if (r.profile) {
    console.log(
      "phone thread, self time over the measured runs (INVITE, CANCEL, ACK, ringer alike; % of its busy time):",
    );
    for (const p of r.profile)
      console.log(
        `  ${p.selfMs.toFixed(1).padStart(8)} ms ${(100 * p.share).toFixed(1).padStart(5)} %  ${p.where}`,
      );
  }
}
