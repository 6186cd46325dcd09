/**
 * `npm run bench`'s figures as data, and the one table it prints: each part
 * (bench/parts/*) returns rows; a row is our phone's figure beside a reference
 * (baresip, or a bare Node + sip.js phone), their ratio, and issue 14's target
 * for it, met or missed. Pure: no clock, no processes (test/bench/bench-table.test.ts).
 */

/** A figure's spread over its runs; targets are judged on the median. */
export interface Spread {
  n: number;
  median: number;
  min: number;
  p90: number;
  max: number;
}

/** A figure, or why there is none. */
export type Measured = Spread | { notMeasured: string };

export type Target =
  /** The median at most `value` (in the row's unit). */
  | { kind: "atMost"; value: number }
  /** Our median at most `value` × the reference's. */
  | { kind: "ratioAtMost"; value: number }
  /** Our median at most `value` × another row's median (memory "flat" over many calls). */
  | { kind: "withinOf"; row: string; value: number; what: string };

export interface Row {
  /** Stable name, for targets that refer to another row and for the JSON. */
  id: string;
  label: string;
  unit: string;
  ours: Measured;
  /** What ours is compared with, e.g. baresip. */
  ref?: { name: string; value: Measured };
  target?: Target;
  /** The configuration the figure was taken in (for docs/benchmarks.md). */
  config: string;
}

/** What a part returns. */
export interface PartResult {
  rows: Row[];
  /** References for rows another part gives (baresip beside our memory figures). */
  refs?: { row: string; ref: NonNullable<Row["ref"]> }[];
  notes?: string[];
}

/** Each reference put beside the row it names (one without such a row is dropped). */
export function attachRefs(
  rows: readonly Row[],
  refs: readonly NonNullable<PartResult["refs"]>[number][],
): Row[] {
  return rows.map((r) => {
    const x = refs.find((f) => f.row === r.id);
    return x && !r.ref ? { ...r, ref: x.ref } : r;
  });
}

export const isSpread = (m: Measured | undefined): m is Spread =>
  !!m && !("notMeasured" in m) && Number.isFinite(m.median);

/** Median (the mean of the middle two for an even count), min, p90 (nearest rank), max. */
export function spread(xs: readonly number[]): Measured {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return { notMeasured: "no run gave a figure" };
  const h = s.length >> 1;
  const median = s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
  const p90 = s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)] as number;
  return { n: s.length, median, min: s[0] as number, p90, max: s.at(-1) as number };
}

/** Ours ÷ the reference, both medians; undefined without both. */
export function ratio(row: Row): number | undefined {
  const r = row.ref?.value;
  if (!isSpread(row.ours) || !isSpread(r) || r.median === 0) return undefined;
  return row.ours.median / r.median;
}

export type Verdict = "met" | "missed" | "—";

export function verdict(row: Row, rows: readonly Row[]): Verdict {
  const t = row.target;
  if (!t || !isSpread(row.ours)) return "—";
  const ours = row.ours.median;
  if (t.kind === "atMost") return ours <= t.value ? "met" : "missed";
  if (t.kind === "ratioAtMost") {
    const q = ratio(row);
    return q === undefined ? "—" : q <= t.value ? "met" : "missed";
  }
  const other = rows.find((r) => r.id === t.row)?.ours;
  if (!isSpread(other)) return "—";
  return ours <= other.median * t.value ? "met" : "missed";
}

export function targetText(row: Row): string {
  const t = row.target;
  if (!t) return "";
  if (t.kind === "atMost") return `≤ ${num(t.value)} ${row.unit}`;
  if (t.kind === "ratioAtMost") return `≤ ${num(t.value)} × ${row.ref?.name ?? "reference"}`;
  return t.what;
}

/** Three significant digits at most, no exponent: 0.0123, 1.23, 12.3, 123, 1,234. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return "?";
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : 4;
  return x.toLocaleString("en-GB", { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

export function measuredText(m: Measured | undefined, unit: string): string {
  if (!m) return "";
  if (!isSpread(m)) return `not measured: ${"notMeasured" in m ? m.notMeasured : "no figure"}`;
  if (m.n === 1) return `${num(m.median)} ${unit} (n=1)`;
  return `${num(m.median)} ${unit} (${num(m.min)}–${num(m.max)}, p90 ${num(m.p90)}, n=${m.n})`;
}

/** A cell may not break the Markdown table. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

/** The one table: Markdown, so it can be pasted into docs/benchmarks.md as it is. */
export function formatTable(rows: readonly Row[]): string {
  const head = [
    "| figure | ours: median (min–max, p90, n) | reference: median (min–max, p90, n) | ratio | target | met |",
    "|---|---|---|---|---|---|",
  ];
  const body = rows.map((r) => {
    const q = ratio(r);
    const ref = r.ref ? `${r.ref.name}: ${measuredText(r.ref.value, r.unit)}` : "";
    return `| ${[
      r.label,
      measuredText(r.ours, r.unit),
      ref,
      q === undefined ? "" : `${num(q)} ×`,
      targetText(r),
      verdict(r, rows),
    ]
      .map(cell)
      .join(" | ")} |`;
  });
  return [...head, ...body].join("\n");
}

