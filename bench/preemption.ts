/**
 * Benchmark: how fast the phone preempts. 2001 (our firmware: controller,
 * SIP agent) talks to 2002 (sipp); a call to the emergency number bound to
 * 2001 arrives; we time, on the phone's own WebSocket, from the INVITE's
 * arrival to the BYE (with the RFC 4411 Reason) and to the 200 OK leaving.
 * Target: both within 50 ms. Prints; asserts nothing.
 *
 * The phone journals to a real Journal; the runs go round the journal modes
 * (bench/journal-modes.ts: off, on, fsync slowed to 50 and 200 ms, and fsync
 * inside append as before), interleaved, PREEMPT_RUNS of each.
 *
 *   npm run bench:preemption      (PREEMPT_RUNS=10 by default; BENCH_JOURNAL=off,on,...)
 *
 * `run()` is npm run bench's part, in the firmware's configuration: `deskphone
 * bench` as a process of its own (bin/deskphone.mjs: controller, SIP agent,
 * journal on disk, call media on the native thread, the earpiece and
 * microphone exclusive like hardware), timed on the wire from a packet capture
 * on loopback (bench/parts/sip-capture.ts), as npm run bench times baresip.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Phone } from "../firmware/app/phone.ts";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../sip/phone-agent.ts";
import { alsaLab } from "../test/support/alsa-lab.ts";
import { startBench } from "../test/support/bench-process.ts";
import { call, registerPhone } from "../test/support/lab-phones.ts";
import { EXCLUSIVE_AUDIO } from "../test/support/phone-config.ts";
import { type PartResult, spread } from "./bench-table.ts";
import { journalModes } from "./journal-modes.ts";
import {
  cseqMethod,
  headerOf,
  isRequest,
  isResponse,
  startCapture,
  wallNow,
} from "./parts/sip-capture.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** npm run bench's part: the firmware as it runs (a process, journal on, media thread). */
export async function run(o: { quick?: boolean; runs?: number } = {}): Promise<PartResult> {
  const runs = o.runs ?? (o.quick ? 3 : 10);
  const ex = await startLabExchange();
  ex.table.bind("112", "2001");
  const lab = alsaLab({ exclusive: true });
  const dir = mkdtempSync(join(tmpdir(), "deskphone-bench-preempt-"));
  const cap = await startCapture({ udp: ex.udpPort, ws: ex.wsPort });
  const bye: number[] = [];
  const ok: number[] = [];
  const phone = await startBench(
    dir,
    "2001",
    {
      account: { user: "2001" },
      exchange: { url: ex.wsUrl },
      audio: EXCLUSIVE_AUDIO,
      journal: { path: join(dir, "journal.jsonl") },
    },
    lab.env,
  );
  const fromExchange = (m: { srcPort: number }) => m.srcPort === ex.wsPort;
  const toExchange = (m: { dstPort: number }) => m.dstPort === ex.wsPort;
  try {
    await phone.waitFor("registered", (s) => s.registration === "registered");
    for (let i = 0; i < runs; i++) {
      // A user of its own each run: a stale registration would fork a second INVITE.
      const user = String(5000 + i);
      const other = await registerPhone(ex, user);
      await phone.post("hook", { offHook: true });
      await phone.post("keys", { keys: `${user}#` });
      await phone.waitFor("talking", (s) => s.phase === "talking");
      await sleep(300);
      const since = wallNow();
      const caller = call(ex, { from: "3001", to: "112", talkMs: 100 });
      const t = await cap.waitFor("the emergency INVITE, the BYE and the 200 OK", (ms) => {
        const invite = ms.find(
          (m) =>
            m.at >= since &&
            fromExchange(m) &&
            isRequest(m, "INVITE") &&
            /^emergency/i.test(headerOf(m, "Priority") ?? ""),
        );
        if (!invite) return undefined;
        const id = headerOf(invite, "Call-ID");
        const b = ms.find(
          (m) =>
            m.at >= invite.at &&
            toExchange(m) &&
            isRequest(m, "BYE") &&
            /^preemption/i.test(headerOf(m, "Reason") ?? ""),
        );
        const k = ms.find(
          (m) =>
            m.at >= invite.at &&
            toExchange(m) &&
            isResponse(m, 200) &&
            cseqMethod(m) === "INVITE" &&
            headerOf(m, "Call-ID") === id,
        );
        return b && k ? { bye: b.at - invite.at, ok: k.at - invite.at } : undefined;
      });
      bye.push(t.bye);
      ok.push(t.ok);
      await caller;
      await other.done;
      await phone.waitFor("hung up", (s) => s.phase === "hungUp");
      await phone.post("hook", { offHook: false });
      await phone.waitFor("idle", (s) => s.phase === "idle");
    }
  } finally {
    await phone.kill();
    await cap.stop();
    await ex.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  const config = `\`deskphone bench\` (bin/deskphone.mjs) as its own process: journal on disk, the ringer at 48 kHz, call media on the native thread on exclusive lab ALSA devices (EBUSY on a second open, like hw); 2001 talks to a sipp phone, sipp calls 112 (bound to 2001); ${runs} runs; Kamailio's INVITE to the phone → the phone's message to Kamailio, on the wire (tcpdump on lo, WebSocket frames)`;
  return {
    rows: [
      {
        id: "preempt-bye",
        label: "preemption: emergency INVITE in → BYE (Reason: preemption) out",
        unit: "ms",
        ours: spread(bye),
        config,
      },
      {
        id: "preempt-ok",
        label: "preemption complete: emergency INVITE in → its 200 OK out",
        unit: "ms",
        ours: spread(ok),
        target: { kind: "atMost", value: 20 },
        config,
      },
    ],
  };
}

async function main() {
  const RUNS = Number(process.env.PREEMPT_RUNS ?? 10);
  const journal = journalModes();
  let mode = journal.modes[0] as (typeof journal.modes)[number];
  const ex = await startLabExchange();
  ex.table.bind("112", "2001");
  let inviteAt = 0;
  let byeAt = 0;
  let okAt = 0;
  const agent = new PhoneAgent({
    server: ex.wsUrl,
    user: "2001",
    wireTap: (dir, msg, at) => {
      const first = msg.slice(0, msg.indexOf("\r\n"));
      if (dir === "in" && first.startsWith("INVITE ") && /^Priority:\s*emergency/im.test(msg))
        inviteAt = at;
      if (dir === "out" && first.startsWith("BYE ") && /^Reason:\s*preemption/im.test(msg))
        byeAt = at;
      if (
        dir === "out" &&
        first.startsWith("SIP/2.0 200") &&
        /^CSeq:\s*\d+ INVITE/im.test(msg) &&
        inviteAt &&
        !okAt
      )
        okAt = at;
    },
  });
  const phone = new Phone({ agent, journal: { append: (r) => mode.sink.append(r) } });
  const until = (what: string, test: () => boolean, ms = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const check = () =>
        test()
          ? resolve()
          : Date.now() - t0 > ms
            ? reject(new Error(`timeout: ${what}`))
            : setTimeout(check, 5);
      check();
    });
  phone.start();
  await until("registered", () => phone.state.registered);

  const bye = new Map(journal.modes.map((m) => [m, [] as number[]]));
  const ok = new Map(journal.modes.map((m) => [m, [] as number[]]));
  for (let i = 0; i < RUNS * journal.modes.length; i++) {
    mode = journal.modes[i % journal.modes.length] as typeof mode;
    // A user of its own each run: a stale registration would fork a second INVITE.
    const user = String(5000 + i);
    const other = await registerPhone(ex, user);
    phone.hook(true);
    for (const k of `${user}#`) phone.key(k as "2");
    await until(
      `talking (run ${i}, phase ${phone.state.phase.kind})`,
      () => phone.state.phase.kind === "talking",
    );
    await new Promise((r) => setTimeout(r, 100));
    inviteAt = byeAt = okAt = 0;
    const caller = call(ex, { from: "3001", to: "112", talkMs: 100 });
    await until(
      `BYE and 200 (invite ${inviteAt}, bye ${byeAt}, ok ${okAt})`,
      () => byeAt > 0 && okAt > 0,
    );
    bye.get(mode)?.push(byeAt - inviteAt);
    ok.get(mode)?.push(okAt - inviteAt);
    await caller;
    await other.done;
    await until("hung up", () => phone.state.phase.kind === "hungUp");
    phone.hook(false);
  }
  await phone.stop();
  await ex.stop();
  await journal.close();

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
    // The median of an even count is the mean of the middle two.
    const h = s.length >> 1;
    const median = s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
    return `median ${median.toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, max ${(s.at(-1) as number).toFixed(1)} ms`;
  };
  console.log(
    `preemption on the phone's WebSocket, ${RUNS} runs of each journal mode, interleaved (target: both within 50 ms)`,
  );
  for (const m of journal.modes) {
    console.log(`  ${m.name}:`);
    console.log(`    INVITE in → BYE with Reason: preemption out: ${stats(bye.get(m) ?? [])}`);
    console.log(`    INVITE in → 200 OK for the emergency out:    ${stats(ok.get(m) ?? [])}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
