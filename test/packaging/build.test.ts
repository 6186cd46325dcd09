/**
 * build/ (scripts/build.mjs, docs/build.md) as bin/deskphone.mjs runs it: the
 * config's validators compiled at build time answer as ajv does from source,
 * no schema compiler is carried, and V8 takes the code cache made beside the
 * commands. vitest's globalSetup has just built it from these sources.
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import Module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../firmware/app/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "deskphone-build-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The commands bundle build/deskphone.mjs loads now. */
function commandsBundle(): string {
  const m = /deskphone-commands-[0-9a-f]+\.cjs/.exec(readFileSync("build/deskphone.mjs", "utf8"));
  if (!m) throw new Error("build/deskphone.mjs names no commands bundle");
  return join("build", m[0]);
}

const CONFIGS: Record<string, string> = {
  valid: 'account: { user: "2001" }\nexchange: { url: "ws://127.0.0.1:5066" }\n',
  wrong: [
    "account: { user: 2001, passwordFile: 3 }",
    'exchange: { url: "http://x", registerExpires: 5 }',
    "audio: { ringer: { device: hw, rate: 44100 }, earpiece: 5 }",
    "hal: { backend: foo }",
    "alerting: { classes: { x: { cadence: nope, led: { name: y } } }, rules: [{ class: z }] }",
    "journal: { path: [] }",
    "bogus: 1",
  ].join("\n"),
  alertingOnly: "account: { user: a }\nexchange: { url: wss://x }\nalerting: { country: mars }\n",
};

describe("the build", () => {
  it.each(Object.keys(CONFIGS))(
    "checks a config (%s) with the validators compiled at build time as ajv does from source",
    async (name) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, CONFIGS[name] as string);
      let fromSource = "";
      const code = await main(["check-config", "--config", file], {
        out: (s) => {
          fromSource += s;
        },
        err: (s) => {
          fromSource += s;
        },
      });
      const built = spawnSync(
        process.execPath,
        ["bin/deskphone.mjs", "check-config", "--config", file],
        { encoding: "utf8" },
      );
      expect(built.stdout + built.stderr).toBe(fromSource);
      expect(built.status).toBe(code);
    },
  );

  it("carries no schema compiler: the phone does not compile its schemas when it starts", () => {
    const bundle = readFileSync(commandsBundle(), "utf8");
    expect(bundle).toContain("// node_modules/yaml/"); // the markers are there to find
    expect(bundle).not.toMatch(/^\/\/ node_modules\/ajv\/dist\/compile\//m);
  });

  it("writes ASCII only, so V8 holds each bundle's source one byte a character", () => {
    const bundles = [commandsBundle(), "build/deskphone.mjs"];
    for (const file of bundles) {
      const text = readFileSync(file, "utf8");
      const at = text.search(/[\u0080-\uffff]/);
      expect(at < 0 ? "" : `${file}: ${JSON.stringify(text.slice(at - 40, at + 40))}`).toBe("");
    }
  });

  it("makes a code cache V8 takes", () => {
    const file = join(process.cwd(), commandsBundle());
    const script = new vm.Script(Module.wrap(readFileSync(file, "utf8")), {
      filename: file,
      cachedData: readFileSync(`${file}.cache`),
    });
    expect(script.cachedDataRejected).toBe(false);
  });

  it("removes an earlier build's bundles once old and unnamed, and keeps what an entry names", async () => {
    const out = join(dir, "stale");
    mkdirSync(out);
    const hourAgo = new Date(Date.now() - 2 * 3_600_000);
    const plant = (name: string, text: string, old = true) => {
      writeFileSync(join(out, name), text);
      if (old) utimesSync(join(out, name), hourAgo, hourAgo);
    };
    // An entry this build leaves alone (built by another --only), and what it names.
    plant("deskphone.mjs", 'load("deskphone-commands-aaaaaaaaaaaa.cjs", "chunk-KEEP.mjs");');
    plant("deskphone-commands-aaaaaaaaaaaa.cjs", "named");
    plant("deskphone-commands-aaaaaaaaaaaa.cjs.cache", "named");
    plant("chunk-KEEP.mjs", "named");
    plant("deskphone-commands-bbbbbbbbbbbb.cjs", "old, unnamed");
    plant("deskphone-commands-bbbbbbbbbbbb.cjs.cache", "old, unnamed");
    plant("chunk-OLD.mjs", "old, unnamed");
    plant("deskphone-commands-cccccccccccc.cjs", "new, unnamed: another run's", false);
    const script = "../../scripts/build.mjs"; // plain JavaScript: typed here
    const { build } = (await import(script)) as {
      build(o: { quiet: boolean; outdir: string; only: string[] }): Promise<unknown>;
    };
    await build({ quiet: true, outdir: out, only: ["deskphone-demo"] });
    expect(readdirSync(out).sort()).toEqual([
      "chunk-KEEP.mjs",
      "deskphone-commands-aaaaaaaaaaaa.cjs",
      "deskphone-commands-aaaaaaaaaaaa.cjs.cache",
      "deskphone-commands-cccccccccccc.cjs",
      "deskphone-demo.mjs",
      "deskphone.mjs",
    ]);
    expect(existsSync(join(out, "chunk-OLD.mjs"))).toBe(false);
  });
});