/** Each row's configuration; rows in a row that share one are listed once. */
export function formatConfigs(rows: readonly Row[]): string {
  const groups: { labels: string[]; config: string }[] = [];
  for (const r of rows) {
    const last = groups.at(-1);
    if (last && last.config === r.config) last.labels.push(r.label);
    else groups.push({ labels: [r.label], config: r.config });
  }
  return groups.map((g) => `- ${g.labels.join("; ")}: ${g.config}`).join("\n");
}

/** Rows whose own figure is missing though their part ran: our phone failed somewhere. */
export function oursFailed(rows: readonly Row[]): Row[] {
  return rows.filter((r) => !isSpread(r.ours));
}

/**
 * A part's result as rows, whatever a part written elsewhere returns: rows, or
 * `{rows}`; anything else is not understood and says so (never guessed at).
 */
export function toPartResult(value: unknown, part: string): PartResult {
  const rows = Array.isArray(value)
    ? value
    : value && typeof value === "object" && Array.isArray((value as PartResult).rows)
      ? (value as PartResult).rows
      : undefined;
  if (!rows?.every(isRow))
    throw new Error(`${part} returned no rows (${JSON.stringify(value)?.slice(0, 200)})`);
  const { notes, refs } = value as PartResult;
  return {
    rows,
    ...(Array.isArray(refs) &&
      refs.every((f) => typeof f?.row === "string" && isMeasured(f.ref?.value)) && { refs }),
    ...(Array.isArray(notes) && { notes: notes.map(String) }),
  };
}

function isRow(r: unknown): r is Row {
  if (!r || typeof r !== "object") return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.id === "string" &&
    typeof o.label === "string" &&
    typeof o.unit === "string" &&
    typeof o.config === "string" &&
    isMeasured(o.ours)
  );
}

function isMeasured(m: unknown): m is Measured {
  if (!m || typeof m !== "object") return false;
  const o = m as Record<string, unknown>;
  if (typeof o.notMeasured === "string") return true;
  // Through JSON a figure a part did not keep (NaN) arrives as null.
  for (const k of ["min", "p90", "max"]) if (o[k] === null) o[k] = Number.NaN;
  return ["n", "median", "min", "p90", "max"].every((k) => typeof o[k] === "number");
}

/** A row whose figure could not be taken: the part is missing or failed. */
export function notMeasuredRow(
  template: Omit<Row, "ours" | "ref">,
  why: string,
  refName?: string,
): Row {
  return {
    ...template,
    ours: { notMeasured: why },
    ...(refName && { ref: { name: refName, value: { notMeasured: why } } }),
  };
}

/** What became of a part: its result, its module not in the tree, or a failure. */
export type PartOutcome = PartResult | { missing: string } | { failed: string };

/**
 * A part's lines in the table: the rows it gave, in the order its template
 * lists them; each row it did not give, and every row of a part that is
 * missing or failed, as "not measured: why".
 */
export function partRows(
  template: readonly (Omit<Row, "ours" | "ref"> & { refName?: string })[],
  outcome: PartOutcome,
): Row[] {
  const why =
    "missing" in outcome
      ? `part not there: ${outcome.missing}`
      : "failed" in outcome
        ? `part failed: ${outcome.failed}`
        : undefined;
  const given = "rows" in outcome ? outcome.rows : [];
  const out = template.map(({ refName, ...t }) => {
    const r = given.find((g) => g.id === t.id);
    return r ?? notMeasuredRow(t, why ?? "the part gave no such figure", refName);
  });
  // Rows a part gives beyond its template are kept, after its own.
  return [...out, ...given.filter((g) => !template.some((t) => t.id === g.id))];
}

/**
 * npm run bench fails (non-zero exit) only when our phone failed: a row of a
 * part that ran without our figure. A missing part, or a reference (baresip)
 * that failed, is shown, not a failure.
 */
export function benchFailed(outcomes: readonly { outcome: PartOutcome; rows: Row[] }[]): boolean {
  return outcomes.some(
    ({ outcome, rows }) => !("missing" in outcome) && oursFailed(rows).length > 0,
  );
}
