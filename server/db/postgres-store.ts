/**
 * The emergency table in PostgreSQL (server/db/postgres-schema.sql), the
 * database several exchange nodes share; Kamailio reads it through its own
 * db_postgres module. Every statement that carries a value is parameterised
 * ($1, $2 …): values travel apart from the SQL text.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PostgresLink, redact } from "./postgres-link.ts";
import {
  type EmergencyNumber,
  EmergencyTableError,
  type NumberChange,
  numberOfRow,
  type TableStore,
} from "./table-store.ts";

// A literal path beside this module: the build rewrites it for build/ (scripts/build.mjs).
export const POSTGRES_SCHEMA_FILE = fileURLToPath(
  new URL("./postgres-schema.sql", import.meta.url),
);

/**
 * What Kamailio's db_postgres takes: postgres://USER[:PASSWORD]@HOST[:PORT]/DB,
 * nothing after the database name. Kamailio splits the URL itself, so a
 * password with '@', ':' or '/' cannot be written into it.
 */
const KAMAILIO_URL = /^postgres(?:ql)?:\/\/[^:@/\s]+(?::[^:@/\s]*)?@[^@/\s?]+\/[A-Za-z0-9_-]+$/;

export class PostgresStore implements TableStore {
  readonly kind = "postgres";
  private readonly link: PostgresLink;

  constructor(readonly where: string) {
    if (!KAMAILIO_URL.test(where)) {
      throw new EmergencyTableError(
        `database URL ${redact(where)}: use postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME ` +
          "(no '@', ':' or '/' in the password, no options after the name: Kamailio reads it too)",
      );
    }
    this.link = new PostgresLink(where);
  }

  get kamailioUrl(): string {
    return this.where.replace(/^postgresql:/, "postgres:");
  }

  create(): void {
    // Our own file, no values in it: sent as one simple query.
    this.link.query(readFileSync(POSTGRES_SCHEMA_FILE, "utf8"));
  }

  setNumber(number: string, change: NumberChange): void {
    this.link.query(
      "INSERT INTO emergency_number (number) VALUES ($1) ON CONFLICT (number) DO NOTHING",
      [number],
    );
    if (change.alertInfo !== undefined) {
      this.link.query("UPDATE emergency_number SET alert_info = $2 WHERE number = $1", [
        number,
        change.alertInfo,
      ]);
    }
    if (change.enabled !== undefined) {
      this.link.query("UPDATE emergency_number SET enabled = $2 WHERE number = $1", [
        number,
        change.enabled ? 1 : 0,
      ]);
    }
    if (change.description !== undefined) {
      this.link.query("UPDATE emergency_number SET description = $2 WHERE number = $1", [
        number,
        change.description,
      ]);
    }
  }

  removeNumber(number: string): void {
    this.link.query("DELETE FROM emergency_binding WHERE number = $1", [number]);
    this.link.query("DELETE FROM emergency_number WHERE number = $1", [number]);
  }

  bind(number: string, user: string): void {
    this.link.query(
      "INSERT INTO emergency_number (number) VALUES ($1) ON CONFLICT (number) DO NOTHING",
      [number],
    );
    this.link.query(
      "INSERT INTO emergency_binding (number, username) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [number, user],
    );
  }

  unbind(number: string, user: string): void {
    this.link.query("DELETE FROM emergency_binding WHERE number = $1 AND username = $2", [
      number,
      user,
    ]);
  }

  list(): EmergencyNumber[] {
    const rows = this.link.query(
      "SELECT n.number, n.alert_info, n.enabled, n.description, " +
        'COALESCE((SELECT json_agg(b.username ORDER BY b.username COLLATE "C") ' +
        "FROM emergency_binding b WHERE b.number = n.number), '[]'::json) AS users " +
        // Byte order, as SQLite lists them, whatever the cluster's locale.
        'FROM emergency_number n ORDER BY n.number COLLATE "C"',
      [],
    );
    return rows.map((r) => numberOfRow(r, (r.users as string[]).map(String)));
  }

  setSubscriber(user: string, password: string): void {
    this.link.query(
      "INSERT INTO subscriber (username, domain, password) VALUES ($1, '', $2) " +
        "ON CONFLICT (username, domain) DO UPDATE SET password = excluded.password",
      [user, password],
    );
  }

  close(): void {
    this.link.close();
  }
}
