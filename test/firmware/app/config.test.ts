import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../../firmware/app/config.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const deskphone = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["bin/deskphone.mjs", ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe("configuration", () => {
  it("fills documented defaults around the two required sections", () => {
    const r = validateConfig({
      account: { user: "2001" },
      exchange: { url: "wss://pbx.example.com:8443" },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.audio.ringer).toEqual({ device: "default", rate: 48000 });
    expect(r.config.audio.rtpPorts).toEqual([16384, 32766]);
    expect(r.config.journal.path).toBe("/var/lib/deskphone/journal.jsonl");
    expect(r.config.alerting.classes.emergency?.whenBusy).toBe("preempt");
    expect(r.config.phone.interDigitMs).toBe(4000);
  });

  it("names the path and the reason of every problem", () => {
    const r = validateConfig({
      account: { user: "bad user!", colour: 1 },
      exchange: { url: "http://pbx" },
      audio: { ringer: { device: "hw:0", rate: 44100 }, rtpPorts: [5000, 4000] },
      alerting: { classes: { emergency: { whenBusy: "never" } } },
      phone: { interDigitMs: 5 },
      extra: true,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        "account.user",
        "account.colour",
        "exchange.url",
        "audio.ringer.rate",
        "audio.rtpPorts",
        "alerting.classes.emergency.whenBusy",
        "phone.interDigitMs",
        "extra",
      ]),
    );
  });

  it("check-config: a broken file gets path-and-reason lines and exit 2; a good one exit 0", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "account:\n  user: '2001'\nexchange:\n  url: ftp://x\n");
    const r = deskphone("check-config", "--config", bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}: exchange.url: expected a ws:// or wss:// URL`);
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "account: [\n");
    expect(deskphone("check-config", "--config", broken)).toMatchObject({ code: 2 });
    expect(deskphone("check-config", "--config", join(dir, "none.yaml")).err).toMatch(
      /cannot read .*ENOENT/,
    );
    const good = join(dir, "good.yaml");
    writeFileSync(good, "account:\n  user: '2001'\nexchange:\n  url: wss://pbx.example.com:8443\n");
    const ok = deskphone("check-config", "--config", good);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain("valid (user 2001 on wss://pbx.example.com:8443)");
  });

  it("warns when the file holding the SIP password is readable by others", () => {
    const f = join(dir, "pw.yaml");
    writeFileSync(
      f,
      "account:\n  user: '2001'\n  password: s3cret\nexchange:\n  url: wss://pbx:8443\n",
    );
    chmodSync(f, 0o644);
    expect(deskphone("check-config", "--config", f).err).toContain("readable by others");
    chmodSync(f, 0o600);
    expect(deskphone("check-config", "--config", f).err).not.toContain("readable by others");
    const pwFile = join(dir, "password");
    writeFileSync(pwFile, "s3cret\n");
    chmodSync(pwFile, 0o644);
    const r = validateConfig({
      account: { user: "2001", passwordFile: pwFile },
      exchange: { url: "wss://pbx:8443" },
    });
    expect(r.ok && r.config.account.password).toBe("s3cret");
    expect(r.warnings.join()).toContain("readable by others");
  });
});

describe("the JSON Schema for editors and the example config", () => {
  it("is written from config-schema.ts, and the example config validates against it", async () => {
    const { readFileSync } = await import("node:fs");
    const { parse } = await import("yaml");
    const { Ajv2020 } = await import("ajv/dist/2020.js");
    const { CONFIG_SCHEMA } = await import("../../../firmware/app/config-schema.ts");
    const schema = JSON.parse(readFileSync("firmware/app/config.schema.json", "utf8"));
    expect(schema, "stale: run npx tsx scripts/write-config-schema.ts").toEqual(
      JSON.parse(JSON.stringify(CONFIG_SCHEMA)),
    );
    const example = parse(readFileSync("packaging/config.example.yaml", "utf8"));
    delete example.account.passwordFile; // the installer writes that file
    const r = validateConfig(example);
    expect(r.ok, JSON.stringify(r.ok ? [] : r.errors)).toBe(true);
    // As an editor sees it: a stock validator that knows none of our annotations.
    const editor = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    expect(editor(example), JSON.stringify(editor.errors)).toBe(true);
    expect(editor({ ...example, exchange: { url: "ftp://pbx" } })).toBe(false);
  });
});
