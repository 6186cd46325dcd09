/**
 * Tools of the fault probes (faults-*.reliability.ts): waiting on a condition,
 * figures, a call made and talked through in the production shape, and a TCP
 * proxy in front of the exchange whose connections can be cut (RST) or left
 * hanging silent (a dead peer nobody tells us about).
 */
import { createServer, type Server, Socket } from "node:net";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import type { FirmwarePhone } from "../support/production-rig.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => performance.now();

/** Polls `f` every 20 ms until it gives something other than undefined. */
export async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await sleep(20);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** "0.12 s median (max 0.30 s)", or "none" when nothing was measured. */
export const spread = (ms: readonly number[]) =>
  ms.length ? `${secs(median(ms))} median (max ${secs(Math.max(...ms))})` : "none";

/**
 * Tries each case in turn: a case that throws is a failure named by its label
 * with the first line of its error, `recover` puts the phone back as a fresh
 * case wants it, and after a pause the next is tried. The failures, in order.
 */
export async function eachAttempt<T>(
  cases: readonly T[],
  label: (c: T, n: number) => string,
  attempt: (c: T, n: number) => Promise<void>,
  recover: (c: T) => unknown,
): Promise<string[]> {
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    try {
      await attempt(c, i + 1);
    } catch (e) {
      failures.push(`${label(c, i + 1)}: ${(e as Error).message.split("\n")[0]}`);
      await recover(c);
      await sleep(500);
    }
  }
  return failures;
}

/** Registration changes of an agent, with when they happened (performance.now). */
export function registrationLog(agent: PhoneAgent) {
  const events: { state: string; why: string; atMs: number }[] = [];
  agent.on("registration", (state, why) => events.push({ state, why, atMs: nowMs() }));
  return {
    events,
    /** The first time after `sinceMs` the agent reached `state`. */
    reached(state: string, sinceMs: number) {
      return events.find((e) => e.state === state && e.atMs >= sinceMs);
    },
  };
}

/** Resolves when the agent is registered (at once if it is). */
export function registered(agent: PhoneAgent, ms = 15_000): Promise<void> {
  if (agent.registrationState === "registered") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("caller not registered again")), ms);
    const on = (s: string) => {
      if (s !== "registered") return;
      clearTimeout(t);
      agent.off("registration", on);
      resolve();
    };
    agent.on("registration", on);
  });
}

export interface Talked {
  /** RTP packets the phone took from the caller, and the caller from the phone, while talking. */
  phoneHeard: number;
  callerHeard: number;
}

/** Resolves when the caller's call `id` is answered (the 200 OK reached it). */
export function remoteAnswered(caller: PhoneAgent, id: string): Promise<void> {
  return new Promise((r) =>
    caller.on("remote-answered", function on(c) {
      if (c !== id) return;
      caller.off("remote-answered", on);
      r();
    }),
  );
}

/** Starts the caller's tone on its call `id`: the far end talks. */
export function farTalks(caller: PhoneAgent, id: string): RtpSession {
  const far = caller.media(id);
  if (!(far instanceof RtpSession)) throw new Error(`${id}: the caller has no media`);
  far.startSending(
    new ToneSource({ segments: [{ ms: 1000, freqs: [440], levelDb: -12 }], repeat: true }),
  );
  return far;
}

/**
 * `to` dialled by the caller as its call `id`, rung and answered at the
 * phone's handset; the phone's own id of the call once it is talking.
 */
export async function answered(
  phone: FirmwarePhone,
  caller: PhoneAgent,
  id: string,
  to: string,
): Promise<string> {
  const far = remoteAnswered(caller, id);
  caller.dial(id, to);
  await phone.waitFor(`ringing (${id})`, (s) => s.phase.kind === "ringing");
  phone.handset.lift();
  await far;
  const s = await phone.waitFor(
    `talking (${id})`,
    (x) => x.phase.kind === "talking" && !x.phase.call.answering,
  );
  return s.phase.kind === "talking" ? s.phase.call.id : "";
}

/**
 * One call to the phone, answered and talked through: `to` is dialled, the
 * phone rings, the handset is lifted, the caller plays a tone; both ends must
 * hear RTP from the other; the caller hangs up and the handset goes back.
 */
export async function callAndTalk(
  phone: FirmwarePhone,
  caller: PhoneAgent,
  id: string,
  to: string,
  talkMs = 300,
): Promise<Talked> {
  const callId = await answered(phone, caller, id, to);
  const near = phone.built.agent.media(callId);
  if (!near) throw new Error(`${id}: the phone has no media for the call`);
  const far = farTalks(caller, id);
  const p0 = near.stats().received;
  const c0 = far.stats().received;
  await sleep(talkMs);
  const talked = {
    phoneHeard: near.stats().received - p0,
    callerHeard: far.stats().received - c0,
  };
  caller.hangUp(id);
  await phone.waitFor(`hung up (${id})`, (x) => x.phase.kind === "hungUp");
  phone.handset.replace();
  await phone.waitFor(`idle (${id})`, (x) => x.phase.kind === "idle");
  return talked;
}

/**
 * A TCP proxy on 127.0.0.1 in front of the exchange's wss:// port: TLS passes
 * through untouched (the phone still checks the exchange's certificate).
 * `cut()` resets every connection (as a NAT box or a rebooted switch does);
 * `hang()` keeps them open but carries nothing more either way (a peer gone
 * without a word: only the phone's ping without pong finds it). New
 * connections are carried normally.
 */
export class TcpProxy {
  private readonly pairs = new Set<{ a: Socket; b: Socket; hung: boolean }>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const addr = server.address();
        const proxy = new TcpProxy(server, typeof addr === "object" && addr ? addr.port : 0);
        server.on("connection", (a) => proxy.carry(a, targetPort, targetHost));
        resolve(proxy);
      });
    });
  }

  get connections(): number {
    return [...this.pairs].filter((p) => !p.hung).length;
  }

  private carry(a: Socket, port: number, host: string): void {
    const b = new Socket();
    const pair = { a, b, hung: false };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      a.destroy();
      b.destroy();
    };
    a.on("error", drop).on("close", drop);
    b.on("error", drop).on("close", drop);
    a.on("data", (d) => pair.hung || b.write(d));
    b.on("data", (d) => pair.hung || a.write(d));
    b.connect(port, host);
  }

  /** Resets every connection now (TCP RST both ways). */
  cut(): number {
    const n = this.pairs.size;
    for (const p of [...this.pairs]) {
      this.pairs.delete(p);
      p.a.resetAndDestroy();
      p.b.resetAndDestroy();
    }
    return n;
  }

  /** Every open connection goes silent, still open: bytes are swallowed both ways. */
  hang(): number {
    let n = 0;
    for (const p of this.pairs) {
      if (!p.hung) n++;
      p.hung = true;
    }
    return n;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
