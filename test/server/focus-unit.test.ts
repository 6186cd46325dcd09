/** The focus's systemd unit: `systemd-analyze verify` passes, and it runs the focus as documented. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "deskphone-focus-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const unit = readFileSync("systemd/deskphone-focus.service", "utf8");

/** verify needs the ExecStart binary to exist: point it at this checkout's. */
function verify(text: string) {
  const file = join(dir, "deskphone-focus.service");
  writeFileSync(
    file,
    text.replaceAll("/usr/bin/deskphone-exchange", resolve("bin/deskphone-exchange.mjs")),
  );
  return spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" });
}

describe("systemd/deskphone-focus.service", () => {
  it("passes systemd-analyze verify", () => {
    const r = verify(unit);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  it("the check fails on a broken unit (the test can fail)", () => {
    const r = verify(unit.replace("Restart=always", "Restart=whenever"));
    expect(`${r.stdout}${r.stderr}`).toMatch(/restart specifier.*whenever/);
  });

  it("runs `deskphone-exchange focus` with its server and password credential, restarted, hardened", () => {
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/deskphone-exchange focus --server \$\{FOCUS_SERVER\} --password-file \$\{CREDENTIALS_DIRECTORY\}\/password \$FOCUS_ARGS$/m,
    );
    for (const line of [
      "EnvironmentFile=/etc/deskphone/focus.env",
      "LoadCredential=password:/etc/deskphone/focus.password",
      "Restart=always",
      "DynamicUser=yes",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "PrivateDevices=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
  });

  it("the options the unit passes are the focus's own (a wrong one is refused with usage, exit 2)", () => {
    const pw = join(dir, "password");
    writeFileSync(pw, "secret\n");
    const help = spawnSync(process.execPath, ["bin/deskphone-exchange.mjs", "focus", "--help"], {
      encoding: "utf8",
    });
    expect(help.status).toBe(0);
    for (const o of ["--server", "--password-file", "--ca-file", "--rtp-ports"]) {
      expect(help.stdout).toContain(o);
    }
    const bad = spawnSync(
      process.execPath,
      ["bin/deskphone-exchange.mjs", "focus", "--server", "ws://127.0.0.1:9", "--bogus"],
      { encoding: "utf8" },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown argument --bogus/);
    const noServer = spawnSync(
      process.execPath,
      ["bin/deskphone-exchange.mjs", "focus", "--password-file", pw],
      { encoding: "utf8" },
    );
    expect(noServer.status).toBe(2);
    expect(noServer.stderr).toMatch(/--server .* is required/);
  });
});
