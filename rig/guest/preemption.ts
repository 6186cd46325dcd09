/**
 * A preemption on the loopback card's exclusive devices: the phone (2001)
 * talks to 2002, lifted and dialled on the simulated handset; 2003 dials the
 * emergency number; the phone ends the call with 2002 and puts 2003 through at
 * once. Audio both ways after the 200 OK: 2003's tone (its microphone, a
 * loopback subdevice of its own) on the phone's earpiece, and the tone on the
 * phone's microphone in 2003's earpiece — each timed from 2003 seeing the
 * answer, against the phone's hand-over bound (docs/audio.md: the devices are
 * waited for at most 200 ms).
 *
 * 2003 is itself a call on a media thread (its agent opens CallMediaThread, as
 * the phone does), so what it adds is known from its own stamps: its first RTP
 * packet sent after the answer, and when the phone's first sound reached its
 * socket. Each direction is split into the far end's share and the phone's
 * part (docs/rig.md, "What it checks"); the phone also logs its own hand-over
 * (firmware/app/handover-report.ts), printed here.
 */
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { EMERGENCY_NUMBER } from "./exchange-plan.ts";
import { FarEndCapture } from "./far-end.ts";
import { FarEndTone, toneOnset } from "./far-end-tone.ts";
import { figure, StepFailed, show, sleep } from "./report.ts";
import type { SimHandset } from "./sim-handset.ts";
import { sh } from "./unit.ts";

const CALLER_HZ = 1100;
const PHONE_MIC_HZ = 700;
export const HANDOVER_BOUND_MS = 200;

/** What the first audio each way took, and the phone's part of it (ms from 2003 seeing the 200 OK). */
export interface HandOverTimes {
  detail: string;
  /** The later direction's first audio as the far end hears it. */
  worstMs: number;
  /** The phone's part of the later direction, the far end's share taken out. */
  phoneMs: number;
}

/** The phone's own hand-over line in its journal (firmware/app/handover-report.ts), if written. */
function phoneReport(): string | undefined {
  const out = sh("journalctl", ["-b", "-u", "deskphone.service", "-o", "cat", "--no-pager"]);
  return out
    .split("\n")
    .filter((l) => l.includes("preemption hand-over:"))
    .at(-1);
}

/** The phone's 200 OK on the monotonic clock, from its report (the INVITE's time and the 200 OK's offset). */
function phoneOkSent(report: string): number | undefined {
  const at = /\(([\d.]+) s on the monotonic clock\)/.exec(report)?.[1];
  const ok = /200 OK sent ([\d.]+) ms/.exec(report)?.[1];
  return at === undefined || ok === undefined ? undefined : Number(at) * 1000 + Number(ok);
}

