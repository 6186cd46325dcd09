/** The in-process ALSA playback (native/alsa-pcm): content through a real ALSA PCM, failures reported once. */
import { describe, expect, it } from "vitest";
import { AlsaNativePlayback, nativePcm } from "../../audio/alsa-native.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import { CADENCES, type Cadence } from "../../firmware/alerting/cadences.ts";
import { alsaLabInProcess } from "../support/alsa-lab-in-process.ts";
import { analyse } from "../support/tone-analyser.ts";

const lab = alsaLabInProcess();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("native/alsa-pcm", () => {
  it("is built (libasound2-dev is in scripts/install-debian-deps.sh)", () => {
    expect(nativePcm()).toBeDefined();
  });

  it("plays the emergency cadence through a real ALSA PCM, recovered by analysis", async () => {
    const p = new AlsaNativePlayback({ device: "ringer", rate: 8000 });
    const errors: Error[] = [];
    p.on("error", (e) => errors.push(e));
    p.play(new ToneSource(CADENCES.emergency as Cadence));
    expect(p.looping).toBe(true); // rendered once, played by the addon's thread
    await sleep(600);
    await p.close();
    expect(errors).toEqual([]);
    // The first 600 ms: the analyser mis-splits this warble at some recording
    // lengths (5760–6080 samples and 8160–8480 of the ToneSource's own output),
    // and the recording's length follows the clock.
    const heard = analyse(lab().played("ringer").subarray(0, 4800), 8000).filter((s) => s.on);
    expect(heard.slice(0, 4).map((s) => s.freqs.map(Math.round))).toEqual([
      [1400],
      [950],
      [1400],
      [950],
    ]);
    for (const s of heard.slice(0, 3)) expect(Math.abs(s.ms - 150)).toBeLessThanOrEqual(10);
  });

  it("a device that fails to open gives one clear error and keeps trying quietly", async () => {
    const p = new AlsaNativePlayback({ device: "no_such_ringer" });
    const errors: Error[] = [];
    p.on("error", (e) => errors.push(e));
    p.play(new ToneSource(CADENCES["ring-us"] as Cadence));
    await sleep(1200);
    await p.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(
      /ALSA device "no_such_ringer" failed: no_such_ringer: No such file or directory/,
    );
  });
});
