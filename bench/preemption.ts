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
 */
import { Phone } from "../firmware/app/phone.ts";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../sip/phone-agent.ts";
import { call, registerPhone } from "../test/support/lab-phones.ts";
import { journalModes } from "./journal-modes.ts";

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
