/**
 * A preemption on the loopback card's exclusive devices: the phone (2001)
 * talks to 2002, lifted and dialled on the simulated handset; 2003 dials the
 * emergency number; the phone ends the call with 2002 and puts 2003 through at
 * once. Audio both ways after the 200 OK: 2003's tone (its microphone, a
 * loopback subdevice of its own) on the phone's earpiece, and the tone on the
 * phone's microphone in 2003's earpiece — each timed from 2003 seeing the
 * answer, against the phone's hand-over bound (docs/audio.md: the devices are
 * waited for at most 200 ms).
 */
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { EMERGENCY_NUMBER } from "./exchange-plan.ts";
import { FarEndCapture } from "./far-end.ts";
import { FarEndTone, toneOnset } from "./far-end-tone.ts";
import { figure, StepFailed, sleep } from "./report.ts";
import type { SimHandset } from "./sim-handset.ts";

const CALLER_HZ = 1100;
const PHONE_MIC_HZ = 700;
export const HANDOVER_BOUND_MS = 200;

export async function preemption(
  handset: SimHandset,
  callee: PhoneAgent,
  caller: PhoneAgent,
): Promise<{ detail: string; worstMs: number }> {
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
  caller.once("media", (_c, media) => void media.setDevices("caller_ear", "caller_mic"));
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
    caller.dial("p1", EMERGENCY_NUMBER);
    const answeredAt = await Promise.race([answered, sleep(20_000).then(() => -1)]);
    if (answeredAt < 0) throw new StepFailed("the emergency call was not answered within 20 s");
    const cause = await Promise.race([preempted, sleep(5000).then(() => "none")]);
    await sleep(3000);
    const ear = await earpiece.stop();
    const callerHeard = await callerEar.stop();
    const after = (c: FarEndCapture, x: Int16Array, hz: number) => {
      const from = Math.max(0, Math.round(((answeredAt - c.at(0)) * c.rate) / 1000));
      const i = toneOnset(x, c.rate, hz, from);
      return i < 0 ? undefined : c.at(i) - answeredAt;
    };
    const toPhone = after(earpiece, ear, CALLER_HZ);
    const toCaller = after(callerEar, callerHeard, PHONE_MIC_HZ);
    const ms = (v: number | undefined) => (v === undefined ? "none" : `${v.toFixed(0)} ms`);
    figure(
      "preemption: audio after 2003's 200 OK",
      `2003 → phone's earpiece ${ms(toPhone)}, phone's microphone → 2003 ${ms(toCaller)} (hand-over bound ${HANDOVER_BOUND_MS} ms)`,
    );
    if (cause === "none") throw new StepFailed("2002's call was not ended by the preemption");
    if (toPhone === undefined || toCaller === undefined)
      throw new StepFailed(`no audio one way: earpiece ${ms(toPhone)}, to 2003 ${ms(toCaller)}`);
    return {
      detail: `2002 ended (${cause}); audio both ways: ${ms(toPhone)} / ${ms(toCaller)} after the answer`,
      worstMs: Math.max(toPhone, toCaller),
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
