/**
 * The scenario's step lines for the host (rig/host/report.sh counts them):
 * "RIG-STEP ok|FAIL name: detail", "RIG-FIGURE name: value", and indented
 * lines a step shows besides.
 */
export class StepFailed extends Error {}

let failures = 0;

export function figure(name: string, value: string): void {
  console.log(`RIG-FIGURE ${name}: ${value}`);
}

export function show(line: string): void {
  console.log(`  ${line}`);
}

/** Runs one step; its result is the detail. A thrown error fails it, and the scenario goes on. */
export async function step(name: string, run: () => Promise<string>): Promise<boolean> {
  const t0 = performance.now();
  const took = () => `(${((performance.now() - t0) / 1000).toFixed(1)} s)`;
  try {
    const detail = await run();
    console.log(`RIG-STEP ok ${name}: ${detail} ${took()}`);
    return true;
  } catch (e) {
    failures++;
    const why = e instanceof Error ? e.message : String(e);
    console.log(`RIG-STEP FAIL ${name}: ${why.replace(/\s+/g, " ").slice(0, 600)} ${took()}`);
    return false;
  }
}

export function failed(): number {
  return failures;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value (not undefined) or `ms` pass. */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => T | undefined | Promise<T | undefined>,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new StepFailed(`${what}: not within ${ms} ms`);
    await sleep(everyMs);
  }
}
