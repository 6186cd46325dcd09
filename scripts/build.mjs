// Compiles the firmware and the lab tools from TypeScript into build/, which
// bin/*.mjs run with plain `node` (docs/build.md): one esbuild bundle per
// command; `deskphone`'s commands a CommonJS bundle of their own with V8's
// code cache beside it (below). Run by `npm ci` / `npm install` after the native parts, by
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
//   node scripts/build.mjs [--only deskphone,...] [--outdir DIR] [--node-flags "FLAGS"] [--runtime-packages]
//
// Each file is written whole under a temporary name and renamed into place
// (a commands bundle before the entry that names it), so a phone started while a
// build runs (two test runs at once) loads either the old build or the new.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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

const besideFiles = (runtimePackages, validators) => ({
  name: "files-beside-a-module",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      if (args.path === VALIDATORS) return { contents: validators, loader: "js" };
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

// firmware/app/config-validators.ts compiles the config's schemas with ajv
// when first asked; in build/ it is this: ajv's standalone code for the same
// schemas (config-ajv.ts's SCHEMAS, with its newAjv() options), so a phone
// compiles no schema at start.
const VALIDATORS = join(root, "firmware/app/config-validators.ts");

async function standaloneValidators(esbuild) {
  const entry = `
import standaloneCode from "ajv/dist/standalone/index.js";
import { newAjv, SCHEMAS } from "./firmware/app/config-ajv.ts";
const ajv = newAjv({ code: { source: true, esm: true } });
for (const [name, schema] of Object.entries(SCHEMAS)) ajv.addSchema(schema, name);
export const names = Object.keys(SCHEMAS);
export const code = standaloneCode(ajv, Object.fromEntries(names.map((n) => [n, n])));
`;
  const r = await esbuild.build({
    stdin: {
      contents: entry,
      resolveDir: root,
      loader: "js",
      sourcefile: "standalone-validators.mjs",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    logLevel: "error",
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "deskphone-build-"));
  try {
    const file = join(dir, "standalone-validators.mjs");
    writeFileSync(file, r.outputFiles[0].contents);
    const { names, code } = await import(pathToFileURL(file).href);
    return `${code}
import { SCHEMAS as __deskphoneSchemas } from "./config-ajv.ts";
const __deskphoneCompiled = new Map([${names.map((n) => `[__deskphoneSchemas[${JSON.stringify(n)}], ${n}]`).join(", ")}]);
export function validatorFor(schema) {
  const v = __deskphoneCompiled.get(schema);
  if (!v) throw new Error("config-validators: a schema not in SCHEMAS (config-ajv.ts) has no validator");
  return v;
}
`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `deskphone`'s commands: what cli.ts imports when a command runs (all but
// --version and --help) is one CommonJS bundle, deskphone-commands-HASH.cjs,
// run through vm.Script with V8's code cache beside it (HASH.cjs.cache): a
// phone neither parses nor compiles the code it ran when the cache was made
// (Node 20 has no module compile cache; module.enableCompileCache is 22.1+).
const CLI = join(root, ENTRIES.deskphone);
const commandImports = () => [
  ...new Set(
    [...readFileSync(CLI, "utf8").matchAll(/import\("(\.\/[^"]+\.ts)"\)/g)].map((m) => m[1]),
  ),
];

/** The module `import("./x.ts")` in cli.ts becomes in build/deskphone.mjs. */
function commandsLoader(file, cache) {
  return `
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
let loaded;
export function commandModules() {
  if (loaded) return loaded;
  const file = fileURLToPath(new URL(${JSON.stringify(`./${file}`)}, import.meta.url));
  const cacheFile = fileURLToPath(new URL(${JSON.stringify(`./${cache}`)}, import.meta.url));
  let cachedData;
  try {
    if (!process.env.DESKPHONE_NO_CODE_CACHE) cachedData = readFileSync(cacheFile);
  } catch {}
  // A cache V8 refuses (another Node, other V8 flags) is not used: the code is compiled as it runs.
  const script = new vm.Script(Module.wrap(readFileSync(file, "utf8")), { filename: file, cachedData });
  if (cachedData && script.cachedDataRejected && process.env.DESKPHONE_DEBUG) {
    process.stderr.write("<7>deskphone: V8 refused the code cache (another Node or other V8 flags than the build's): compiling as it runs (docs/build.md)\\n");
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (process.env.DESKPHONE_WRITE_CODE_CACHE === cacheFile) {
    process.once("exit", () => {
      writeFileSync(cacheFile + "." + process.pid, script.createCachedData());
      renameSync(cacheFile + "." + process.pid, cacheFile);
    });
  }
  return (loaded = module.exports);
}
`;
}

/**
 * The bundle in ASCII only. V8 keeps a script's source for lazy compilation, as a
 * two-byte string if one character in it is not Latin-1 — the commands bundle's
 * 1.4 M characters then take 2.8 MB instead of 1.4 (docs/benchmarks.md, Memory).
 * esbuild's `charset: "ascii"` escapes the code; what it leaves are the comments
 * it keeps (in arrays and class bodies), whose characters become `\u{…}` here.
 * A non-ASCII character anywhere else is a build error, not a guess.
 */
export function asciiOnly(contents, name) {
  const text = new TextDecoder().decode(contents);
  if (!/[\u0080-\uffff]/.test(text)) return contents;
  const lines = text.split("\n").map((line, i) => {
    if (!/[\u0080-\uffff]/.test(line)) return line;
    if (!/^\s*(\/\/|\/\*|\*)/.test(line)) {
      throw new Error(
        `deskphone: ${name}:${i + 1} has a non-ASCII character outside a comment: ${line.trim().slice(0, 120)}`,
      );
    }
    return line.replace(/[\u0080-\u{10ffff}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  });
  return new TextEncoder().encode(lines.join("\n"));
}

function writeAtomically(path, contents, written) {
  if (existsSync(path) && readFileSync(path).equals(contents)) {
    utimesSync(path, new Date(), new Date()); // still current: not for the clean-up below
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
  written.push(relative(root, path));
}

/**
 * Builds into build/ (or `outdir`, laid out beside native/ and package.json as
 * build/ is: the .deb's), the given commands (all by default). Returns the
 * files written (unchanged ones are left alone) and the npm packages the
 * build loads at run time (the .deb installs those, and only those).
 * `nodeFlags`: the node options the phone runs with, for its code cache.
 * `staleAfterMs`: how old an earlier build's file no entry names must be to go.
 */
export async function build({
  quiet = false,
  outdir = OUT,
  only = Object.keys(ENTRIES),
  nodeFlags = [],
  staleAfterMs = 3_600_000,
} = {}) {
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
  const plugin = besideFiles(runtimePackages, await standaloneValidators(esbuild));
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: "node20",
    // Modules that are not JavaScript, or that ws loads only when installed.
    external: ["*.node", "bufferutil", "utf-8-validate"],
    legalComments: "none",
    // Strings, identifiers and regular expressions escaped to ASCII (asciiOnly does
    // the comments esbuild keeps): V8 holds a one-byte source at half the memory.
    charset: "ascii",
    logLevel: quiet ? "error" : "warning",
    write: false,
  };
  const esm = {
    ...common,
    format: "esm",
    // Bundled CommonJS packages (yaml, ajv, ws) call require() for Node's own modules.
    banner: {
      js: 'import { createRequire as __deskphoneRequire } from "node:module"; const require = __deskphoneRequire(import.meta.url);',
    },
  };
  mkdirSync(outdir, { recursive: true });
  const written = [];
  const keep = new Set();
  let commands;
  if (only.includes("deskphone")) {
    const imports = commandImports();
    const c = await esbuild.build({
      ...common,
      stdin: {
        contents: imports.map((p, i) => `export * as m${i} from ${JSON.stringify(p)};`).join("\n"),
        resolveDir: dirname(CLI),
        loader: "ts",
        sourcefile: "deskphone-commands.ts",
      },
      format: "cjs",
      define: { "import.meta.url": "__deskphoneModuleUrl" },
      banner: {
        js: 'const __deskphoneModuleUrl = require("node:url").pathToFileURL(__filename).href;',
      },
      plugins: [plugin],
    });
    const contents = asciiOnly(c.outputFiles[0].contents, "the commands bundle");
    const hash = createHash("sha256").update(contents).digest("hex").slice(0, 12);
    const file = `deskphone-commands-${hash}.cjs`;
    commands = { file, cache: `${file}.cache` };
    writeAtomically(join(outdir, file), contents, written);
    keep.add(join(outdir, file)).add(join(outdir, commands.cache));
    const index = new Map(imports.map((p, i) => [resolve(dirname(CLI), p), i]));
    const redirect = {
      name: "commands-through-the-code-cache",
      setup(b) {
        b.onResolve({ filter: /\.ts$/ }, (args) => {
          if (args.kind !== "dynamic-import" || args.importer !== CLI) return undefined;
          return { path: resolve(args.resolveDir, args.path), namespace: "deskphone-command" };
        });
        b.onLoad({ filter: /.*/, namespace: "deskphone-command" }, (args) => ({
          contents: `import { commandModules } from "deskphone-commands-loader";\nmodule.exports = commandModules().m${index.get(args.path)};`,
          loader: "js",
          resolveDir: root,
        }));
        b.onResolve({ filter: /^deskphone-commands-loader$/ }, () => ({
          path: "loader",
          namespace: "deskphone-commands-loader",
        }));
        b.onLoad({ filter: /.*/, namespace: "deskphone-commands-loader" }, () => ({
          contents: commandsLoader(commands.file, commands.cache),
          loader: "js",
          resolveDir: root,
        }));
      },
    };
    const d = await esbuild.build({ ...esm, entryPoints: [CLI], plugins: [redirect, plugin] });
    writeAtomically(
      join(outdir, "deskphone.mjs"),
      asciiOnly(d.outputFiles[0].contents, "deskphone.mjs"),
      written,
    );
  }
  for (const name of only.filter((k) => k !== "deskphone")) {
    const r = await esbuild.build({
      ...esm,
      entryPoints: [join(root, ENTRIES[name])],
      plugins: [plugin],
    });
    writeAtomically(
      join(outdir, `${name}.mjs`),
      asciiOnly(r.outputFiles[0].contents, `${name}.mjs`),
      written,
    );
  }
  if (commands && !existsSync(join(outdir, commands.cache))) {
    // The code cache: what check-config, classify-alert and a sip-probe whose
    // exchange refuses the connection (loopback port 9) run — YAML, the
    // validators, the commands, the alerting rules, the SIP agent built and
    // its REGISTER attempted — compiled.
    const cacheFile = join(outdir, commands.cache);
    const r = spawnSync(
      process.execPath,
      [
        ...nodeFlags,
        "--input-type=module",
        "-e",
        `const { main } = await import(${JSON.stringify(pathToFileURL(join(outdir, "deskphone.mjs")).href)});
         const io = { out() {}, err() {} };
         await main(["check-config", "--config", process.argv[1]], io);
         await main(["classify-alert", "--alert-info", "<urn:alert:service:emergency>", "--priority", "emergency"], io);
         await main(["sip-probe", "--server", "ws://127.0.0.1:9", "--user", "2001", "--seconds", "0.2"], io);`,
        join(root, "packaging", "config.example.yaml"),
      ],
      { env: { ...process.env, DESKPHONE_WRITE_CODE_CACHE: cacheFile }, encoding: "utf8" },
    );
    if (!existsSync(cacheFile)) {
      throw new Error(`deskphone: the code cache was not written:\n${r.stderr}${r.stdout}`);
    }
    written.push(relative(root, cacheFile));
  }
  removeStale(outdir, keep, staleAfterMs);
  return { written, runtimePackages: [...runtimePackages].sort() };
}

/**
 * What earlier builds made (commands bundles, their caches, chunks): removed once
 * no entry in `outdir` names it and it is older than `staleAfterMs` (an hour: a
 * phone started before another test run's build swapped its entry may still load
 * it). A build of some commands only keeps what the entries it left alone name.
 */
function removeStale(outdir, keep, staleAfterMs) {
  const names = readdirSync(outdir);
  const named = new Set();
  for (const entry of names.filter((n) => n.endsWith(".mjs") && !n.startsWith("chunk-"))) {
    let text = "";
    try {
      text = readFileSync(join(outdir, entry), "utf8");
    } catch {
      continue; // renamed away by a build running at the same time
    }
    for (const m of text.matchAll(/(?:chunk-|deskphone-commands-)[\w-]+\.[cm]?js/g)) {
      named.add(m[0]).add(`${m[0]}.cache`);
    }
  }
  for (const name of names) {
    const p = join(outdir, name);
    if (!/^(chunk-|deskphone-commands-)/.test(name) || keep.has(p) || named.has(name)) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > staleAfterMs) rmSync(p, { force: true });
    } catch {} // removed by a build running at the same time
  }
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
    const nodeFlags = at("--node-flags");
    const { written, runtimePackages } = await build({
      ...(outdir && { outdir: resolve(outdir) }),
      ...(only && { only: only.split(",") }),
      ...(nodeFlags && { nodeFlags: nodeFlags.split(" ").filter(Boolean) }),
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
