/**
 * Checks that what the project's text points at exists: Markdown links (and
 * their #anchors) in README.md and docs/*.md, and repository file paths named
 * in those documents, in code comments and in the systemd unit files. A path
 * is a word that starts with one of the repository's top-level folders
 * (`firmware/app/phone.ts`, `native/*\/build/`), or with `../`; a bare
 * Markdown file name (a word ending in .md, no folder) must be the name of some
 * file in the repository. Web links are not
 * fetched (no network). Prints one line per dangling reference and exits 1 if
 * any.
 *
 *   tsx scripts/check-links.ts [ROOT]
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface Dangling {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/**
 * Files that work in progress names before it has written them, and whose
 * work it is. Once such a file exists the check fails until its entry here is
 * removed, so no entry outlives its reason.
 */
export const PENDING: Readonly<Record<string, string>> = {};

/** Not listed: dependencies, VCS. */
const SKIP = new Set(["node_modules", ".git"]);
/** Listed (a path may point there) but not read: build output. */
const BUILT = /(^|\/)(dist|build|coverage)\//;
interface Comment {
  text: string;
  index: number;
}
/** Code whose comments are read, and how its comments are found. */
const CODE: { ext: RegExp; comments: (text: string) => Comment[] }[] = [
  { ext: /\.(m|c)?[jt]sx?$|\.[ch]$/, comments: (t) => cComments(t) },
  { ext: /\.(sh|cfg|ya?ml)$/, comments: (t) => matches(t, /(?:^|\s)#(?!!)[^\n]*/g) },
  { ext: /\.sql$/, comments: (t) => matches(t, /--[^\n]*/g) },
];

function matches(text: string, re: RegExp): Comment[] {
  return [...text.matchAll(re)].map((m) => ({ text: m[0], index: m.index ?? 0 }));
}

/**
 * The `//` and `/* *\/` comments of JavaScript, TypeScript or C, stepping over
 * string, template and character literals and (by the usual rule: a `/` where
 * an operand may start) regular expression literals.
 */
export function cComments(t: string): Comment[] {
  const out: Comment[] = [];
  let i = 0;
  let operand = true; // whether an operand may start here (so "/" begins a regex)
  while (i < t.length) {
    const c = t[i] as string;
    const next = t[i + 1];
    if (c === "/" && next === "/") {
      const end = t.indexOf("\n", i);
      const stop = end < 0 ? t.length : end;
      out.push({ text: t.slice(i, stop), index: i });
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = t.indexOf("*/", i + 2);
      const stop = end < 0 ? t.length : end + 2;
      out.push({ text: t.slice(i, stop), index: i });
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      i++;
      while (i < t.length && t[i] !== c && (c === "`" || t[i] !== "\n")) i += t[i] === "\\" ? 2 : 1;
      i++;
      operand = false;
    } else if (c === "/" && operand) {
      let cls = false;
      i++;
      while (i < t.length && t[i] !== "\n" && (cls || t[i] !== "/")) {
        if (t[i] === "[") cls = true;
        else if (t[i] === "]") cls = false;
        i += t[i] === "\\" ? 2 : 1;
      }
      i++;
      operand = false;
    } else {
      if (!/\s/.test(c)) operand = /[(,=:[!&|?{};+\-*%<>~^]/.test(c);
      if (/[A-Za-z_$]/.test(c)) {
        const word = /^[\w$]+/.exec(t.slice(i, i + 32))?.[0] ?? c;
        operand = /^(return|typeof|case|in|of|void|delete|throw|new|else|do|yield|await)$/.test(
          word,
        );
        i += word.length;
        continue;
      }
      i++;
    }
  }
  return out;
}
/** systemd units: every line (directives name paths too). */
const UNIT = /\.(service|socket|timer|path|target)$/;

function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || (name.startsWith(".") && dir === root)) continue; // .stryker-tmp, .ci
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    out.push(relative(root, p).split(sep).join("/") + (st.isDirectory() ? "/" : ""));
    if (st.isDirectory()) walk(root, p, out);
  }
  return out;
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, "");
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (m[1] as string)
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*" && glob[i + 2] === "/") {
      re += "(?:.*/)?"; // **/: any folders, or none
      i += 2;
    } else if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "{") re += "(?:";
    else if (c === "}") re += ")";
    else if (c === ",") re += "|";
    else re += c.replace(/[.+?^$()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}/?$`);
}

export function checkLinks(
  rootArg: string,
  pending: Readonly<Record<string, string>> = {},
): Dangling[] {
  const root = resolve(rootArg);
  const all = walk(root);
  const names = new Set(all.map((p) => basename(p)));
  const tops = readdirSync(root).filter(
    (n) => !n.startsWith(".") && !SKIP.has(n) && statSync(join(root, n)).isDirectory(),
  );
  // A path: ../…, or a top-level folder then /…; words end before spaces, quotes,
  // brackets, backticks and < > (placeholders); trailing punctuation is dropped.
  const PATH = new RegExp(
    `(?<![\\w@/.~$-])((?:\\.\\./)+[\\w.-]+(?:/[\\w.*{},-]+)*|(?:${tops.map((t) => t.replace(/[.-]/g, "\\$&")).join("|")})/(?:[\\w.*{},-]+/?)*)`,
    "g",
  );
  const BARE_MD = /(?<![\w/.-])([\w-]+\.md)\b/g;
  const LINK = /\[(?:[^\]]|\][^(])*?\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
  const out: Dangling[] = [];
  const exists = (abs: string) => {
    const rel = relative(root, abs).split(sep).join("/");
    if (rel.startsWith("..")) return "outside the repository";
    if (BUILT.test(`${rel}/`)) return undefined; // build output: made, not kept
    if (/[*{]/.test(rel)) {
      const re = globToRegExp(rel);
      return all.some((p) => re.test(p)) ? undefined : "matches nothing";
    }
    return existsSync(abs) ? undefined : "does not exist";
  };

  const paths = (file: string, text: string, offset: number, base: string) => {
    for (const m of text.matchAll(PATH)) {
      const word = (m[1] as string).replace(/[.,:;]+$/, "");
      if (!word.includes("/")) continue;
      const from = word.startsWith("../") ? dirname(join(root, file)) : root;
      const reason = exists(resolve(from, word));
      if (reason) {
        out.push({ file, line: lineAt(base, offset + (m.index ?? 0)), target: word, reason });
      }
    }
    for (const m of text.matchAll(BARE_MD)) {
      const name = m[1] as string;
      if (!names.has(name)) {
        const reason = "no file of that name in the repository";
        out.push({ file, line: lineAt(base, offset + (m.index ?? 0)), target: name, reason });
      }
    }
  };

  const anchorCache = new Map<string, Set<string>>();
  const anchors = (abs: string) => {
    const a = anchorCache.get(abs) ?? anchorsOf(readFileSync(abs, "utf8"));
    anchorCache.set(abs, a);
    return a;
  };

  for (const file of all) {
    if (file.endsWith("/") || BUILT.test(file)) continue;
    const abs = join(root, file);
    const isDoc = file === "README.md" || /^docs\/[^/]+\.md$/.test(file);
    const code = CODE.find((c) => c.ext.test(file));
    if (!isDoc && !code && !UNIT.test(file)) continue;
    const text = readFileSync(abs, "utf8");
    if (isDoc) {
      for (const m of text.matchAll(LINK)) {
        const target = m[1] as string;
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto: — not fetched
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const dest = path ? resolve(dirname(abs), decodeURIComponent(path)) : abs;
        const line = lineAt(text, m.index ?? 0);
        const reason = exists(dest);
        if (reason) out.push({ file, line, target, reason });
        else if (anchor && dest.endsWith(".md") && !anchors(dest).has(anchor.toLowerCase())) {
          out.push({ file, line, target, reason: "no such heading" });
        }
      }
      paths(
        file,
        text.replace(LINK, (s) => " ".repeat(s.length)),
        0,
        text,
      );
    } else if (code) {
      for (const m of code.comments(text)) paths(file, m.text, m.index, text);
    } else {
      paths(file, text, 0, text);
    }
  }
  const dangling = out.filter((d) => !(d.target in pending));
  for (const target of Object.keys(pending)) {
    if (existsSync(join(root, target))) {
      const reason = "exists now: remove it from PENDING in scripts/check-links.ts";
      dangling.push({ file: "scripts/check-links.ts", line: 0, target, reason });
    }
  }
  return dangling;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const found = checkLinks(root, PENDING);
  for (const d of found) console.log(`${d.file}:${d.line}: ${d.target} — ${d.reason}`);
  console.log(`link check: ${found.length} dangling reference(s) in ${resolve(root)}`);
  process.exit(found.length ? 1 : 0);
}
