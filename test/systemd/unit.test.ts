/** The systemd unit: `systemd-analyze verify` passes, and the settings the firmware relies on are there. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "deskphone-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const unit = readFileSync("systemd/deskphone.service", "utf8");

/** verify needs the ExecStart binary to exist: point it at this checkout's. */
function verify(text: string) {
  const file = join(dir, "deskphone.service");
  writeFileSync(file, text.replaceAll("/usr/bin/deskphone", resolve("bin/deskphone.mjs")));
  return spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" });
}

describe("systemd/deskphone.service", () => {
  it("passes systemd-analyze verify", () => {
    const r = verify(unit);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  it("the check fails on a broken unit (the test can fail)", () => {
    const r = verify(
      unit.replace("Type=notify", "Tpye=notify").replace("Restart=on-failure", "Restart=sometimes"),
    );
    expect(`${r.stdout}${r.stderr}`).toMatch(/Unknown key( name)? 'Tpye'/);
  });

  it("is a watched notify service with a dedicated user, hardened", () => {
    for (const line of [
      "Type=notify",
      "NotifyAccess=main",
      "Restart=on-failure",
      "User=deskphone",
      "SupplementaryGroups=gpio i2c audio",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "DevicePolicy=closed",
      "DeviceAllow=char-gpiochip rw",
      "DeviceAllow=char-i2c rw",
      "DeviceAllow=char-alsa rw",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(unit).toMatch(/^WatchdogSec=\d+$/m);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/deskphone run --config \/etc\/deskphone\/config\.yaml$/m,
    );
  });
});
