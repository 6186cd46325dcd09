/**
 * The tests of the pure layers only (firmware/alerting, firmware/controller),
 * for the mutation run (stryker.config.json, docs/mutation.md): no exchange,
 * no sound card, one worker.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/firmware/alerting/**/*.test.ts", "test/firmware/controller/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 30_000,
  },
});
