/**
 * vitest in the rig's guest: only the suites that need the kernel-simulated
 * hardware, one worker, none of the repository-wide setup (the guest runs
 * the TypeScript sources; the firmware itself is the installed .deb).
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/hal/kernel-sim.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
