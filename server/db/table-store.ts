/**
 * Where the exchange's emergency routing table lives: one contract, kept by
 * the SQLite file (the embedded default) and by PostgreSQL (shared by several
 * exchange nodes). EmergencyTable (../emergency-table.ts) checks every value
 * before it reaches a store; a store only writes and reads.
 *
 * Rules for a store:
 * - every method is synchronous and sees the writes made before it (Kamailio
 *   reads the table on every INVITE, so a change is live when the call returns);
 * - a failure throws EmergencyTableError with the database named (no password);
 * - setNumber creates the number with the schema's defaults, then changes only
 *   the fields given; removeNumber removes its bindings too;
 * - bind is idempotent; list is ordered by number, users by name.
 */

export class EmergencyTableError extends Error {}

export interface EmergencyNumber {
  number: string;
  alertInfo: string;
  enabled: boolean;
  description: string;
  users: string[];
}

/** An emergency_number row as a store reads it (enabled is 0 or 1), with its users. */
export function numberOfRow(r: Record<string, unknown>, users: string[]): EmergencyNumber {
  return {
    number: String(r.number),
    alertInfo: String(r.alert_info),
    enabled: r.enabled === 1,
    description: String(r.description),
    users,
  };
}

export interface NumberChange {
  alertInfo?: string;
  enabled?: boolean;
  description?: string;
}

export interface TableStore {
  readonly kind: "sqlite" | "postgres";
  /** The file path (SQLite) or the URL (PostgreSQL) as given. */
  readonly where: string;
  /** The database URL as Kamailio's db modules take it (DBURL). */
  readonly kamailioUrl: string;
  /** Creates the tables, or adds what the schema has and the database lacks. */
  create(): void;
  setNumber(number: string, change: NumberChange): void;
  removeNumber(number: string): void;
  bind(number: string, user: string): void;
  unbind(number: string, user: string): void;
  list(): EmergencyNumber[];
  setSubscriber(user: string, password: string): void;
  close(): void;
}
