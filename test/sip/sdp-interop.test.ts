/**
 * SDP that interoperates, end to end through the lab exchange:
 * - a sipp caller offers audio and video: our 200 OK has one m= line for
 *   each (RFC 3264 §6), the video refused with port 0, and the call works —
 *   our microphone's tone, echoed back by sipp, is heard in our earpiece;
 * - baresip set to 30 ms packets calls each of our phones and is called by
 *   them — on the native media thread (the firmware's default) and on
 *   RtpSession — and each side hears the other's tone complete. We send the
 *   packet time its SDP asks for (RFC 4566 §6): its offer says a=ptime:30,
 *   so 30 ms packets; baresip 1.0.0 takes up our a=ptime:20 for its own
 *   sending and its answer then says a=ptime:20 (after a=minptime:30), so
 *   20 ms packets. Playing 30 and 60 ms packets whole is shown on both media
 *   paths in test/audio/call-media-contract.test.ts.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type AlsaLab, alsaLab } from "../support/alsa-lab.ts";
import { type Baresip, startBaresip } from "../support/baresip.ts";
import { type LabPhone, startLabPhone } from "../support/lab-phone.ts";
import { startSipp } from "../support/sipp.ts";
import { callScenario } from "../support/sipp-scenarios.ts";
import { toneCompleteness } from "../support/tone-complete.ts";
import { readWav } from "../support/wav.ts";

let ex: LabExchange;
let lab: AlsaLab;
let jsPhone: LabPhone;
let threadPhone: LabPhone;
let bs: Baresip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tone = (hz: number) => {
  const out = new Int16Array(8000 * 20);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return out;
};

beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
  // The media thread opens the devices by name through this process's ALSA configuration.
  process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
  lab.feed("mic", tone(1000));
  jsPhone = await startLabPhone(ex, "2021", { lab, earpiece: "earpiece", micHz: 1000 });
  threadPhone = await startLabPhone(ex, "2022", {
    lab,
    earpiece: "earpiece2",
    threadMicrophone: "mic",
  });
  bs = await startBaresip(ex, "3121", { lab, toneHz: 700, ptime: 30 });
}, 40_000);
afterAll(async () => {
  await bs?.stop();
  await jsPhone?.stop();
  await threadPhone?.stop();
  await ex?.stop();
  lab?.cleanup();
});

/** Our phones: [media path, user, earpiece device]. */
const PHONES = [
  ["the native media thread", "2022", "earpiece2"],
  ["RtpSession", "2021", "earpiece"],
] as const;
const phone = (user: string) => (user === "2021" ? jsPhone : threadPhone);

/**
 * The last 1.8 s our earpiece played, read while the call still has it (the
 * file device starts afresh when the phone reopens it after the call).
 */
function recent(device: string): Int16Array {
  const x = lab.played(device);
  return x.subarray(Math.max(0, x.length - 8000 * 1.8));
}

/** What baresip decoded of its newest call (its sndfile dump). */
function heardByBaresip(): Int16Array {
  const last = readdirSync(bs.dir)
    .filter((f) => f.endsWith("-dec.wav"))
    .sort()
    .at(-1);
  if (!last) return new Int16Array(0);
  return readWav(join(bs.dir, last)).samples;
}

/**
 * Talks for 2.3 s; returns the packets a second we sent and received
 * meanwhile, and what our earpiece played (before the call lets it go).
 */
async function talk(p: LabPhone, callId: string, device: string) {
  await sleep(300);
  const s0 = p.agent.media(callId)?.stats();
  await sleep(2000);
  const s1 = p.agent.media(callId)?.stats();
  return {
    sentPerS: ((s1?.sent ?? 0) - (s0?.sent ?? 0)) / 2,
    receivedPerS: ((s1?.received ?? 0) - (s0?.received ?? 0)) / 2,
    heard: recent(device),
  };
}

function expectComplete(x: Int16Array, hz: number, who: string) {
  const heard = toneCompleteness(x);
  // A frame or two concealed on a busy machine is allowed; a third of the audio cut is not.
  expect(heard.weakFraction, `${who}: ${heard.trace}`).toBeLessThan(0.08);
  expect(heard.spanMs, `${who}: ${heard.trace}`).toBeGreaterThan(1500);
  expect(heard.freqs, who).toEqual([hz]);
}

