/**
 * Prints one closing line, "N passed, N failed, N skipped", after vitest's
 * own summary, so CI logs state the count in a form any reader can parse.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const n = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") n.passed += 1;
        else if (state === "failed") n.failed += 1;
        else n.skipped += 1;
      }
      // A file that failed to load has no tests but is a failure.
      if (m.state() === "failed" && [...m.children.allTests()].length === 0) n.failed += 1;
    }
    process.stdout.write(`\n${n.passed} passed, ${n.failed} failed, ${n.skipped} skipped\n`);
  }
}
