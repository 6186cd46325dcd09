/**
 * The injection corpus (injection-suite.ts) through a lab exchange that reads
 * its table from PostgreSQL (db_postgres, a private cluster): the same query
 * text, another SQL dialect — a quote, a backslash or a comment must not get
 * into it either.
 */
import { type LabPostgres, startLabPostgres } from "../support/lab-postgres.ts";
import { injectionSuite } from "./injection-suite.ts";

let pg: LabPostgres | undefined;

injectionSuite({
  name: "PostgreSQL",
  async start() {
    pg = await startLabPostgres();
    return pg.createDatabase("exchange");
  },
  async rawSql(_ex, sql) {
    // Straight into the database, not through the EmergencyTable API, which would refuse these values.
    await pg?.query("exchange", sql.postgres);
  },
  stop: async () => {
    await pg?.stop();
  },
});
