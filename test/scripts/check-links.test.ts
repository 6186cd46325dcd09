/**
 * scripts/check-links.ts on small trees: each kind of dangling reference is
 * caught where it is, and what does exist (or is not a reference) is not.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { anchorsOf, checkLinks } from "../../scripts/check-links.ts";

let root: string;
function tree(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), "deskphone-links-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => rmSync(root, { recursive: true, force: true }));

const GOOD: Record<string, string> = {
  "README.md": "# Phone\n\nSee [install](docs/install.md#on-a-pi) and `firmware/app/phone.ts`.\n",
  "docs/install.md":
    "# Install\n\n## On a Pi\n\n[back](../README.md), [here](#install), [web](https://example.invalid/x.md).\n" +
    "Built in `native/*/build/`; the unit is `systemd/deskphone.service`; `firmware/app/**/*.ts`.\n",
  "firmware/app/phone.ts":
    '// The rules: docs/install.md.\nconst p = "docs/not-a-comment.md";\nexport default p;\n',
  "native/pcm/build/x.node": "",
  "scripts/build.sh": "#!/bin/sh\n# Builds native/pcm (see docs/install.md).\n",
  "systemd/deskphone.service": "# See docs/install.md.\n[Service]\nExecStart=/usr/bin/deskphone\n",
};

const found = (files: Record<string, string>, pending = {}) =>
  checkLinks(tree(files), pending).map((d) => `${d.file}:${d.line} ${d.target}`);

describe("link check", () => {
  it("passes a tree whose links, anchors, paths and globs all exist", () => {
    expect(found(GOOD)).toEqual([]);
  });

  it("catches a Markdown link to a missing file, and one to a missing heading", () => {
    expect(
      found({
        ...GOOD,
        "docs/bench.md": "# Bench\n\n[gone](gone.md) and\n[nowhere](install.md#on-a-mac).\n",
      }),
    ).toEqual(["docs/bench.md:3 gone.md", "docs/bench.md:4 install.md#on-a-mac"]);
  });

  it("catches a path in a doc's prose, a code comment and a unit file", () => {
    expect(
      found({
        ...GOOD,
        "docs/bench.md": "# Bench\n\nRun `scripts/bench.sh` first.\n",
        "firmware/app/phone.ts": "/**\n * As firmware/app/gone.ts does.\n */\nexport {};\n",
        "systemd/deskphone.service": "# Installed by scripts/install-pi.sh.\n[Service]\n",
      }),
    ).toEqual([
      "docs/bench.md:3 scripts/bench.sh",
      "firmware/app/phone.ts:2 firmware/app/gone.ts",
      "systemd/deskphone.service:1 scripts/install-pi.sh",
    ]);
  });

  it("catches a Markdown file cited by bare name that is nowhere, and a path out of the tree", () => {
    expect(
      found({
        ...GOOD,
        "firmware/app/steps.ts": "// The steps of ARCHITECTURE.md; see ../../../design/notes.md.\n",
      }),
    ).toEqual([
      "firmware/app/steps.ts:1 ../../../design/notes.md",
      "firmware/app/steps.ts:1 ARCHITECTURE.md",
    ]);
  });

  it("reads comments only: not a path in a string, a template or a regex literal", () => {
    const code = [
      'const a = "see /* docs/gone.md";',
      "const b = `// firmware/gone.ts`;",
      "const c = /\\/\\/ firmware\\/gone.ts/.test(a) ? 1 : 2 / 3; // firmware/x.ts",
      "/* docs/gone2.md */ export { b, c };",
    ].join("\n");
    expect(found({ ...GOOD, "firmware/app/s.ts": code })).toEqual([
      "firmware/app/s.ts:3 firmware/x.ts",
      "firmware/app/s.ts:4 docs/gone2.md",
    ]);
  });

  it("catches a glob that matches nothing", () => {
    expect(found({ ...GOOD, "docs/bench.md": "# Bench\n\nSee `native/*/out/`.\n" })).toEqual([
      "docs/bench.md:3 native/*/out/",
    ]);
  });

  it("lets a pending file be named until it exists, then asks for its entry to go", () => {
    const cites = { ...GOOD, "docs/bench.md": "# Bench\n\nSee docs/later.md.\n" };
    expect(found(cites, { "docs/later.md": "someone writes it" })).toEqual([]);
    expect(found({ ...cites, "docs/later.md": "# Later\n" }, { "docs/later.md": "x" })).toEqual([
      "scripts/check-links.ts:0 docs/later.md",
    ]);
  });

  it("makes heading anchors as GitHub does", () => {
    expect([...anchorsOf("# Call media CPU\n## `bench:ring` (fast)\n## Call media CPU\n")]).toEqual(
      ["call-media-cpu", "benchring-fast", "call-media-cpu-1"],
    );
  });
});
