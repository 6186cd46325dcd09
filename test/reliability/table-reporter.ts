/**
 * Prints the reliability ledger (test/reliability/ledger.ts) as one Markdown
 * table after the run, the form docs/reliability.md keeps; with
 * RELIABILITY_WRITE=path it also writes the table there.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Reporter } from "vitest/node";
import type { LedgerRow } from "./ledger.ts";

export function ledgerTable(rows: readonly LedgerRow[]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    "| area | probe | tried | survived | lost | figures |",
    "|---|---|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${esc(r.area)} | ${esc(r.probe)} | ${r.tried} | ${r.survived} | ${r.lost} | ${esc(r.figures ?? "")} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

export default class LedgerReporter implements Reporter {
  onTestRunEnd(): void {
    const path = process.env.RELIABILITY_LEDGER;
    if (!path || !existsSync(path)) return;
    const rows = readFileSync(path, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LedgerRow);
    const order = ["faults", "flood", "malformed", "soak", "accounting"];
    rows.sort((a, b) => order.indexOf(a.area) - order.indexOf(b.area));
    const table = ledgerTable(rows);
    const lost = rows.reduce((n, r) => n + r.lost, 0);
    process.stdout.write(`\nreliability ledger (${rows.length} probes, ${lost} lost):\n\n${table}`);
    const out = process.env.RELIABILITY_WRITE;
    if (out) writeFileSync(out, table);
  }
}
