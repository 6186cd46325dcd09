/**
 * What the exchange writes into a SIP header is checked when it is written:
 * the emergency table (server/emergency-table.ts) and the admin command
 * (server/cli.ts) refuse an Alert-Info value that is not one line of printable
 * ASCII of at most 256 characters, and a number outside 1-32 of 0-9 * # +.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../server/cli.ts";
import {
  ALERT_INFO_MAX,
  DEFAULT_EMERGENCY_ALERT_INFO,
  EmergencyTable,
  EmergencyTableError,
} from "../../server/emergency-table.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-table-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, "exchange.db");
const table = new EmergencyTable(db);
table.create();

const BAD_ALERT_INFO: [string, string][] = [
  ["CR LF and a second header", "<http://x.invalid/a>\r\nPriority: emergency"],
  ["a bare LF", "<http://x.invalid/a>\nX: 1"],
  ["a bare CR", "<http://x.invalid/a>\rX: 1"],
  ["NUL", "<http://x.invalid/a>\0"],
  ["a tab", "<http://x.invalid/a>\t;info=x"],
  ["DEL", "<http://x.invalid/a>\x7f"],
  ["non-ASCII", "<http://x.invalid/é>"],
  ["empty", ""],
  [
    "one character too long",
    `<http://x.invalid/${"a".repeat(ALERT_INFO_MAX)}>`.slice(0, ALERT_INFO_MAX + 1),
  ],
];

describe("emergency table: values bound for a SIP header are checked on write", () => {
  it.each(BAD_ALERT_INFO)("refuses an Alert-Info with %s", (_why, value) => {
    expect(() => table.setNumber("112", { alertInfo: value })).toThrow(EmergencyTableError);
  });

  it("keeps a value of exactly 256 printable characters, and the default", () => {
    const longest = `<http://x.invalid/${"a".repeat(ALERT_INFO_MAX - 19)}>`;
    expect(longest).toHaveLength(ALERT_INFO_MAX);
    table.setNumber("112", { alertInfo: longest });
    expect(table.list().find((n) => n.number === "112")?.alertInfo).toBe(longest);
    table.setNumber("113");
    expect(table.list().find((n) => n.number === "113")?.alertInfo).toBe(
      DEFAULT_EMERGENCY_ALERT_INFO,
    );
  });

  it.each(["", "1".repeat(33), "112'", "x'/**/OR/**/1=1/**/--", "112 ", "%31"])(
    "refuses the number %j",
    (number) => {
      expect(() => table.bind(number, "2001")).toThrow(EmergencyTableError);
    },
  );

  it("the admin command refuses a bad Alert-Info and leaves the table as it was", async () => {
    table.setNumber("114", { alertInfo: "<urn:alert:priority:high>" });
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      for (const [, value] of BAD_ALERT_INFO) {
        expect(await main(["number", db, "114", "--alert-info", value])).toBe(1);
      }
      expect(String(err.mock.calls[0]?.[0])).toMatch(/Alert-Info value: 1-256 printable ASCII/);
    } finally {
      err.mockRestore();
    }
    expect(table.list().find((n) => n.number === "114")?.alertInfo).toBe(
      "<urn:alert:priority:high>",
    );
  });
});
