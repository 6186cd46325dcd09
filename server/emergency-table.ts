/**
 * The exchange's emergency routing table (server/kamailio/schema.sql), kept
 * in SQLite and edited through the `sqlite3` command so that Kamailio, which
 * reads it on every INVITE, sees each change at once.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), "kamailio", "schema.sql");

/** What the exchange adds to an emergency INVITE unless a number says otherwise. */
export const DEFAULT_EMERGENCY_ALERT_INFO =
  "<http://deskphone.invalid/alert/emergency>;info=alert-emergency";

export interface EmergencyNumber {
  number: string;
  alertInfo: string;
  enabled: boolean;
  description: string;
  users: string[];
}

const NUMBER = /^[0-9*#+]{1,32}$/;
const USER = /^[A-Za-z0-9._~-]{1,64}$/;

export class EmergencyTableError extends Error {}

function checkNumber(number: string): void {
  if (!NUMBER.test(number)) {
    throw new EmergencyTableError(`emergency number "${number}": use 1-32 of 0-9 * # +`);
  }
}
function checkUser(user: string): void {
  if (!USER.test(user)) {
    throw new EmergencyTableError(`user "${user}": use 1-64 of A-Z a-z 0-9 . _ ~ -`);
  }
}
/** The longest Alert-Info value the exchange writes (the cfg checks the same on use). */
export const ALERT_INFO_MAX = 256;
const ALERT_INFO = /^[\x20-\x7e]+$/;

/**
 * An Alert-Info value goes into a SIP header (RFC 3261 §20.4): one line of
 * printable ASCII (no CR, LF or other control characters that could end the
 * header and start another), at most ALERT_INFO_MAX characters.
 * deskphone-exchange.cfg applies the same rule again when it reads the value.
 */
export function checkAlertInfo(value: string): void {
  if (value.length === 0 || value.length > ALERT_INFO_MAX || !ALERT_INFO.test(value)) {
    throw new EmergencyTableError(
      `Alert-Info value: 1-${ALERT_INFO_MAX} printable ASCII characters on one line`,
    );
  }
}
const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class EmergencyTable {
  constructor(readonly path: string) {}

  /** Creates the database, or adds what the schema has and it lacks. */
  create(): void {
    this.sql(readFileSync(SCHEMA_FILE, "utf8"));
  }

  /** Adds or changes a number; fields left out keep their value (or the default). */
  setNumber(
    number: string,
    opts: { alertInfo?: string; enabled?: boolean; description?: string } = {},
  ): void {
    checkNumber(number);
    if (opts.alertInfo !== undefined) checkAlertInfo(opts.alertInfo);
    const sets: string[] = [];
    if (opts.alertInfo !== undefined) sets.push(`alert_info = ${q(opts.alertInfo)}`);
    if (opts.enabled !== undefined) sets.push(`enabled = ${opts.enabled ? 1 : 0}`);
    if (opts.description !== undefined) sets.push(`description = ${q(opts.description)}`);
    this.sql(
      `INSERT OR IGNORE INTO emergency_number (number) VALUES (${q(number)});` +
        (sets.length
          ? `UPDATE emergency_number SET ${sets.join(", ")} WHERE number = ${q(number)};`
          : ""),
    );
  }

  removeNumber(number: string): void {
    checkNumber(number);
    this.sql(
      `DELETE FROM emergency_binding WHERE number = ${q(number)};` +
        `DELETE FROM emergency_number WHERE number = ${q(number)};`,
    );
  }

  /** Binds a user to a number, creating the number with defaults if it is new. */
  bind(number: string, user: string): void {
    checkNumber(number);
    checkUser(user);
    this.sql(
      `INSERT OR IGNORE INTO emergency_number (number) VALUES (${q(number)});` +
        `INSERT OR IGNORE INTO emergency_binding (number, username) VALUES (${q(number)}, ${q(user)});`,
    );
  }

  unbind(number: string, user: string): void {
    checkNumber(number);
    checkUser(user);
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
    return rows.map((r) => ({
      number: String(r.number),
      alertInfo: String(r.alert_info),
      enabled: r.enabled === 1,
      description: String(r.description),
      users: JSON.parse(String(r.users)) as string[],
    }));
  }

  /** Adds or changes a SIP account for digest auth (Kamailio auth_db, plain password). */
  setSubscriber(user: string, password: string): void {
    checkUser(user);
    if (!/^[\x20-\x7e]{1,128}$/.test(password)) {
      throw new EmergencyTableError("password: 1-128 printable ASCII characters");
    }
    this.sql(
      `INSERT INTO subscriber (username, domain, password) VALUES (${q(user)}, '', ${q(password)}) ` +
        `ON CONFLICT (username, domain) DO UPDATE SET password = excluded.password;`,
    );
  }

  private sql(text: string): void {
    run(["-bail", this.path], text);
  }

  private json(text: string): Record<string, unknown>[] {
    const out = run(["-json", "-readonly", this.path], text).trim();
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
