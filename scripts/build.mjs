// Compiles the firmware and the lab tools from TypeScript into build/, which
// bin/*.mjs run with plain `node` (docs/build.md): one esbuild bundle per
// command, split so that what a command loads lazily (import()) is a chunk of
// its own. Run by `npm ci` / `npm install` after the native parts, by
// `npm run build`, and before every test run (test/support/build-setup.ts).
//
// A module that names a file beside it — createRequire(import.meta.url)("../native/…node")
// or new URL("…/package.json", import.meta.url) — is bundled into build/,
// one or two directories away from where its source is: such a literal path
// is rewritten here to name the same file from build/. No type checking here:
// `npm run typecheck` does that.
//
// What node_modules holds is bundled as it is: a script that patches a
// package there must run before this one.
//
//   node scripts/build.mjs [--only deskphone,...] [--outdir DIR] [--runtime-packages]
//
// Each file is written whole under a temporary name and renamed into place
// (chunks before the entries that import them), so a phone started while a
// build runs (two test runs at once) loads either the old build or the new.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const OUT = join(root, "build");

/** Each command's source: bin/deskphone.mjs imports build/deskphone.mjs, and so on. */
export const ENTRIES = {
  deskphone: "firmware/app/cli.ts",
  "deskphone-exchange": "server/cli.ts",
  "deskphone-demo": "demo/main.ts",
};

// createRequire(import.meta.url)("./x") and new URL("./x", import.meta.url):
// a path relative to the module's own file.
const BESIDE = [
  /(createRequire\(\s*import\.meta\.url\s*\)\(\s*)"(\.\.?\/[^"]+)"/g,
  /(new URL\(\s*)"(\.\.?\/[^"]+)"(?=\s*,\s*import\.meta\.url\s*\))/g,
];

// createRequire(import.meta.url)("onoff"): a package loaded at run time, not bundled.
const AT_RUN_TIME = /createRequire\(\s*import\.meta\.url\s*\)\(\s*"([^".][^"]*)"/g;

const besideFiles = (runtimePackages) => ({
  name: "files-beside-a-module",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      let text = readFileSync(args.path, "utf8");
      for (const m of text.matchAll(AT_RUN_TIME)) runtimePackages.add(m[1]);
      for (const re of BESIDE) {
        text = text.replace(re, (_, call, rel) => {
          let fromBuild = relative(OUT, resolve(dirname(args.path), rel));
          if (!fromBuild.startsWith(".")) fromBuild = `./${fromBuild}`;
          return `${call}${JSON.stringify(fromBuild)}`;
        });
      }
      return { contents: text, loader: "ts" };
    });
  },
});

/**
 * Builds into build/ (or `outdir`, laid out beside native/ and package.json as
 * build/ is: the .deb's), the given commands (all by default). Returns the
 * files written (unchanged ones are left alone) and the npm packages the
 * build loads at run time (the .deb installs those, and only those).
 */
export async function build({ quiet = false, outdir = OUT, only = Object.keys(ENTRIES) } = {}) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    if (existsSync(join(OUT, "deskphone.mjs"))) {
      if (!quiet)
        console.warn(
          "deskphone: esbuild is not installed (npm ci --omit=dev?): build/ kept as it is",
        );
      return { written: [], runtimePackages: [] };
    }
    throw new Error(
      "deskphone: esbuild is not installed and there is no build/: run npm ci (with the development packages)",
    );
  }
  const runtimePackages = new Set();
  const r = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(only.map((k) => [k, join(root, ENTRIES[k])])),
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Modules that are not JavaScript, or that ws loads only when installed.
    external: ["*.node", "bufferutil", "utf-8-validate"],
    // Bundled CommonJS packages (yaml, ajv, ws) call require() for Node's own modules.
    banner: {
      js: 'import { createRequire as __deskphoneRequire } from "node:module"; const require = __deskphoneRequire(import.meta.url);',
    },
    plugins: [besideFiles(runtimePackages)],
    legalComments: "none",
    logLevel: quiet ? "error" : "warning",
    write: false,
  });
  mkdirSync(outdir, { recursive: true });
  const entries = new Set(only.map((k) => join(outdir, `${k}.mjs`)));
  const files = [...r.outputFiles].sort(
    (a, b) => Number(entries.has(a.path)) - Number(entries.has(b.path)),
  );
  const written = [];
  for (const f of files) {
    if (existsSync(f.path) && readFileSync(f.path).equals(f.contents)) {
      // Still this build's: not an old chunk for the clean-up below (another build's).
      utimesSync(f.path, new Date(), new Date());
      continue;
    }
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
    written.push(relative(root, f.path));
  }
  // Chunks of earlier builds: gone once no phone started an hour ago can still load them.
  const keep = new Set(r.outputFiles.map((f) => f.path));
  for (const name of readdirSync(outdir)) {
    const p = join(outdir, name);
    if (name.endsWith(".mjs") && !keep.has(p) && Date.now() - statSync(p).mtimeMs > 3_600_000)
      rmSync(p, { force: true });
  }
  return { written, runtimePackages: [...runtimePackages].sort() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  try {
    const at = (flag) => {
      const i = process.argv.indexOf(flag);
      return i > 0 ? process.argv[i + 1] : undefined;
    };
    const outdir = at("--outdir");
    const only = at("--only");
    const { written, runtimePackages } = await build({
      ...(outdir && { outdir: resolve(outdir) }),
      ...(only && { only: only.split(",") }),
    });
    if (process.argv.includes("--runtime-packages")) {
      console.log(runtimePackages.join(" "));
      process.exit(0);
    }
    console.log(
      `deskphone: build/ ${written.length ? `${written.length} files written` : "up to date"} in ${Math.round(performance.now() - t0)} ms`,
    );
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  }
}
