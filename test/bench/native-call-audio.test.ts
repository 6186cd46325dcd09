/** The bench's in-process call audio (bench/native-call-audio.ts, native/alsa-pcm) through real ALSA PCMs. */
import { describe, expect, it } from "vitest";
import { ToneSource } from "../../audio/tone-source.ts";
import { NativeCallAudio } from "../../bench/native-call-audio.ts";
import { alsaLabInProcess } from "../support/alsa-lab-in-process.ts";
import { analyse } from "../support/tone-analyser.ts";

const lab = alsaLabInProcess();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("NativeCallAudio", () => {
  it("reads the microphone and plays the earpiece on one clock", async () => {
    const fed = Int16Array.from({ length: 1600 }, (_, i) => ((i * 37) % 2000) - 1000);
    lab().feed("mic", fed);
    const audio = new NativeCallAudio({ earpiece: "earpiece", microphone: "mic" });
    const frames: Int16Array[] = [];
    audio.onMicFrame = (f) => frames.push(f);
    const errors: Error[] = [];
    audio.on("error", (e) => errors.push(e));
    audio.start(new ToneSource({ segments: [{ ms: 1000, freqs: [1000] }], repeat: true }));
    await sleep(400);
    audio.stop();
    expect(errors).toEqual([]);
    expect(frames[0]?.length).toBe(160);
    expect([...Int16Array.from(frames.slice(0, 10).flatMap((f) => [...f]))]).toEqual([...fed]);
    const heard = analyse(lab().played("earpiece"), 8000).find((s) => s.on);
    expect(heard?.freqs.map(Math.round)).toEqual([1000]);
  });

  it("reports a missing microphone once and still plays the earpiece", async () => {
    const audio = new NativeCallAudio({ earpiece: "earpiece2", microphone: "no_such_mic" });
    const errors: Error[] = [];
    audio.on("error", (e) => errors.push(e));
    audio.start(new ToneSource({ segments: [{ ms: 1000, freqs: [600] }], repeat: true }));
    await sleep(300);
    audio.stop();
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('ALSA device "no_such_mic" failed'),
    ]);
    expect(
      analyse(lab().played("earpiece2"), 8000)
        .find((s) => s.on)
        ?.freqs.map(Math.round),
    ).toEqual([600]);
  });
});
