/**
 * One of npm run bench's parts in a process of its own (a part that crashes
 * or hangs takes nothing else with it):
 *
 *   node --import tsx bench/parts/run-part.ts MODULE FUNCTION '{"quick":true}'
 *
 * Its progress goes to stderr; its result is the last stdout line,
 * `BENCH-PART {"rows":[…]}`, or `BENCH-PART {"missing":"why"}` for a part
 * whose module is not in the tree, or `BENCH-PART {"failed":"why"}`.
 */
import { pathToFileURL } from "node:url";
import { toPartResult } from "../bench-table.ts";
import { MissingPart } from "./helpers-parts.ts";

const [module, fn, opts] = process.argv.slice(2);
const say = (o: unknown) => process.stdout.write(`BENCH-PART ${JSON.stringify(o)}\n`);
try {
  const m = (await import(pathToFileURL(module as string).href)) as Record<string, unknown>;
  const f = m[fn as string];
  if (typeof f !== "function") throw new MissingPart(`${module} exports no ${fn}()`);
  const value = await (f as (o: unknown) => Promise<unknown>)(JSON.parse(opts ?? "{}"));
  say(toPartResult(value, `${module} ${fn}()`));
  process.exit(0);
} catch (e) {
  console.error((e as Error).stack ?? String(e));
  say(e instanceof MissingPart ? { missing: e.message } : { failed: (e as Error).message });
  process.exit(e instanceof MissingPart ? 0 : 1);
}
