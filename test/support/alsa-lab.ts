/**
 * A project-local ALSA configuration for tests (ALSA_CONFIG_PATH; nothing
 * global is changed): playback PCMs that record exactly what was played into
 * files, and capture PCMs fed from files. They are backed by ALSA's `null`
 * PCM, so they take audio as fast as it comes: right for checking content,
 * blind to timing.
 *
 * With `{ exclusive: true }` it also has devices that are exclusive like real
 * hardware (test/support/alsa-exclusive): a second open fails with EBUSY until
 * the first is closed, and they are paced by the clock like a card. Their log
 * (`deviceLog`) says when each was opened, refused, started and closed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXCLUSIVE_PCM_TYPE, exclusivePlugin } from "./alsa-exclusive/build.ts";

export const PLAYBACK_DEVICES = ["ringer", "earpiece", "earpiece2"] as const;
export const CAPTURE_DEVICES = ["mic", "mic2"] as const;
/** Exclusive like `hw`: the earpiece records what was played; the microphone plays what was fed, looped. */
export const EXCLUSIVE_PLAYBACK_DEVICES = ["hw-earpiece"] as const;
export const EXCLUSIVE_CAPTURE_DEVICES = ["hw-mic"] as const;

/** One line of an exclusive device's log; `atMs` is on process.hrtime's clock (CLOCK_MONOTONIC). */
export interface DeviceEvent {
  event: "open" | "busy" | "start" | "stop" | "close";
  atMs: number;
  /** start/stop: the frames recorded before this point (over every open). */
  frames?: number;
}

export interface AlsaLab {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** What a playback device received, as 16-bit samples. */
  played(device: string): Int16Array;
  /** Sets what a capture device will deliver (a file device repeats the last period at the end, an exclusive one loops). */
  feed(device: string, samples: Int16Array): void;
  /** What an exclusive device did: opens, refused opens (EBUSY), starts, stops, closes. */
  deviceLog(device: string): DeviceEvent[];
  /**
   * When the sample at `index` of an exclusive playback device's recording
   * was played (ms, process.hrtime's clock): the device plays at its rate from
   * each start, so this holds until the next stop.
   */
  playedAt(device: string, index: number, rate?: number): number | undefined;
  cleanup(): void;
}

export function alsaLab(
  o: {
    exclusive?: boolean;
    /** How long closing an exclusive device takes (a device that takes its time to let go). */
    exclusiveCloseMs?: number;
  } = {},
): AlsaLab {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-alsa-"));
  const exclusive = o.exclusive
    ? [
        `pcm_type.${EXCLUSIVE_PCM_TYPE} { lib "${exclusivePlugin()}" }`,
        ...[...EXCLUSIVE_PLAYBACK_DEVICES, ...EXCLUSIVE_CAPTURE_DEVICES].map(
          (d) =>
            `pcm.${d} { type ${EXCLUSIVE_PCM_TYPE} lock "${join(dir, `${d}.lock`)}" file "${join(dir, `${d}.raw`)}" log "${join(dir, `${d}.log`)}" close_ms ${Math.round(o.exclusiveCloseMs ?? 0)} }`,
        ),
      ]
    : [];
  const deviceLog = (device: string): DeviceEvent[] => {
    let text = "";
    try {
      text = readFileSync(join(dir, `${device}.log`), "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [event, ns, frames] = line.split(" ");
        return {
          event: event as DeviceEvent["event"],
          atMs: Number(BigInt(ns ?? "0")) / 1e6,
          ...(frames !== undefined && { frames: Number(frames) }),
        };
      });
  };
  const conf = [
    "</usr/share/alsa/alsa.conf>",
    ...exclusive,
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
    deviceLog,
    playedAt(device, index, rate = 8000) {
      const start = deviceLog(device)
        .filter((e) => e.event === "start" && (e.frames ?? 0) <= index)
        .at(-1);
      return start ? start.atMs + ((index - (start.frames ?? 0)) / rate) * 1000 : undefined;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
