/**
 * native/system from JavaScript: sd_notify(3) sent by the phone's own process
 * and glibc's malloc_trim(0). Loaded once, on first use; when the part was
 * not built (no compiler at install), `nativeSystem()` is undefined and
 * `nativeSystemMissing()` says why, so each caller can fall back and log it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

export interface NativeSystem {
  /** One datagram on $NOTIFY_SOCKET (a path, or "@name": abstract); throws with .code = errno name. */
  notify(socket: string, message: string): void;
  /** glibc malloc_trim(0): true when memory was given back to the kernel. */
  trimHeap(): boolean;
}

let loaded: NativeSystem | undefined;
let missing: string | undefined;

export function nativeSystem(): NativeSystem | undefined {
  if (loaded || missing) return loaded;
  const require = createRequire(import.meta.url);
  // From the sources (firmware/app/) or from a bundle one level down (build/).
  const paths = [
    "../../native/system/build/Release/system.node",
    "../native/system/build/Release/system.node",
  ];
  const path = paths.find((p) => existsSync(new URL(p, import.meta.url)));
  try {
    loaded = require(path ?? (paths[0] as string)) as NativeSystem;
  } catch (e) {
    missing = `native/system is not built (${(e as Error).message.split("\n")[0]}); run "npm rebuild" or "node scripts/build-native.mjs" with build-essential installed`;
  }
  return loaded;
}

/** Why native/system could not be loaded; undefined when it is (or has not been tried). */
export function nativeSystemMissing(): string | undefined {
  nativeSystem();
  return missing;
}

/**
 * Gives freed heap memory back to the kernel (glibc malloc_trim(0)).
 * true: some was released; false: nothing to give back; undefined: native/system is not built.
 */
export function trimHeap(): boolean | undefined {
  return nativeSystem()?.trimHeap();
}
