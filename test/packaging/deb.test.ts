/** `npm run deb` builds a package whose firmware runs, compiled, from its own files. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "deskphone-deb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the .deb", () => {
  it("holds the firmware, the unit and a conffile, and its deskphone runs", () => {
    const deb = execFileSync("bash", ["scripts/build-deb.sh"], { encoding: "utf8" }).trim();
    const contents = execFileSync("dpkg-deb", ["-c", deb], { encoding: "utf8" });
    for (const f of [
      "./usr/bin/deskphone",
      "./lib/systemd/system/deskphone.service",
      "./etc/deskphone/config.yaml",
      "./usr/lib/deskphone/build/deskphone.mjs",
    ]) {
      expect(contents).toContain(f);
    }
    // The commands' bundle with the code cache made for it (docs/build.md).
    expect(contents).toMatch(
      /\/usr\/lib\/deskphone\/build\/deskphone-commands-[0-9a-f]+\.cjs\.cache\n/,
    );
    // Compiled JavaScript only: no TypeScript source, no loader or compiler.
    const files = contents.split("\n").map((l) => l.split(/\s+/).pop() ?? "");
    expect(files.filter((f) => /\.[cm]?ts$/.test(f))).toEqual([]);
    for (const dev of ["vitest", "tsx", "esbuild", "typescript"]) {
      expect(contents).not.toContain(`node_modules/${dev}/`);
    }
    // Built for this machine's architecture: the native parts are in.
    expect(contents).toContain(
      "./usr/lib/deskphone/native/gpio-ioctl/build/Release/gpio_ioctl.node",
    );
    expect(contents).toContain("./usr/lib/deskphone/native/alsa-pcm/build/Release/alsa_pcm.node");
    expect(contents).toContain(
      "./usr/lib/deskphone/native/call-media/build/Release/call_media.node",
    );
    expect(execFileSync("dpkg-deb", ["-f", deb, "Depends"], { encoding: "utf8" })).toContain(
      "nodejs (>= 20.19)",
    );
    execFileSync("dpkg-deb", ["-x", deb, dir]);
    expect(readFileSync(join(dir, "usr/bin/deskphone"), "utf8")).toContain(
      "/usr/lib/deskphone/bin/deskphone.mjs",
    );
    const cli = join(dir, "usr/lib/deskphone/bin/deskphone.mjs");
    expect(execFileSync(process.execPath, [cli, "--version"], { encoding: "utf8" })).toMatch(
      /^deskphone 0\.\d+\.\d+/,
    );
    // The example config is complete but for the password file the installer writes.
    const r = spawnSync(
      process.execPath,
      [cli, "check-config", "--config", join(dir, "etc/deskphone/config.yaml")],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/account\.passwordFile: cannot read \/etc\/deskphone\/password/);
    expect(
      r.stderr.split("\n").filter((l) => l.includes(": ") && !l.includes("passwordFile")),
    ).toEqual([]);
  }, 300_000);
});
