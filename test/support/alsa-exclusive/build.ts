/**
 * Builds the test-only exclusive ALSA device (pcm_exclusive.c, an alsa-lib
 * external I/O plugin) with the system C compiler: `cc -shared -fPIC … -lasound`
 * (libasound2-dev). Cached in the temp directory, rebuilt when the source is
 * newer; built under a temporary name and renamed, so test files that run at
 * the same time never load a half-written library. No npm install step.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const EXCLUSIVE_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "pcm_exclusive.c");

/** The plugin's ALSA type name: `pcm_type.exclusive { lib "…" }`, `type exclusive`. */
export const EXCLUSIVE_PCM_TYPE = "exclusive";

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The absolute path of libasound_module_pcm_exclusive.so, built if needed. */
export function exclusivePlugin(): string {
  const dir = join(tmpdir(), `deskphone-alsa-exclusive-${process.getuid?.() ?? 0}`);
  const lib = join(dir, `libasound_module_pcm_${EXCLUSIVE_PCM_TYPE}.so`);
  if (mtime(lib) >= mtime(EXCLUSIVE_SOURCE)) return lib;
  mkdirSync(dir, { recursive: true });
  const partial = `${lib}.${process.pid}.tmp`;
  // -DPIC: alsa-lib's headers then make the plugin find its symbols by dlsym.
  execFileSync(
    "cc",
    ["-shared", "-fPIC", "-DPIC", "-O2", "-Wall", "-o", partial, EXCLUSIVE_SOURCE, "-lasound"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  renameSync(partial, lib);
  return lib;
}
