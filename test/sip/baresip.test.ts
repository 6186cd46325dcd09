/** Interoperability with a third-party softphone: baresip calls our phone and our phone calls baresip. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type AlsaLab, alsaLab } from "../support/alsa-lab.ts";
import { type Baresip, startBaresip } from "../support/baresip.ts";
import { type LabPhone, startLabPhone } from "../support/lab-phone.ts";
import { analyse } from "../support/tone-analyser.ts";
import { readWav } from "../support/wav.ts";

let ex: LabExchange;
let lab: AlsaLab;
let ours: LabPhone;
let bs: Baresip;
beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
  ours = await startLabPhone(ex, "2001", { lab, earpiece: "earpiece", micHz: 1000 });
  bs = await startBaresip(ex, "3100", { lab, toneHz: 700 });
}, 30_000);
afterAll(async () => {
  await bs?.stop();
  await ours?.stop();
  await ex?.stop();
  lab?.cleanup();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toneIn(samples: Int16Array, rate: number, hz: number) {
  const segs = analyse(samples, rate).filter((s) => s.on && s.ms > 300);
  return segs
    .filter((s) => s.freqs.some((f) => Math.abs(f - hz) / hz < 0.02))
    .reduce((t, s) => t + s.ms, 0);
}
function toneOn(device: string, hz: number, fromSample = 0) {
  return toneIn(lab.played(device).subarray(fromSample), 8000, hz);
}
/** What baresip decoded from the call (its sndfile dump), newest call first. */
function heardByBaresip(hz: number): number {
  const dumps = readdirSync(bs.dir)
    .filter((f) => f.endsWith("-dec.wav"))
    .sort();
  const last = dumps.at(-1);
  if (!last) return 0;
  const wav = readWav(join(bs.dir, last));
  return toneIn(wav.samples, wav.rate, hz);
}

describe("baresip", () => {
  it("calls our phone: it rings, we answer, audio flows both ways, baresip hangs up", async () => {
    const markOurs = lab.played("earpiece").length;
    await bs.command("dial", `sip:2001@${ex.host}:${ex.udpPort}`);
    await ours.waitFor("ringing", (s) => s.phase.kind === "ringing");
    ours.phone.hook(true);
    await bs.waitEvent("CALL_ESTABLISHED");
    await sleep(2000);
    await bs.command("hangup");
    await ours.waitFor("hung up by baresip", (s) => s.phase.kind === "hungUp");
    ours.phone.hook(false);
    await sleep(300);
    expect(toneOn("earpiece", 700, markOurs), "baresip's tone in our earpiece").toBeGreaterThan(
      1000,
    );
    expect(heardByBaresip(1000), "our tone at baresip").toBeGreaterThan(1000);
  }, 30_000);

  it("our phone calls baresip: audio both ways, and our DTMF reaches it", async () => {
    const markOurs = lab.played("earpiece").length;
    const t0 = Date.now();
    ours.phone.hook(true);
    for (const k of "3100#") ours.phone.key(k as "3");
    await bs.waitEvent("CALL_INCOMING", 10_000, t0);
    await bs.command("accept");
    await ours.waitFor("talking", (s) => s.phase.kind === "talking");
    await sleep(1500);
    ours.phone.key("5");
    const dtmf = await bs.waitEvent("CALL_DTMF_START", 5000, t0);
    expect(dtmf.param).toBe("5");
    await sleep(500);
    ours.phone.hook(false);
    await bs.waitEvent("CALL_CLOSED", 5000, t0);
    await sleep(300);
    expect(toneOn("earpiece", 700, markOurs), "baresip's tone in our earpiece").toBeGreaterThan(
      1000,
    );
    expect(heardByBaresip(1000), "our tone at baresip").toBeGreaterThan(1000);
  }, 30_000);
});
