/**
 * The emergency table in a SQLite file (server/kamailio/schema.sql), edited
 * through the `sqlite3` command so that Kamailio, which reads it on every
 * INVITE, sees each change at once. The sqlite3 shell has no bound
 * parameters: values are quoted as SQL literals (a quote doubled; SQLite gives
 * backslashes no meaning), and they were checked by EmergencyTable before.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type EmergencyNumber,
  EmergencyTableError,
  type NumberChange,
  numberOfRow,
  type TableStore,
} from "./table-store.ts";

// A literal path beside this module: the build rewrites it for build/ (scripts/build.mjs).
export const SQLITE_SCHEMA_FILE = fileURLToPath(new URL("../kamailio/schema.sql", import.meta.url));

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class SqliteStore implements TableStore {
  readonly kind = "sqlite";
  constructor(readonly where: string) {}

  /** sqlite:/// followed by the absolute path (four slashes in all). */
  get kamailioUrl(): string {
    return `sqlite:///${resolve(this.where)}`;
  }

  create(): void {
    this.sql(readFileSync(SQLITE_SCHEMA_FILE, "utf8"));
  }

  setNumber(number: string, change: NumberChange): void {
    const sets: string[] = [];
    if (change.alertInfo !== undefined) sets.push(`alert_info = ${q(change.alertInfo)}`);
    if (change.enabled !== undefined) sets.push(`enabled = ${change.enabled ? 1 : 0}`);
    if (change.description !== undefined) sets.push(`description = ${q(change.description)}`);
    this.sql(
      `INSERT OR IGNORE INTO emergency_number (number) VALUES (${q(number)});` +
        (sets.length
          ? `UPDATE emergency_number SET ${sets.join(", ")} WHERE number = ${q(number)};`
          : ""),
    );
  }

  removeNumber(number: string): void {
    this.sql(
      `DELETE FROM emergency_binding WHERE number = ${q(number)};` +
        `DELETE FROM emergency_number WHERE number = ${q(number)};`,
    );
  }

  bind(number: string, user: string): void {
    this.sql(
      `INSERT OR IGNORE INTO emergency_number (number) VALUES (${q(number)});` +
        `INSERT OR IGNORE INTO emergency_binding (number, username) VALUES (${q(number)}, ${q(user)});`,
    );
  }

  unbind(number: string, user: string): void {
    this.sql(
      `DELETE FROM emergency_binding WHERE number = ${q(number)} AND username = ${q(user)};`,
    );
  }

  list(): EmergencyNumber[] {
    const rows = this.json(
      "SELECT n.number, n.alert_info, n.enabled, n.description, " +
        "COALESCE((SELECT json_group_array(username) FROM " +
        "(SELECT username FROM emergency_binding b WHERE b.number = n.number ORDER BY username)), '[]') AS users " +
        "FROM emergency_number n ORDER BY n.number;",
    );
    return rows.map((r) => numberOfRow(r, JSON.parse(String(r.users)) as string[]));
  }

  setSubscriber(user: string, password: string): void {
    this.sql(
      `INSERT INTO subscriber (username, domain, password) VALUES (${q(user)}, '', ${q(password)}) ` +
        `ON CONFLICT (username, domain) DO UPDATE SET password = excluded.password;`,
    );
  }

  close(): void {}

  private sql(text: string): void {
    run(["-bail", this.where], text);
  }

  private json(text: string): Record<string, unknown>[] {
    const out = run(["-json", "-readonly", this.where], text).trim();
    return out ? (JSON.parse(out) as Record<string, unknown>[]) : [];
  }
}

function run(args: string[], input: string): string {
  try {
    return execFileSync("sqlite3", args, { input, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") {
      throw new EmergencyTableError("sqlite3 is not installed (apt-get install sqlite3)");
    }
    throw new EmergencyTableError(
      `sqlite3 ${args.at(-1)}: ${String(err.stderr ?? err.message).trim()}`,
    );
  }
}
