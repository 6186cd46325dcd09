#!/usr/bin/env node
import { runTs } from "./run-ts.mjs";

const { main } = await runTs("firmware/app/cli.ts");
process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