describe("a sipp offer of audio and video", () => {
  it("is answered with two m= lines, the video refused with port 0, and the call works", async () => {
    const p = threadPhone;
    const sipp = await startSipp({
      xml: callScenario({
        from: "3122",
        to: "2022",
        talkMs: 2500,
        moreMedia: ["m=video [media_port+2] RTP/AVP 96", "a=rtpmap:96 H264/90000"],
      }),
      target: `${ex.host}:${ex.udpPort}`,
      rtpEcho: true,
    });
    await p.waitFor("ringing", (s) => s.phase.kind === "ringing");
    p.phone.hook(true);
    await p.waitFor("talking", (s) => s.phase.kind === "talking");
    await sleep(2200);
    const heard = recent("earpiece2");
    const result = await sipp.done;
    await p.waitFor("hung up by sipp", (s) => s.phase.kind === "hungUp");
    p.phone.hook(false);
    expect(result.code, result.errors).toBe(0);
    const ok = result.messages.find((m) => /^SIP\/2\.0 200 OK/.test(m) && /INVITE/.test(m));
    const lines = (ok ?? "").split("\n").filter((l) => l.startsWith("m="));
    expect(lines, ok).toHaveLength(2);
    expect(lines[0]).toMatch(/^m=audio [1-9]\d* RTP\/AVP 0\s*$/);
    expect(lines[1]).toMatch(/^m=video 0 RTP\/AVP 96\s*$/);
    // Our own tone, echoed by sipp's media port: the audio went where the SDP said.
    expectComplete(heard, 1000, "our tone echoed");
  }, 30_000);
});

describe.each(PHONES)("baresip at 30 ms packets, our phone on %s", (_path, user, device) => {
  it("calls our phone: 30 ms packets to it (its a=ptime:30), each hears the other complete", async () => {
    const p = phone(user);
    const t0 = Date.now();
    await bs.command("dial", `sip:${user}@${ex.host}:${ex.udpPort}`);
    await p.waitFor("ringing", (s) => s.phase.kind === "ringing");
    p.phone.hook(true);
    const talking = await p.waitFor("talking", (s) => s.phase.kind === "talking");
    await bs.waitEvent("CALL_ESTABLISHED", 10_000, t0);
    const callId = talking.phase.kind === "talking" ? talking.phase.call.id : "";
    const { heard, ...rates } = await talk(p, callId, device);
    await bs.command("hangup");
    await p.waitFor("hung up by baresip", (s) => s.phase.kind === "hungUp");
    p.phone.hook(false);
    await sleep(300);
    // Its offer's a=ptime:30: 33 packets a second (20 ms ones would be 50).
    expect(rates.sentPerS, JSON.stringify(rates)).toBeGreaterThan(30);
    expect(rates.sentPerS, JSON.stringify(rates)).toBeLessThan(37);
    expectComplete(heard, 700, "baresip's tone in our earpiece");
    expectComplete(heardByBaresip(), 1000, "our tone at baresip");
  }, 30_000);

  it("is called by our phone: the packet time of its answer, each hears the other complete", async () => {
    const p = phone(user);
    const t0 = Date.now();
    p.phone.hook(true);
    for (const k of "3121#") p.phone.key(k as "3");
    await bs.waitEvent("CALL_INCOMING", 10_000, t0);
    await bs.command("accept");
    const talking = await p.waitFor("talking", (s) => s.phase.kind === "talking");
    const callId = talking.phase.kind === "talking" ? talking.phase.call.id : "";
    const { heard, ...rates } = await talk(p, callId, device);
    p.phone.hook(false);
    await bs.waitEvent("CALL_CLOSED", 5000, t0);
    await sleep(300);
    // Its answer's a=ptime:20 (it took up ours): 50 packets a second.
    expect(rates.sentPerS, JSON.stringify(rates)).toBeGreaterThan(45);
    expect(rates.sentPerS, JSON.stringify(rates)).toBeLessThan(55);
    expectComplete(heard, 700, "baresip's tone in our earpiece");
    expectComplete(heardByBaresip(), 1000, "our tone at baresip");
  }, 30_000);
});
