-- deskphone exchange database on PostgreSQL: the same tables as
-- server/kamailio/schema.sql (SQLite), read by Kamailio's sqlops and auth_db
-- through db_postgres. Created (or brought up to date) by
-- `deskphone-exchange create-db postgres://…`. Registrations are not here:
-- the nodes keep them in memory and replicate them (dmq_usrloc).

-- An emergency routing number. `alert_info` is the full Alert-Info header
-- value the exchange adds (RFC 3261 §20.4); `enabled` = 0 routes the number
-- as an ordinary call again without deleting its bindings.
CREATE TABLE IF NOT EXISTS emergency_number (
  number      TEXT PRIMARY KEY NOT NULL CHECK (number ~ '^[0-9*#+]{1,32}$'),
  alert_info  TEXT NOT NULL DEFAULT '<http://deskphone.invalid/alert/emergency>;info=alert-emergency',
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  description TEXT NOT NULL DEFAULT ''
);

-- The users (phones) an emergency number rings.
CREATE TABLE IF NOT EXISTS emergency_binding (
  number   TEXT NOT NULL REFERENCES emergency_number(number) ON DELETE CASCADE,
  username TEXT NOT NULL,
  PRIMARY KEY (number, username)
);

-- Kamailio's auth_db subscriber table (digest auth).
CREATE TABLE IF NOT EXISTS subscriber (
  id       SERIAL PRIMARY KEY,
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain   VARCHAR(64) NOT NULL DEFAULT '',
  password VARCHAR(128) NOT NULL DEFAULT '',
  ha1      VARCHAR(128) NOT NULL DEFAULT '',
  ha1b     VARCHAR(128) NOT NULL DEFAULT '',
  UNIQUE (username, domain)
);

-- Kamailio checks table versions before using a table.
CREATE TABLE IF NOT EXISTS version (
  table_name    VARCHAR(32) PRIMARY KEY NOT NULL,
  table_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO version (table_name, table_version) VALUES ('subscriber', 7)
  ON CONFLICT (table_name) DO NOTHING;
