/** The `deskphone` commands as processes: --help everywhere, ring-test through ALSA, log. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Journal } from "../../../firmware/app/journal.ts";
import { alsaLab } from "../../support/alsa-lab.ts";
import { analyse } from "../../support/tone-analyser.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-cli-"));
const lab = alsaLab();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  lab.cleanup();
});
const deskphone = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(process.execPath, ["bin/deskphone.mjs", ...args], { encoding: "utf8", env });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe("deskphone", () => {
  it.each(["run", "bench", "check-config", "ring-test", "log", "classify-alert", "sip-probe"])(
    "%s --help exits 0 with a usage",
    (cmd) => {
      const r = deskphone([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage: deskphone /);
    },
  );

  it("ring-test plays a class's cadence on the configured ringer and shows its LED pattern", () => {
    const config = join(dir, "ring.yaml");
    writeFileSync(
      config,
      stringify({
        account: { user: "2001" },
        exchange: { url: "ws://127.0.0.1:1" },
        audio: { ringer: { device: "ringer", rate: 8000 } },
      }),
      { mode: 0o600 },
    );
    const r = deskphone(["ring-test", "emergency", "--config", config, "--seconds", "2"], lab.env);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("ring-test emergency: cadence emergency, level full");
    expect(r.out).toContain("led emergency on");
    expect(r.out).toContain("led emergency off");
    const heard = analyse(lab.played("ringer"), 8000).filter((s) => s.on);
    expect(heard.slice(0, 2).map((s) => s.freqs.map(Math.round))).toEqual([[1400], [950]]);
    expect(deskphone(["ring-test", "nonsense", "--config", config]).err).toContain(
      'no alert class "nonsense"',
    );
  });

  it("ring-test reports a missing sound card once and fails", () => {
    const config = join(dir, "nocard.yaml");
    writeFileSync(
      config,
      stringify({
        account: { user: "2001" },
        exchange: { url: "ws://127.0.0.1:1" },
        audio: { ringer: "no_such_card" },
      }),
      { mode: 0o600 },
    );
    const r = deskphone(["ring-test", "normal", "--config", config, "--seconds", "1"], lab.env);
    expect(r.code).toBe(1);
    expect(r.err.match(/ALSA device "no_such_card" failed/g)).toHaveLength(1);
  });

  it("log prints the journal, readable or as JSON lines", () => {
    const path = join(dir, "j.jsonl");
    const j = new Journal(path);
    j.append({
      at: 1,
      event: "missed",
      callId: "in-x-1",
      remote: "3001",
      alertClass: "emergency",
      emergency: true,
      outcome: true,
      reason: "cancel",
    });
    j.close();
    const r = deskphone(["log", "--journal", path]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/missed\s+in-x-1 3001 \[emergency\] EMERGENCY — cancel/);
    expect(JSON.parse(deskphone(["log", "--journal", path, "--json"]).out)).toMatchObject({
      event: "missed",
    });
    expect(deskphone(["log", "--journal", join(dir, "none")]).code).toBe(2);
  });
});
