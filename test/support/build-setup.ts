/**
 * vitest globalSetup: compiles build/ (scripts/build.mjs) before any test
 * runs, so every test that spawns bin/*.mjs runs the compiled build of the
 * sources as they are now — never a stale one. Unchanged output is left
 * alone; a build takes about a second.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function buildBeforeTests(): void {
  const script = fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(
      `the build failed, no test can run the compiled phone:\n${r.stderr}${r.stdout}`,
    );
  }
}
