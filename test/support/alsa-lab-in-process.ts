/**
 * The ALSA lab (test/support/alsa-lab.ts) for one test file whose own process
 * opens devices through alsa-lib (native/alsa-pcm, native/call-media): made
 * before the file's tests, ALSA_CONFIG_PATH pointed at its configuration while
 * they run, and put back and cleaned up after them.
 */
import { afterAll, beforeAll } from "vitest";
import { type AlsaLab, alsaLab } from "./alsa-lab.ts";

/** The file's lab, once its tests run. */
export function alsaLabInProcess(options: Parameters<typeof alsaLab>[0] = {}): () => AlsaLab {
  let lab: AlsaLab | undefined;
  let saved: string | undefined;
  beforeAll(() => {
    lab = alsaLab(options);
    saved = process.env.ALSA_CONFIG_PATH;
    process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ALSA_CONFIG_PATH;
    else process.env.ALSA_CONFIG_PATH = saved;
    lab?.cleanup();
  });
  return () => {
    if (!lab) throw new Error("the ALSA lab is made before the file's tests run");
    return lab;
  };
}
