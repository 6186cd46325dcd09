/**
 * A project-local ALSA configuration for tests (ALSA_CONFIG_PATH; nothing
 * global is changed): playback PCMs that record exactly what was played into
 * files, and capture PCMs fed from files. They are backed by ALSA's `null`
 * PCM, so they take audio as fast as it comes: right for checking content,
 * blind to timing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PLAYBACK_DEVICES = ["ringer", "earpiece", "earpiece2"] as const;
export const CAPTURE_DEVICES = ["mic", "mic2"] as const;

export interface AlsaLab {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** What a playback device received, as 16-bit samples. */
  played(device: string): Int16Array;
  /** Sets what a capture device will deliver (it repeats the last period at the end). */
  feed(device: string, samples: Int16Array): void;
  cleanup(): void;
}

export function alsaLab(): AlsaLab {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-alsa-"));
  const conf = [
    "</usr/share/alsa/alsa.conf>",
    ...PLAYBACK_DEVICES.map(
      (d) => `pcm.${d} { type file slave.pcm "null" file "${join(dir, `${d}.raw`)}" format "raw" }`,
    ),
    ...CAPTURE_DEVICES.map(
      (d) =>
        `pcm.${d} { type file slave.pcm "null" file "/dev/null" infile "${join(dir, `${d}.raw`)}" format "raw" }`,
    ),
  ].join("\n");
  const path = join(dir, "asound.conf");
  writeFileSync(path, `${conf}\n`);
  for (const d of CAPTURE_DEVICES) writeFileSync(join(dir, `${d}.raw`), Buffer.alloc(320));
  return {
    dir,
    env: { ...process.env, ALSA_CONFIG_PATH: path },
    played(device) {
      let buf: Buffer;
      try {
        buf = readFileSync(join(dir, `${device}.raw`));
      } catch {
        return new Int16Array(0);
      }
      return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)));
    },
    feed(device, samples) {
      writeFileSync(
        join(dir, `${device}.raw`),
        Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength),
      );
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
