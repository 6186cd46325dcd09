/**
 * The scenario boot (rig.phase=scenario): the phone as systemd started it
 * from the .deb, on the simulated handset, the snd-aloop card and the lab
 * exchange in the guest. One step line each (rig/guest/report.ts); the
 * figures it measures on the way.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { DEFAULT_CLASSES } from "../../firmware/alerting/alert-class.ts";
import { CADENCES } from "../../firmware/alerting/cadences.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { analyse } from "../../test/support/tone-analyser.ts";
import { matchCadence } from "./cadence-match.ts";
import { EMERGENCY_NUMBER, PHONE } from "./exchange-plan.ts";
import { FarEndCapture } from "./far-end.ts";
import { hardware } from "./hardware-env.ts";
import { blinkReport } from "./led-blink.ts";
import { HANDOVER_BOUND_MS, preemption } from "./preemption.ts";
import { failed, figure, StepFailed, show, sleep, step, until } from "./report.ts";
import { SimHandset } from "./sim-handset.ts";
import { journalPids, sh, unitState } from "./unit.ts";
import { XrunWatch } from "./xrun-watch.ts";

const hw = hardware();
const exchange = JSON.parse(readFileSync("/run/rig/exchange.json", "utf8")) as { ws: string };
const handset = await SimHandset.open(hw);
const agents: PhoneAgent[] = [];

async function agent(user: string): Promise<PhoneAgent> {
  // Their call media on a thread of their own, as the phone's: 2003's stamps split the
  // preemption's times into its share and the phone's part (preemption.ts).
  const a = new PhoneAgent({
    server: exchange.ws,
    user,
    media: { openMedia: (m) => CallMediaThread.open(m) },
  });
  agents.push(a);
  a.start();
  await until(`${user} registered`, 20_000, () => {
    if (a.registrationState === "registered") return true;
    return undefined;
  });
  return a;
}

function registeredAs(): string | undefined {
  const s = unitState();
  return s.ActiveState === "active" && s.StatusText.includes(`registered as ${PHONE}`)
    ? s.StatusText
    : undefined;
}

await step("deskphone.service started at boot and READY (registered)", async () => {
  const status = await until("READY and registered", 120_000, registeredAs).catch((e) => {
    const units = ["deskphone.service", "rig-exchange.service", "rig-hardware.service"];
    const diag = spawnSync("systemctl", ["status", "--no-pager", "-l", "-n", "20", ...units], {
      encoding: "utf8",
    });
    for (const l of diag.stdout.split("\n").slice(0, 80)) show(`| ${l}`);
    throw e;
  });
  const s = unitState();
  if (status.startsWith("degraded")) throw new StepFailed(`degraded: ${status}`);
  show(`after the phone's start: ${await handset.keypadState()}`);
  figure(
    "READY after boot",
    `${(s.ActiveEnterTimestampMonotonic / 1e6).toFixed(1)} s (kernel start to READY=1)`,
  );
  return `${s.ActiveState}/${s.SubState}, Status "${status}"`;
});
{
  // systemd-analyze time waits for the boot to finish, which this unit is part of.
  const m = sh("systemctl", ["show", "-p", "UserspaceTimestampMonotonic"]);
  const userspace = Number(m.split("=")[1]) / 1e6;
  const ready = unitState().ActiveEnterTimestampMonotonic / 1e6;
  figure(
    "boot",
    `kernel and initrd ${userspace.toFixed(1)} s, systemd to deskphone READY ${(ready - userspace).toFixed(1)} s`,
  );
}

// ---- An emergency call while idle: the ringer on the loopback card, the emergency LED on GPIO25.
const emergency = DEFAULT_CLASSES.emergency;
const cadence = CADENCES[emergency?.cadence ?? "emergency"];
const caller = await agent("2003");
const ring = new FarEndCapture("ringer_far", 48000);
let leds: [number, number][] = [];
await step(
  "emergency call rings the emergency cadence (ringer loopback, cadence analyser)",
  async () => {
    await ring.started();
    await sleep(300);
    // The phone's ringer end of the loopback (rig/guest/asound.conf: device 0 subdevice 0).
    const xruns = new XrunWatch("/proc/asound/Loopback/pcm0p/sub0");
    // How late a Node process's timers fire in this guest meanwhile (the phone's
    // ringer plays from a thread of its own, but renders its period in the first
    // turns after play()): this scenario's own loop.
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const sentAt = performance.now();
    caller.dial("e1", EMERGENCY_NUMBER);
    const first = await until("the first sound on the ringer's loopback", 20_000, () => {
      const i = ring.firstSound();
      return i < 0 ? undefined : i;
    });
    figure(
      "ring onset on the loopback card",
      `${(ring.at(first) - sentAt).toFixed(0)} ms from the INVITE sent to the first sound captured`,
    );
    // The LED is sampled after the recording, not during it: the scenario's 5 ms
    // polling would compete with the phone for the guest's CPUs while it rings.
    await sleep(6500);
    const x = await ring.stop();
    const xr = xruns.stop();
    lag.disable();
    const ms = (ns: number) => (ns / 1e6).toFixed(0);
    figure(
      "timer lateness in the guest during the ring (the scenario's Node event loop)",
      `p50 ${ms(lag.percentile(50))} ms, p99 ${ms(lag.percentile(99))} ms, max ${ms(lag.max)} ms (a 5 ms timer)`,
    );
    // The ring's start drops the queue once (snd_pcm_drop): a restart of its own.
    const underruns = Math.max(0, xr.restarts - 1);
    figure(
      "the phone's ringer on the loopback card during the ring",
      `${xr.params}; ${underruns} underrun restart(s) seen (${xr.polls} polls of its /proc status, ${xr.xrunPolls} found it in XRUN)`,
    );
    leds = await handset.sample("GPIO25", 2500);
    const starved = underruns > 0 ? ` [the ringer underran ${underruns}× under emulation]` : "";
    if (!cadence) throw new StepFailed("no emergency cadence in firmware/alerting/cadences.ts");
    const heard = analyse(x.subarray(first), 48000);
    const trace = (h: typeof heard) =>
      h
        .slice(0, 14)
        .map((s) => (s.on ? `${s.ms}ms@${(s.freqs[0] ?? 0).toFixed(0)}` : `-${s.ms}ms`))
        .join(" ");
    show(`heard from the onset: ${trace(heard)}`);
    // Judged from the first cadence gap on (the gap ends a period): the start's glitches,
    // if any, are shown above and counted below.
    const gapMs = cadence.segments.find((g) => g.freqs.length === 0)?.ms ?? 0;
    const gap = heard.findIndex((g) => !g.on && Math.abs(g.ms - gapMs) <= 40);
    if (gap < 0)
      throw new StepFailed(`no ${gapMs} ms cadence gap heard: ${trace(heard)}${starved}`);
    const m = matchCadence(heard.slice(gap + 1), cadence);
    if (!m.ok) throw new StepFailed(`${m.why}${starved} — heard ${trace(heard.slice(gap + 1))}`);
    const before = heard.slice(0, gap).filter((g) => g.on).length;
    const sounding = cadence.segments.filter((g) => g.freqs.length > 0).length;
    return `${m.why}, from the first gap on (${before} sounding segments before it; a period has ${sounding})${starved}`;
  },
);
await step("the emergency LED (GPIO25 on gpio-sim) blinks its pattern", async () => {
  const want = emergency?.led?.pattern;
  if (want?.kind !== "blink") throw new StepFailed("the emergency class has no blink pattern");
  const r = blinkReport(leds);
  show(`GPIO25: ${r.trace}`);
  const off = (a: number, b: number) => Math.abs(a - b) > 35;
  if (r.on.length < 3 || off(r.medianOn, want.onMs) || off(r.medianOff, want.offMs))
    throw new StepFailed(
      `on ${r.medianOn} ms / off ${r.medianOff} ms over ${r.on.length} blinks, want ${want.onMs}/${want.offMs}`,
    );
  return `on ${r.medianOn} ms / off ${r.medianOff} ms (median of ${r.on.length}), want ${want.onMs}/${want.offMs}`;
});
caller.hangUp("e1");
await sleep(1000);

// ---- The handset: hook switch on GPIO17, keys on the TCA8418: a call to 2002.
const callee = await agent("2002");
let answered = "";
await step("off-hook on gpio-sim and keys on the TCA8418 place a call (2002 gets it)", async () => {
  const got = new Promise<string>((resolve) => callee.once("incoming", (c) => resolve(c.callId)));
  const from = new Promise<string>((resolve) => callee.once("incoming", (c) => resolve(c.remote)));
  handset.hook(true);
  await sleep(500);
  await handset.press("2002#");
  const id = await Promise.race([got, sleep(20_000).then(() => "")]);
  if (!id) throw new StepFailed("no INVITE reached 2002 within 20 s of the keys");
  await callee.answer(id);
  answered = id;
  const overflows = handset.overflowLines();
  if (overflows > 0)
    throw new StepFailed(`the phone logged ${overflows} TCA8418 FIFO overflow line(s) for 5 keys`);
  return `INVITE from ${await from}, answered; ${await handset.keypadState()}, no FIFO overflow logged`;
});

// ---- SIGKILL mid-call: systemd restarts it, it registers again, its journal is whole.
await step(
  "systemctl kill -s KILL mid-call: restarted, registered again, journal intact",
  async () => {
    if (!answered) throw new StepFailed("no call in progress (the step before failed)");
    await sleep(1000);
    const before = unitState();
    const journalBefore = sh("deskphone", ["log", "--json"]).trim().split("\n").filter(Boolean);
    const killedAt = performance.now();
    sh("systemctl", ["kill", "-s", "KILL", "deskphone.service"]);
    const status = await until("restarted and registered", 90_000, () => {
      const s = unitState();
      return s.NRestarts > before.NRestarts && s.MainPID !== before.MainPID
        ? registeredAs()
        : undefined;
    });
    figure(
      "SIGKILL to registered again",
      `${((performance.now() - killedAt) / 1000).toFixed(1)} s`,
    );
    show(`after the restart: ${await handset.keypadState()}`);
    const after = unitState();
    const journalAfter = sh("deskphone", ["log", "--json"]).trim().split("\n").filter(Boolean);
    const kept = journalBefore.every((l, i) => journalAfter[i] === l);
    if (!kept)
      throw new StepFailed(
        `the call journal lost or changed records: ${journalBefore.length} before, ${journalAfter.length} after`,
      );
    const pids = journalPids();
    if (!pids.has(before.MainPID) || !pids.has(after.MainPID))
      throw new StepFailed(
        `systemd's journal lacks lines of PID ${before.MainPID} or ${after.MainPID}`,
      );
    return `NRestarts ${before.NRestarts}→${after.NRestarts}, PID ${before.MainPID}→${after.MainPID}, "${status}", call journal ${journalBefore.length}→${journalAfter.length} records (all kept)`;
  },
);
handset.hook(false);
await sleep(1500);

let worstMs: number | undefined;
await step(
  "preemption on the exclusive loopback earpiece and microphone: audio both ways",
  async () => {
    const r = await preemption(handset, callee, caller);
    worstMs = r.phoneMs; // the phone's part; the far end's share is printed beside it
    return r.detail;
  },
);
await step(
  `the preemption's audio within the hand-over bound (${HANDOVER_BOUND_MS} ms)`,
  async () => {
    if (worstMs === undefined) throw new StepFailed("no audio measured (the step before failed)");
    if (worstMs > HANDOVER_BOUND_MS)
      throw new StepFailed(
        `the phone's part of the later direction: ${worstMs.toFixed(0)} ms (the far end's share printed above)`,
      );
    return `the phone's part ${worstMs.toFixed(0)} ms (the far end's share printed above)`;
  },
);

const exposure = spawnSync("systemd-analyze", ["security", "deskphone.service", "--no-pager"], {
  encoding: "utf8",
})
  .stdout.trim()
  .split("\n")
  .at(-1);
figure("systemd-analyze security deskphone", exposure?.replace(/^→\s*/, "") ?? "?");
for (const a of agents) await a.stop().catch(() => {});
await handset.close();
// Failed steps are in their lines; a non-zero exit means the scenario broke off.
show(`scenario: ${failed()} step(s) failed`);
process.exit(0);