export async function preemption(
  handset: SimHandset,
  callee: PhoneAgent,
  caller: PhoneAgent,
): Promise<HandOverTimes> {
  handset.hook(false);
  await sleep(1500);
  const incoming = new Promise<string>((resolve) =>
    callee.once("incoming", (c) => resolve(c.callId)),
  );
  handset.hook(true);
  await sleep(500);
  await handset.press("2002#");
  const id = await Promise.race([incoming, sleep(20_000).then(() => "")]);
  if (!id) throw new StepFailed("the ordinary call did not reach 2002");
  await callee.answer(id);
  const preempted = new Promise<string>((resolve) =>
    callee.on("remote-ended", (c, cause) => c === id && resolve(String(cause))),
  );
  // When 2003 takes the phone's RTP at all: its media is told the far end once its
  // sip.js has read the 200 OK's SDP; before that its thread drops the phone's packets.
  let farReady: number | undefined;
  caller.once("media", (_c, media) => {
    void media.setDevices("caller_ear", "caller_mic");
    const setRemote = media.setRemote.bind(media);
    media.setRemote = (address, port) => {
      farReady ??= Number(process.hrtime.bigint()) / 1e6;
      setRemote(address, port);
    };
  });
  const phoneMic = new FarEndTone("microphone_far", PHONE_MIC_HZ);
  const callerMic = new FarEndTone("caller_mic_far", CALLER_HZ);
  await sleep(2000); // the ordinary call talks
  const earpiece = new FarEndCapture("earpiece_far", 8000);
  const callerEar = new FarEndCapture("caller_ear_far", 8000);
  try {
    await Promise.all([earpiece.started(), callerEar.started()]);
    const answered = new Promise<number>((resolve) =>
      caller.on("remote-answered", (c) => c === "p1" && resolve(performance.now())),
    );
    // performance.now() → the monotonic clock the media threads and the phone stamp on.
    const mono = Number(process.hrtime.bigint()) / 1e6 - performance.now();
    caller.dial("p1", EMERGENCY_NUMBER);
    const wire = caller.wireTimes("p1"); // filled in as 2003's messages cross its connection
    const answeredAt = await Promise.race([answered, sleep(20_000).then(() => -1)]);
    if (answeredAt < 0) throw new StepFailed("the emergency call was not answered within 20 s");
    const cause = await Promise.race([preempted, sleep(5000).then(() => "none")]);
    await sleep(3000);
    const far = caller.media("p1");
    const farStart = far instanceof CallMediaThread ? far.started() : undefined;
    const ear = await earpiece.stop();
    const callerHeard = await callerEar.stop();
    const own = phoneReport();
    show(
      `the phone's own report: ${own?.replace(/^.*preemption hand-over: /, "") ?? "none in its journal"}`,
    );
    // 2003 sees the 200 OK when it reaches its connection (its sip.js and the
    // "answered" event come later still when the guest is loaded); the phone sent it
    // earlier, by its own report.
    const okSeen = wire.okReceivedAt ?? answeredAt + mono;
    const phoneOk = own ? phoneOkSent(own) : undefined;
    const onset = (c: FarEndCapture, x: Int16Array, hz: number) => {
      // The new call's audio cannot be older than the phone's 200 OK: searched from there.
      const searchFrom = Math.min(okSeen, phoneOk ?? okSeen) - mono;
      const i = toneOnset(
        x,
        c.rate,
        hz,
        Math.max(0, Math.round(((searchFrom - c.at(0)) * c.rate) / 1000)),
      );
      return i < 0 ? undefined : c.at(i) + mono;
    };
    const earOnset = onset(earpiece, ear, CALLER_HZ);
    const callerOnset = onset(callerEar, callerHeard, PHONE_MIC_HZ);
    const span = (from: number | undefined, to: number | undefined) =>
      from === undefined || to === undefined ? undefined : to - from;
    const ms = (v: number | undefined) => (v === undefined ? "none" : `${v.toFixed(0)} ms`);
    const toPhone = span(okSeen, earOnset);
    const toCaller = span(okSeen, callerOnset);
    // As the rig measured before: from the "answered" event, samples placed from the
    // first captured block alone.
    const firstOnly = (c: FarEndCapture, x: Int16Array, hz: number) => {
      const from = Math.max(0, Math.round(((answeredAt - c.firstOnly(0)) * c.rate) / 1000));
      const i = toneOnset(x, c.rate, hz, from);
      return i < 0 ? undefined : c.firstOnly(i) - answeredAt;
    };
    figure(
      "preemption: audio after 2003 saw the 200 OK",
      `2003 → phone's earpiece ${ms(toPhone)}, phone's microphone → 2003 ${ms(toCaller)} (hand-over bound ${HANDOVER_BOUND_MS} ms; 2003's "answered" event came ${ms(span(okSeen, answeredAt + mono))} after the 200 OK reached it; measured as before, from that event with samples placed from the first block: ${ms(firstOnly(earpiece, ear, CALLER_HZ))} / ${ms(firstOnly(callerEar, callerHeard, PHONE_MIC_HZ))})`,
    );
    // Each way split at 2003's own stamps: to the earpiece, the phone's part starts
    // with 2003's first packet of its tone; to 2003, it ends with the phone's first
    // sound at 2003's socket and starts with the phone's 200 OK (not 2003 seeing it),
    // or when 2003 began to take the phone's packets, if that was later.
    const farSent = farStart?.firstMicSent;
    const soundAt2003 = farStart?.firstSound;
    const phoneToEar = span(farSent, earOnset);
    const phoneFrom = Math.max(phoneOk ?? okSeen, farReady ?? 0);
    const phoneTo2003 = span(phoneFrom, soundAt2003);
    figure(
      "preemption: the far end's share and the phone's part",
      `to the earpiece: 2003 sent its first RTP ${ms(span(okSeen, farSent))} after seeing the 200 OK (its share), the phone played it ${ms(phoneToEar)} after that (the phone's part); to 2003: 2003 took the phone's RTP from ${ms(span(phoneOk, farReady))} after the phone's 200 OK (its share: it reads the answer first), the phone's sound reached 2003's socket ${ms(phoneTo2003)} after the later of the two (the phone's part), 2003's own jitter buffer and earpiece ${ms(span(soundAt2003, callerOnset))} more (its share)`,
    );
    if (cause === "none") throw new StepFailed("2002's call was not ended by the preemption");
    if (toPhone === undefined || toCaller === undefined)
      throw new StepFailed(`no audio one way: earpiece ${ms(toPhone)}, to 2003 ${ms(toCaller)}`);
    return {
      detail: `2002 ended (${cause}); audio both ways: ${ms(toPhone)} / ${ms(toCaller)} after 2003 saw the 200 OK; the phone's part ${ms(phoneToEar)} / ${ms(phoneTo2003)}`,
      worstMs: Math.max(toPhone, toCaller),
      phoneMs: Math.max(phoneToEar ?? toPhone, phoneTo2003 ?? toCaller),
    };
  } finally {
    await earpiece.stop();
    await callerEar.stop();
    await phoneMic.stop();
    await callerMic.stop();
    caller.hangUp("p1");
    handset.hook(false);
  }
}
