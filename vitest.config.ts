import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // bin/*.mjs run build/: compiled from the sources before the tests (docs/build.md).
    globalSetup: ["./test/support/build-setup.ts"],
    // Tests that start a real Kamailio each get their own instance and
    // ports; two workers keep a 2-core machine responsive.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
