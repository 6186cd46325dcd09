/**
 * `npm run reliability`: faults, a flood with an emergency inside, malformed
 * input, a soak and the emergency accounting — bounded in count and time,
 * loopback only. One file at a time (the flood and the soak measure), and a
 * ledger table at the end (docs/reliability.md).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

const ledger =
  process.env.RELIABILITY_LEDGER ??
  join(mkdtempSync(join(tmpdir(), "deskphone-reliability-")), "ledger.jsonl");
process.env.RELIABILITY_LEDGER = ledger;

export default defineConfig({
  test: {
    include: ["test/reliability/**/*.reliability.ts"],
    // bin/*.mjs run build/: compiled from the sources before the tests (docs/build.md).
    globalSetup: ["./test/support/build-setup.ts"],
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    env: { RELIABILITY_LEDGER: ledger },
    reporters: [
      "default",
      "./test/support/summary-reporter.ts",
      "./test/reliability/table-reporter.ts",
    ],
  },
});
