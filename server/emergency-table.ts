/**
 * The exchange's emergency routing table: the numbers, the users each one
 * rings, the SIP accounts. Every value is checked here, on write, with the rule
 * the Kamailio configuration applies again on use; the table itself lives in a
 * SQLite file (the embedded default, server/kamailio/schema.sql) or in
 * PostgreSQL (server/db/postgres-schema.sql), chosen by the database given:
 *
 *   /var/lib/deskphone/exchange.db         SQLite (a path)
 *   sqlite:/var/lib/deskphone/exchange.db  SQLite
 *   postgres://USER:PASSWORD@HOST:PORT/DB  PostgreSQL
 */
import { PostgresStore } from "./db/postgres-store.ts";
import { SQLITE_SCHEMA_FILE, SqliteStore } from "./db/sqlite-store.ts";
import {
  type EmergencyNumber,
  EmergencyTableError,
  type NumberChange,
  type TableStore,
} from "./db/table-store.ts";

export { type EmergencyNumber, EmergencyTableError };
export const SCHEMA_FILE = SQLITE_SCHEMA_FILE;

/** What the exchange adds to an emergency INVITE unless a number says otherwise. */
export const DEFAULT_EMERGENCY_ALERT_INFO =
  "<http://deskphone.invalid/alert/emergency>;info=alert-emergency";

const NUMBER = /^[0-9*#+]{1,32}$/;
const USER = /^[A-Za-z0-9._~-]{1,64}$/;

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
/** Opens the store a database string names (see the top of this file). */
export function openStore(database: string): TableStore {
  if (/^postgres(ql)?:\/\//.test(database)) return new PostgresStore(database);
  if (database.startsWith("sqlite:")) {
    const path = database.slice("sqlite:".length);
    if (!path) throw new EmergencyTableError("sqlite: the database path is missing");
    return new SqliteStore(path);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(database)) {
    throw new EmergencyTableError(
      `database "${database.split("//")[0]}//…": use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB`,
    );
  }
  return new SqliteStore(database);
}

export class EmergencyTable {
  private readonly store: TableStore;

  /** `database`: a SQLite path, sqlite:PATH or a postgres:// URL. */
  constructor(database: string) {
    this.store = openStore(database);
  }

  get kind(): "sqlite" | "postgres" {
    return this.store.kind;
  }
  /** The SQLite file's path, or the PostgreSQL URL, as given. */
  get path(): string {
    return this.store.where;
  }
  /** The database as Kamailio's db modules take it (the cfg's DBURL). */
  get kamailioUrl(): string {
    return this.store.kamailioUrl;
  }

  /** Creates the database, or adds what the schema has and it lacks. */
  create(): void {
    this.store.create();
  }

  /** Adds or changes a number; fields left out keep their value (or the default). */
  setNumber(number: string, opts: NumberChange = {}): void {
    checkNumber(number);
    if (opts.alertInfo !== undefined) checkAlertInfo(opts.alertInfo);
    this.store.setNumber(number, opts);
  }

  removeNumber(number: string): void {
    checkNumber(number);
    this.store.removeNumber(number);
  }

  /** Binds a user to a number, creating the number with defaults if it is new. */
  bind(number: string, user: string): void {
    checkNumber(number);
    checkUser(user);
    this.store.bind(number, user);
  }

  unbind(number: string, user: string): void {
    checkNumber(number);
    checkUser(user);
    this.store.unbind(number, user);
  }

  list(): EmergencyNumber[] {
    return this.store.list();
  }

  /** Adds or changes a SIP account for digest auth (Kamailio auth_db, plain password). */
  setSubscriber(user: string, password: string): void {
    checkUser(user);
    if (!/^[\x20-\x7e]{1,128}$/.test(password)) {
      throw new EmergencyTableError("password: 1-128 printable ASCII characters");
    }
    this.store.setSubscriber(user, password);
  }

  /** Lets go of the database connection (PostgreSQL); the table is unusable after. */
  close(): void {
    this.store.close();
  }
}
