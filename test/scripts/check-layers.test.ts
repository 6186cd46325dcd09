import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkLayers } from "../../scripts/check-layers.ts";

const roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "layers-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe("layer rules", () => {
  it("accepts imports that follow ARCHITECTURE.md", () => {
    const root = tree({
      "audio/tone.ts": 'import { x } from "./g711.ts";\nimport { createSocket } from "node:dgram";',
      "audio/g711.ts": "export const x = 1;",
      "sip/ua.ts": 'import { x } from "../audio/g711.ts";\nimport { UserAgent } from "sip.js";',
      "firmware/controller/reduce.ts": 'import type { AlertClass } from "../alerting/class.ts";',
      "firmware/alerting/class.ts": "export type AlertClass = string;",
      "firmware/app/main.ts": 'import "../../sip/ua.ts";\nimport "../../hal/hook.ts";',
      "hal/hook.ts": 'import { Gpio } from "onoff";',
      "server/focus.ts": 'import "../sip/ua.ts";\nimport "../audio/g711.ts";',
    });
    expect(checkLayers(root)).toEqual([]);
  });

  it.each([
    ["hal/hook.ts", 'import { ua } from "../sip/ua.ts";', "hal may not import sip"],
    ["audio/ring.ts", 'export { x } from "../hal/leds.ts";', "audio may not import hal"],
    ["sip/ua.ts", 'import "../firmware/controller/reduce.ts";', "sip may not import firmware"],
    ["firmware/alerting/parse.ts", 'import { readFileSync } from "node:fs";', "is pure"],
    ["firmware/controller/reduce.ts", 'import { EventEmitter } from "events";', "is pure"],
    ["firmware/controller/x.ts", 'import { UserAgent } from "sip.js";', "is pure"],
    ["firmware/controller/y.ts", 'const a = await import("../../audio/tone.ts");', "may not"],
    ["server/room.ts", 'import "../firmware/alerting/parse.ts";', "server may not import"],
    ["server/pins.ts", 'const h = require("../hal/hook.ts");', "server may not import hal"],
    [
      "sip/boot.ts",
      'import { run } from "../firmware/app/main.ts";',
      "nothing imports firmware/app",
    ],
    ["hal/ua.ts", 'import { UserAgent } from "sip.js";', "sip.js belongs to"],
  ])("rejects %s importing %s", (file, text, reason) => {
    const root = tree({ [file]: text });
    const violations = checkLayers(root);
    expect(violations).toHaveLength(1);
    expect(violations[0]?.file).toBe(file);
    expect(violations[0]?.reason).toContain(reason);
  });

  it("lets the pure layers take only types from the handset's contract, nothing else of hal/", () => {
    const ok = tree({
      "hal/contracts.ts": "export type LedPattern = { kind: 'off' };",
      "firmware/alerting/led.ts": 'import type { LedPattern } from "../../hal/contracts.ts";',
      "firmware/controller/out.ts":
        'import { type LedName, type LedPattern } from "../../hal/contracts.ts";\nexport type { LedPattern } from "../../hal/contracts.ts";',
    });
    expect(checkLayers(ok)).toEqual([]);
    const bad = tree({
      "firmware/alerting/led.ts": 'import { systemClock } from "../../hal/contracts.ts";',
      "firmware/controller/out.ts":
        'import { type Ms, systemClock } from "../../hal/contracts.ts";',
      "firmware/controller/gpio.ts": 'import type { Line } from "../../hal/gpio-handset.ts";',
    });
    expect(checkLayers(bad).map((v) => `${v.file}: ${v.reason}`)).toEqual([
      "firmware/alerting/led.ts: firmware/alerting may take only types from hal/contracts.ts (import type)",
      "firmware/controller/gpio.ts: firmware/controller may not import hal",
      "firmware/controller/out.ts: firmware/controller may take only types from hal/contracts.ts (import type)",
    ]);
  });

  it.each([
    [
      "two files",
      {
        "firmware/app/build-phone.ts": 'import type { PhoneConfig } from "./config.ts";',
        "firmware/app/config.ts": 'import { Handset } from "./build-phone.ts";',
      },
      "firmware/app/build-phone.ts",
      "import cycle: firmware/app/build-phone.ts → firmware/app/config.ts → firmware/app/build-phone.ts",
    ],
    [
      "three files, type-only imports, across layers",
      {
        "firmware/app/build-phone.ts": 'import type { PhoneConfig } from "./config.ts";',
        "firmware/app/config.ts":
          'import type {\n  HandsetConfig,\n} from "./handset-config.ts";\nexport const x = 1;',
        "firmware/app/handset-config.ts": 'export type { Handset } from "./build-phone.ts";',
        "sip/ua.ts": 'import "../audio/g711.ts";',
        "audio/g711.ts": "export const x = 1;",
      },
      "firmware/app/build-phone.ts",
      "import cycle: firmware/app/build-phone.ts → firmware/app/config.ts → firmware/app/handset-config.ts → firmware/app/build-phone.ts",
    ],
    [
      "a file importing itself, without an extension",
      { "audio/mixer.ts": 'import type { Mixer } from "./mixer";' },
      "audio/mixer.ts",
      "import cycle: audio/mixer.ts → audio/mixer.ts",
    ],
    [
      "a dynamic import and a require",
      {
        "sip/a.ts": 'const b = await import("./b.ts");',
        "sip/b.ts": 'const a = require("./a.ts");',
      },
      "sip/a.ts",
      "import cycle: sip/a.ts → sip/b.ts → sip/a.ts",
    ],
  ])("rejects an import cycle: %s", (_name, files, file, reason) => {
    const violations = checkLayers(tree(files));
    expect(violations).toHaveLength(1);
    expect(violations[0]?.file).toBe(file);
    expect(violations[0]?.line).toBe(1);
    expect(violations[0]?.reason).toBe(reason);
  });

  it("a cycle is reported once, through its shortest circle; files that only reach it are not in it", () => {
    const root = tree({
      "sip/agent.ts": 'import "./calls.ts";\nimport "./verbs.ts";',
      "sip/calls.ts": 'import "./verbs.ts";',
      "sip/verbs.ts": 'import "./agent.ts";\nimport "./sdp.ts";',
      "sip/sdp.ts": "export {};",
      "firmware/app/main.ts": 'import "../../sip/agent.ts";',
    });
    expect(checkLayers(root).map((v) => v.reason)).toEqual([
      "import cycle: sip/agent.ts → sip/verbs.ts → sip/agent.ts",
    ]);
  });

  it("the command fails on a violating tree and passes on this repository", () => {
    const bad = tree({ "hal/keypad.ts": 'import "../audio/tone.ts";' });
    const circle = tree({
      "sip/a.ts": 'import type { B } from "./b.ts";',
      "sip/b.ts": 'import type { A } from "./a.ts";',
    });
    const run = (root: string) => {
      try {
        execFileSync("npx", ["tsx", "scripts/check-layers.ts", root], { stdio: "pipe" });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect(run(bad)).toBe(1);
    expect(run(circle)).toBe(1);
    expect(run(process.cwd())).toBe(0);
  });
});
