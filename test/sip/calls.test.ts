/** Two of our phones call each other through the real lab Kamailio, with real RTP and ALSA devices. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlertClass, DEFAULT_ALERT_CONFIG } from "../../firmware/alerting/alert-class.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { type AlsaLab, alsaLab } from "../support/alsa-lab.ts";
import { type LabPhone, startLabPhone } from "../support/lab-phone.ts";
import { runSipp } from "../support/sipp.ts";
import { cancelScenario } from "../support/sipp-scenarios.ts";
import { analyse, frequenciesIn } from "../support/tone-analyser.ts";

let ex: LabExchange;
let lab: AlsaLab;
const phones: LabPhone[] = [];
beforeAll(async () => {
  ex = await startLabExchange();
  lab = alsaLab();
});
afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await ex?.stop();
  lab?.cleanup();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tone heard on a device: total sounding ms and the frequency of the longest stretch. */
function heard(device: string) {
  const segs = analyse(lab.played(device), 8000).filter((s) => s.on && s.ms > 200);
  const longest = segs.reduce((m, s) => (s.ms > m.ms ? s : m), { ms: 0, freqs: [] as number[] });
  return { ms: segs.reduce((t, s) => t + s.ms, 0), hz: longest.freqs[0] ?? 0 };
}

/** A's microphone tone (1000 Hz) on B's earpiece and B's (600 Hz) on A's, for over 1.5 s each. */
function expectEachHeardTheOther() {
  for (const [device, hz] of [
    ["earpiece2", 1000],
    ["earpiece", 600],
  ] as const) {
    const h = heard(device);
    expect(Math.abs(h.hz - hz) / hz, `${device}: ${JSON.stringify(h)}`).toBeLessThan(0.02);
    expect(h.ms, device).toBeGreaterThan(1500);
  }
}

describe("our phone calls our phone", () => {
  it("dials from the keypad, rings, is answered, and audio flows both ways", async () => {
    const a = await startLabPhone(ex, "2001", { lab, earpiece: "earpiece", micHz: 1000 });
    const b = await startLabPhone(ex, "2002", {
      lab,
      earpiece: "earpiece2",
      ringer: "ringer",
      micHz: 600,
    });
    phones.push(a, b);
    a.phone.hook(true);
    for (const k of "2002#") a.phone.key(k as "2");
    await b.waitFor("ringing", (s) => s.phase.kind === "ringing");
    await a.waitFor("hearing ringback", (s) => s.phase.kind === "calling" && s.phase.alerting);
    expect(b.journal.map((r) => r.event)).toEqual(["received", "rung"]);
    await sleep(1000); // let it ring
    b.phone.hook(true);
    await a.waitFor("talking", (s) => s.phase.kind === "talking");
    await b.waitFor("talking", (s) => s.phase.kind === "talking");
    await sleep(2000);
    b.phone.hook(false);
    await a.waitFor("hearing the far end hang up", (s) => s.phase.kind === "hungUp");
    a.phone.hook(false);
    await sleep(300);
    // What each earpiece played: the other phone's microphone tone.
    expectEachHeardTheOther();
    // B's ringer rang with the normal ring while A waited.
    const ring = analyse(lab.played("ringer"), 8000).find((s) => s.on);
    expect(ring?.freqs.map(Math.round)).toEqual([440, 480]);
    expect(a.journal.map((r) => r.event)).toEqual(["dialled", "answered", "ended"]);
  }, 30_000);
});

describe("our phones with call media on native threads", () => {
  it("hand the earpiece and microphone to the call's thread; audio flows both ways", async () => {
    // The thread opens devices by name through this process's ALSA configuration.
    process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
    const tone = (hz: number) => {
      const out = new Int16Array(8000 * 10);
      for (let i = 0; i < out.length; i++)
        out[i] = Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / 8000));
      return out;
    };
    lab.feed("mic", tone(1000));
    lab.feed("mic2", tone(600));
    // A lets ordinary calls wait while it talks (the call-waiting tone plays over the call).
    const normal = DEFAULT_ALERT_CONFIG.classes.normal as AlertClass;
    const alertConfig = {
      ...DEFAULT_ALERT_CONFIG,
      classes: {
        ...DEFAULT_ALERT_CONFIG.classes,
        normal: { ...normal, whenBusy: "call-waiting" as const },
      },
    };
    const a = await startLabPhone(ex, "2003", {
      lab,
      earpiece: "earpiece",
      threadMicrophone: "mic",
      alertConfig,
    });
    const b = await startLabPhone(ex, "2004", {
      lab,
      earpiece: "earpiece2",
      threadMicrophone: "mic2",
    });
    phones.push(a, b);
    a.phone.hook(true);
    for (const k of "2004#") a.phone.key(k as "2");
    await b.waitFor("ringing", (s) => s.phase.kind === "ringing");
    b.phone.hook(true);
    const talking = await a.waitFor("talking", (s) => s.phase.kind === "talking");
    await b.waitFor("talking", (s) => s.phase.kind === "talking");
    await sleep(1000);
    // A priority call waits: its tone (440 Hz, 300 ms) is mixed over the call on A's earpiece.
    const waiting = await runSipp({
      xml: cancelScenario({
        from: "3010",
        to: "2003",
        afterMs: 800,
        headers: ["Priority: urgent"],
      }),
      target: `${ex.host}:${ex.udpPort}`,
    });
    expect(waiting.code, waiting.errors).toBe(0);
    await sleep(1000);
    const callId = talking.phase.kind === "talking" ? talking.phase.call.id : "";
    const media = a.agent.media(callId);
    const stats = media?.stats();
    b.phone.hook(false);
    await a.waitFor("hearing the far end hang up", (s) => s.phase.kind === "hungUp");
    a.phone.hook(false);
    await sleep(300);
    expectEachHeardTheOther();
    expect(stats && "devices" in stats, "the call ran on a media thread").toBe(true);
    // 100 ms windows of A's earpiece: B's 600 Hz throughout, the waiting tone's 440 Hz in three.
    const x = lab.played("earpiece");
    const windows: string[] = [];
    for (let i = 0; i + 800 <= x.length; i += 800)
      windows.push(frequenciesIn(x, i, 800, 8000).map(Math.round).join("+"));
    expect(windows.filter((w) => w === "440+600").length, windows.join(" ")).toBeGreaterThanOrEqual(
      2,
    );
    expect(windows.filter((w) => w.includes("440")).length, windows.join(" ")).toBeLessThanOrEqual(
      4,
    );
    expect([...a.logs, ...b.logs].filter((l) => l.startsWith("error"))).toEqual([]);
  }, 30_000);
});
