/**
 * The phone's configuration as tests and benchmarks write it (docs/configuration.md):
 * the audio sections a lab phone runs with, and the document written to a file or
 * validated the way `deskphone run` does it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { type PhoneConfig, validateConfig } from "../../firmware/app/config.ts";

/** No sound card: every device is ALSA's null PCM at the device's default rate. */
export const NULL_AUDIO = { ringer: "null", earpiece: "null", microphone: "null" } as const;

/**
 * The null PCM at `rate` with the JS audio paths (no media thread, no native
 * ringer): the phone's own SIP and call logic and nothing of a sound card's.
 */
export const nullAudioAt = (rate: number) => ({
  ringer: { device: "null", rate },
  earpiece: { device: "null", rate },
  microphone: { device: "null", rate },
  callMediaThread: false,
  nativeRinger: false,
});

/** The lab's ALSA file devices (test/support/alsa-lab.ts), the ringer at `ringerRate`. */
export const labAudio = (ringerRate: number) => ({
  ringer: { device: "ringer", rate: ringerRate },
  earpiece: "earpiece",
  microphone: "mic",
});

/**
 * The production shape's audio: the native media thread on the lab's exclusive
 * earpiece and microphone at 8 kHz (alsaLab({ exclusive: true })), the ringer at 48 kHz.
 */
export const EXCLUSIVE_AUDIO = {
  ringer: { device: "ringer", rate: 48000 },
  earpiece: { device: "hw-earpiece", rate: 8000 },
  microphone: { device: "hw-mic", rate: 8000 },
  callMediaThread: true,
} as const;

/**
 * The smallest document a phone runs with: `user` on the exchange at `url`, no
 * sound card, its journal in `dir`; `more` adds or replaces sections.
 */
export const minimalConfig = (
  user: string,
  url: string,
  dir: string,
  more: Record<string, unknown> = {},
) => ({
  account: { user },
  exchange: { url },
  audio: NULL_AUDIO,
  journal: { path: join(dir, "journal.jsonl") },
  ...more,
});

/** Writes `doc` as YAML to `file`, readable by its owner only (it may hold a password). */
export function writeConfig(file: string, doc: unknown): string {
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}

/** `doc` validated as `deskphone run` does; a test's own mistake in it throws. */
export function validConfig(doc: unknown): PhoneConfig {
  const c = validateConfig(doc);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return c.config;
}
