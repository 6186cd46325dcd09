/**
 * npm run bench's table: the spread, ratio and target of each row, a part that
 * is missing or failed shown as "not measured", the exit rule (only our phone
 * failing fails the run), and the catalogue's parts resolvable. No timing.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  attachRefs,
  benchFailed,
  formatConfigs,
  formatTable,
  partRows,
  type Row,
  ratio,
  spread,
  toPartResult,
  verdict,
} from "../../bench/bench-table.ts";
import { PARTS } from "../../bench/parts/catalogue.ts";

const s = (xs: number[]) =>
  spread(xs) as Exclude<ReturnType<typeof spread>, { notMeasured: string }>;
const row = (over: Partial<Row>): Row => ({
  id: "x",
  label: "x",
  unit: "ms",
  ours: s([10]),
  config: "c",
  ...over,
});

describe("spread", () => {
  it("gives the median (mean of the middle two), min, p90 by nearest rank, max, n; drops NaN", () => {
    expect(spread([5, 1, 3, Number.NaN, 2, 4, 6, 7, 8, 9, 10])).toEqual({
      n: 10,
      median: 5.5,
      min: 1,
      p90: 9,
      max: 10,
    });
    expect(spread([3, 1, 2])).toMatchObject({ n: 3, median: 2, p90: 3 });
  });
  it("is not measured without a figure", () => {
    expect(spread([Number.NaN])).toEqual({ notMeasured: "no run gave a figure" });
  });
});

describe("ratio and targets", () => {
  it("divides our median by the reference's", () => {
    const r = row({ ours: s([30, 40, 50]), ref: { name: "baresip", value: s([10, 20]) } });
    expect(ratio(r)).toBeCloseTo(40 / 15);
    expect(ratio(row({ ref: { name: "b", value: { notMeasured: "x" } } }))).toBeUndefined();
  });
  it("judges atMost, ratioAtMost and withinOf on the median", () => {
    expect(verdict(row({ ours: s([1, 30, 99]), target: { kind: "atMost", value: 30 } }), [])).toBe(
      "met",
    );
    expect(verdict(row({ ours: s([31]), target: { kind: "atMost", value: 30 } }), [])).toBe(
      "missed",
    );
    const vsRef = (ours: number[]) =>
      row({
        ours: s(ours),
        ref: { name: "baresip", value: s([2]) },
        target: { kind: "ratioAtMost", value: 3 },
      });
    expect(verdict(vsRef([6]), [])).toBe("met");
    expect(verdict(vsRef([6.1]), [])).toBe("missed");
    const idle = row({ id: "idle", ours: s([50]) });
    const later = (mb: number) =>
      row({ ours: s([mb]), target: { kind: "withinOf", row: "idle", value: 1.1, what: "flat" } });
    expect(verdict(later(55), [idle])).toBe("met");
    expect(verdict(later(56), [idle])).toBe("missed");
    expect(verdict(later(56), [])).toBe("—");
  });
  it("cannot judge what was not measured", () => {
    const r = row({ ours: { notMeasured: "x" }, target: { kind: "atMost", value: 1 } });
    expect(verdict(r, [])).toBe("—");
  });
});

describe("the table", () => {
  it("prints one Markdown row per figure with both sides, the ratio, target and verdict", () => {
    const t = formatTable([
      row({
        label: "start → registered",
        ours: s([200, 300, 250]),
        ref: { name: "baresip", value: s([10, 12]) },
        target: { kind: "atMost", value: 250 },
      }),
      row({ label: "a | b", ours: { notMeasured: "part failed: boom" } }),
    ]).split("\n");
    expect(t).toHaveLength(4);
    expect(t[2]).toBe(
      "| start → registered | 250 ms (200–300, p90 300, n=3) | baresip: 11 ms (10–12, p90 12, n=2) | 22.7 × | ≤ 250 ms | met |",
    );
    expect(t[3]).toBe("| a \\| b | not measured: part failed: boom |  |  |  | — |");
  });
  it("lists each configuration once for rows that share it", () => {
    const c = formatConfigs([
      row({ label: "a" }),
      row({ label: "b" }),
      row({ label: "c", config: "d" }),
    ]);
    expect(c).toBe("- a; b: c\n- c: d");
  });
});

describe("parts", () => {
  const template = [
    { id: "a", label: "A", unit: "ms", config: "", refName: "baresip" },
    { id: "b", label: "B", unit: "ms", config: "" },
  ];
  it("keeps a part's rows in its template's order, and says which it did not give", () => {
    const rows = partRows(template, { rows: [row({ id: "b" }), row({ id: "extra" })] });
    expect(rows.map((r) => r.id)).toEqual(["a", "b", "extra"]);
    expect(rows[0]?.ours).toEqual({ notMeasured: "the part gave no such figure" });
    expect(rows[0]?.ref?.name).toBe("baresip");
  });
  it("fails the run only when our figure is missing from a part that is there", () => {
    const missing = { missing: "bench/memory.ts is not in the tree" };
    const failed = { failed: "exited 1" };
    const fine = { rows: [row({ id: "a", ref: { name: "b", value: { notMeasured: "x" } } })] };
    const at = (o: Parameters<typeof partRows>[1]) => ({
      outcome: o,
      rows: partRows([template[0] as (typeof template)[0]], o),
    });
    expect(at(missing).rows[0]?.ours).toEqual({
      notMeasured: "part not there: bench/memory.ts is not in the tree",
    });
    expect(benchFailed([at(missing), at(fine)])).toBe(false);
    expect(benchFailed([at(failed)])).toBe(true);
  });
  it("takes rows back from JSON (a figure a part did not keep, NaN, comes as null)", () => {
    const back = toPartResult(
      JSON.parse(
        JSON.stringify({
          rows: [row({ ours: { n: 2, median: 3, min: Number.NaN, p90: 4, max: 5 } })],
        }),
      ),
      "p",
    );
    expect(back.rows[0]?.ours).toMatchObject({ median: 3, min: Number.NaN });
    expect(() => toPartResult({ idle: 3 }, "bench/memory.ts")).toThrow(/returned no rows/);
  });
  it("puts a reference another part measured beside the row it names", () => {
    const ref = { name: "baresip after 1000 calls", value: s([8]) };
    const rows = attachRefs(
      [row({ id: "rss-after-calls", ours: s([60]) }), row({ id: "y" })],
      [
        { row: "rss-after-calls", ref },
        { row: "gone", ref },
      ],
    );
    expect(rows[0]?.ref).toEqual(ref);
    expect(ratio(rows[0] as Row)).toBe(7.5);
    expect(rows[1]?.ref).toBeUndefined();
  });
  it("names modules of its own that exist, and unique row ids", () => {
    for (const p of PARTS.filter((x) => x.module.startsWith("bench/parts/") || x.fn === "run"))
      expect(existsSync(p.module), p.module).toBe(true);
    const ids = PARTS.flatMap((p) => p.rows.map((r) => r.id));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
