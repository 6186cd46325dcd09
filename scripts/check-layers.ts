/**
 * Checks every source file of the project against the layer rules in
 * scripts/layer-rules.ts, and that no files import each other in a circle
 * (type-only imports included). Prints one line per violation and exits 1 if any.
 *
 *   tsx scripts/check-layers.ts [ROOT]
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { LAYERS, type Layer, MAY_IMPORT, PACKAGE_OWNERS, PURE, TYPES_FROM } from "./layer-rules.ts";

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

interface Import {
  specifier: string;
  line: number;
  /** `import type …`, `export type … from`, or every name marked `type`: erased at build. */
  typeOnly: boolean;
}

function isTypeOnly(statement: string): boolean {
  if (/^(?:import|export)\s+type\b/.test(statement)) return true;
  const names = /^(?:import|export)\s*\{([^}]*)\}\s*from/.exec(statement)?.[1];
  const list =
    names
      ?.split(",")
      .map((n) => n.trim())
      .filter(Boolean) ?? [];
  return list.length > 0 && list.every((n) => n.startsWith("type "));
}

function importsOf(text: string): Import[] {
  return [...text.matchAll(IMPORT)].map((m) => ({
    specifier: m[1] ?? "",
    line: lineAt(text, m.index ?? 0),
    typeOnly: isTypeOnly(m[0]),
  }));
}

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
  const found: Violation[] = [];
  for (const { specifier, line, typeOnly } of importsOf(readFileSync(file, "utf8"))) {
    const at = { file: rel, line, specifier };
    if (specifier.startsWith(".")) {
      const target = relative(root, resolve(dirname(file), specifier));
      const to = layerOf(target);
      const typesFrom = TYPES_FROM[from]?.includes(target.split(sep).join("/"));
      if (typesFrom && !typeOnly) {
        found.push({ ...at, reason: `${from} may take only types from ${target} (import type)` });
      } else if (typesFrom) {
        continue;
      } else if (to === "firmware/app" && from !== "firmware/app") {
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

/** The project file a relative import names, if it exists (`./x.ts`, `./x`, `./x/index.ts`). */
function resolveImport(file: string, specifier: string): string | undefined {
  const base = resolve(dirname(file), specifier);
  const tries = [base, `${base}.ts`, base.replace(/\.js$/, ".ts"), join(base, "index.ts")];
  return tries.find((t) => existsSync(t) && statSync(t).isFile());
}

/**
 * Files that import each other in a circle, type-only imports included: a
 * circle has no first file to read, and each part of it can only be
 * understood, tested or moved with all the others. One violation per circle
 * (per strongly connected set of files), at the import that starts it.
 */
export function findCycles(root: string, files: readonly string[]): Violation[] {
  const edges = new Map<string, { to: string; line: number; specifier: string }[]>();
  for (const f of files) {
    const out = importsOf(readFileSync(f, "utf8")).flatMap(({ specifier, line }) => {
      const to = specifier.startsWith(".") ? resolveImport(f, specifier) : undefined;
      return to ? [{ to, line, specifier }] : [];
    });
    edges.set(f, out);
  }
  const found: Violation[] = [];
  for (const group of stronglyConnected([...edges.keys()], edges)) {
    const start = [...group].sort()[0] as string;
    const path = shortestCircle(start, group, edges);
    if (!path) continue;
    const first = edges.get(start)?.find((e) => e.to === path[1]);
    found.push({
      file: relative(root, start),
      line: first?.line ?? 1,
      specifier: first?.specifier ?? "",
      reason: `import cycle: ${path.map((p) => relative(root, p)).join(" → ")}`,
    });
  }
  return found;
}

type Edges = Map<string, { to: string }[]>;

/** Tarjan's algorithm: the sets of files that reach each other (single files only with a self-import). */
function stronglyConnected(nodes: readonly string[], edges: Edges): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: Set<string>[] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (!edges.has(to)) continue; // outside the checked layers
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v) as number, low.get(to) as number));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v) as number, index.get(to) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group = new Set<string>();
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      group.add(w);
    }
    const selfImport = edges.get(v)?.some((e) => e.to === v);
    if (group.size > 1 || selfImport) groups.push(group);
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return groups;
}

/** The shortest path from `start` back to itself inside `group` (breadth first). */
function shortestCircle(start: string, group: Set<string>, edges: Edges): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
    for (const { to } of edges.get(v) ?? []) {
      if (!group.has(to)) continue;
      if (to === start) {
        const back: string[] = [];
        for (let p: string | undefined = v; p !== undefined && p !== start; p = cameFrom.get(p))
          back.unshift(p);
        return [start, ...back, start];
      }
      if (!cameFrom.has(to) && to !== start) {
        cameFrom.set(to, v);
        queue.push(to);
      }
    }
  }
  return undefined;
}

export function checkLayers(root: string): Violation[] {
  const files = LAYERS.flatMap((layer) => {
    const dir = join(root, layer);
    try {
      if (!statSync(dir).isDirectory()) return [];
    } catch {
      return [];
    }
    return sourceFiles(dir);
  });
  return [...files.flatMap((f) => checkFile(root, f)), ...findCycles(root, files)];
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
