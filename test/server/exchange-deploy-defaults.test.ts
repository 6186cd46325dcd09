/**
 * What an exchange started from deskphone-exchange.cfg as it is gets, read
 * from Kamailio's own preprocessor (kamailio --cfg-print): digest auth is on
 * unless WITHOUT_AUTH is given (the lab passes it; test/server/exchange-auth.test.ts
 * shows what WITH_AUTH does), SQLite unless WITH_POSTGRES, no cluster unless WITH_DMQ.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { KAMAILIO_CFG } from "../../server/kamailio/lab-exchange.ts";

/** The configuration as Kamailio reads it with these defines: its module lines. */
function modules(...defines: string[]): string[] {
  const text = execFileSync(
    "kamailio",
    ["-f", KAMAILIO_CFG, "--cfg-print", ...defines.flatMap((d) => ["-A", d])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  return [...text.matchAll(/^loadmodule "([a-z_]+)\.so"/gm)].map((m) => m[1] ?? "");
}

describe("deskphone-exchange.cfg defaults outside the lab", () => {
  it("challenges with digest auth by default, and not with WITHOUT_AUTH", () => {
    expect(modules()).toEqual(expect.arrayContaining(["auth", "auth_db"]));
    expect(modules("WITH_AUTH")).toEqual(expect.arrayContaining(["auth", "auth_db"]));
    expect(modules("WITHOUT_AUTH")).not.toContain("auth_db");
  });

  it("keeps the table in SQLite by default; WITH_POSTGRES reads it through db_postgres", () => {
    expect(modules()).toContain("db_sqlite");
    expect(modules()).not.toContain("db_postgres");
    expect(modules("WITH_POSTGRES")).toContain("db_postgres");
    expect(modules("WITH_POSTGRES")).not.toContain("db_sqlite");
  });

  it("is one node of a cluster only with WITH_DMQ", () => {
    expect(modules()).not.toContain("dmq");
    expect(modules("WITH_DMQ")).toEqual(expect.arrayContaining(["dmq", "dmq_usrloc", "path"]));
  });
});
