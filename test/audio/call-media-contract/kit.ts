/**
 * What every case of the call-media contract suite shares: the
 * implementations under test, one project-local ALSA lab (the earpiece
 * records what it played, the microphone plays what it was fed), tones and
 * the JavaScript far end's ear.
 */
import { afterAll, expect } from "vitest";
import type { CallMedia, CallMediaOptions } from "../../../audio/call-media.ts";
import { CallMediaThread, nativeCallMedia } from "../../../audio/call-media-thread.ts";
import { RtpSession } from "../../../audio/rtp-session.ts";
import { ToneSource } from "../../../audio/tone-source.ts";
import { alsaLab } from "../../support/alsa-lab.ts";
import { toneReport } from "../../support/tone-analyser.ts";

export interface Implementation {
  name: string;
  open(o: CallMediaOptions): Promise<CallMedia>;
  /** Why its cases are skipped, if they are. */
  skip?: string;
}

export const IMPLEMENTATIONS: Implementation[] = [
  {
    name: "the native media thread (CallMediaThread)",
    open: (o) => CallMediaThread.open(o),
    ...(!nativeCallMedia() && {
      skip: "skipped: native/call-media is not built (needs libasound2-dev; node scripts/build-native.mjs)",
    }),
  },
  { name: "the JavaScript fallback (RtpSession)", open: (o) => RtpSession.open(o) },
];

export const lab = alsaLab({ exclusive: true });
/**
 * The microphone: an exclusive device paced like a sound card, looping what
 * it was fed (test/support/alsa-exclusive). A file device would deliver as
 * fast as it is read, which arecord (RtpSession) does flat out.
 */
export const MIC = "hw-mic";
// Both open the devices by name through this process's ALSA configuration
// (the thread through alsa-lib here, RtpSession through aplay/arecord it spawns).
process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
afterAll(() => lab.cleanup());

export const opts = {
  localAddress: "127.0.0.1",
  portRange: [20000, 29998] as [number, number],
};
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const tone = (hz: number) =>
  new ToneSource({ segments: [{ ms: 1000, freqs: [hz], levelDb: -10 }], repeat: true });

export function toneSamples(hz: number, seconds: number): Int16Array {
  const out = new Int16Array(8000 * seconds);
  tone(hz).read(out);
  return out;
}

/** Closes the media and waits until it has let go of everything. */
export async function closeMedia(m: CallMedia): Promise<void> {
  m.close();
  await m.closed;
}

/** Asserts a steady tone of `hz` for more than `minMs`, nothing off frequency, no gap. */
export function expectTone(samples: Int16Array, hz: number, minMs: number): void {
  const r = toneReport(samples, 8000, hz);
  expect(r.soundMs, r.trace).toBeGreaterThan(minMs);
  expect(r.offFrequency, r.trace).toEqual([]);
  expect(r.gaps, r.trace).toEqual([]);
}

/** What a JavaScript far end plays, a frame pulled every 20 ms. */
export function listen(s: RtpSession): { heard: () => Int16Array; stop: () => void } {
  const frames: Int16Array[] = [];
  const t = setInterval(() => {
    const f = new Int16Array(160);
    s.read(f);
    frames.push(f);
  }, 20);
  return {
    heard: () => {
      const out = new Int16Array(frames.length * 160);
      frames.forEach((f, i) => {
        out.set(f, i * 160);
      });
      return out;
    },
    stop: () => clearInterval(t),
  };
}
