/**
 * npm run bench: every figure issue 14 asks for in one run and one table —
 * our phone beside baresip (and beside a bare Node + sip.js phone), with
 * medians and spread, the ratio, and the target met or missed. Each part
 * (bench/parts/catalogue.ts) runs in a process of its own, one after another;
 * a part that is missing or fails shows as "not measured: why". Exit code 1
 * only when our phone's figure could not be taken. docs/benchmarks.md.
 *
 *   npm run bench                      (about 10 minutes on a 2-core machine)
 *   npm run bench -- --quick           (a short run: fewer runs, shorter calls)
 *   npm run bench -- --only ring,preemption --json out.json
 *   npm run bench -- --calls 300       (the memory part's calls; 1,000 by default)
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { parseArgs } from "node:util";
import {
  attachRefs,
  benchFailed,
  formatConfigs,
  formatTable,
  type PartOutcome,
  partRows,
  type Row,
  toPartResult,
} from "./bench-table.ts";
import { PARTS, type Part } from "./parts/catalogue.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "string" },
    calls: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(
    "usage: npm run bench -- [--quick] [--only WORD,WORD] [--calls N] [--json FILE]\n" +
      `parts: ${PARTS.map((p) => p.name).join("; ")}`,
  );
  process.exit(0);
}

const firstLine = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0]?.trim() || "not found";
};

function machine(): string[] {
  const c = cpus();
  const bin = spawnSync("git", ["log", "-1", "--format=%h %s", "--", "bin/deskphone.mjs"], {
    encoding: "utf8",
  }).stdout.trim();
  return [
    `date: ${new Date().toISOString()}; commit ${firstLine("git", ["rev-parse", "--short", "HEAD"])}`,
    `machine: ${c.length} CPUs (nproc ${firstLine("nproc", [])}), ${c[0]?.model ?? "?"}; Linux ${release()}; Node ${process.version}`,
    `references: ${firstLine("baresip", ["-h"]).replace(/ Copyright.*/, "")}; ${firstLine("kamailio", ["-v"])}`,
    `our phone: bin/deskphone.mjs (${/run-ts/.test(readFileSync("bin/deskphone.mjs", "utf8")) ? "TypeScript through tsx" : "compiled JavaScript"}), its last commit ${bin || "?"}`,
    `load average at the start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")}`,
  ];
}

let running: number | undefined;
// Ctrl-C: the running part's process group goes too (it was started detached, to be stoppable).
process.once("SIGINT", () => {
  if (running) {
    try {
      process.kill(-running, "SIGTERM");
    } catch {}
  }
  process.exit(130);
});

/** Runs one part in a child process; its progress to our stderr, its result from its stdout. */
function runPart(part: Part, opts: { quick: boolean; calls?: number }): Promise<PartOutcome> {
  const quick = opts.quick;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bench/parts/run-part.ts", part.module, part.fn, JSON.stringify(opts)],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    running = child.pid;
    let out = "";
    let tail = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.stderr?.on("data", (d) => {
      process.stderr.write(d);
      tail = (tail + d).slice(-400);
    });
    // The memory part's length follows its calls (about 0.6 s each on this machine).
    const base = opts.calls && part.fn === "memory" ? 120 + opts.calls : part.timeoutS;
    const limitS = quick && !opts.calls ? Math.ceil(base / 2) : base;
    let timedOut = false;
    // The part's whole process group: its Kamailio, sipp, baresip, tcpdump with it.
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {}
    }, limitS * 1000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      running = undefined;
      const line = out
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("BENCH-PART "));
      if (timedOut) return resolve({ failed: `stopped after ${limitS} s` });
      if (!line)
        return resolve({
          failed: `exited ${code ?? signal} without a result: ${tail.trim().split("\n").at(-1) ?? ""}`,
        });
      const o = JSON.parse(line.slice("BENCH-PART ".length)) as Record<string, unknown>;
      if (typeof o.missing === "string") return resolve({ missing: o.missing });
      if (typeof o.failed === "string") return resolve({ failed: o.failed });
      try {
        resolve(toPartResult(o, part.name));
      } catch (e) {
        resolve({ failed: (e as Error).message });
      }
    });
  });
}

const only = values.only?.split(",").map((w) => w.trim().toLowerCase());
const parts = PARTS.filter(
  (p) => !only || only.some((w) => p.name.toLowerCase().includes(w) || p.fn.toLowerCase() === w),
);
const header = machine();
const t0 = performance.now();
const done: { part: Part; outcome: PartOutcome; rows: Row[] }[] = [];
for (const part of parts) {
  console.error(`\n== ${part.name} (${part.module} ${part.fn}())`);
  const outcome = await runPart(part, {
    quick: values.quick,
    ...(values.calls && { calls: Number(values.calls) }),
  });
  done.push({ part, outcome, rows: partRows(part.rows, outcome) });
}
const rows = attachRefs(
  done.flatMap((d) => d.rows),
  done.flatMap((d) => ("refs" in d.outcome ? (d.outcome.refs ?? []) : [])),
);
const notes = done.flatMap((d) => ("notes" in d.outcome ? (d.outcome.notes ?? []) : []));
header.push(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ", ",
    )}; the run took ${((performance.now() - t0) / 60_000).toFixed(1)} min${values.quick ? " (--quick)" : ""}`,
);

console.log(`\nnpm run bench${values.quick ? " --quick" : ""}`);
for (const h of header) console.log(h);
console.log(`\n${formatTable(rows)}\n`);
console.log("Targets are judged on the median. How each figure was taken:");
console.log(formatConfigs(rows));
for (const n of notes) console.log(`note: ${n}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ header, rows }, null, 2)}\n`);
process.exitCode = benchFailed(done) ? 1 : 0;
