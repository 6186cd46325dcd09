/**
 * Checks every source file of the project against the layer rules in
 * scripts/layer-rules.ts. Prints one line per violation and exits 1 if any.
 *
 *   tsx scripts/check-layers.ts [ROOT]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { LAYERS, type Layer, MAY_IMPORT, PACKAGE_OWNERS, PURE } from "./layer-rules.ts";

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  reason: string;
}

const SOURCE = /\.(m|c)?[jt]sx?$/;
// import x from "y"; import "y"; export * from "y"; import("y"); require("y")
const IMPORT =
  /(?:\bimport\s*(?:[^"'`;]*?\bfrom\s*)?|\bexport\s*[^"'`;]*?\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["'`]([^"'`]+)["'`]/g;

export function layerOf(relPath: string): Layer | undefined {
  const p = relPath.split(sep).join("/");
  return LAYERS.find((l) => p === l || p.startsWith(`${l}/`));
}

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(sourceFiles(full));
    else if (SOURCE.test(name) && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

function packageName(spec: string): string {
  const bare = spec.startsWith("node:") ? spec.slice(5) : spec;
  const parts = bare.split("/");
  return bare.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? bare);
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

export function checkFile(root: string, file: string): Violation[] {
  const rel = relative(root, file);
  const from = layerOf(rel);
  if (!from) return [];
  const text = readFileSync(file, "utf8");
  const found: Violation[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[1] ?? "";
    const at = { file: rel, line: lineAt(text, m.index ?? 0), specifier };
    if (specifier.startsWith(".")) {
      const target = relative(root, resolve(dirname(file), specifier));
      const to = layerOf(target);
      if (to === "firmware/app" && from !== "firmware/app") {
        found.push({ ...at, reason: "nothing imports firmware/app (the composition root)" });
      } else if (!to) {
        found.push({ ...at, reason: `imports ${target}, which is outside every layer` });
      } else if (!MAY_IMPORT[from].includes(to)) {
        found.push({ ...at, reason: `${from} may not import ${to}` });
      }
      continue;
    }
    const pkg = packageName(specifier);
    const builtin = specifier.startsWith("node:") || builtinModules.includes(pkg);
    if (PURE.has(from)) {
      found.push({
        ...at,
        reason: `${from} is pure: it imports no ${builtin ? "Node built-in" : "package"}`,
      });
      continue;
    }
    const owners = PACKAGE_OWNERS[pkg];
    if (owners && !owners.includes(from)) {
      found.push({ ...at, reason: `${pkg} belongs to ${owners.join(", ")}, not ${from}` });
    }
  }
  return found;
}

export function checkLayers(root: string): Violation[] {
  return LAYERS.flatMap((layer) => {
    const dir = join(root, layer);
    try {
      if (!statSync(dir).isDirectory()) return [];
    } catch {
      return [];
    }
    return sourceFiles(dir).flatMap((f) => checkFile(root, f));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
  const violations = checkLayers(root);
  for (const v of violations) {
    console.error(`${v.file}:${v.line}: import "${v.specifier}": ${v.reason}`);
  }
  console.log(`layer check: ${violations.length} violation(s) in ${root}`);
  process.exit(violations.length > 0 ? 1 : 0);
}
