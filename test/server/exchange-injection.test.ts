/**
 * The injection corpus (injection-suite.ts) through a lab exchange that reads
 * its table from SQLite, the embedded default.
 */
import { execFileSync } from "node:child_process";
import { injectionSuite } from "./injection-suite.ts";

injectionSuite({
  name: "SQLite",
  start: async () => undefined,
  async rawSql(ex, sql) {
    // The sqlite3 command, not the EmergencyTable API, which would refuse these values.
    execFileSync("sqlite3", ["-bail", ex.table.path], { input: sql.sqlite });
  },
  stop: async () => {},
});
