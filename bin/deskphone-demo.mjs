#!/usr/bin/env node
import { runTs } from "./run-ts.mjs";

const { demoCommand } = await runTs("demo/main.ts");
process.exitCode = await demoCommand(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
