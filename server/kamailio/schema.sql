-- deskphone lab exchange database (SQLite), read by Kamailio's sqlops and
-- auth_db modules. Created by server/kamailio/create-db.sh.

-- An emergency routing number. `alert_info` is the full Alert-Info header
-- value the exchange adds (RFC 3261 §20.4); `enabled` = 0 routes the number
-- as an ordinary call again without deleting its bindings.
CREATE TABLE IF NOT EXISTS emergency_number (
  number      TEXT PRIMARY KEY NOT NULL CHECK (number GLOB '[0-9*#+]*' AND length(number) BETWEEN 1 AND 32),
  alert_info  TEXT NOT NULL DEFAULT '<http://deskphone.invalid/alert/emergency>;info=alert-emergency',
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  description TEXT NOT NULL DEFAULT ''
);

-- The users (phones) an emergency number rings. Several rows for one number
-- fork the call to all of them in parallel.
CREATE TABLE IF NOT EXISTS emergency_binding (
  number   TEXT NOT NULL REFERENCES emergency_number(number) ON DELETE CASCADE,
  username TEXT NOT NULL,
  PRIMARY KEY (number, username)
);

-- Kamailio's auth_db subscriber table (only used with WITH_AUTH).
CREATE TABLE IF NOT EXISTS subscriber (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL DEFAULT '',
  domain   TEXT NOT NULL DEFAULT '',
  password TEXT NOT NULL DEFAULT '',
  ha1      TEXT NOT NULL DEFAULT '',
  ha1b     TEXT NOT NULL DEFAULT '',
  UNIQUE (username, domain)
);

-- Kamailio checks table versions before using a table.
CREATE TABLE IF NOT EXISTS version (
  table_name    TEXT PRIMARY KEY NOT NULL,
  table_version INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO version (table_name, table_version) VALUES ('subscriber', 7);
