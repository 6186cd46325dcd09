/**
 * The reliability suite's ledger: each probe records what was tried, how many
 * times, what survived and what was lost, with its figures. The rows go to one
 * JSON-lines file named by RELIABILITY_LEDGER (set by vitest.reliability.config.ts),
 * and the suite's reporter prints them as one table at the end.
 */
import { appendFileSync } from "node:fs";

export interface LedgerRow {
  /** faults, flood, malformed, soak, accounting */
  area: string;
  /** What was tried, in a few words. */
  probe: string;
  tried: number;
  survived: number;
  /** What was lost (0 is the goal), with what it was. */
  lost: number;
  /** Figures worth keeping: "re-registered in 0.6 s", "RSS 80 → 95 → 82 MB". */
  figures?: string;
}

export function record(row: LedgerRow): void {
  const path = process.env.RELIABILITY_LEDGER;
  if (!path) return; // run outside the suite (a single file under plain vitest)
  appendFileSync(path, `${JSON.stringify(row)}\n`);
}

/** A row's figures, then what failed when anything did. */
export const withFailures = (figures: string, failures: readonly string[]): string =>
  failures.length ? `${figures}; failed: ${failures.join(" / ")}` : figures;

/** A row for `tried` attempts, each failure in `failures` one lost. */
export function recordAttempts(
  area: string,
  probe: string,
  tried: number,
  failures: readonly string[],
  figures: string,
): void {
  record({
    area,
    probe,
    tried,
    survived: tried - failures.length,
    lost: failures.length,
    figures: withFailures(figures, failures),
  });
}
