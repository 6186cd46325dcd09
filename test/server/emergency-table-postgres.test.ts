/**
 * The emergency table and the admin command on PostgreSQL (a private cluster,
 * test/support/lab-postgres.ts): the same checks on write as with SQLite, and
 * values made to break SQL (quotes, comments, backslashes, a second statement)
 * stored as the text they are — the statements are parameterised.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../server/cli.ts";
import {
  DEFAULT_EMERGENCY_ALERT_INFO,
  EmergencyTable,
  EmergencyTableError,
} from "../../server/emergency-table.ts";
import { type LabPostgres, startLabPostgres } from "../support/lab-postgres.ts";

let pg: LabPostgres;
let url: string;
let table: EmergencyTable;

beforeAll(async () => {
  pg = await startLabPostgres();
  url = await pg.createDatabase("exchange");
  expect(await main(["create-db", "--db", url])).toBe(0);
  table = new EmergencyTable(url);
}, 60_000);
afterAll(async () => {
  table?.close();
  await pg?.stop();
});

/** Printable one-line values a careless query builder would run as SQL. */
const HOSTILE = [
  "x'); DROP TABLE emergency_number; --",
  "x' OR '1'='1",
  "\\'; DELETE FROM emergency_binding; --",
  "$1 $2 $$ $$; SELECT 1; $$",
  "<http://x.invalid/a>;info=alert-emergency' /* */ --",
];

describe("emergency table on PostgreSQL (private cluster, pg client)", () => {
  it("binds, lists and unbinds through the admin command and the API alike", async () => {
    expect(await main(["bind", "--db", url, "112", "2001"])).toBe(0);
    table.bind("112", "2002");
    table.bind("*99#", "2003");
    expect(await main(["number", "--db", url, "112", "--description", "Reception"])).toBe(0);
    expect(table.list()).toEqual([
      {
        number: "*99#",
        alertInfo: DEFAULT_EMERGENCY_ALERT_INFO,
        enabled: true,
        description: "",
        users: ["2003"],
      },
      {
        number: "112",
        alertInfo: DEFAULT_EMERGENCY_ALERT_INFO,
        enabled: true,
        description: "Reception",
        users: ["2001", "2002"],
      },
    ]);
    table.unbind("112", "2001");
    table.setNumber("112", { enabled: false });
    const n = table.list().find((x) => x.number === "112");
    expect(n?.users).toEqual(["2002"]);
    expect(n?.enabled).toBe(false);
    table.removeNumber("112");
    expect(table.list().map((x) => x.number)).toEqual(["*99#"]);
    // What Kamailio reads: the rows themselves.
    expect(await pg.query("exchange", "SELECT count(*)::int AS n FROM emergency_binding")).toEqual([
      { n: 1 },
    ]);
  });

  it.each(HOSTILE)("stores the Alert-Info and description %j as text", (value) => {
    table.setNumber("113", { alertInfo: value, description: value });
    const n = table.list().find((x) => x.number === "113");
    expect(n?.alertInfo).toBe(value);
    expect(n?.description).toBe(value);
    // Every table is still there, with its rows.
    expect(table.list().map((x) => x.number)).toEqual(["*99#", "113"]);
  });

  it("a password made to break SQL is stored as text too", async () => {
    table.setSubscriber("2001", "p'); DROP TABLE subscriber; --");
    expect(
      await pg.query("exchange", "SELECT password FROM subscriber WHERE username = $1", ["2001"]),
    ).toEqual([{ password: "p'); DROP TABLE subscriber; --" }]);
  });

  it.each(["112'", "x'/**/OR/**/1=1/**/--", "1".repeat(33), "", "%31"])(
    "refuses the number %j before any SQL",
    (number) => {
      expect(() => table.bind(number, "2001")).toThrow(EmergencyTableError);
    },
  );

  it("refuses a bad Alert-Info through the admin command and leaves the row as it was", async () => {
    table.setNumber("114", { alertInfo: "<urn:alert:priority:high>" });
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      for (const bad of ["a\r\nPriority: emergency", "a\nb", "\0", "", "é"]) {
        expect(await main(["number", "--db", url, "114", "--alert-info", bad])).toBe(1);
      }
      expect(String(err.mock.calls[0]?.[0])).toMatch(/Alert-Info value: 1-256 printable ASCII/);
    } finally {
      err.mockRestore();
    }
    expect(table.list().find((x) => x.number === "114")?.alertInfo).toBe(
      "<urn:alert:priority:high>",
    );
  });

  it("a wrong password or a database that is not there is a clear error, exit code 1", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const wrong = url.replace(/:[0-9a-f]+@/, ":wrong@");
      expect(await main(["list", "--db", wrong])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(
        /deskphone-exchange: postgres postgres:\/\/deskphone:\*\*\*@.*password authentication failed/,
      );
      expect(await main(["list", "--db", "mysql://x@y/z"])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/use sqlite:PATH or postgres:\/\//);
    } finally {
      err.mockRestore();
    }
  });
});
