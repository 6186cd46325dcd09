/**
 * sip.js's header grammar as installed (lib/grammar/pegjs/dist: grammar.js,
 * patched by scripts/patch-sipjs.mjs, and grammar.pristine.js, its untouched
 * copy), for the tests that hold the phone's header parsing to it: loading
 * either, comparing results class by class, and damaging header values at random.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";

/** Where sip.js keeps its built grammar. */
export const GRAMMAR_DIST = join(
  dirname(createRequire(import.meta.url).resolve("sip.js/package.json")),
  "lib",
  "grammar",
  "pegjs",
  "dist",
);

/** A grammar's parse: sip.js's Grammar.parse reads the result from `options.data`. */
export type GrammarParse = (
  input: string,
  options: { startRule: string; data?: unknown },
) => unknown;

/** The parse of one of the grammar files, "grammar.js" or "grammar.pristine.js". */
export async function loadGrammar(file: string): Promise<GrammarParse> {
  const m = (await import(pathToFileURL(join(GRAMMAR_DIST, file)).href)) as {
    parse: GrammarParse;
  };
  return m.parse;
}

/** Classes kept: a URI and a NameAddrHeader must come back as such. */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = { "(class)": v.constructor?.name };
    for (const k of Object.keys(v)) o[k] = shape((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

/** What a mutation puts in, first: the characters the grammar's rules turn on. */
export const GRAMMAR_PIECES = ["", " ", ";", ":", "<", ">", '"', "@", "=", "\\", "%"] as const;

/**
 * One of `headers` ([rule, value]) with up to `maxCuts` cuts in its value: at
 * each, up to 3 characters deleted and one of `pieces` put in their place.
 */
export function mutatedHeader(
  headers: readonly [string, string][],
  pieces: readonly string[],
  maxCuts: number,
): fc.Arbitrary<[string, string]> {
  return fc
    .tuple(
      fc.constantFrom(...headers),
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...pieces)), {
        maxLength: maxCuts,
      }),
    )
    .map(([[rule, input], cuts]) => {
      let s = input;
      for (const [at, del, put] of cuts) {
        const i = at % (s.length + 1);
        s = s.slice(0, i) + put + s.slice(i + del);
      }
      return [rule, s];
    });
}
