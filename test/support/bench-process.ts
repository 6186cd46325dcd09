/** A `deskphone bench` process for end-to-end tests, driven through its JSON API. */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { PhoneView } from "../../firmware/app/phone-view.ts";
import { outputOf, stopChild } from "./child-output.ts";

export interface BenchProcess {
  url: string;
  pid: number;
  output(): string;
  state(): Promise<PhoneView>;
  post(what: "hook" | "keys" | "flash", body?: unknown): Promise<Response>;
  journal(): Promise<Record<string, unknown>[]>;
  waitFor(what: string, test: (s: PhoneView) => boolean, timeoutMs?: number): Promise<PhoneView>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startBench(
  dir: string,
  name: string,
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  /** Node's own flags for the phone process (V8 flags NODE_OPTIONS does not take). */
  nodeArgs: readonly string[] = [],
): Promise<BenchProcess> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config), { mode: 0o600 });
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, "bin/deskphone.mjs", "bench", "--config", file, "--listen", "127.0.0.1:0"],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output = outputOf(child);
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bench did not start:\n${output()}`)), 15_000);
    const check = () => {
      const m = /deskphone bench: (http:\/\/\S+)/.exec(output());
      if (m?.[1]) {
        clearTimeout(t);
        resolve(m[1]);
      } else if (child.exitCode !== null) {
        clearTimeout(t);
        reject(new Error(`bench exited ${child.exitCode}:\n${output()}`));
      } else setTimeout(check, 50);
    };
    check();
  });
  const api = (p: string) => `${url}api/${p}`;
  const b: BenchProcess = {
    url,
    pid: child.pid ?? -1,
    output,
    state: async () => (await fetch(api("state"))).json() as Promise<PhoneView>,
    post: (what, body) =>
      fetch(api(what), {
        method: "POST",
        body: JSON.stringify(body ?? {}),
        headers: { "content-type": "application/json" },
      }),
    journal: async () => (await fetch(api("journal"))).json() as Promise<Record<string, unknown>[]>,
    async waitFor(what, test, timeoutMs = 10_000) {
      const t0 = Date.now();
      for (;;) {
        const s = await b.state();
        if (test(s)) return s;
        if (Date.now() - t0 > timeoutMs)
          throw new Error(
            `${name}: not ${what} in ${timeoutMs} ms: ${JSON.stringify(s)}\n${output().slice(-1500)}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: (signal = "SIGTERM") => stopChild(child, signal),
  };
  return b;
}
