/** Black-box tests of `deskphone classify-alert`, run as a process. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "classify-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deskphone(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/deskphone.mjs", ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("deskphone classify-alert", () => {
  it("prints class, precedence, cadence and busy policy for an emergency", () => {
    const r = deskphone(
      "classify-alert",
      "--alert-info",
      "<http://www.notused>;info=alert-emergency;x-line-id=0",
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      class: "emergency",
      precedence: 100,
      cadence: "emergency",
      busyPolicy: "preempt",
      ringLevel: "full",
      parsed: { alertInfo: [{ info: "alert-emergency", params: { "x-line-id": "0" } }] },
    });
  });

  it("takes repeated Alert-Info lines, Priority and Resource-Priority", () => {
    const r = deskphone(
      "classify-alert",
      "--alert-info",
      "<urn:alert:service:normal>",
      "--alert-info",
      "Bellcore-dr4",
      "--resource-priority",
      "dsn.routine",
    );
    expect(JSON.parse(r.out)).toMatchObject({
      class: "bellcore-dr4",
      cadence: "bellcore-dr4",
      busyPolicy: "busy",
    });
    expect(JSON.parse(deskphone("classify-alert", "--priority", "emergency").out).class).toBe(
      "emergency",
    );
    const rp = JSON.parse(deskphone("classify-alert", "--resource-priority", "dsn.flash").out);
    expect(rp).toMatchObject({ class: "precedence", parsed: { resourcePriority: [{ level: 3 }] } });
  });

  it("an untrusted emergency rings normally and says why", () => {
    const r = JSON.parse(deskphone("classify-alert", "--priority", "emergency", "--untrusted").out);
    expect(r).toMatchObject({
      class: "normal",
      untrustedIgnored: ["emergency"],
      cadence: "ring-us",
    });
  });

  it("uses the alerting section of a phone config file", () => {
    const file = join(dir, "config.yaml");
    writeFileSync(
      file,
      [
        "account: { user: '2001' }",
        "alerting:",
        "  country: de",
        "  classes:",
        "    vip: { cadence: bellcore-dr3, whenBusy: call-waiting, precedence: 5 }",
        "  rules:",
        "    - { class: vip, alertInfo: [vip] }",
        "    - { class: emergency, priority: [emergency] }",
      ].join("\n"),
    );
    expect(
      JSON.parse(deskphone("classify-alert", "--config", file, "--alert-info", "VIP").out),
    ).toMatchObject({
      class: "vip",
      busyPolicy: "call-waiting",
    });
    expect(JSON.parse(deskphone("classify-alert", "--config", file).out).cadence).toBe("ring-de");
  });

  it("rejects a bad config file with path and reason, exit 2", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "alerting:\n  classes:\n    emergency: { whenBusy: sometimes }\n");
    const r = deskphone("classify-alert", "--config", file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${file}: alerting.classes.emergency.whenBusy: expected one of preempt, call-waiting, busy`,
    );
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "alerting: [unclosed\n");
    expect(deskphone("classify-alert", "--config", broken)).toMatchObject({ code: 2 });
    expect(deskphone("classify-alert", "--config", join(dir, "missing.yaml")).err).toContain(
      "cannot read (ENOENT)",
    );
  });

  it("rejects unknown options with usage, exit 2; --help exits 0", () => {
    expect(deskphone("classify-alert", "--nope")).toMatchObject({ code: 2 });
    expect(deskphone("classify-alert", "--help")).toMatchObject({ code: 0 });
    expect(deskphone("frobnicate")).toMatchObject({ code: 2 });
    expect(deskphone("--version").out).toMatch(/^deskphone \d+\.\d+\.\d+/);
  });
});
